"""Access to the per-app runtime from request handlers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import current_app

if TYPE_CHECKING:
    from ..factory import Runtime


def runtime() -> Runtime:
    return current_app.extensions["presence_dash"]
