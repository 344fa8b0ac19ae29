"""launch._async_mode: peeks at the async runtime before anything is imported or patched."""

from __future__ import annotations

from pathlib import Path

import pytest

from presence_dash.launch import _async_mode


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("PRESENCE_DASH_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)


def toml(tmp_path: Path, text: bytes, name: str = "c.toml") -> str:
    path = tmp_path / name
    path.write_bytes(text)
    return str(path)


@pytest.mark.parametrize("flag", ["--config", "-c"])
def test_async_mode_is_read_from_the_config_file(tmp_path: Path, flag: str) -> None:
    path = toml(tmp_path, b'[server]\nasync_mode = "gevent"\n')
    assert _async_mode(["serve", flag, path]) == "gevent"


def test_async_mode_flag_overrides_the_config_file(tmp_path: Path) -> None:
    path = toml(tmp_path, b'[server]\nasync_mode = "gevent"\n')
    assert _async_mode(["serve", "--config", path, "--async-mode", "threading"]) == "threading"


def test_async_mode_from_environment_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PRESENCE_DASH_CONFIG", toml(tmp_path, b'[server]\nasync_mode="gevent"\n'))
    assert _async_mode(["serve"]) == "gevent"


def test_async_mode_from_default_file_in_cwd(tmp_path: Path) -> None:
    toml(tmp_path, b'[server]\nasync_mode = "threading"\n', name="presence-dash.toml")
    assert _async_mode(["serve"]) == "threading"


@pytest.mark.parametrize(
    "content",
    [
        b"[server\n",  # not TOML
        b"server = 3\n",  # wrong shape
        b"[server]\nasync_mode = 3\n",  # not a string
        b'[server]\nhost = "caf\xe9"\n',  # not UTF-8
    ],
)
def test_unreadable_config_falls_back_to_eventlet(tmp_path: Path, content: bytes) -> None:
    # The CLI reports the real problem later; the peek must never crash.
    assert _async_mode(["serve", "--config", toml(tmp_path, content)]) == "eventlet"


def test_missing_config_falls_back_to_eventlet(tmp_path: Path) -> None:
    assert _async_mode(["serve", "--config", str(tmp_path / "missing.toml")]) == "eventlet"
    assert _async_mode(["demo"]) == "eventlet"


def test_dangling_flag_is_ignored() -> None:
    assert _async_mode(["serve", "--config"]) == "eventlet"
