"""Config file (CONTRACT "Config file"): validation, key paths in errors, secrets, CSV people."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from presence_dash.config import (
    ConfigError,
    Settings,
    StateMapping,
    load_settings,
    settings_from_dict,
)
from presence_dash.providers.cisco.config import CiscoConfig

ENV = {"PRESENCE_DASH_SECRET_KEY": "s3cret-key", "SN_PASSWORD": "hunter2"}

# The CONTRACT example. The `[providers.cisco]`-style placeholder sections that only point at
# other documents are left out: they stand for provider sections described elsewhere.
CONTRACT_EXAMPLE = """
[server]
host = "127.0.0.1"
port = 8000
async_mode = "eventlet"          # or "gevent"
secret_key_env = "PRESENCE_DASH_SECRET_KEY"
push_interval_ms = 100           # changes are batched for at most this long
database = "sqlite:///presence-dash.db"   # or postgresql://...
message_queue = ""               # redis://127.0.0.1:6379/0 to run several web nodes

[[people]]
id = "ada"                       # stable, URL-safe
name = "Ada Lovelace"
team = "Service Desk"
servicenow = "62826bf03710200044e0bfc8bcbe5df1"   # sys_user sys_id
cisco = "ada@example.com"                         # IM&P user id / JID
salesforce = "0055g00000AbCdEAAV"                 # User Id

[providers.servicenow]
base_url = "https://acme.service-now.com"
username = "presence.dash"
password_env = "SN_PASSWORD"
poll_seconds = 5
online_within_s = 30
away_within_s = 60
"""

SYS_ID = "62826bf03710200044e0bfc8bcbe5df1"


def write(tmp_path: Path, text: str, name: str = "presence-dash.toml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def sn_section(**overrides: Any) -> dict[str, Any]:
    section: dict[str, Any] = {
        "base_url": "https://acme.service-now.com",
        "username": "presence.dash",
        "password_env": "SN_PASSWORD",
    }
    section.update(overrides)
    return section


def error_of(raw: dict[str, Any], environ: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as info:
        settings_from_dict(raw, ENV if environ is None else environ)
    return str(info.value)


# -- the happy path ------------------------------------------------------------------------


def test_contract_example_validates(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, CONTRACT_EXAMPLE), ENV)
    assert isinstance(settings, Settings)
    assert settings.demo is False
    server = settings.server
    assert (server.host, server.port, server.async_mode) == ("127.0.0.1", 8000, "eventlet")
    assert server.push_interval_ms == 100
    assert server.database == "sqlite:///presence-dash.db"
    assert server.message_queue == ""
    sn = settings.providers.servicenow
    assert sn is not None
    assert sn.base_url == "https://acme.service-now.com"
    assert (sn.poll_seconds, sn.online_within_s, sn.away_within_s) == (5, 30, 60)
    assert sn.timeout_seconds == 10  # CONTRACT default
    [ada] = settings.people()
    assert (ada.id, ada.name, ada.team) == ("ada", "Ada Lovelace", "Service Desk")
    assert ada.source_ids == {
        "servicenow": SYS_ID,
        "cisco": "ada@example.com",
        "salesforce": "0055g00000AbCdEAAV",
    }


def test_empty_config_uses_defaults_and_disables_providers() -> None:
    settings = settings_from_dict({}, {})
    assert settings.server.port == 8000
    assert settings.server.host == "127.0.0.1"
    assert settings.providers.servicenow is None
    assert settings.people() == []


def test_secret_returns_resolved_values(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, CONTRACT_EXAMPLE), ENV)
    assert settings.secret("SN_PASSWORD") == "hunter2"
    assert settings.secret(settings.server.secret_key_env) == "s3cret-key"
    assert settings.secret(None) is None
    assert settings.secret("NOT_REFERENCED") is None


def test_only_referenced_environment_variables_are_kept() -> None:
    settings = settings_from_dict(
        {"providers": {"servicenow": sn_section()}},
        {"SN_PASSWORD": "pw", "HOME": "/root", "AWS_SECRET": "x"},
    )
    assert settings.secret("SN_PASSWORD") == "pw"
    assert settings.secret("AWS_SECRET") is None


def test_replace_server_returns_new_settings_and_keeps_the_rest(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, CONTRACT_EXAMPLE), ENV)
    changed = settings.replace_server(host="127.0.0.2", port=9001, async_mode="threading")
    assert (changed.server.host, changed.server.port) == ("127.0.0.2", 9001)
    assert changed.server.async_mode == "threading"
    assert changed.server.push_interval_ms == 100
    assert (settings.server.host, settings.server.port) == ("127.0.0.1", 8000)
    assert changed.secret("SN_PASSWORD") == "hunter2"
    assert [p.id for p in changed.people()] == ["ada"]
    assert changed.providers == settings.providers


def test_replace_server_keeps_demo_flag() -> None:
    settings = settings_from_dict({}, {}, demo=True)
    assert settings.replace_server(port=8123).demo is True


# -- errors name the key ----------------------------------------------------------------------


def test_unknown_server_key_names_its_path(tmp_path: Path) -> None:
    path = write(tmp_path, "[server]\nprot = 8000\n")
    with pytest.raises(ConfigError) as info:
        load_settings(path, ENV)
    assert str(info.value).startswith("server.prot: unknown key")


def test_unknown_provider_key_names_its_path() -> None:
    raw = {"providers": {"servicenow": {**sn_section(), "pasword_env": "SN_PASSWORD"}}}
    assert error_of(raw).startswith("providers.servicenow.pasword_env: unknown key")


def test_unknown_person_key_names_index_and_key() -> None:
    raw = {
        "people": [
            {"id": "ada", "name": "Ada"},
            {"id": "bob", "name": "Bob", "emial": "bob@example.com"},
        ]
    }
    assert error_of(raw).startswith("people[1].emial: unknown key")


def test_unknown_top_level_section_is_an_error() -> None:
    assert error_of({"servr": {"port": 1}}).startswith("servr: unknown key")


def test_bad_sys_id_message() -> None:
    raw = {"people": [{"id": "ada", "name": "Ada", "servicenow": "not-a-sys-id"}]}
    assert error_of(raw).startswith("people[0].servicenow: expected a 32-character sys_id")


@pytest.mark.parametrize(
    "sys_id",
    [SYS_ID.upper(), SYS_ID[:-1], SYS_ID + "0", "g" * 32],
)
def test_sys_id_must_be_32_lowercase_hex(sys_id: str) -> None:
    raw = {"people": [{"id": "ada", "name": "Ada", "servicenow": sys_id}]}
    assert "people[0].servicenow" in error_of(raw)


def test_missing_environment_variable_names_key_and_variable() -> None:
    raw = {"providers": {"servicenow": sn_section()}}
    message = error_of(raw, {})
    assert message.startswith("providers.servicenow.password_env:")
    assert "SN_PASSWORD" in message
    assert "not set" in message


def test_empty_environment_variable_counts_as_missing() -> None:
    raw = {"server": {"secret_key_env": "PRESENCE_DASH_SECRET_KEY"}}
    message = error_of(raw, {"PRESENCE_DASH_SECRET_KEY": ""})
    assert message.startswith("server.secret_key_env:")
    assert "PRESENCE_DASH_SECRET_KEY" in message


def test_missing_required_key_is_named() -> None:
    section = sn_section()
    del section["username"]
    message = error_of({"providers": {"servicenow": section}})
    assert message.startswith("providers.servicenow.username: required key is missing")


def test_bad_base_url_is_named_with_value() -> None:
    message = error_of({"providers": {"servicenow": sn_section(base_url="ftp://acme")}})
    assert message.startswith("providers.servicenow.base_url:")
    assert "ftp://acme" in message


def test_out_of_range_port_is_named() -> None:
    assert error_of({"server": {"port": 70000}}).startswith("server.port:")


def test_duplicate_person_ids_are_an_error() -> None:
    raw = {"people": [{"id": "ada", "name": "Ada"}, {"id": "ada", "name": "Ada Again"}]}
    assert error_of(raw).startswith("people[1].id: duplicate person id 'ada'")


def test_away_threshold_below_online_threshold_is_an_error() -> None:
    raw = {"providers": {"servicenow": sn_section(online_within_s=60, away_within_s=30)}}
    message = error_of(raw)
    assert message.startswith("providers.servicenow:")
    assert "away_within_s must be >= online_within_s" in message


def test_several_problems_are_counted_in_one_line() -> None:
    raw = {"server": {"prot": 1, "hots": "x"}}
    message = error_of(raw)
    assert "\n" not in message
    assert "(and 1 more problem(s))" in message


def test_invalid_toml_gives_clear_message(tmp_path: Path) -> None:
    path = write(tmp_path, "[server\nport = 8000\n")
    with pytest.raises(ConfigError) as info:
        load_settings(path, ENV)
    message = str(info.value)
    assert message.startswith(f"{path}: not valid TOML")
    assert "\n" not in message


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "nope.toml"
    with pytest.raises(ConfigError, match="config file not found") as info:
        load_settings(path, ENV)
    assert str(path) in str(info.value)


def test_directory_instead_of_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_settings(tmp_path, ENV)


# -- people from a CSV directory ----------------------------------------------------------------


def test_csv_people_are_merged_after_file_people_relative_to_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    conf_dir = tmp_path / "conf"
    conf_dir.mkdir()
    (conf_dir / "people.csv").write_text(
        "id,name,team,servicenow,cisco,salesforce\n"
        f"bob,Bob Babbage,Network,{SYS_ID},,\n"
        "cy,Cy Cerf,Network,,cy@example.com,\n",
        encoding="utf-8",
    )
    path = write(
        conf_dir,
        """
        [directory]
        csv = "people.csv"

        [[people]]
        id = "ada"
        name = "Ada Lovelace"
        """,
    )
    monkeypatch.chdir(tmp_path)  # the CSV is found next to the config, not in the cwd
    people = load_settings(path, ENV).people()
    assert [p.id for p in people] == ["ada", "bob", "cy"]
    bob, cy = people[1], people[2]
    assert (bob.name, bob.team) == ("Bob Babbage", "Network")
    assert bob.source_ids == {"servicenow": SYS_ID}  # empty cells are not ids
    assert cy.source_ids == {"cisco": "cy@example.com"}


def test_csv_unknown_column_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "people.csv").write_text("id,name,emial\nada,Ada,a@example.com\n")
    path = write(tmp_path, '[directory]\ncsv = "people.csv"\n')
    with pytest.raises(ConfigError) as info:
        load_settings(path, ENV)
    message = str(info.value)
    assert message.startswith("directory.csv:")
    assert "emial" in message


def test_csv_missing_file_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, '[directory]\ncsv = "missing.csv"\n')
    with pytest.raises(ConfigError, match=r"^directory\.csv: cannot read .*missing\.csv"):
        load_settings(path, ENV)


def test_csv_rows_are_validated_like_file_people(tmp_path: Path) -> None:
    (tmp_path / "people.csv").write_text("id,name,servicenow\nada,Ada,XYZ\n")
    path = write(tmp_path, '[directory]\ncsv = "people.csv"\n')
    with pytest.raises(ConfigError, match=r"servicenow: expected a 32-character sys_id"):
        load_settings(path, ENV)


def test_csv_duplicate_of_file_person_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "people.csv").write_text("id,name\nada,Ada Again\n")
    path = write(tmp_path, '[directory]\ncsv = "people.csv"\n\n[[people]]\nid="ada"\nname="Ada"\n')
    with pytest.raises(ConfigError, match="duplicate person id 'ada'"):
        load_settings(path, ENV)


def test_csv_with_excel_byte_order_mark_is_read(tmp_path: Path) -> None:
    (tmp_path / "people.csv").write_bytes(b"\xef\xbb\xbfid,name\nada,Ada\n")
    path = write(tmp_path, '[directory]\ncsv = "people.csv"\n')
    assert [p.id for p in load_settings(path, ENV).people()] == ["ada"]


def test_csv_not_in_utf8_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "people.csv").write_bytes("id,name\nzoe,Zo\u00eb\n".encode("latin-1"))
    path = write(tmp_path, '[directory]\ncsv = "people.csv"\n')
    with pytest.raises(ConfigError, match=r"^directory\.csv: .*not UTF-8"):
        load_settings(path, ENV)


# Empty once every provider the CONTRACT names is built (pytest then skips it).
def test_command_line_overrides_are_validated_like_the_file() -> None:
    settings = settings_from_dict({}, {})
    assert settings.replace_server(port=9000).server.port == 9000
    with pytest.raises(ConfigError, match=r"^server\.port: "):
        settings.replace_server(port=0)


def test_cisco_section_names_its_missing_and_bad_keys() -> None:
    base = {
        "base_url": "https://imp.example.com:8083",
        "app_user": "app",
        "app_password_env": "CISCO_PW",
        "end_user": "svc@example.com",
        "callback_url": "http://dash.example.com:8080/hooks/cisco/pws",
    }
    env = {"CISCO_PW": "x"}
    settings = settings_from_dict({"providers": {"cisco": base}}, env)
    cisco = settings.providers.cisco
    assert cisco is not None and cisco.resync_seconds == 600
    missing = {k: v for k, v in base.items() if k != "callback_url"}
    with pytest.raises(ConfigError, match=r"^providers\.cisco\.callback_url: required"):
        settings_from_dict({"providers": {"cisco": missing}}, env)
    bad_map = {**base, "state_map": {"DND": "purple"}}
    with pytest.raises(ConfigError, match=r"^providers\.cisco\.state_map\.DND\.status: "):
        settings_from_dict({"providers": {"cisco": bad_map}}, env)
    short = {**base, "expiry_seconds": 60}
    with pytest.raises(ConfigError, match=r"^providers\.cisco\.expiry_seconds: "):
        settings_from_dict({"providers": {"cisco": short}}, env)


CISCO = {
    "base_url": "https://imp.example.com:8083",
    "app_user": "app",
    "app_password_env": "CISCO_PW",
    "end_user": "svc@example.com",
    "callback_url": "http://dash.example.com:8080/hooks/cisco/pws",
}


def _cisco(**changes: Any) -> CiscoConfig:
    settings = settings_from_dict({"providers": {"cisco": {**CISCO, **changes}}}, {"CISCO_PW": "x"})
    assert settings.providers.cisco is not None
    return settings.providers.cisco


@pytest.mark.parametrize("state", ["DND", "dnd", "on-the-phone", "meeting", "presenting", "busy"])
def test_cisco_calls_dnd_calls_meetings_and_presenting_busy_by_default(state: str) -> None:
    mapped = _cisco().mapping_for(state)
    assert mapped is not None and mapped.status == "busy" and mapped.activity


def test_cisco_state_map_takes_a_bare_status_or_status_and_activity() -> None:
    cisco = _cisco(
        state_map={
            "DND": "offline",  # the v1 form: no activity
            "on-the-phone": {"status": "away", "activity": "Calling"},
            "lunch": {"status": "away"},
        }
    )
    assert cisco.mapping_for("DND") == StateMapping(status="offline", activity=None)
    assert cisco.mapping_for("on-the-phone") == StateMapping(status="away", activity="Calling")
    assert cisco.mapping_for("lunch") == StateMapping(status="away", activity=None)
    assert cisco.mapping_for("meeting") == StateMapping(status="busy", activity="In a meeting")
    assert cisco.mapping_for("tv") is None  # neither mapped nor a default: shown as unknown


@pytest.mark.parametrize(
    ("state_map", "message"),
    [
        ({"DND": {"status": "purple"}}, r"^providers\.cisco\.state_map\.DND\.status: "),
        ({"DND": {"activity": "Busy"}}, r"^providers\.cisco\.state_map\.DND\.status: required"),
        (
            {"DND": {"status": "busy", "activity": "x" * 61}},
            r"^providers\.cisco\.state_map\.DND\.activity: ",
        ),
    ],
)
def test_cisco_state_map_entries_are_checked(state_map: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        _cisco(state_map=state_map)


SALESFORCE = {
    "base_url": "https://login.salesforce.com",
    "client_id": "3MVG9.consumer",
    "client_secret_env": "SF_SECRET",
}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"client_secret_env": None},
            "providers.salesforce: client_credentials needs client_secret_env",
        ),
        (
            {"auth": "jwt_bearer", "username": "u@acme.com"},
            "providers.salesforce: jwt_bearer needs",
        ),
        ({"ids_per_query": 501}, "providers.salesforce.ids_per_query:"),
        ({"session_type": "UI' OR Id != '"}, "providers.salesforce.session_type: invalid value"),
        ({"api_version": "v60"}, "providers.salesforce.api_version: invalid value"),
        (
            {"login_type": "Application", "login_types": ["SAML Idp Initiated SSO"]},
            "providers.salesforce: set login_types or login_type, not both",
        ),
        ({"login_types": []}, "providers.salesforce.login_types:"),
        (
            {"login_types": ["Application') OR ('x"]},
            "providers.salesforce.login_types[0]: invalid value",
        ),
    ],
)
def test_salesforce_section_names_its_bad_keys(changes: dict[str, Any], message: str) -> None:
    section = {k: v for k, v in {**SALESFORCE, **changes}.items() if v is not None}
    with pytest.raises(ConfigError) as err:
        settings_from_dict({"providers": {"salesforce": section}}, {"SF_SECRET": "s"})
    assert str(err.value).startswith(message)


def test_a_valid_salesforce_section_keeps_its_defaults() -> None:
    settings = settings_from_dict({"providers": {"salesforce": SALESFORCE}}, {"SF_SECRET": "s"})
    section = settings.providers.salesforce
    assert section is not None
    assert (section.session_type, section.ids_per_query) == ("UI", 200)
    # an interactive UI login: user name and password, or SAML SSO started either side
    assert section.ui_login_types == [
        "Application",
        "SAML Idp Initiated SSO",
        "SAML Sfdc Initiated SSO",
    ]
    assert settings.secret("SF_SECRET") == "s"


def test_the_v1_salesforce_login_type_alone_still_names_the_one_type_queried() -> None:
    section = {**SALESFORCE, "login_type": "SAML Idp Initiated SSO"}
    settings = settings_from_dict({"providers": {"salesforce": section}}, {"SF_SECRET": "s"})
    assert settings.providers.salesforce is not None
    assert settings.providers.salesforce.ui_login_types == ["SAML Idp Initiated SSO"]
