"""Built-in plugin: notifications by e-mail, through an SMTP server.

PERFRULES_SMTP_HOST       the server; without it, e-mail is off
PERFRULES_SMTP_PORT       default 587; 465 speaks TLS from the start
PERFRULES_SMTP_STARTTLS   true (default) or false: upgrade the connection with STARTTLS
PERFRULES_SMTP_USER       sign in with this user and PERFRULES_SMTP_PASSWORD, when set
PERFRULES_SMTP_FROM       the sender's address (required)
PERFRULES_SMTP_TIMEOUT    seconds to wait for the server (10)

Each user is written to at their `email`, in their language; a user without an address is
skipped (not retried). One connection carries a whole batch of messages; one that cannot be
built or is refused fails alone, and only a broken connection stops the rest.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Mapping, Sequence
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

from perfrules.notify.channels import NotConfigured, Outgoing, Undeliverable

log = logging.getLogger("perfrules.notify.smtp")

IMPLICIT_TLS_PORT = 465
TRUE = ("1", "true", "yes", "on")
FALSE = ("0", "false", "no", "off")


class SmtpChannel:
    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        *,
        user: str | None = None,
        password: str | None = None,
        starttls: bool = True,
        timeout: float = 10.0,
    ):
        self.host, self.port, self.sender = host, port, sender
        self.user, self.password = user, password
        self.starttls, self.timeout = starttls, timeout

    def _connect(self) -> smtplib.SMTP:
        smtp: smtplib.SMTP
        if self.port == IMPLICIT_TLS_PORT:
            smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            if self.starttls:
                smtp.starttls(context=ssl.create_default_context())
        if self.user:
            smtp.login(self.user, self.password or "")
        return smtp

    def _email(self, message: Outgoing) -> EmailMessage:
        email = EmailMessage()
        email["Subject"] = message.subject
        email["From"] = self.sender
        email["To"] = message.email
        email["Date"] = formatdate(localtime=False)
        email["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2] or None)
        email["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies
        email["Content-Language"] = "en" if message.language == "en" else "zh-CN"
        email.set_content("\n\n".join(part for part in (message.body, message.link) if part))
        return email

    def send(self, messages: Sequence[Outgoing]) -> list[Exception | None]:
        """One result per message. Each e-mail is built and sent on its own: one that cannot be
        (a header it cannot carry, a refusal) fails alone and the rest go on; only a broken
        connection fails the messages not yet sent. Nothing raises once a message is out, so a
        sent message is never reported failed (and sent again)."""
        results: list[Exception | None] = [None] * len(messages)
        addressed = []
        for index, message in enumerate(messages):
            if message.email:
                addressed.append(index)
            else:
                results[index] = Undeliverable(f"user '{message.login}' has no e-mail address")
        if not addressed:
            return results
        try:
            smtp = self._connect()
        except Exception as exc:  # nothing went out: each is tried again
            for index in addressed:
                results[index] = exc
            return results
        try:
            for position, index in enumerate(addressed):
                try:
                    smtp.send_message(self._email(messages[index]))
                except smtplib.SMTPRecipientsRefused as exc:
                    permanent = all(code >= 500 for code, _ in exc.recipients.values())
                    results[index] = Undeliverable(f"refused: {exc.recipients}") if permanent else exc
                except smtplib.SMTPServerDisconnected as exc:  # the rest cannot go either
                    for rest in addressed[position:]:
                        results[rest] = exc
                    break
                except smtplib.SMTPException as exc:  # this message was refused; the connection stands
                    results[index] = exc
                except OSError as exc:  # the connection broke (SMTPException is an OSError too: above)
                    for rest in addressed[position:]:
                        results[rest] = exc
                    break
                except Exception as exc:  # this e-mail could not be built or sent: it alone fails
                    log.warning("e-mail for delivery %s not sent: %s", messages[index].delivery_id, exc)
                    results[index] = exc
        finally:
            _close(smtp)
        return results


def _close(smtp: smtplib.SMTP) -> None:
    """Say goodbye; a server that answers badly or has gone changes nothing that was sent."""
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()


def _flag(environ: Mapping[str, str], name: str, default: bool) -> bool:
    text = environ.get(name, "").strip().lower()
    if not text:
        return default
    if text not in TRUE + FALSE:
        raise NotConfigured(f"{name} must be true or false, not {text!r}")
    return text in TRUE


def _number(environ: Mapping[str, str], name: str, default: float, kind=float):
    text = environ.get(name, "").strip()
    try:
        return kind(text) if text else default
    except ValueError:
        raise NotConfigured(f"{name} must be a number, not {text!r}") from None


def from_environment(environ: Mapping[str, str]) -> SmtpChannel:
    host = environ.get("PERFRULES_SMTP_HOST", "").strip()
    if not host:
        raise NotConfigured("PERFRULES_SMTP_HOST is not set")
    sender = environ.get("PERFRULES_SMTP_FROM", "").strip()
    if "@" not in parseaddr(sender)[1]:
        raise NotConfigured("PERFRULES_SMTP_FROM must be the sender's e-mail address")
    return SmtpChannel(
        host,
        _number(environ, "PERFRULES_SMTP_PORT", 587, int),
        sender,
        user=environ.get("PERFRULES_SMTP_USER") or None,
        password=environ.get("PERFRULES_SMTP_PASSWORD") or None,
        starttls=_flag(environ, "PERFRULES_SMTP_STARTTLS", True),
        timeout=_number(environ, "PERFRULES_SMTP_TIMEOUT", 10.0),
    )


def register(registry) -> None:
    registry.add_channel("email", from_environment)
