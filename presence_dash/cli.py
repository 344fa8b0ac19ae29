"""Command line (CONTRACT "Command line"): serve, demo, check-config, worker, simulate.

Exit codes: 0 ok, 2 bad config or usage, 1 other failure. Anything a user can get wrong is
one readable line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import errno
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .config import ConfigError, load_settings
from .simulate import add_parser as add_simulate_parser
from .simulate import run as run_simulator
from .startup_checks import database_unreachable, message_queue_problem

log = logging.getLogger("presence_dash")

DEFAULT_CONFIG = "presence-dash.toml"


class UsageError(Exception):
    pass


class StartFailed(Exception):
    """The server cannot start for a reason outside the config file (exit 1, one line)."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="presence-dash", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command")

    def server_flags(p: argparse.ArgumentParser, config: bool = True) -> None:
        if config:
            p.add_argument(
                "--config",
                "-c",
                help="config file (TOML); default: "
                f"$PRESENCE_DASH_CONFIG or ./{DEFAULT_CONFIG}, else the demo",
            )
        p.add_argument("--host", help="override [server] host")
        p.add_argument("--port", type=int, help="override [server] port (or $PORT)")
        p.add_argument(
            "--async-mode",
            choices=["eventlet", "gevent", "threading"],
            help="override [server] async_mode",
        )

    server_flags(sub.add_parser("serve", help="run the dashboard (default)"))
    server_flags(sub.add_parser("demo", help="run the demo with in-process simulators"), False)
    check = sub.add_parser("check-config", help="validate a config file")
    check.add_argument("file")
    server_flags(sub.add_parser("worker", help="providers only, for several web nodes"))
    hashing = sub.add_parser(
        "hash-password",
        help="print a password hash for [[auth.users]] (reads the password from stdin)",
    )
    hashing.add_argument(
        "--password-env", help="read the password from this environment variable instead"
    )
    add_simulate_parser(sub)
    return parser


def run(argv: Sequence[str]) -> int:
    args = list(argv)
    if not args or args[0].startswith("-"):
        args.insert(0, "serve")
    logging.basicConfig(
        level=os.environ.get("LOG_LEVEL", "INFO").upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        ns = _parser().parse_args(args)
    except SystemExit as exc:  # argparse already printed the usage line
        return 2 if exc.code else 0
    try:
        if ns.command == "check-config":
            load_settings(ns.file, os.environ)
            print(f"{ns.file}: ok")
            return 0
        if ns.command == "simulate":
            return run_simulator(ns)
        if ns.command == "hash-password":
            return _hash_password(ns)
        return _serve(ns)
    except (ConfigError, UsageError) as exc:
        print(f"presence-dash: {exc}", file=sys.stderr)
        return 2
    except StartFailed as exc:
        print(f"presence-dash: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    except OSError as exc:
        print(f"presence-dash: {exc.strerror or exc}", file=sys.stderr)
        return 1


def _config_path(ns: argparse.Namespace) -> str | None:
    explicit = getattr(ns, "config", None) or os.environ.get("PRESENCE_DASH_CONFIG")
    if explicit:
        return explicit
    return DEFAULT_CONFIG if Path(DEFAULT_CONFIG).is_file() else None


def _serve(ns: argparse.Namespace) -> int:
    from .factory import create_app
    from .launch import listen, serve

    host = ns.host
    port = ns.port or (int(os.environ["PORT"]) if os.environ.get("PORT", "").isdigit() else None)
    path = None if ns.command == "demo" else _config_path(ns)
    if ns.command == "worker" and path is None:
        raise UsageError("worker: needs --config FILE with [server] message_queue (Redis)")
    simulators: list[Any] = []
    if path is None:
        from .demo import start_demo

        # Listening first: a taken port fails before the simulators start.
        listener = _listen(listen, host or "127.0.0.1", port or 8000)
        settings, simulators = start_demo(
            host or "127.0.0.1", port or 8000, None, ns.async_mode or "eventlet"
        )
    else:
        settings = load_settings(path, os.environ)
    overrides = {
        k: v for k, v in (("host", host), ("port", port), ("async_mode", ns.async_mode)) if v
    }
    _check_role(ns.command, settings.server.role, ns.async_mode or settings.server.async_mode)
    if ns.command == "worker":
        overrides["role"] = "worker"
    if overrides:
        settings = settings.replace_server(**overrides)
    server = settings.server
    if path is not None:
        listener = _listen(listen, server.host, server.port)
    runtime = None
    try:
        problem = message_queue_problem(server.message_queue)
        if problem is not None:
            raise StartFailed(problem)
        try:
            if ns.command == "worker":
                runtime = _worker_node(settings, create_app)
                app = runtime.wsgi
                runtime.start()
            else:
                app = create_app(settings)
                runtime = app.extensions["presence_dash"]
                runtime.start()
        except Exception as exc:
            problem = database_unreachable(exc, server.database)
            if problem is None:
                raise
            raise StartFailed(problem) from None
        mode = "demo" if settings.demo else f"config {path}"
        mode += "" if server.role == "all" else f", {server.role}"
        print(
            f"presence-dash ({mode}, {server.async_mode}) on http://{server.host}:{server.port}",
            flush=True,
        )
        serve(
            app,
            listener,
            server.async_mode,
            lambda: runtime.socketio.run(
                app,
                host=server.host,
                port=server.port,
                log_output=False,
                allow_unsafe_werkzeug=True,
            ),
            max_connections=server.max_connections,
        )
    finally:
        if runtime is not None:
            runtime.stop()
        for sim in simulators:
            sim.shutdown()
    return 0


def _check_role(command: str, role: str, async_mode: str) -> None:
    if command == "worker" and async_mode == "threading":
        raise UsageError("worker: async_mode threading is not supported; use eventlet or gevent")
    if command != "worker" and role == "worker":
        raise UsageError('server.role: "worker" is what `presence-dash worker` runs; use "web"')


def _worker_node(settings: Any, create_app: Callable[..., Any]) -> Any:
    """Leader or standby (cluster/worker.py): the first term's app is built now, so a bad
    database fails the start like `serve` does."""
    from .cluster.context import ClusterContext
    from .cluster.worker import WorkerNode

    context = ClusterContext.create(settings, "worker")
    return WorkerNode(context, lambda ctx: create_app(settings, cluster=ctx))


def _listen(listen: Callable[[str, int], Any], host: str, port: int) -> Any:
    try:
        return listen(host, port)
    except OSError as exc:
        raise _address_problem(exc, host, port) from None


def _address_problem(exc: OSError, host: str, port: int) -> StartFailed:
    if exc.errno == errno.EADDRINUSE:
        return StartFailed(
            f"{host}:{port} is already in use (another presence-dash?); "
            "stop it or choose another --port"
        )
    return StartFailed(f"cannot listen on {host}:{port}: {exc.strerror or exc}")


def _hash_password(ns: argparse.Namespace) -> int:
    """The password never goes on the command line (it would sit in shell history and in
    `ps`): from stdin (a prompt on a terminal) or a named environment variable."""
    from .auth.passwords import MAX_PASSWORD_CHARS, hash_password

    if ns.password_env:
        password = os.environ.get(ns.password_env, "")
    elif sys.stdin.isatty():
        import getpass

        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            raise UsageError("hash-password: the two passwords differ")
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if len(password) < 8:
        raise UsageError("hash-password: use at least 8 characters")
    if len(password) > MAX_PASSWORD_CHARS:
        raise UsageError(f"hash-password: at most {MAX_PASSWORD_CHARS} characters")
    print(hash_password(password))
    return 0
