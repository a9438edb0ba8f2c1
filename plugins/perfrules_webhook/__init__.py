"""Built-in plugin: notifications posted as JSON to a webhook, signed with HMAC-SHA256.

PERFRULES_WEBHOOK_URL      where to POST (http or https); without it, the webhook is off
PERFRULES_WEBHOOK_SECRET   the signing key (required: every request is signed)
PERFRULES_WEBHOOK_TIMEOUT  seconds to wait for an answer (10)

One request per notification and recipient, with the headers

    X-Perfrules-Delivery:  the delivery's id, the same on every retry (drop repeats by it)
    X-Perfrules-Timestamp: when it was signed, in Unix seconds
    X-Perfrules-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" under the secret>

A receiver recomputes the signature over the raw body, compares it in constant time, and refuses
old timestamps. Any answer but 2xx (redirects included) counts as a failure and is retried.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from urllib.parse import urlsplit

from perfrules.notify.channels import NotConfigured, Outgoing

SIGNATURE_HEADER = "X-Perfrules-Signature"
TIMESTAMP_HEADER = "X-Perfrules-Timestamp"
DELIVERY_HEADER = "X-Perfrules-Delivery"


def signature(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def payload(message: Outgoing) -> dict:
    return {
        "delivery": message.delivery_id,
        "kind": message.kind,
        "created_at": message.created_at.isoformat(),
        "recipient": {"login": message.login, "email": message.email, "language": message.language},
        "period": message.period,
        "employee": message.employee,
        "subject": message.subject,
        "body": message.body,
        "link": message.link,
        "params": message.params,
    }


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect would drop the body and the signature's meaning with it: an error instead."""

    def redirect_request(self, *args, **kwargs):
        return None


class WebhookChannel:
    def __init__(self, url: str, secret: str, timeout: float = 10.0):
        self.url, self.secret, self.timeout = url, secret, timeout
        self.opener = urllib.request.build_opener(_RefuseRedirects)

    def _post(self, message: Outgoing) -> None:
        body = json.dumps(payload(message), ensure_ascii=False, sort_keys=True).encode()
        timestamp = str(int(time.time()))
        request = urllib.request.Request(
            self.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "User-Agent": "perfrules-webhook",
                DELIVERY_HEADER: str(message.delivery_id),
                TIMESTAMP_HEADER: timestamp,
                SIGNATURE_HEADER: signature(self.secret, timestamp, body),
            },
        )
        with self.opener.open(request, timeout=self.timeout) as response:
            response.read()

    def send(self, messages: Sequence[Outgoing]) -> list[Exception | None]:
        results: list[Exception | None] = []
        for message in messages:
            try:
                self._post(message)
            except urllib.error.HTTPError as exc:
                results.append(RuntimeError(f"the webhook answered {exc.code} {exc.reason}"))
            except Exception as exc:  # whatever goes wrong with one message is that message's alone
                results.append(exc)
            else:
                results.append(None)
        return results


def from_environment(environ: Mapping[str, str]) -> WebhookChannel:
    url = environ.get("PERFRULES_WEBHOOK_URL", "").strip()
    if not url:
        raise NotConfigured("PERFRULES_WEBHOOK_URL is not set")
    if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc:
        raise NotConfigured("PERFRULES_WEBHOOK_URL must be an http or https URL")
    secret = environ.get("PERFRULES_WEBHOOK_SECRET", "")
    if not secret:
        raise NotConfigured("PERFRULES_WEBHOOK_SECRET is not set: webhook requests are always signed")
    timeout_text = environ.get("PERFRULES_WEBHOOK_TIMEOUT", "").strip()
    try:
        timeout = float(timeout_text) if timeout_text else 10.0
    except ValueError:
        raise NotConfigured(f"PERFRULES_WEBHOOK_TIMEOUT must be a number, not {timeout_text!r}") from None
    return WebhookChannel(url, secret, timeout)


def register(registry) -> None:
    registry.add_channel("webhook", from_environment)
