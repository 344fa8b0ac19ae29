"""JSON error answers (the body itself is core/errors.py's) and the app-wide handlers."""

from __future__ import annotations

from flask import Flask, jsonify, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from presence_dash.cluster.redis_link import RedisDown
from presence_dash.core.errors import error_body


def error_response(status: int, code: str, message: str) -> ResponseReturnValue:
    return jsonify(error_body(code, message)), status


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> ResponseReturnValue:
        if not request.path.startswith(("/api/", "/hooks/")):
            return exc
        code = (exc.name or "error").lower().replace(" ", "_").replace("'", "")
        return error_response(exc.code or 500, code, exc.description or exc.name)

    @app.errorhandler(RedisDown)
    def _redis_down(exc: RedisDown) -> ResponseReturnValue:
        # A web node serves the board from Redis (cluster/web_feed.py); RedisLink logged it.
        return error_response(503, "redis_unavailable", "the shared store is unreachable; retry")

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> ResponseReturnValue:
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500, "internal_error", "internal error; see the server log")
