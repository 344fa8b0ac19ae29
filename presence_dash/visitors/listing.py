"""Where the routes read the visitor list: the feature's board, which the visitor source feeds
where it is polled (role "all", a worker), or the leading worker's latest `visitors` list in
Redis on a web node (cluster/documents.py). Both answer the same body and the same look-ups."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

from presence_dash.cluster.documents import VISITORS
from presence_dash.visitors.board import VisitorBoard
from presence_dash.visitors.wire import visitors_json

if TYPE_CHECKING:
    from presence_dash.cluster.web_feed import WebFeed


class VisitorListing(Protocol):
    @property
    def group_ids(self) -> list[int]: ...

    def listing(self) -> dict[str, Any]:
        """The `visitors` event body: seq, visitors, counts."""
        ...

    def groups_of(self, visitor_id: str) -> list[int]: ...


class BoardListing:
    def __init__(self, board: VisitorBoard) -> None:
        self.board = board

    @property
    def group_ids(self) -> list[int]:
        return self.board.group_ids

    def listing(self) -> dict[str, Any]:
        return visitors_json(self.board.snapshot(), self.board.counts())

    def groups_of(self, visitor_id: str) -> list[int]:
        return self.board.groups_of(visitor_id)


class StoredListing:
    """A web node's: raises RedisDown while Redis is away (503 redis_unavailable)."""

    def __init__(self, feed: WebFeed, group_ids: list[int]) -> None:
        self.feed = feed
        self._groups = list(group_ids)

    @property
    def group_ids(self) -> list[int]:
        return list(self._groups)

    def listing(self) -> dict[str, Any]:
        stored = self.feed.document(VISITORS)
        if stored is None:  # nobody present since the first leader started (or Redis lost it)
            return {"seq": 0, "visitors": [], "counts": {str(g): 0 for g in self._groups}}
        return stored

    def groups_of(self, visitor_id: str) -> list[int]:
        return groups_of(self.listing(), visitor_id)


def groups_of(listing: Mapping[str, Any], visitor_id: str) -> list[int]:
    """The groups a `visitors` body shows `visitor_id` in."""
    return [int(v["group_id"]) for v in listing["visitors"] if v["visitor_id"] == visitor_id]
