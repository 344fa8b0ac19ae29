"""What the visitors feature needs from the vendor that sees the visitors: the typed interface
a provider implements (and names through its spec's `visitor_source` hook) so that neither the
feature nor the web layer knows which vendor it is.

The source writes each poll into the board it is given (`attach`): the feature owns the
board; the source only feeds it and, after a signal finds a visitor gone, takes them off it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from presence_dash.visitors.board import VisitorBoard


class VisitorGone(Exception):
    """The source says the visitor is not on the site (any more)."""


class DestinationRefused(ValueError):
    """The vendor pointed the signal at a server we do not call (not on the allowlist)."""


@dataclass(frozen=True)
class SignalSent:
    server: str  # the server that accepted it, as "host[:port]"


class VisitorSource(Protocol):
    @property
    def group_ids(self) -> list[int]: ...

    @property
    def group_labels(self) -> Mapping[int, str]:
        """Names for the groups, shown beside their counts."""
        ...

    def attach(self, board: VisitorBoard) -> None:
        """Write each poll's visitors into `board` from now on."""
        ...

    def valid_visitor_id(self, visitor_id: str) -> bool: ...

    def signal(
        self, group_id: int, visitor_id: str, mtype: str, data: Mapping[str, Any]
    ) -> SignalSent:
        """Send `{"mtype", "data"}` to the visitor. Raises VisitorGone, DestinationRefused,
        or a ProviderError (AuthFailed when our credentials are refused)."""
        ...
