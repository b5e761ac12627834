"""Text messages to a person's phone: one small interface, Tencent Cloud SMS (API 3.0 `SendSms`) as its one
implementation, chosen by configuration.

Unlike the notification channels (matcher.notify.channels: messages to accounts), these go to the phone number in
a candidate's file, which only the office of the file's jurisdiction reads; the number is passed to the provider
and to nobody else, and never written to a log or an error. Providers in China send only pre-approved templates
with numbered variables, so a message is a template name and its values; `TEMPLATES` holds the text each template
must be registered with (the variables are time, place, contact person and contact phone: nothing about the
person's past, offence or risk).

Configuration (matcher.config): `XINTU_SMS_PROVIDER=tencent` with `XINTU_SMS_SECRET_ID`, `XINTU_SMS_SECRET_KEY`,
`XINTU_SMS_APP_ID` (SmsSdkAppId), `XINTU_SMS_SIGN_NAME`, `XINTU_SMS_TEMPLATE_APPOINTMENT`,
`XINTU_SMS_TEMPLATE_REMINDER`, optionally `XINTU_SMS_REGION` (ap-guangzhou) and `XINTU_SMS_ENDPOINT`.
`XINTU_SMS_PROVIDER=package.module:factory` plugs in another provider (`factory(config) -> TextMessenger`).
Without a complete configuration `text_messenger` answers None and no message is sent (the pages say so).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import importlib
import json
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

from matcher import clock
from matcher.notify.channels import RecipientRefused

# The texts the templates are registered with at the provider ({1}..{4}: time in China time, place, contact
# person, contact phone). The pages show the text a person receives from these.
TEMPLATES = {
    "appointment": "您好，已为您安排面试：时间{1}（北京时间），地点{2}，联系人{3}，电话{4}。请携带身份证按时参加，"
                   "如有变动请联系所在司法所。",
    "reminder": "面试提醒：您明天{1}（北京时间）在{2}有面试，联系人{3}，电话{4}。请携带身份证按时参加。",
}


class TextMessenger(Protocol):
    def send_text(self, phone: str, template: str, params: Sequence[str]) -> str:
        """Send template `template` ("appointment", "reminder") with its values to one phone; answer the
        provider's reference. Raise RecipientRefused when the provider refuses that number, anything else when the
        provider cannot be used now."""


class SmsError(Exception):
    """The provider answered with an error that is not about the number (its code only, never the number)."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def text_of(template: str, params: Sequence[str]) -> str:
    """The message as the person reads it."""
    text = TEMPLATES[template]
    for index, value in enumerate(params, start=1):
        text = text.replace(f"{{{index}}}", str(value))
    return text


# ---- Tencent Cloud SMS, API 3.0 ---------------------------------------------------------------------------

TC3 = "TC3-HMAC-SHA256"
CONTENT_TYPE = "application/json; charset=utf-8"
SIGNED_HEADERS = "content-type;host;x-tc-action"
# Codes of SendStatusSet that concern the number itself: the rest of a batch may still go out.
REFUSED_NUMBER_CODES = frozenset({
    "InvalidParameterValue.IncorrectPhoneNumber", "FailedOperation.PhoneNumberInBlacklist",
    "LimitExceeded.PhoneNumberDailyLimit", "LimitExceeded.PhoneNumberOneHourLimit",
    "LimitExceeded.PhoneNumberThirtySecondLimit", "LimitExceeded.PhoneNumberSameContentDailyLimit",
    "UnsupportedOperation.UnsupportedRegion", "FailedOperation.PhoneNumberParseFail",
})


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()


def tc3_authorization(*, secret_id: str, secret_key: str, service: str, host: str, action: str, payload: str,
                      timestamp: int) -> str:
    """The `Authorization` header of a Tencent Cloud API 3.0 POST (JSON body), signed with TC3-HMAC-SHA256 as
    its documentation ("Signature v3") gives it:

    1. CanonicalRequest = "POST\\n/\\n\\n" + canonical headers (content-type, host, x-tc-action: lower-case
       names, trimmed values, x-tc-action's value lower-case, each ending in \\n) + "\\n" + signed header
       names + "\\n" + hex(SHA256(payload));
    2. StringToSign = "TC3-HMAC-SHA256\\n" + timestamp + "\\n" + CredentialScope + "\\n" +
       hex(SHA256(CanonicalRequest)), CredentialScope = UTC date (YYYY-MM-DD) + "/" + service + "/tc3_request";
    3. the signing key is HMAC-SHA256 chained over "TC3" + SecretKey, the date, the service and "tc3_request";
       the signature is hex(HMAC-SHA256(key, StringToSign)).
    """
    day = dt.datetime.fromtimestamp(timestamp, clock.UTC).strftime("%Y-%m-%d")
    canonical_headers = f"content-type:{CONTENT_TYPE}\nhost:{host}\nx-tc-action:{action.lower()}\n"
    canonical_request = "\n".join(["POST", "/", "", canonical_headers, SIGNED_HEADERS,
                                   hashlib.sha256(payload.encode("utf-8")).hexdigest()])
    scope = f"{day}/{service}/tc3_request"
    string_to_sign = "\n".join([TC3, str(timestamp), scope,
                                hashlib.sha256(canonical_request.encode("utf-8")).hexdigest()])
    key = _hmac(("TC3" + secret_key).encode("utf-8"), day)
    key = _hmac(key, service)
    key = _hmac(key, "tc3_request")
    signature = hmac.new(key, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
    return f"{TC3} Credential={secret_id}/{scope}, SignedHeaders={SIGNED_HEADERS}, Signature={signature}"


def mainland_e164(phone: str) -> str:
    """A mainland mobile number as the provider wants it (+86...). Spaces and dashes are dropped."""
    digits = "".join(ch for ch in phone if ch.isdigit() or ch == "+")
    if digits.startswith("+"):
        return digits
    if digits.startswith("86") and len(digits) == 13:
        return "+" + digits
    return "+86" + digits


@dataclass
class TencentSms:
    """SendSms of Tencent Cloud SMS (API version 2021-01-11), over HTTPS with the standard library."""

    secret_id: str
    secret_key: str
    app_id: str
    sign_name: str
    templates: Mapping[str, str] = field(default_factory=dict)  # our template name -> the approved template id
    region: str = "ap-guangzhou"
    endpoint: str = "https://sms.tencentcloudapi.com/"
    timeout: float = 10.0
    service: str = "sms"
    action: str = "SendSms"
    version: str = "2021-01-11"

    def __post_init__(self) -> None:
        # The endpoint is configuration: HTTPS, or plain HTTP to this machine only (a local fake server in tests).
        parts = urlsplit(self.endpoint)
        local = parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost", "::1")
        if not (parts.scheme == "https" or local) or not parts.netloc:
            raise ValueError("XINTU_SMS_ENDPOINT must be an https:// URL (or http:// to this machine)")

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> TencentSms | None:
        needed = ("SMS_SECRET_ID", "SMS_SECRET_KEY", "SMS_APP_ID", "SMS_SIGN_NAME", "SMS_TEMPLATE_APPOINTMENT",
                  "SMS_TEMPLATE_REMINDER")
        if not all(config.get(name) for name in needed):
            return None
        return cls(secret_id=config["SMS_SECRET_ID"], secret_key=config["SMS_SECRET_KEY"],
                   app_id=str(config["SMS_APP_ID"]), sign_name=config["SMS_SIGN_NAME"],
                   templates={"appointment": str(config["SMS_TEMPLATE_APPOINTMENT"]),
                              "reminder": str(config["SMS_TEMPLATE_REMINDER"])},
                   region=config.get("SMS_REGION") or "ap-guangzhou",
                   endpoint=config.get("SMS_ENDPOINT") or "https://sms.tencentcloudapi.com/")

    def request(self, phone: str, template: str, params: Sequence[str], *, timestamp: int | None = None
                ) -> urllib.request.Request:
        """The signed HTTP request (built apart from sending, so that a test can read it)."""
        payload = json.dumps({"PhoneNumberSet": [mainland_e164(phone)], "SmsSdkAppId": self.app_id,
                              "SignName": self.sign_name, "TemplateId": self.templates[template],
                              "TemplateParamSet": [str(value) for value in params]},
                             ensure_ascii=False, separators=(",", ":"))
        timestamp = int(clock.now().timestamp()) if timestamp is None else timestamp
        host = urlsplit(self.endpoint).netloc
        headers = {
            "Authorization": tc3_authorization(secret_id=self.secret_id, secret_key=self.secret_key,
                                               service=self.service, host=host, action=self.action,
                                               payload=payload, timestamp=timestamp),
            "Content-Type": CONTENT_TYPE, "Host": host, "X-TC-Action": self.action,
            "X-TC-Timestamp": str(timestamp), "X-TC-Version": self.version, "X-TC-Region": self.region,
        }
        return urllib.request.Request(self.endpoint, data=payload.encode("utf-8"), headers=headers, method="POST")

    def send_text(self, phone: str, template: str, params: Sequence[str]) -> str:
        request = self.request(phone, template, params)
        try:  # the endpoint's scheme is checked in __post_init__ (https, or http to this machine)
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:  # nosec B310
                body = json.loads(answer.read().decode("utf-8"))
        except urllib.error.HTTPError as exc:
            raise SmsError(f"HTTP {exc.code}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise SmsError(type(exc).__name__) from None
        except ValueError:
            raise SmsError("UnreadableAnswer") from None
        response = body.get("Response") if isinstance(body, dict) else None
        if not isinstance(response, dict):
            raise SmsError("UnreadableAnswer")
        if isinstance(response.get("Error"), dict):
            raise SmsError(str(response["Error"].get("Code") or "Error")[:60])
        statuses = response.get("SendStatusSet") or []
        status = statuses[0] if statuses and isinstance(statuses[0], dict) else {}
        code = str(status.get("Code") or "NoStatus")
        if code != "Ok":
            if code in REFUSED_NUMBER_CODES:
                raise RecipientRefused()
            raise SmsError(code[:60])
        return str(status.get("SerialNo") or response.get("RequestId") or "")


def text_messenger(config: Mapping[str, Any]) -> TextMessenger | None:
    """The configured provider, or None (no text messages are sent)."""
    provider = config.get("SMS_PROVIDER")
    if not provider:
        return None
    if not isinstance(provider, str):  # a messenger or a factory given directly (tests, embedding)
        return provider(config) if callable(provider) and not hasattr(provider, "send_text") else provider
    if provider.lower() == "tencent":
        return TencentSms.from_config(config)
    module_name, _, factory = provider.partition(":")
    return getattr(importlib.import_module(module_name), factory or "make")(config)


def error_code(exc: BaseException) -> str:
    """What went wrong, short, for the interview's record and the log: never the number."""
    if isinstance(exc, SmsError):
        return f"SmsError {exc.code}"[:80]
    if isinstance(exc, RecipientRefused):
        return "RecipientRefused"
    return type(exc).__name__[:80]
