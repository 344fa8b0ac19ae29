"""The `[providers.screenmeet]` section: accepted with its keys, secret from the environment,
mistakes named by key path."""

from __future__ import annotations

from typing import Any

import pytest

from presence_dash.config import ConfigError, settings_from_dict

ENV = {"SM_PASSWORD": "pw"}
SECTION = {
    "base_url": "https://acme.service-now.com/api/x_acme_sm/screenmeet",
    "username": "sm.bridge",
    "password_env": "SM_PASSWORD",
}


def _error(section: dict[str, Any], environ: dict[str, str] = ENV) -> str:
    with pytest.raises(ConfigError) as info:
        settings_from_dict({"providers": {"screenmeet": section}}, environ)
    return str(info.value)


def test_a_screenmeet_section_is_accepted_with_its_secret() -> None:
    settings = settings_from_dict({"providers": {"screenmeet": SECTION}}, ENV)
    config = settings.providers.screenmeet
    assert config is not None
    assert (config.base_url, config.username, config.timeout_seconds) == (
        SECTION["base_url"],
        "sm.bridge",
        10,
    )
    assert settings.secret(config.password_env) == "pw"


def test_without_the_section_screenmeet_is_disabled() -> None:
    assert settings_from_dict({}, {}).providers.screenmeet is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"api_key": "x"}, "providers.screenmeet.api_key: unknown key"),
        ({"username": None}, "providers.screenmeet.username: "),
        ({"base_url": "acme.service-now.com"}, "providers.screenmeet.base_url: invalid value"),
        ({"timeout_seconds": 0}, "providers.screenmeet.timeout_seconds: "),
    ],
)
def test_mistakes_are_named_by_key(change: dict[str, Any], message: str) -> None:
    section = {k: v for k, v in {**SECTION, **change}.items() if v is not None}
    assert _error(section).startswith(message)


def test_an_unset_password_variable_is_named() -> None:
    assert _error(SECTION, {}) == (
        "providers.screenmeet.password_env: environment variable SM_PASSWORD is not set"
    )
