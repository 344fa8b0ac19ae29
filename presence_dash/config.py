"""The config file (TOML): parsed once at start into typed, validated objects.

Validation errors name the key path the user wrote (`people[3].servicenow: ...`), unknown keys
are errors (they are usually typos), and secrets are read only from the environment variables
named by `*_env` keys, resolved here so nothing reads `os.environ` later.
"""

from __future__ import annotations

import csv
import ipaddress
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    create_model,
    field_validator,
    model_validator,
)

from presence_dash.alerts.thresholds import Thresholds
from presence_dash.core.model import Person
from presence_dash.providers.config_base import (  # noqa: F401 (the shared pieces, importable from here too)
    EnvName,
    HttpUrl,
    MappedStatus,
    ProviderCommon,
    Section,
    StateMap,
    StateMapping,
    state_table,
)
from presence_dash.providers.registry import PROVIDERS
from presence_dash.providers.spec import PersonIdField


class ConfigError(ValueError):
    """A config problem a user can fix; the message names the key and the problem."""


# Every table is a Section; `_Section` is its name here, and the shared pieces are imported
# from here too (the providers' own config models import provider_config.py instead).
_Section = Section


class ServerConfig(_Section):
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    async_mode: Literal["eventlet", "gevent", "threading"] = "eventlet"
    secret_key_env: EnvName | None = None
    push_interval_ms: int = Field(100, ge=10, le=10_000)
    database: str = "sqlite:///presence-dash.db"
    message_queue: str = ""
    change_log_size: int = Field(1024, ge=16, le=1_000_000)
    # Open connections served at once (websockets, long-polls, page loads); eventlet's own
    # default of 1,024 refused every browser past it (issue 13).
    max_connections: int = Field(10_000, ge=16, le=1_000_000)
    # Several web nodes and two workers on one Redis (docs/deployment.md): "all" is one
    # process doing everything; "web" serves browsers and leaves the providers to a worker;
    # "worker" is what `presence-dash worker` runs.
    role: Literal["all", "web", "worker"] = "all"
    leader_ttl_s: float = Field(10.0, ge=1.0, le=300.0)  # a dead leader's lock lasts this long
    # Every Redis key and the Socket.IO channel start with this, so deployments (or tests)
    # can share one Redis; pub/sub ignores the database number in the URL.
    redis_prefix: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")] = (
        "presence-dash"
    )
    # PostgreSQL schema migrations at start (SQLite is always migrated): off, a database
    # several nodes share changes only through `presence-dash db upgrade` unless told.
    auto_migrate: bool = False

    @field_validator("role")
    @classmethod
    def _role_needs_redis(cls, role: str, info: ValidationInfo) -> str:
        queue = info.data.get("message_queue", "")
        if role != "all" and not str(queue).startswith(("redis://", "rediss://", "unix://")):
            raise ValueError(f'role "{role}" needs message_queue = "redis://..."')
        return role


class _PersonBase(_Section):
    id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    team: Annotated[str, StringConstraints(min_length=1, max_length=100)] = "Team"

    def to_person(self) -> Person:
        ids = {name: v for name, key in _PERSON_KEYS.items() if (v := getattr(self, key))}
        return Person(id=self.id, name=self.name, team=self.team, source_ids=ids)


def _person_id(field: PersonIdField) -> Any:
    """`str | None` for one vendor's id key, checked by the provider's validator."""

    def check(value: str | None) -> str | None:
        if not value:
            return None
        return field.validate(value) if field.validate else value

    return (Annotated[str | None, AfterValidator(check)], None)


# Provider name -> its key in [[people]] and the directory CSV (the CONTRACT's names).
_PERSON_KEYS = {s.name: s.person_field.key for s in PROVIDERS if s.person_field}
PersonConfig = create_model(
    "PersonConfig",
    __base__=_PersonBase,
    **{s.person_field.key: _person_id(s.person_field) for s in PROVIDERS if s.person_field},
)


# Whole numbers only (`true` or `4.5` is a typo, not a threshold); None: the check is off.
Count = Annotated[int, Field(strict=True, ge=0, le=100_000)]
Minutes = Annotated[int, Field(strict=True, ge=0, le=7 * 24 * 60)]


class TeamConfig(_Section):
    """Thresholds for one team (`[[teams]]`, v1.1). The name may be a team that only the
    CSV directory has, or none yet: a team nobody is in is simply short of its minimum."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    min_online: Count | None = None  # fewer people online than this: the team alerts
    max_away_minutes: Minutes | None = None  # away longer than this: the person is flagged
    max_busy_minutes: Minutes | None = None  # busy longer than this: likewise

    def thresholds(self) -> Thresholds:
        return Thresholds(self.min_online, self.max_away_minutes, self.max_busy_minutes)


class DirectoryConfig(_Section):
    csv: str | None = None


class ScreenMeetConfig(ProviderCommon):
    """ScreenMeet sessions through a Scripted REST API on the ServiceNow instance that has the
    ScreenMeet app (docs/providers/screenmeet.md): `base_url` is that API's base path, e.g.
    https://acme.service-now.com/api/x_acme_sm/screenmeet; basic auth as `username`."""

    username: str
    password_env: EnvName


# One table per registered provider, plus ScreenMeet (a feature, not a provider).
ProvidersConfig = create_model(
    "ProvidersConfig",
    __base__=_Section,
    **{s.name: (s.config_model | None, None) for s in PROVIDERS},
    screenmeet=(ScreenMeetConfig | None, None),
)


RoleName = Literal["viewer", "agent", "admin"]
UserName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")]


class LocalUser(_Section):
    username: UserName
    # Made by `presence-dash hash-password` (werkzeug: scrypt or pbkdf2), never a password.
    password_hash: Annotated[str, StringConstraints(pattern=r"^(scrypt|pbkdf2):\S+\$\S+\$\S+$")]
    role: RoleName = "agent"


class AuthConfig(_Section):
    """Sign-in (docs/security.md). `none` is for the demo and loopback hosts only."""

    mode: Literal["none", "local", "header"] = "none"
    users: list[LocalUser] = []
    users_file: str | None = None  # TOML with [[users]], merged into `users`
    # header mode: a reverse proxy that has signed the user in says who and which groups.
    user_header: str = "X-Remote-User"
    groups_header: str = "X-Remote-Groups"
    trusted_proxies: list[str] = []  # addresses or CIDR networks the headers may come from
    group_roles: dict[str, RoleName] = {}
    default_role: RoleName | None = None  # header mode: role when no group matches
    # What someone who has not signed in may do (local/header): nothing, or watch.
    anonymous_role: Literal["viewer"] | None = None
    session_minutes: int = Field(12 * 60, ge=5, le=60 * 24 * 90)
    secure_cookies: bool | None = None  # None: Secure unless the server is on loopback
    audit_retention_days: int = Field(365, ge=1, le=36_500)
    login_rate_limit: str = "10 per minute"
    action_rate_limit: str = "60 per minute"
    failed_logins_before_lockout: int = Field(5, ge=1, le=1000)
    lockout_minutes: float = Field(15, gt=0, le=24 * 60)

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for item in value:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"{item!r} is not an IP address or network") from None
        return value

    @field_validator("login_rate_limit", "action_rate_limit")
    @classmethod
    def _rate(cls, value: str) -> str:
        if not re.fullmatch(r"\d+ per (second|minute|hour|day)", value):
            raise ValueError('expected "<N> per second|minute|hour|day"')
        return value

    @model_validator(mode="after")
    def _mode_has_its_keys(self) -> AuthConfig:
        if self.mode == "header" and not self.trusted_proxies:
            raise ValueError("header mode needs trusted_proxies (where the proxy connects from)")
        if self.mode == "local" and not self.users:
            raise ValueError("local mode needs users (or users_file)")
        names = [u.username.casefold() for u in self.users]
        if len(names) != len(set(names)):
            raise ValueError("a username is listed twice")
        return self


class AppConfig(_Section):
    server: ServerConfig = ServerConfig()
    people: list[PersonConfig] = []
    teams: list[TeamConfig] = []
    directory: DirectoryConfig = DirectoryConfig()
    providers: ProvidersConfig = ProvidersConfig()
    auth: AuthConfig = AuthConfig()

    @field_validator("teams")
    @classmethod
    def _team_once(cls, teams: list[TeamConfig]) -> list[TeamConfig]:
        first: dict[str, int] = {}
        for index, team in enumerate(teams):
            if team.name in first:
                raise ValueError(
                    f"duplicate name {team.name!r} in teams[{index}] "
                    f"(first in teams[{first[team.name]}])"
                )
            first[team.name] = index
        return teams

    def duplicate_person(self) -> str | None:
        """`people[i].id: ...` for the first id used twice, else None."""
        first: dict[str, int] = {}
        for index, person in enumerate(self.people):
            if person.id in first:
                return (
                    f"people[{index}].id: duplicate person id {person.id!r} "
                    f"(first used by people[{first[person.id]}])"
                )
            first[person.id] = index
        return None


class Settings:
    """Everything the app needs at run time: the validated config plus resolved secrets."""

    def __init__(self, config: AppConfig, secrets: Mapping[str, str], *, demo: bool = False):
        self.config = config
        self._secrets = dict(secrets)
        self.demo = demo

    @property
    def server(self) -> ServerConfig:
        return self.config.server

    @property
    def providers(self) -> ProvidersConfig:
        return self.config.providers

    def people(self) -> list[Person]:
        return [p.to_person() for p in self.config.people]

    def thresholds(self) -> dict[str, Thresholds]:
        """`[[teams]]` by team name (teams not listed have no thresholds)."""
        return {t.name: t.thresholds() for t in self.config.teams}

    def secret(self, env_name: str | None) -> str | None:
        return self._secrets.get(env_name) if env_name else None

    def replace_server(self, **changes: Any) -> Settings:
        """Command-line overrides, validated like the file (`--port 0` is refused)."""
        try:
            server = ServerConfig.model_validate({**self.config.server.model_dump(), **changes})
        except ValidationError as exc:
            raise ConfigError("server." + _first_error(exc)) from None
        config = self.config.model_copy(update={"server": server})
        _check_open_host(config)
        return Settings(config, self._secrets, demo=self.demo)


def load_settings(path: str | Path, environ: Mapping[str, str]) -> Settings:
    """Read, validate and resolve a config file; raise ConfigError naming the key."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read config file ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    return settings_from_dict(raw, environ, base_dir=path.parent)


def settings_from_dict(
    raw: Mapping[str, Any],
    environ: Mapping[str, str],
    *,
    base_dir: Path = Path("."),
    demo: bool = False,
) -> Settings:
    raw = dict(raw)
    csv_people = _csv_people(raw.get("directory"), base_dir)
    if csv_people:
        raw["people"] = [*raw.get("people", []), *csv_people]
    auth = raw.get("auth")
    if isinstance(auth, Mapping) and auth.get("users_file"):
        raw["auth"] = {**auth, "users": [*auth.get("users", []), *_file_users(auth, base_dir)]}
    try:
        config = AppConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_first_error(exc)) from None
    duplicate = config.duplicate_person()
    if duplicate:
        raise ConfigError(duplicate)
    _check_open_host(config)
    return Settings(config, _resolve_secrets(raw, environ), demo=demo)


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = _key_path(err["loc"]) or "config"
    message = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        message = "unknown key (check the spelling)"
    elif err["type"] == "missing":
        message = "required key is missing"
    elif err["type"] == "string_pattern_mismatch":
        message = f"invalid value {err.get('input')!r}"
    more = len(exc.errors()) - 1
    return f"{where}: {message}" + (f" (and {more} more problem(s))" if more else "")


def _key_path(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + str(part)
    return text


def _resolve_secrets(raw: Mapping[str, Any], environ: Mapping[str, str]) -> dict[str, str]:
    """Every `*_env` key must name a set environment variable; collect their values."""
    secrets: dict[str, str] = {}
    for key_path, env_name in _env_keys(raw, ""):
        value = environ.get(env_name)
        if not value:
            raise ConfigError(f"{key_path}: environment variable {env_name} is not set")
        secrets[env_name] = value
    return secrets


def _env_keys(node: Any, prefix: str) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    if isinstance(node, Mapping):
        for key, value in node.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            if str(key).endswith("_env") and isinstance(value, str) and value:
                found.append((path, value))
            else:
                found.extend(_env_keys(value, path))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found.extend(_env_keys(value, f"{prefix}[{index}]"))
    return found


_CSV_COLUMNS = {"id", "name", "team", *_PERSON_KEYS.values()}


def _csv_people(directory: Any, base_dir: Path) -> list[dict[str, str]]:
    if not isinstance(directory, Mapping) or not directory.get("csv"):
        return []
    path = base_dir / str(directory["csv"])
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:  # Excel writes a BOM
            reader = csv.DictReader(handle)
            unknown = set(reader.fieldnames or ()) - _CSV_COLUMNS
            if unknown:
                raise ConfigError(f"directory.csv: {path}: unknown column(s) {sorted(unknown)}")
            return [{k: v for k, v in row.items() if v} for row in reader]
    except OSError as exc:
        raise ConfigError(f"directory.csv: cannot read {path} ({exc.strerror})") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"directory.csv: {path} is not UTF-8 ({exc.reason})") from None


def _file_users(auth: Mapping[str, Any], base_dir: Path) -> list[Any]:
    path = base_dir / str(auth["users_file"])
    try:
        users = tomllib.loads(path.read_text(encoding="utf-8")).get("users", [])
    except OSError as exc:
        raise ConfigError(f"auth.users_file: cannot read {path} ({exc.strerror})") from None
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"auth.users_file: {path} is not valid TOML ({exc})") from None
    if not isinstance(users, list):
        raise ConfigError(f"auth.users_file: {path}: expected [[users]] tables")
    return users


def _check_open_host(config: AppConfig) -> None:
    """Without sign-in everyone is an admin: only acceptable when only this machine can
    connect."""
    if config.auth.mode == "none" and not is_loopback(config.server.host):
        raise ConfigError(
            f"auth.mode: 'none' (no sign-in) is only allowed on a loopback host, not on "
            f'{config.server.host!r}; set [auth] mode = "local" or "header"'
        )


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
