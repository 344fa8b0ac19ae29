"""The JSON API (CONTRACT "HTTP API")."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from .runtime import runtime

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.get("/presence")
def presence() -> ResponseReturnValue:
    return jsonify(runtime().hub.snapshot_payload())
