"""External notification channels: what a channel plugin implements, and which are active.

A plugin registers a channel with `registry.add_channel(name, factory)`. The factory is called
with the environment (a mapping of settings) and returns the channel, or raises `NotConfigured`
saying which setting is missing: such a channel is simply not active. A channel sends a batch
of messages at a time (one SMTP connection for many e-mails) and answers, for each message, None
when it went out or the exception that stopped it; `Undeliverable` means this recipient cannot
be reached through it (no e-mail address) and is not retried.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol


class NotConfigured(Exception):
    """The channel's settings are missing or wrong: it stays off, and this says why."""


class Undeliverable(Exception):
    """This recipient cannot be reached through the channel; trying again will not help."""


@dataclass(frozen=True)
class Outgoing:
    """One notification on its way to one recipient through one channel."""

    #: the delivery's id: the same on every attempt, so a receiver can drop a repeat
    delivery_id: int
    kind: str
    login: str
    email: str | None
    #: zh or en: the recipient's language, which `subject` and `body` are in
    language: str
    subject: str
    body: str
    #: an absolute URL when PERFRULES_BASE_URL is set, else the path inside the app
    link: str | None
    period: str | None
    employee: str | None
    params: dict
    created_at: dt.datetime


class Channel(Protocol):
    def send(self, messages: Sequence[Outgoing]) -> list[Exception | None]:
        """One result per message, in order: None when sent, else what went wrong."""


ChannelFactory = Callable[[Mapping[str, str]], Channel]


def open_channels(
    factories: Mapping[str, ChannelFactory], environ: Mapping[str, str] | None = None
) -> tuple[dict[str, Channel], dict[str, str]]:
    """(the active channels by name, the inactive ones with the reason)."""
    environ = os.environ if environ is None else environ
    active: dict[str, Channel] = {}
    inactive: dict[str, str] = {}
    for name, factory in sorted(factories.items()):
        try:
            active[name] = factory(environ)
        except NotConfigured as exc:
            inactive[name] = str(exc)
    return active, inactive
