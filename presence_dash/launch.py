"""The process entry point (`presence-dash`, `python app.py`).

The only module that imports eventlet or gevent: it picks the async runtime from the command
line / config, monkey-patches the standard library before anything else opens a socket or a
thread, and then hands over to the CLI.
"""

from __future__ import annotations

import importlib
import os
import sys
import tomllib
from collections.abc import Sequence

_SERVING_COMMANDS = {"serve", "demo", "worker"}


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    command = args[0] if args and not args[0].startswith("-") else "serve"
    if command in _SERVING_COMMANDS:
        patch_runtime(_async_mode(args))
    from .cli import run  # after patching, on purpose

    return run(args)


def _async_mode(args: list[str]) -> str:
    """Peek at [server] async_mode without validating (the CLI validates properly)."""
    path = None
    for flag in ("--config", "-c"):
        if flag in args[:-1]:
            path = args[args.index(flag) + 1]
    path = path or os.environ.get("PRESENCE_DASH_CONFIG")
    if "--async-mode" in args[:-1]:
        return args[args.index("--async-mode") + 1]
    try:
        with open(path or "presence-dash.toml", "rb") as handle:
            mode = tomllib.load(handle).get("server", {}).get("async_mode", "eventlet")
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, AttributeError):
        mode = "eventlet"
    return mode if isinstance(mode, str) else "eventlet"


def patch_runtime(mode: str) -> None:
    """Monkey-patch the standard library for `mode` (eventlet, gevent; threading: no-op)."""
    if mode == "eventlet":
        import warnings

        # Eventlet is in maintenance mode; the card still asks for it as the default.
        warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
        importlib.import_module("eventlet").monkey_patch()
    elif mode == "gevent":
        importlib.import_module("gevent.monkey").patch_all()


if __name__ == "__main__":
    sys.exit(main())
