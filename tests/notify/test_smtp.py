"""Email through a real SMTP server (aiosmtpd on 127.0.0.1): the message arrives with the right recipient and
subject; a refused connection records a short error and the email goes on a later sweep; one refused
recipient does not hold up the others."""

from __future__ import annotations

import datetime as dt
import socket
from email import message_from_bytes
from email.policy import default as default_policy

import pytest
from flask_babel import force_locale
from sqlalchemy import select, update

from matcher import clock
from matcher.clock import today
from matcher.notify.channels import SmtpChannel, outbound_channel
from matcher.notify.models import Notification


class Inbox:
    """An aiosmtpd handler keeping what it receives; addresses at refused.example are refused."""

    def __init__(self):
        self.messages = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 - aiosmtpd's name
        if address.endswith("@refused.example"):
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos),
                              message_from_bytes(envelope.content, policy=default_policy)))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server():
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    inbox.port = controller.port
    yield inbox
    controller.stop()


def _set_email(session, world, username, address):
    world.accounts[username].email = address
    session.commit()


def _refer(session, world, candidate=None, slot=None, who="cw_a"):
    from matcher.referrals.service import create_referral

    return create_referral(session=session, actor=world.accounts[who], candidate_id=(candidate or world.cand_a).id,
                           slot_id=(slot or world.slot_a).id, send=True)


def test_the_sweep_emails_through_the_configured_server(app, session, world, smtp_server, monkeypatch):
    from matcher.notify.service import render

    _set_email(session, world, "emp_a", "hr@jia.example.cn")
    referral = _refer(session, world)
    for name, value in (("SMTP_HOST", "127.0.0.1"), ("SMTP_PORT", smtp_server.port),
                        ("SMTP_FROM", "xintu@sfj.example.cn"), ("NOTIFY_CHANNEL", None)):
        monkeypatch.setitem(app.config, name, value)
    assert isinstance(outbound_channel(app.config), SmtpChannel)
    result = app.test_cli_runner().invoke(args=["notify", "run"])
    assert result.exit_code == 0, result.output
    assert "1 emailed, 0 failed" in result.output

    [(sender, recipients, message)] = smtp_server.messages
    assert sender == "xintu@sfj.example.cn" and recipients == ["hr@jia.example.cn"]
    notice = session.scalar(select(Notification).where(Notification.subject_id == referral.id))
    with app.test_request_context(), force_locale("zh_CN"):  # emails are in the bureau's language
        expected = render(notice)
    assert message["Subject"] == expected.subject
    assert message["Subject"] == f"新推荐：{world.cand_a.public_id} 应聘“厨师A”"
    assert message["To"] == "hr@jia.example.cn"
    body = message.get_content()
    assert expected.body in body and "请勿回复" in body
    assert world.cand_a.name not in body
    session.expire_all()
    assert notice.emailed_at is not None and notice.email_error is None

    # Nothing is sent twice.
    again = app.test_cli_runner().invoke(args=["notify", "send"])
    assert "0 emailed" in again.output and len(smtp_server.messages) == 1


def test_no_address_no_email_and_read_notices_are_not_emailed(app, session, world, smtp_server):
    from matcher.notify.scheduler import send_pending

    _set_email(session, world, "emp_b", "boss@yi.example.cn")
    _refer(session, world)  # emp_a has no address
    _refer(session, world, candidate=world.cand_b, slot=world.slot_b, who="cw_b")
    session.execute(update(Notification).values(read_at=clock.now()))  # emp_b read it in the app already
    session.commit()
    assert send_pending(session, SmtpChannel(host="127.0.0.1", port=smtp_server.port)) == (0, 0)
    assert smtp_server.messages == []


def test_a_refused_connection_is_recorded_and_retried_on_the_next_sweep(app, session, world, smtp_server):
    from matcher.notify.scheduler import send_pending

    _set_email(session, world, "emp_a", "hr@jia.example.cn")
    _set_email(session, world, "emp_b", "boss@yi.example.cn")
    _refer(session, world)
    _refer(session, world, candidate=world.cand_b, slot=world.slot_b, who="cw_b")
    down = SmtpChannel(host="127.0.0.1", port=free_port(), timeout=2)
    assert send_pending(session, down) == (0, 1)  # the channel is down: the second waits for the next sweep
    rows = session.execute(select(Notification.email_error, Notification.emailed_at).order_by(Notification.id)).all()
    assert rows[0].email_error.startswith("ConnectionRefusedError") and rows[0].emailed_at is None
    assert "@" not in rows[0].email_error
    assert rows[1] == (None, None)

    up = SmtpChannel(host="127.0.0.1", port=smtp_server.port)
    assert send_pending(session, up) == (2, 0)
    assert sorted(recipients[0] for _s, recipients, _m in smtp_server.messages) == [
        "boss@yi.example.cn", "hr@jia.example.cn"]
    rows = session.execute(select(Notification.email_error, Notification.emailed_at)).all()
    assert all(error is None and sent is not None for error, sent in rows)


def test_a_refused_recipient_does_not_hold_up_the_others(app, session, world, smtp_server):
    from matcher.notify.scheduler import send_pending

    _set_email(session, world, "emp_a", "gone@refused.example")
    _set_email(session, world, "emp_b", "boss@yi.example.cn")
    _refer(session, world)
    _refer(session, world, candidate=world.cand_b, slot=world.slot_b, who="cw_b")
    assert send_pending(session, SmtpChannel(host="127.0.0.1", port=smtp_server.port)) == (1, 1)
    errors = dict(session.execute(select(Notification.account_id, Notification.email_error)).all())
    assert errors[world.accounts["emp_a"].id] == "RecipientRefused 550"
    assert errors[world.accounts["emp_b"].id] is None
    assert [recipients for _s, recipients, _m in smtp_server.messages] == [["boss@yi.example.cn"]]


def test_an_email_failing_for_days_is_given_up(app, session, world, smtp_server):
    from matcher.notify.scheduler import EMAIL_RETRY_DAYS, send_pending

    _set_email(session, world, "emp_a", "hr@jia.example.cn")
    _refer(session, world)
    later = clock.now() + dt.timedelta(days=EMAIL_RETRY_DAYS, hours=1)
    assert send_pending(session, SmtpChannel(host="127.0.0.1", port=smtp_server.port), now=later) == (0, 0)
    assert smtp_server.messages == []


def test_the_sweep_sends_after_creating(app, session, world, smtp_server):
    from matcher.notify.scheduler import run_sweep

    _set_email(session, world, "emp_a", "hr@jia.example.cn")
    _refer(session, world)
    report = run_sweep(session, as_of=today() + dt.timedelta(days=7),
                       channel=SmtpChannel(host="127.0.0.1", port=smtp_server.port))
    assert report.created["answer_due"] == 1 and report.emailed == 2
    assert {m["Subject"].split("：")[0] for _s, _r, m in smtp_server.messages} == {"新推荐", "待您答复"}


def test_another_channel_is_plugged_in_by_configuration(app):
    sent = []

    class Recorder:
        def send(self, to, subject, body):
            sent.append(to)

    assert isinstance(outbound_channel({"NOTIFY_CHANNEL": lambda config: Recorder()}), Recorder)
    assert outbound_channel({"SMTP_HOST": None}) is None
    channel = outbound_channel({"SMTP_HOST": "mail.example.cn", "SMTP_PORT": "587", "SMTP_STARTTLS": True,
                                "SMTP_USER": "xintu", "SMTP_PASSWORD": "pw", "SMTP_FROM": "a@b.cn"})
    assert (channel.host, channel.port, channel.starttls, channel.user, channel.sender) == (
        "mail.example.cn", 587, True, "xintu", "a@b.cn")
