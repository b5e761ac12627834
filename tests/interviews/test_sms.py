"""The text messages to the person: Tencent Cloud SMS `SendSms` against a local fake of its HTTP API that checks the
TC3-HMAC-SHA256 signature and the parameters; the appointment texted once the office confirms, the reminder the day
before (once), nothing without configuration, and never the phone number in a log."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import http.server
import json
import logging
import threading
from contextlib import contextmanager

import pytest
from sqlalchemy import select, update

from matcher import clock
from matcher.candidates.models import Candidate
from matcher.interviews.models import ReferralInterview
from matcher.notify.channels import RecipientRefused
from matcher.notify.sms import SmsError, TencentSms, tc3_authorization, text_messenger, text_of

SECRET_ID, SECRET_KEY = "AKIDtestsecretid0000000000000000", "testsecretkey0000000000000000000"
PHONE = "13912345678"


def _expected_signature(headers, body: bytes, secret_key: str) -> str:
    """The signature, recomputed step by step as Tencent Cloud's "Signature v3" documentation describes it."""
    timestamp = int(headers["X-TC-Timestamp"])
    day = dt.datetime.fromtimestamp(timestamp, dt.UTC).strftime("%Y-%m-%d")
    canonical = ("POST\n/\n\n"
                 f"content-type:{headers['Content-Type']}\nhost:{headers['Host']}\n"
                 f"x-tc-action:{headers['X-TC-Action'].lower()}\n\n"
                 "content-type;host;x-tc-action\n" + hashlib.sha256(body).hexdigest())
    scope = f"{day}/sms/tc3_request"
    to_sign = f"TC3-HMAC-SHA256\n{timestamp}\n{scope}\n" + hashlib.sha256(canonical.encode()).hexdigest()

    def sign(key: bytes, msg: str) -> bytes:
        return hmac.new(key, msg.encode(), hashlib.sha256).digest()

    key = sign(sign(sign(("TC3" + secret_key).encode(), day), "sms"), "tc3_request")
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


class FakeTencentSms:
    """A threaded local HTTP server answering SendSms as Tencent Cloud does, after checking the request."""

    def __init__(self, answer_code: str = "Ok", error: str | None = None):
        self.requests: list[dict] = []
        self.problems: list[str] = []
        self.answer_code, self.error = answer_code, error
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                fake.check(self.headers, body)
                if fake.error:
                    answer = {"Response": {"Error": {"Code": fake.error, "Message": "x"}, "RequestId": "r1"}}
                else:
                    answer = {"Response": {"SendStatusSet": [{"SerialNo": "2645:1", "PhoneNumber": "+86...",
                                                              "Code": fake.answer_code, "Message": "m"}],
                                           "RequestId": "r1"}}
                data = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):  # quiet
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"

    def check(self, headers, body: bytes) -> None:
        payload = json.loads(body)
        self.requests.append(payload)
        expected = _expected_signature(headers, body, SECRET_KEY)
        day = dt.datetime.fromtimestamp(int(headers["X-TC-Timestamp"]), dt.UTC).strftime("%Y-%m-%d")
        wanted = (f"TC3-HMAC-SHA256 Credential={SECRET_ID}/{day}/sms/tc3_request, "
                  f"SignedHeaders=content-type;host;x-tc-action, Signature={expected}")
        if headers.get("Authorization") != wanted:
            self.problems.append("signature")
        if headers.get("X-TC-Action") != "SendSms" or headers.get("X-TC-Version") != "2021-01-11":
            self.problems.append("action/version")
        if headers.get("X-TC-Region") != "ap-guangzhou":
            self.problems.append("region")
        if abs(int(headers["X-TC-Timestamp"]) - clock.now().timestamp()) > 300:
            self.problems.append("timestamp")
        if set(payload) != {"PhoneNumberSet", "SmsSdkAppId", "SignName", "TemplateId", "TemplateParamSet"}:
            self.problems.append("parameters")

    @contextmanager
    def running(self):
        thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.server.shutdown()
            self.server.server_close()
            thread.join(5)


def _config(url: str) -> dict:
    return {"SMS_PROVIDER": "tencent", "SMS_SECRET_ID": SECRET_ID, "SMS_SECRET_KEY": SECRET_KEY,
            "SMS_APP_ID": "1400000001", "SMS_SIGN_NAME": "义乌市司法局", "SMS_TEMPLATE_APPOINTMENT": "100001",
            "SMS_TEMPLATE_REMINDER": "100002", "SMS_REGION": "ap-guangzhou", "SMS_ENDPOINT": url}


def test_signature_matches_a_published_known_answer():
    # The answer another, independent TC3 implementation's test gives for these inputs (tke, 2023-11-14).
    header = tc3_authorization(secret_id="AKIDEXAMPLE", secret_key="SECRETKEYEXAMPLE", service="tke",
                               host="tke.tencentcloudapi.com", action="DescribeEKSContainerInstances",
                               payload='{"Limit":1,"Offset":0}', timestamp=1700000000)
    assert header == ("TC3-HMAC-SHA256 Credential=AKIDEXAMPLE/2023-11-14/tke/tc3_request, "
                      "SignedHeaders=content-type;host;x-tc-action, "
                      "Signature=e8a6d7c1f590277205e413c34aa3ff8955bfae2ceab10f02c14e394ea18b791e")


def test_send_sms_is_signed_and_carries_the_template_values():
    fake = FakeTencentSms()
    with fake.running():
        messenger = text_messenger(_config(fake.url))
        assert isinstance(messenger, TencentSms)
        reference = messenger.send_text(PHONE, "appointment", ["2026-12-08 09:30", "工人路8号", "王经理", "85123456"])
    assert reference == "2645:1"
    assert fake.problems == []
    sent = fake.requests[0]
    assert sent == {"PhoneNumberSet": ["+8613912345678"], "SmsSdkAppId": "1400000001", "SignName": "义乌市司法局",
                    "TemplateId": "100001", "TemplateParamSet": ["2026-12-08 09:30", "工人路8号", "王经理", "85123456"]}


def test_provider_errors_become_codes_without_the_number():
    fake = FakeTencentSms(error="AuthFailure.SignatureFailure")
    with fake.running():
        with pytest.raises(SmsError) as failed:
            text_messenger(_config(fake.url)).send_text(PHONE, "reminder", ["a", "b", "c", "d"])
    assert failed.value.code == "AuthFailure.SignatureFailure" and PHONE not in str(failed.value)
    refused = FakeTencentSms(answer_code="InvalidParameterValue.IncorrectPhoneNumber")
    with refused.running():
        with pytest.raises(RecipientRefused):
            text_messenger(_config(refused.url)).send_text(PHONE, "reminder", ["a", "b", "c", "d"])


def test_without_configuration_no_provider():
    assert text_messenger({}) is None
    incomplete = _config("http://127.0.0.1:1/") | {"SMS_SECRET_KEY": None}
    assert text_messenger(incomplete) is None


# ---- through the interview's steps -------------------------------------------------------------------------

@contextmanager
def _configured(app, url):
    saved = {key: app.config.get(key) for key in _config(url)}
    app.config.update(_config(url))
    try:
        yield
    finally:
        app.config.update(saved)


def _confirmed(api, world, session, *, days=2, hour=9, minute=30, phone=PHONE):
    session.execute(update(Candidate).where(Candidate.id == world.cand_a.id).values(phone=phone))
    session.commit()
    referral = api.post("/api/v1/referrals", json={"candidate_id": world.cand_a.id, "slot_id": world.slot_a.id,
                                                   "send": True}, headers=world.h("cw_a")).json["id"]
    day = clock.today() + dt.timedelta(days=days)
    proposed = api.post(f"/api/v1/referrals/{referral}/interviews", headers=world.h("emp_a"), json={
        "starts_at": f"{day.isoformat()}T{hour:02d}:{minute:02d}:00+08:00", "place": "工人路8号",
        "contact_name": "王经理", "contact_phone": "0579-85123456"}).json["id"]
    confirmed = api.post(f"/api/v1/referral-interviews/{proposed}/actions", json={"action": "confirm"},
                         headers=world.h("cw_a"))
    assert confirmed.status_code == 200, confirmed.json
    return proposed


def test_confirming_texts_the_person_once(app, api, world, session, caplog):
    fake = FakeTencentSms()
    caplog.set_level(logging.DEBUG)
    with fake.running(), _configured(app, fake.url):
        interview_id = _confirmed(api, world, session)
    assert fake.problems == []
    assert len(fake.requests) == 1
    assert fake.requests[0]["TemplateId"] == "100001"
    assert fake.requests[0]["PhoneNumberSet"] == ["+86" + PHONE]
    assert fake.requests[0]["TemplateParamSet"][1:] == ["工人路8号", "王经理", "0579-85123456"]
    assert fake.requests[0]["TemplateParamSet"][0].endswith("09:30")
    text = text_of("appointment", fake.requests[0]["TemplateParamSet"])
    assert world.cand_a.name not in text and "盗窃" not in text and "theft" not in text
    session.expire_all()
    assert session.get(ReferralInterview, interview_id).appointment_texted_at is not None
    assert PHONE not in caplog.text


def test_a_failed_text_is_recorded_and_the_confirmation_stands(app, api, world, session, caplog):
    fake = FakeTencentSms(error="FailedOperation.InsufficientBalanceInSmsPackage")
    with fake.running(), _configured(app, fake.url):
        interview_id = _confirmed(api, world, session)
    session.expire_all()
    interview = session.get(ReferralInterview, interview_id)
    assert interview.status.value == "confirmed"
    assert interview.appointment_texted_at is None
    assert interview.text_error == "SmsError FailedOperation.InsufficientBalanceInSmsPackage"
    assert PHONE not in caplog.text


def test_reminder_the_day_before_is_sent_once(app, api, world, session):
    from matcher.notify.models import Notification, NotificationKind
    from matcher.notify.scheduler import run_sweep

    fake = FakeTencentSms()
    with fake.running(), _configured(app, fake.url):
        interview_id = _confirmed(api, world, session, days=1)
        messenger = text_messenger(app.config)
        # Two days before: nothing yet.
        run_sweep(session, as_of=clock.today() - dt.timedelta(days=1), messenger=messenger)
        first = run_sweep(session, as_of=clock.today(), messenger=messenger)
        again = run_sweep(session, as_of=clock.today(), messenger=messenger)
        session.commit()
    reminders = [r for r in fake.requests if r["TemplateId"] == "100002"]
    assert len(reminders) == 1 and fake.problems == []
    assert first.texts == {"sent": 1} and again.texts == {}
    assert session.get(ReferralInterview, interview_id).reminder_texted_at is not None
    told = {n.account_id for n in session.scalars(select(Notification).where(
        Notification.kind == NotificationKind.INTERVIEW_REMINDER))}
    assert told == {world.accounts["cw_a"].id, world.accounts["emp_a"].id}


def test_without_a_provider_nothing_is_sent_and_the_sweep_still_reminds_in_the_app(app, api, world, session):
    from matcher.notify.scheduler import run_sweep

    interview_id = _confirmed(api, world, session, days=1)
    report = run_sweep(session, as_of=clock.today(), messenger=text_messenger(app.config))
    session.commit()
    assert report.created["interview_reminder"] == 2
    assert session.get(ReferralInterview, interview_id).appointment_texted_at is None


def test_the_fake_refuses_a_wrong_signature():
    fake = FakeTencentSms()
    with fake.running():
        text_messenger(_config(fake.url) | {"SMS_SECRET_KEY": "another"}).send_text(PHONE, "reminder", ["a"] * 4)
    assert fake.problems == ["signature"]
