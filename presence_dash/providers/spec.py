"""What a provider is to the rest of the app: one frozen `ProviderSpec` per vendor package.

Each `providers/<vendor>/__init__.py` exports `SPEC`; `registry.py` lists them. config.py
builds `[providers]` and the person id keys from the specs, the pages take their labels,
`presence-dash simulate` and the demo run the simulators they name; nothing else names a
vendor. Simulator and demo entries are "module:function" names imported only when used, so
the dashboard never loads simulator code.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import BaseModel

from presence_dash.providers.base import PollingProvider, ProviderContext
from presence_dash.visitors.source import VisitorSource

ProviderFactory = Callable[[ProviderContext], PollingProvider]
# The provider as the visitors feature's source: the one whose spec has it feeds the feature.
VisitorSourceOf = Callable[[PollingProvider], VisitorSource]
Spawn = Callable[[Callable[[], None]], Any]


@dataclass(frozen=True)
class PersonIdField:
    """A person's id in this vendor's system: `key` is both the `[[people]]` key and the
    directory CSV column (CONTRACT). `validate` gets a non-empty value and returns it or
    raises ValueError; the message is shown as `people[3].<key>: <message>`."""

    key: str
    validate: Callable[[str], str] | None = None


@dataclass(frozen=True)
class SimulatorOption:
    """A flag of `presence-dash simulate` only this vendor's simulator reads."""

    flag: str  # "--end-user"; read back as options["end_user"]
    help: str
    default: str | None = None

    @property
    def dest(self) -> str:
        return self.flag.lstrip("-").replace("-", "_")


@dataclass(frozen=True)
class SimulateArgs:
    """What `presence-dash simulate <name>` parsed, for the simulator's start function."""

    host: str
    port: int
    username: str  # the API user the simulator accepts
    password: str  # from --password-env ("secret" when unset)
    demo_people: tuple[str, ...]  # demo person ids to seed (--demo-users N); empty: none
    options: Mapping[str, str | None]  # this vendor's SimulatorOption values, by dest


class SimulateUsageError(ValueError):
    """A `presence-dash simulate` flag the simulator cannot use: one line, exit 2."""


class Serving(Protocol):
    @property
    def url(self) -> str: ...

    def serve_forever(self) -> None: ...

    def shutdown(self) -> None: ...


@dataclass(frozen=True)
class SimulatorRun:
    """A simulator bound to its port(s), not yet serving; `lines` are printed at start, the
    first says where it listens (`<name> simulator on <url>`)."""

    serve_forever: Callable[[], None]
    shutdown: Callable[[], None]
    lines: tuple[str, ...]

    @classmethod
    def single(cls, name: str, server: Serving) -> SimulatorRun:
        return cls(server.serve_forever, server.shutdown, (f"{name} simulator on {server.url}",))


@dataclass(frozen=True)
class SimulatorSpec:
    """How `presence-dash simulate <name>` runs the vendor's simulator (simulators/)."""

    start: str  # "module:function", (SimulateArgs) -> SimulatorRun
    default_port: int = 0  # 0: a free port
    options: tuple[SimulatorOption, ...] = ()
    seeds: str = ""  # what --demo-users seeds, for --help


class Stoppable(Protocol):
    def shutdown(self) -> None: ...


@dataclass(frozen=True)
class DemoContext:
    """What the demo hands each vendor: the demo people who work in its system (with its id
    under the person key), who stays offline all day, where the dashboard will listen (for
    callbacks) and how to run background work."""

    people: Sequence[Mapping[str, str]]
    off_shift: frozenset[str]
    dashboard_port: int
    spawn: Spawn | None


@dataclass(frozen=True)
class DemoPart:
    """One vendor in the demo: its running simulator(s), the `[providers.<name>]` table that
    points at them and the values of the environment variables that table names."""

    section: Mapping[str, Any]
    secrets: Mapping[str, str]
    servers: tuple[Stoppable, ...]


@dataclass(frozen=True)
class DemoSpec:
    """How `presence-dash demo` seeds and configures the vendor."""

    start: str  # "module:function", (DemoContext) -> DemoPart
    person_id: str | None = None  # "module:function", (demo person id) -> this system's id
    skip_teams: frozenset[str] = frozenset()  # demo teams that do not work in this system


@dataclass(frozen=True)
class ProviderSpec:
    name: str  # the `[providers.<name>]` table, the hook path, the source name in the API
    label: str  # shown to people ("ServiceNow")
    config_model: type[BaseModel]
    factory: ProviderFactory
    person_field: PersonIdField | None = None  # None: the provider observes no person
    simulator: SimulatorSpec | None = None
    demo: DemoSpec | None = None
    visitor_source: VisitorSourceOf | None = None  # None: it sees no web-site visitors


def load(ref: str) -> Callable[..., Any]:
    """The function a "module:function" entry names."""
    module, _, function = ref.partition(":")
    found = getattr(importlib.import_module(module), function)
    if not callable(found):
        raise TypeError(f"{ref} is not callable")
    return found
