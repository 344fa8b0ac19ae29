"""Command line (CONTRACT "Command line"): serve, demo, check-config, worker, simulate, db.

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

from presence_dash.config import ConfigError, load_settings
from presence_dash.providers.simulate import add_parser as add_simulate_parser
from presence_dash.providers.simulate import run as run_simulator
from presence_dash.startup_checks import database_unreachable, message_queue_problem, safe_url

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
    db = sub.add_parser("db", help="the database schema (migrations)")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    for name, text in (
        ("upgrade", "apply the schema migrations this release brings (safe to repeat)"),
        ("current", "print the schema's revision and whether it is behind"),
    ):
        db_action = db_sub.add_parser(name, help=text)
        db_action.add_argument(
            "--config",
            "-c",
            help=f"config file; default: $PRESENCE_DASH_CONFIG or ./{DEFAULT_CONFIG}",
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
        if ns.command == "db":
            return _db(ns)
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
    from presence_dash.factory import create_app
    from presence_dash.launch import listen, serve

    host = ns.host
    port = ns.port or (int(os.environ["PORT"]) if os.environ.get("PORT", "").isdigit() else None)
    path = None if ns.command == "demo" else _config_path(ns)
    if ns.command == "worker" and path is None:
        raise UsageError("worker: needs --config FILE with [server] message_queue (Redis)")
    simulators: list[Any] = []
    if path is None:
        from presence_dash.demo import start_demo

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
            _schema_at_start(settings, path)
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


def _schema_at_start(settings: Any, path: str | None) -> None:
    """Before anything is built (a worker's term starts later, in the background): SQLite is
    migrated, PostgreSQL behind refuses the start unless [server] auto_migrate."""
    from presence_dash.storage.db import engine_for
    from presence_dash.storage.migrations import SchemaRefused, prepare_at_start

    engine = engine_for(settings.server.database)
    try:
        command = f"presence-dash db upgrade --config {path or 'FILE'}"
        prepare_at_start(engine, settings.server.auto_migrate, command)
    except SchemaRefused as exc:
        raise StartFailed(str(exc)) from None
    finally:
        engine.dispose()


def _db(ns: argparse.Namespace) -> int:
    """`db upgrade` brings the schema to head (under the same lock as a start's); `db current`
    says where it stands. Exit 1 with one line when the database does not answer."""
    from presence_dash.storage.db import engine_for
    from presence_dash.storage.migrations import SchemaRefused, read_state, upgrade

    path = _config_path(ns)
    if path is None:
        raise UsageError(f"db {ns.db_command}: needs --config FILE (or ./{DEFAULT_CONFIG})")
    database = load_settings(path, os.environ).server.database
    engine = engine_for(database)
    try:
        if ns.db_command == "current":
            print(f"{safe_url(database)}: {read_state(engine).describe()}")
            return 0
        before, after = upgrade(engine)
        if before.current == after.current:
            print(f"{safe_url(database)}: already at {after.current} (head)")
        else:
            print(f"{safe_url(database)}: upgraded {before.current or 'none'} -> {after.current}")
        return 0
    except SchemaRefused as exc:
        raise StartFailed(str(exc)) from None
    except Exception as exc:
        problem = database_unreachable(exc, database)
        if problem is None:
            raise
        raise StartFailed(problem) from None
    finally:
        engine.dispose()


def _check_role(command: str, role: str, async_mode: str) -> None:
    if command == "worker" and async_mode == "threading":
        raise UsageError("worker: async_mode threading is not supported; use eventlet or gevent")
    if command != "worker" and role == "worker":
        raise UsageError('server.role: "worker" is what `presence-dash worker` runs; use "web"')


def _worker_node(settings: Any, create_app: Callable[..., Any]) -> Any:
    """Leader or standby (cluster/worker.py): the first term's app is built now, so a bad
    database fails the start like `serve` does."""
    from presence_dash.cluster.context import ClusterContext
    from presence_dash.cluster.worker import WorkerNode

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
    from presence_dash.auth.passwords import MAX_PASSWORD_CHARS, hash_password

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
