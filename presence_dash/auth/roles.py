"""The three roles, ordered: each can do what the one below it can."""

from __future__ import annotations

from enum import IntEnum


class Role(IntEnum):
    VIEWER = 1  # watch only
    AGENT = 2  # plus visitor signals, co-browse, ScreenMeet
    ADMIN = 3  # plus the audit log, kiosk tokens, provider health details

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, name: str) -> Role:
        try:
            return cls[name.upper()]
        except KeyError:
            raise ValueError(f"unknown role {name!r} (viewer, agent or admin)") from None


ROLE_NAMES = tuple(r.label for r in Role)
