"""Access to the per-app runtime from request handlers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import current_app, g

if TYPE_CHECKING:
    from presence_dash.factory import Runtime


def runtime() -> Runtime:
    return current_app.extensions["presence_dash"]


def sees_details() -> bool:
    """Whether the current request may see provider error details (see Identity)."""
    identity = g.get("identity")
    return identity is not None and identity.sees_provider_details
