"""Access to the per-app runtime from request handlers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import current_app

if TYPE_CHECKING:
    from ..factory import Runtime


def runtime() -> Runtime:
    return current_app.extensions["presence_dash"]


def sees_details() -> bool:
    """Whether the current request may see provider error details (admins, or no sign-in
    configured at all)."""
    from flask import g

    from ..auth.roles import Role

    identity = g.get("identity")
    if "presence_dash_auth" not in current_app.extensions:
        return True
    return identity is not None and identity.role >= Role.ADMIN and not identity.is_kiosk
