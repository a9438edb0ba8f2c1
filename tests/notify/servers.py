"""Real servers for the channels to talk to, in threads of the test process: an SMTP server
(aiosmtpd) that requires a login, and an HTTP server that checks each webhook's signature."""

from __future__ import annotations

import email
import email.policy
import hashlib
import hmac
import json
import socket
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

SMTP_LOGIN, SMTP_PASSWORD = "perfrules", "mail-secret"
#: an address the SMTP server refuses for good (550)
BOUNCING = "bounce@example.com"
#: a message whose subject has this is refused after its content is sent (554), alone
REFUSED_SUBJECT = "[refuse me]"
WEBHOOK_SECRET = "hook-secret"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class MailHandler:
    def __init__(self):
        self.received: list[email.message.EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address == BOUNCING:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        if REFUSED_SUBJECT in str(message["Subject"]):
            return "554 5.6.0 message refused"
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.received.append(message)
        return "250 OK"


def _authenticate(server, session, envelope, mechanism, auth_data):
    valid = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == SMTP_LOGIN.encode()
        and auth_data.password == SMTP_PASSWORD.encode()
    )
    return AuthResult(success=valid, handled=False)  # not handled: the server answers 535 itself


@contextmanager
def smtp_server():
    handler = MailHandler()
    # AUTH without TLS, on the loopback only: a test has no certificate to trust
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=free_port(),
        authenticator=_authenticate,
        auth_require_tls=False,
        auth_required=True,
    )
    controller.start()
    try:
        yield controller.port, handler
    finally:
        controller.stop()


class WebhookReceiver:
    """Records each request whose signature is right; answers `status` (204 unless told)."""

    def __init__(self):
        self.requests: list[tuple[dict, dict]] = []  # (headers, payload)
        self.refused = 0
        self.status = 204


def _handler(receiver: WebhookReceiver):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            timestamp = self.headers["X-Perfrules-Timestamp"]
            expected = (
                "sha256="
                + hmac.new(WEBHOOK_SECRET.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
            )
            if not hmac.compare_digest(expected, self.headers.get("X-Perfrules-Signature", "")):
                receiver.refused += 1
                self.send_response(401)
            else:
                receiver.requests.append((dict(self.headers), json.loads(body)))
                self.send_response(receiver.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    return Handler


@contextmanager
def webhook_server():
    receiver = WebhookReceiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hooks/perfrules", receiver
    finally:
        server.shutdown()
        server.server_close()
