"""The real command line as a subprocess (CONTRACT "Command line"): exit codes and messages."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

GOOD = """
[server]
port = 8123
secret_key_env = "TEST_SECRET_KEY"

[[people]]
id = "ada"
name = "Ada Lovelace"
servicenow = "62826bf03710200044e0bfc8bcbe5df1"

[providers.servicenow]
base_url = "http://127.0.0.1:9"
username = "presence.dash"
password_env = "TEST_SN_PASSWORD"
"""


def run_cli(
    cwd: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environ = {
        k: v
        for k, v in os.environ.items()
        if k not in {"PRESENCE_DASH_CONFIG", "PORT", "TEST_SECRET_KEY", "TEST_SN_PASSWORD"}
    }
    environ["PYTHONPATH"] = str(REPO) + os.pathsep + environ.get("PYTHONPATH", "")
    environ.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "presence_dash.launch", *args],
        cwd=cwd,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
    )


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "presence-dash.toml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


SECRETS = {"TEST_SECRET_KEY": "k", "TEST_SN_PASSWORD": "pw"}


def assert_one_line_error(result: subprocess.CompletedProcess[str], *needles: str) -> str:
    assert result.returncode == 2, result
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for needle in needles:
        assert needle in lines[0]
    return lines[0]


def test_check_config_good_file_exits_0_and_prints_ok(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    result = run_cli(tmp_path, "check-config", str(path), env=SECRETS)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"{path}: ok"
    assert "Traceback" not in result.stderr


def test_check_config_unknown_key_exits_2_with_one_line_naming_it(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("port = 8123", "prot = 8123"))
    result = run_cli(tmp_path, "check-config", str(path), env=SECRETS)
    line = assert_one_line_error(result, "server.prot", "unknown key")
    assert line.startswith("presence-dash: ")
    assert result.stdout == ""


def test_check_config_bad_sys_id_names_person_and_key(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("62826bf03710200044e0bfc8bcbe5df1", "62826BF0"))
    result = run_cli(tmp_path, "check-config", str(path), env=SECRETS)
    assert_one_line_error(result, "people[0].servicenow", "sys_id")


def test_check_config_missing_secret_names_key_and_variable(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    result = run_cli(tmp_path, "check-config", str(path), env={"TEST_SECRET_KEY": "k"})
    assert_one_line_error(result, "providers.servicenow.password_env", "TEST_SN_PASSWORD")


def test_check_config_invalid_toml_exits_2(tmp_path: Path) -> None:
    path = write(tmp_path, "[server\n")
    result = run_cli(tmp_path, "check-config", str(path))
    assert_one_line_error(result, "not valid TOML")


def test_check_config_missing_file_exits_2(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "check-config", str(tmp_path / "missing.toml"))
    assert_one_line_error(result, "missing.toml", "not found")


@pytest.mark.parametrize("args", [("frobnicate",), ("check-config",), ("simulate", "nosuch")])
def test_usage_errors_exit_2_without_traceback(tmp_path: Path, args: tuple[str, ...]) -> None:
    result = run_cli(tmp_path, *args)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "usage:" in result.stderr


def test_worker_exits_2_with_clear_message(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "worker")
    line = assert_one_line_error(result, "worker")
    assert "message_queue" in line


def test_check_config_help_exits_0(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "check-config", "--help")
    assert result.returncode == 0
    assert "usage: presence-dash check-config" in result.stdout
