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
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from .alerts import Thresholds
from .model import Person


class ConfigError(ValueError):
    """A config problem a user can fix; the message names the key and the problem."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


HttpUrl = Annotated[str, StringConstraints(pattern=r"^https?://[^\s/]+(/[^\s]*)?$")]
EnvName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]
SysId = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")]


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


class PersonConfig(_Section):
    id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    team: Annotated[str, StringConstraints(min_length=1, max_length=100)] = "Team"
    servicenow: str | None = None
    cisco: str | None = None
    salesforce: str | None = None

    @field_validator("servicenow")
    @classmethod
    def _sys_id(cls, value: str | None) -> str | None:
        if value and not _is_sys_id(value):
            raise ValueError("expected a 32-character sys_id (lowercase hex)")
        return value or None

    @field_validator("salesforce")
    @classmethod
    def _salesforce_id(cls, value: str | None) -> str | None:
        if value and not (len(value) in (15, 18) and value.isalnum() and value.isascii()):
            raise ValueError("expected a 15- or 18-character Salesforce User Id")
        return value or None

    def to_person(self) -> Person:
        ids = {s: v for s in ("servicenow", "cisco", "salesforce") if (v := getattr(self, s))}
        return Person(id=self.id, name=self.name, team=self.team, source_ids=ids)


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


def _is_sys_id(value: str) -> bool:
    return len(value) == 32 and all(c in "0123456789abcdef" for c in value)


class DirectoryConfig(_Section):
    csv: str | None = None


class ProviderCommon(_Section):
    base_url: HttpUrl
    timeout_seconds: float = Field(10, gt=0, le=300)
    # Longest wait between retries while the provider fails for a reason that fixes itself
    # (timeouts, 5xx, malformed answers); None: the provider's retry interval + 5 s, so dots
    # are right again within that long of the vendor answering (docs/reliability.md).
    # Credentials refused back off longer whatever this says; a vendor's Retry-After wins.
    max_backoff_seconds: float | None = Field(None, ge=1, le=3600)


class ServiceNowConfig(ProviderCommon):
    username: str
    password_env: EnvName
    poll_seconds: float = Field(5, ge=0.05, le=3600)
    online_within_s: float = Field(30, gt=0)
    away_within_s: float = Field(60, gt=0)
    # "ui": the UI16 presence endpoint; "table": sys_user_presence through the Table API.
    mode: Literal["ui", "table"] = "ui"
    # Names the public sources disagree on or leave open (docs/providers/servicenow.md).
    request_method: Literal["GET", "POST"] = "POST"
    users_field: str = "users"
    user_id_key: str = "user"
    batch_size: int = Field(500, ge=1, le=10_000)

    @model_validator(mode="after")
    def _thresholds_ordered(self) -> ServiceNowConfig:
        if self.away_within_s < self.online_within_s:
            raise ValueError("away_within_s must be >= online_within_s")
        return self


MappedStatus = Literal["online", "busy", "away", "offline", "unknown"]


class StateMapping(_Section):
    """What one vendor state means: a status and the activity text shown with it."""

    status: MappedStatus
    activity: Annotated[str, StringConstraints(max_length=60)] | None = None


def _state_mapping(value: Any) -> Any:
    # `state_map = {DND = "busy"}` (the v1 form) stays valid: a bare status, no activity.
    return {"status": value} if isinstance(value, str) else value


StateMap = dict[str, Annotated[StateMapping, BeforeValidator(_state_mapping)]]


def state_table(rows: Mapping[str, tuple[MappedStatus, str | None]]) -> dict[str, StateMapping]:
    """A provider's default state table from (status, activity) rows."""
    return {state: StateMapping(status=st, activity=act) for state, (st, act) in rows.items()}


# PWS basic states and RPID activities (lower case) -> status and activity. Busy, DND, on
# the phone, in a meeting and presenting are busy: a team lead must never send work to them
# as if they were free (docs/providers/cisco.md lists where each state comes from).
CISCO_DEFAULT_STATE_MAP: dict[str, StateMapping] = state_table(
    {
        "AVAILABLE": ("online", None),
        "AWAY": ("away", "Away"),
        "DND": ("busy", "Do not disturb"),
        "BUSY": ("busy", "Busy"),
        "VACATION": ("offline", "On vacation"),
        "UNAVAILABLE": ("offline", None),
        "UNKNOWN": ("unknown", "Unknown to IM&P"),
        "available": ("online", None),
        "away": ("away", "Away"),
        "dnd": ("busy", "Do not disturb"),
        "busy": ("busy", "Busy"),
        "on-the-phone": ("busy", "On the phone"),
        "meeting": ("busy", "In a meeting"),
        "presenting": ("busy", "Presenting"),
        "vacation": ("offline", "On vacation"),
    }
)


class CiscoConfig(ProviderCommon):
    """IM&P Presence Web Services; `base_url` is `https://<imp>:8083` (HTTP: 8082)."""

    app_user: str
    app_password_env: EnvName
    end_user: str
    callback_url: HttpUrl
    presence_type: Literal["basic", "rich"] = "basic"
    resync_seconds: float = Field(600, ge=0.1, le=86_400)
    expiry_seconds: int = Field(3600, ge=3600, le=86_400)
    verify_tls: bool | str = True  # or a CA bundle path (IM&P often has a private CA)
    # PWS state -> status (or {status, activity}), merged over CISCO_DEFAULT_STATE_MAP.
    state_map: StateMap = {}

    def mapping_for(self, state: str) -> StateMapping | None:
        return self.state_map.get(state, CISCO_DEFAULT_STATE_MAP.get(state))


SoqlLiteral = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_ .]{1,60}$")]


class SalesforceConfig(ProviderCommon):
    """`base_url` is the login URL (https://login.salesforce.com, https://test.salesforce.com
    or the org's My Domain); queries go to the `instance_url` the token response names."""

    auth: Literal["client_credentials", "jwt_bearer"] = "client_credentials"
    client_id: str
    client_secret_env: EnvName | None = None  # client credentials flow
    username: str | None = None  # JWT bearer flow: the integration user
    private_key_env: EnvName | None = None  # JWT bearer flow: PEM of the connected app's key
    api_version: Annotated[str, StringConstraints(pattern=r"^\d{2,3}\.\d$")] = "60.0"
    poll_seconds: float = Field(60, ge=0.1, le=3600)
    session_type: SoqlLiteral = "UI"
    # AuthSession.LoginType values that mark an interactive UI login: Application (user name
    # and password) and the SAML SSO types, so an org that signs in through SSO is not shown
    # offline (docs/providers/salesforce.md). `login_type` (one value, v1) is still accepted.
    login_types: Annotated[list[SoqlLiteral], Field(min_length=1, max_length=20)] = [
        "Application",
        "SAML Idp Initiated SSO",
        "SAML Sfdc Initiated SSO",
    ]
    login_type: SoqlLiteral | None = None
    # The query travels in the URL: 500 ids of ~25 encoded bytes stay under the 16 KB limit.
    ids_per_query: int = Field(200, ge=1, le=500)
    webhook_secret_env: EnvName | None = None  # enables POST /hooks/salesforce
    webhook_max_age_s: float = Field(300, ge=5, le=3600)

    @model_validator(mode="after")
    def _flow_has_its_keys(self) -> SalesforceConfig:
        if self.auth == "client_credentials" and not self.client_secret_env:
            raise ValueError("client_credentials needs client_secret_env")
        if self.auth == "jwt_bearer" and not (self.username and self.private_key_env):
            raise ValueError("jwt_bearer needs username and private_key_env")
        if self.login_type and "login_types" in self.model_fields_set:
            raise ValueError("set login_types or login_type, not both")
        return self

    @property
    def ui_login_types(self) -> list[str]:
        """The LoginType values queried: `login_type` alone when a v1 file sets it."""
        return [self.login_type] if self.login_type else list(self.login_types)


GlanceGroupId = Annotated[int, Field(ge=1, le=2_147_483_647)]
# Host names, optionally with a leading "*." for every subdomain (shared/providers/glance.md),
# and an optional ":port" (default: the port of base_url).
DirectHost = Annotated[
    str,
    StringConstraints(pattern=r"^(\*\.)?[A-Za-z0-9]([A-Za-z0-9.-]{0,252})(:[1-9][0-9]{0,4})?$"),
]


class GlanceConfig(ProviderCommon):
    """Glance Presence Agent REST API. `base_url` is the load balancer
    (https://presence.glance.net); `auth_url` is the Authorization API's REST endpoint.
    Credentials: a partner login key (partner_id + partner_user_id + api_key_env) or a Glance
    username + password_env. See docs/providers/glance.md."""

    auth_url: HttpUrl
    group_ids: Annotated[list[GlanceGroupId], Field(min_length=1, max_length=50)]
    partner_id: GlanceGroupId | None = None  # defaults to the group being authorized
    partner_user_id: str | None = None
    api_key_env: EnvName | None = None
    username: str | None = None
    password_env: EnvName | None = None
    token_minutes: int = Field(120, ge=1, le=120)  # the Authorization API's own range
    # Names shown for groups (the wall's visitor counts), e.g. {72431 = "Support site"}.
    group_labels: dict[int, Annotated[str, StringConstraints(max_length=60)]] = {}
    poll_seconds: float = Field(5, ge=0.05, le=3600)
    # Presence servers (host[:port]) the load balancer may send us to; empty: the
    # registrable domain of base_url on its port (glance.net:443 and *.glance.net:443).
    direct_allowlist: list[DirectHost] = []
    # "http" only for a simulator on loopback: a real presence server is always https.
    direct_scheme: Literal["https", "http"] = "https"

    @model_validator(mode="after")
    def _credentials_and_scheme(self) -> GlanceConfig:
        partner = self.partner_user_id and self.api_key_env
        if not partner and not (self.username and self.password_env):
            raise ValueError(
                "needs partner_user_id + api_key_env (login key) or username + password_env"
            )
        if self.direct_scheme == "http" and _host_of(self.base_url) not in LOOPBACK_HOSTS:
            raise ValueError('direct_scheme = "http" is only allowed for a loopback base_url')
        _check_direct_allowlist(self.base_url, self.direct_allowlist)
        return self


LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")


def _check_direct_allowlist(base_url: str, entries: list[str]) -> None:
    """Ports in range; an entry naming an internal address is refused at start rather than
    at the first click: it would let Glance's answers send the bearer token inside the
    network (the provider refuses such calls anyway, providers/glance_direct.py)."""
    # Imported here: the providers package imports this module.
    from .providers.glance_direct import is_internal, is_loopback

    local = is_loopback(_host_of(base_url))
    for n, entry in enumerate(entries):
        host, _, port = entry.partition(":")
        if port and int(port) > 65535:
            raise ValueError(f"direct_allowlist[{n}]: {entry!r} has no valid port")
        if not local and is_internal(host):
            raise ValueError(
                f"direct_allowlist[{n}]: {entry!r} is an internal address, "
                "only allowed when base_url is on loopback (a simulator)"
            )


def _host_of(url: str) -> str:
    rest = url.split("://", 1)[-1].split("/", 1)[0]
    if rest.startswith("["):
        return rest.split("]", 1)[0] + "]"
    return rest.rsplit(":", 1)[0] if ":" in rest else rest


class ScreenMeetConfig(ProviderCommon):
    """ScreenMeet sessions through a Scripted REST API on the ServiceNow instance that has the
    ScreenMeet app (docs/providers/screenmeet.md): `base_url` is that API's base path, e.g.
    https://acme.service-now.com/api/x_acme_sm/screenmeet; basic auth as `username`."""

    username: str
    password_env: EnvName


class ProvidersConfig(_Section):
    servicenow: ServiceNowConfig | None = None
    cisco: CiscoConfig | None = None
    salesforce: SalesforceConfig | None = None
    glance: GlanceConfig | None = None
    screenmeet: ScreenMeetConfig | None = None


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


_CSV_COLUMNS = {"id", "name", "team", "servicenow", "cisco", "salesforce"}


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
