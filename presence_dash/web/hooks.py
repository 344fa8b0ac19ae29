"""Inbound vendor callbacks: `/hooks/<provider>[/<path>]` handed to that provider.

The provider decides what a valid call is (its wire format stays in its module); this
blueprint only translates HTTP and, for push notifications, wakes the provider's runner so
the fetch runs as a background task and the vendor gets its answer at once. On a web node
the call goes through Redis to the leading worker (cluster/hook_relay.py).
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request
from flask.typing import ResponseReturnValue

from presence_dash.cluster.redis_link import RedisDown
from presence_dash.providers.base import HookRequest
from presence_dash.web.errors import error_response
from presence_dash.web.runtime import runtime

bp = Blueprint("hooks", __name__, url_prefix="/hooks")

METHODS = ["GET", "POST", "PUT", "DELETE"]


@bp.route("/<name>", methods=METHODS, defaults={"path": ""})
@bp.route("/<name>/<path:path>", methods=METHODS)
def vendor_hook(name: str, path: str) -> ResponseReturnValue:
    runner = runtime().runner_for(name)
    hook = HookRequest(
        method=request.method,
        path=path,
        args=request.args.to_dict(),
        headers=dict(request.headers),
        body=request.get_data(cache=False),
        remote_addr=request.remote_addr,
    )
    relay = current_app.extensions.get("presence_dash.hook_relay")
    if relay is not None:  # a web node: the leading worker's provider answers
        try:
            answer = relay.submit(name, hook)
        except RedisDown:
            return error_response(503, "redis_unavailable", "try again shortly")
    else:
        answer = runner.handle_hook(hook) if runner else None
    if answer is None:
        return error_response(404, "no_such_hook", f"no callback for {name!r} here")
    return Response(answer.body, status=answer.status, content_type=answer.content_type)
