"""Channels are plugins: the built-in e-mail and webhook channels load through the same entry
points as a third party's; a channel without its settings is simply not active, and says why."""

from __future__ import annotations

from importlib.metadata import EntryPoint, entry_points

import pytest

from perfrules import plugins
from perfrules.notify.channels import NotConfigured, open_channels
from perfrules.plugins import PluginError, load_plugins

SMTP = {"PERFRULES_SMTP_HOST": "mail.example.com", "PERFRULES_SMTP_FROM": "perfrules@example.com"}
WEBHOOK = {"PERFRULES_WEBHOOK_URL": "https://hooks.example.com/perfrules", "PERFRULES_WEBHOOK_SECRET": "s"}


def test_the_builtin_channels_are_plugins_found_through_entry_points():
    assert {"smtp", "webhook"} <= {ep.name for ep in entry_points(group=plugins.ENTRY_POINT_GROUP)}
    registry = load_plugins()
    assert {"smtp", "webhook"} <= set(registry.loaded)
    assert set(registry.channels) == {"email", "webhook"}
    assert load_plugins("webhook").channels.keys() == {"webhook"}


def test_a_bare_core_has_no_channels(monkeypatch):
    monkeypatch.setenv("PERFRULES_PLUGINS", "none")
    assert load_plugins().channels == {}


def test_a_channel_without_its_settings_is_not_active_and_says_why():
    factories = load_plugins().channels
    active, inactive = open_channels(factories, {})
    assert active == {} and inactive == {
        "email": "PERFRULES_SMTP_HOST is not set",
        "webhook": "PERFRULES_WEBHOOK_URL is not set",
    }
    active, inactive = open_channels(factories, {**SMTP, **WEBHOOK})
    assert set(active) == {"email", "webhook"} and inactive == {}
    assert active["email"].port == 587 and active["email"].starttls
    assert open_channels(factories, {**SMTP, "PERFRULES_SMTP_PORT": "465"})[0]["email"].port == 465


@pytest.mark.parametrize(
    "settings, reason",
    [
        ({**SMTP, "PERFRULES_SMTP_FROM": ""}, "PERFRULES_SMTP_FROM must be the sender's e-mail address"),
        ({**SMTP, "PERFRULES_SMTP_PORT": "smtp"}, "PERFRULES_SMTP_PORT must be a number, not 'smtp'"),
        ({**SMTP, "PERFRULES_SMTP_STARTTLS": "maybe"}, "PERFRULES_SMTP_STARTTLS must be true or false, not 'maybe'"),
        (
            {**WEBHOOK, "PERFRULES_WEBHOOK_URL": "file:///etc/passwd"},
            "PERFRULES_WEBHOOK_URL must be an http or https URL",
        ),
        (
            {**WEBHOOK, "PERFRULES_WEBHOOK_SECRET": ""},
            "PERFRULES_WEBHOOK_SECRET is not set: webhook requests are always signed",
        ),
        ({**WEBHOOK, "PERFRULES_WEBHOOK_TIMEOUT": "soon"}, "PERFRULES_WEBHOOK_TIMEOUT must be a number, not 'soon'"),
    ],
)
def test_wrong_settings_keep_a_channel_off_with_the_reason(settings, reason):
    _, inactive = open_channels(load_plugins().channels, settings)
    assert reason in inactive.values()


class Pager:
    def send(self, messages):
        return [None] * len(messages)


def _pager_register(registry):
    registry.add_channel("pager", _pager_factory)


def _pager_factory(environ):
    if "PAGER_URL" not in environ:
        raise NotConfigured("PAGER_URL is not set")
    return Pager()


def _twice_register(registry):
    registry.add_channel("email", _pager_factory)


def test_a_third_party_channel_registers_like_the_builtin_ones(monkeypatch):
    found = [
        EntryPoint(name="pager", value=f"{__name__}:_pager_register", group=plugins.ENTRY_POINT_GROUP),
        *entry_points(group=plugins.ENTRY_POINT_GROUP),
    ]
    monkeypatch.setattr(plugins, "entry_points", lambda group: found)
    registry = load_plugins()
    assert set(registry.channels) == {"email", "pager", "webhook"}
    active, inactive = open_channels(registry.channels, {"PAGER_URL": "x"})
    assert isinstance(active["pager"], Pager) and "pager" not in inactive


def test_a_channel_registered_twice_is_named(monkeypatch):
    twice = EntryPoint(name="twice", value=f"{__name__}:_twice_register", group=plugins.ENTRY_POINT_GROUP)
    monkeypatch.setattr(plugins, "entry_points", lambda group: [*entry_points(group=group), twice])
    with pytest.raises(
        PluginError, match="plugin 'twice' .* failed to load: notification channel email is registered twice"
    ):
        load_plugins()
