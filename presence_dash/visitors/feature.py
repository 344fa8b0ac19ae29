"""The visitors feature as the app factory builds it (like screenmeet's `build_service`): the
board, the signal log, the push loop and the listing, fed by the provider whose spec names it
a visitor source (`ProviderSpec.visitor_source`), which this module never names.

Not built in `visitors/__init__.py`: the source's provider imports `visitors.board`, and this
module imports the provider registry, so the package itself must stay import-free.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from presence_dash.core.clock import Clock
from presence_dash.providers import build_providers
from presence_dash.providers.base import PollingProvider
from presence_dash.providers.registry import provider_spec
from presence_dash.visitors.board import VisitorBoard
from presence_dash.visitors.listing import BoardListing, StoredListing, VisitorListing
from presence_dash.visitors.push import VisitorPush
from presence_dash.visitors.source import VisitorSource
from presence_dash.visitors.store import SignalLog

if TYPE_CHECKING:
    from presence_dash.cluster.web_feed import WebFeed
    from presence_dash.config import Settings


@dataclass
class VisitorFeature:
    """What the routes need; `source` (the signaller) is None when no provider sees
    visitors. `push` is the loop to start with the runtime (None on a web node, or
    without a source)."""

    source: VisitorSource | None
    visitors: VisitorListing | None
    signals: SignalLog
    clock: Clock
    push: VisitorPush | None = None

    def payload(self) -> dict[str, Any]:
        if self.source is None or self.visitors is None:
            return {"seq": 0, "enabled": False, "visitors": [], "counts": {}}
        labels = {str(g): label for g, label in self.source.group_labels.items()}
        return {"enabled": True, **self.visitors.listing(), "labels": labels}


def visitor_source(providers: Sequence[PollingProvider]) -> VisitorSource | None:
    """The first provider whose spec says it sees the visitors, as that source."""
    for provider in providers:
        spec = provider_spec(provider.name)
        if spec is not None and spec.visitor_source is not None:
            return spec.visitor_source(provider)
    return None


def build_feature(
    settings: Settings,
    providers: Sequence[PollingProvider],
    engine: sa.Engine,
    clock: Clock,
    socketio: Any,
    seq_floor: Callable[[], int] = lambda: 0,
) -> VisitorFeature:
    """Where the providers are polled (role "all", a worker): the source feeds this feature's
    board. `socketio` is a worker's fenced emitter, `seq_floor` the visitors seq the last
    leader published."""
    source = visitor_source(providers)
    if source is None:
        return VisitorFeature(None, None, SignalLog(engine), clock)
    board = VisitorBoard(source.group_ids)
    source.attach(board)
    interval = settings.server.push_interval_ms / 1000
    push = VisitorPush(socketio, board, interval, seq_floor)
    return VisitorFeature(source, BoardListing(board), SignalLog(engine), clock, push)


def build_stored_feature(
    settings: Settings, engine: sa.Engine, clock: Clock, feed: WebFeed
) -> VisitorFeature:
    """A web node: the list from Redis (the leading worker polls); signals go out through
    this node's own copy of the source, built by its spec's factory and never polled."""
    built = build_providers(settings, clock, engine, only=lambda s: s.visitor_source is not None)
    source = visitor_source(built)
    listing = StoredListing(feed, source.group_ids) if source else None
    return VisitorFeature(source, listing, SignalLog(engine), clock)
