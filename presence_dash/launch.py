"""The process entry point (`presence-dash`, `python app.py`).

The only module that imports eventlet or gevent: it picks the async runtime from the command
line / config, monkey-patches the standard library before anything else opens a socket or a
thread, and then hands over to the CLI. It also opens the listening socket and serves on
it (`listen`, `serve`), because how that is done differs by runtime.
"""

from __future__ import annotations

import importlib
import logging
import os
import resource
import signal
import socket
import sys
import tomllib
from collections.abc import Callable, Sequence
from typing import Any

_SERVING_COMMANDS = {"serve", "demo", "worker"}
# File descriptors besides the connections: the listener, database, Redis, provider
# sessions, simulators in the demo, log files.
FD_HEADROOM = 200
DEFAULT_MAX_CONNECTIONS = 10_000


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    command = args[0] if args and not args[0].startswith("-") else "serve"
    if command in _SERVING_COMMANDS:
        patch_runtime(_async_mode(args))
    from presence_dash.cli import run  # after patching, on purpose

    code = run(args)
    if command in _SERVING_COMMANDS:
        # The server has stopped and cleaned up (cli._serve). Finalising the interpreter
        # with the green threads still alive then took 2-3 s of CPU (strace: no system call
        # between the signal handlers' reset and exit), enough to miss a 5 s stop timeout
        # on a busy machine; nothing is left to finalise that matters.
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


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


def listen(host: str, port: int, backlog: int = 1024) -> socket.socket:
    """The listening socket, opened before anything starts so that a taken port fails at
    once and the port is ours from then on (connections made while the app starts wait in
    the backlog until `serve` accepts them).

    SO_REUSEADDR (a restart may bind while old connections sit in TIME_WAIT) but never
    SO_REUSEPORT, which eventlet.listen sets by default and Flask-SocketIO's run() used: with
    it a second instance binds the same port and the kernel splits connections between the
    two. Under eventlet or gevent the socket module is already patched, so this socket is
    a green one."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    family, _, _, _, address = infos[0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(backlog)
    except OSError:
        sock.close()
        raise
    return sock


def fd_limit_problem(max_connections: int) -> str | None:
    """Make room for `max_connections` open sockets: raise the soft limit on open files
    (`ulimit -n`) up to the hard limit if it is lower than they need; a one-line warning when
    even that is not enough (the server then refuses connections past the limit with
    EMFILE, and the listener stops accepting for everyone)."""
    needed = max_connections + FD_HEADROOM
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        wanted = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
            soft = wanted
        except (ValueError, OSError):
            pass  # keep the soft limit; the warning below says what it means
    if soft == resource.RLIM_INFINITY or soft >= needed:
        return None
    return (
        f"open files limit (ulimit -n) is {soft}, below the {needed} that [server] "
        f"max_connections = {max_connections} needs: connections past about "
        f"{max(0, soft - FD_HEADROOM)} will fail; raise it (ulimit -n, systemd LimitNOFILE=) "
        "or lower max_connections"
    )


def serve(
    app: Any,
    listener: socket.socket,
    mode: str,
    run_threading: Callable[[], None],
    max_connections: int = DEFAULT_MAX_CONNECTIONS,
) -> None:
    """Serve `app` on `listener` until SIGTERM or SIGINT, then return (the caller stops the
    runtime). `run_threading` serves in threading mode (Werkzeug binds its own socket).

    The signal handler only sets a flag that the main greenlet polls. It used to raise
    KeyboardInterrupt, which Python raises in whatever is running when the signal arrives:
    under eventlet or gevent that is often another green thread, and when it is a
    threading.Thread (the demo's simulators serve requests in them) the thread's bare
    `except:` swallows it and the server keeps running: SIGTERM ignored, about once in a
    dozen demo runs. Nor do we wait for open connections on the way out (eventlet's
    wsgi.server does, and a connected websocket never ends by itself).

    `max_connections` bounds the connections served at once (each websocket holds one for
    its life): eventlet's pool (`max_size`, 1,024 by default: the 1,025th browser waited
    forever) and gevent's (`spawn`, unbounded by default)."""
    problem = fd_limit_problem(max_connections)
    if problem is not None:
        logging.getLogger(__name__).warning("%s", problem)
    if mode not in ("eventlet", "gevent"):
        listener.close()
        signal.signal(signal.SIGTERM, _interrupt)
        run_threading()
        return
    stopping: list[int] = []

    def request_stop(signum: int, frame: object) -> None:
        stopping.append(signum)

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    if mode == "eventlet":
        eventlet = importlib.import_module("eventlet")
        wsgi = importlib.import_module("eventlet.wsgi")
        server = eventlet.spawn(
            wsgi.server, listener, app, log_output=False, max_size=max_connections
        )
        while not stopping and not server.dead:
            eventlet.sleep(0.1)
        if server.dead:
            server.wait()  # raises what ended it
    else:
        gevent = importlib.import_module("gevent")
        pywsgi = importlib.import_module("gevent.pywsgi")
        wsgi_server = pywsgi.WSGIServer(listener, app, log=None, spawn=max_connections)
        wsgi_server.start()
        while not stopping:
            gevent.sleep(0.1)
        wsgi_server.close()  # stop accepting; open connections end with the process


def _interrupt(signum: int, frame: object) -> None:
    """Threading mode: Werkzeug serves in the main thread, where this is raised."""
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
