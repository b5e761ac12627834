"""Outbound channels for notifications: one small interface, email over SMTP as its one implementation.

Every notification is shown in the app; a channel also sends it out. Which channel is used is a matter of
configuration (`outbound_channel`):

* `XINTU_NOTIFY_CHANNEL=package.module:factory` names a factory that takes the app's config and returns a
  `Channel`; this is how another channel is added (below);
* otherwise `XINTU_SMTP_HOST` set means email through that SMTP server (`SmtpChannel`);
* otherwise there is no outbound channel, and notifications stay in the app.

Adding a channel, for example SMS through a provider's gateway, is the adapter point: write a class with
`send(to, subject, body)` that raises `RecipientRefused` when the provider refuses that one address (any other
exception means the channel is down: the sweep stops and tries again next time), give it a factory
`def make(config) -> Channel` reading its own XINTU_* settings, and set `XINTU_NOTIFY_CHANNEL` to it. The sweep
(`matcher.notify.scheduler.send_pending`) passes the account's address as `to`; today that is
`Account.email`. SMS needs a phone number on the account first (a column and a migration), and
`send_pending` would pick that address for that channel; the message text is the same (no personal data in
it, so it may travel by SMS as it does by email).
"""

from __future__ import annotations

import importlib
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any, Protocol


class Channel(Protocol):
    def send(self, to: str, subject: str, body: str) -> None:
        """Deliver one message to one address, or raise (RecipientRefused for that address alone)."""


class RecipientRefused(Exception):
    """The channel works but refused this one address; the other messages of a sweep still go out."""

    def __init__(self, code: int | None = None):
        super().__init__(f"recipient refused ({code})" if code else "recipient refused")
        self.code = code


@dataclass
class SmtpChannel:
    """Email through an SMTP server: one connection per message, STARTTLS when asked, implicit TLS on port
    465, a login when a user is configured."""

    host: str
    port: int = 25
    sender: str = "xintu@localhost"
    user: str | None = None
    password: str | None = None
    starttls: bool = False
    timeout: float = 10.0

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> SmtpChannel:
        return cls(host=config["SMTP_HOST"], port=int(config.get("SMTP_PORT") or 25),
                   sender=config.get("SMTP_FROM") or "xintu@localhost", user=config.get("SMTP_USER") or None,
                   password=config.get("SMTP_PASSWORD") or None, starttls=bool(config.get("SMTP_STARTTLS")))

    def send(self, to: str, subject: str, body: str) -> None:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = formatdate(localtime=True)
        message["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2] or None)
        message.set_content(body)
        if self.port == 465:
            server: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout,
                                                    context=ssl.create_default_context())
        else:
            server = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with server:
            if self.starttls and self.port != 465:
                server.starttls(context=ssl.create_default_context())
            if self.user:
                server.login(self.user, self.password or "")
            try:
                server.send_message(message)
            except smtplib.SMTPRecipientsRefused as exc:
                codes = [code for code, _text in exc.recipients.values()]
                raise RecipientRefused(codes[0] if codes else None) from None


def outbound_channel(config: Mapping[str, Any]) -> Channel | None:
    """The configured channel, or None (in-app only)."""
    named = config.get("NOTIFY_CHANNEL")
    if named:
        if not isinstance(named, str):  # a factory or a channel given directly (tests, embedding)
            return named(config) if callable(named) and not hasattr(named, "send") else named
        module_name, _, factory = named.partition(":")
        return getattr(importlib.import_module(module_name), factory or "make")(config)
    if config.get("SMTP_HOST"):
        return SmtpChannel.from_config(config)
    return None


def short_error(exc: BaseException) -> str:
    """What went wrong, for `Notification.email_error` and the log: the error's type and SMTP code only, never
    its text (it may quote the address)."""
    code = getattr(exc, "smtp_code", None) or getattr(exc, "code", None) or getattr(exc, "errno", None)
    return (type(exc).__name__ + (f" {code}" if code else ""))[:200]
