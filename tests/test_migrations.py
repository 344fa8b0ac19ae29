"""Schema migrations: a release 0.1.0 database (tests/data, made by that release's
create_all) reaches head with its rows; pre-migration databases are stamped; PostgreSQL
behind refuses to start unless auto_migrate; `db upgrade` is idempotent and two at once on
one PostgreSQL take turns; the revisions' head matches the tables the code defines."""

from __future__ import annotations

import importlib
import os
import pkgutil
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from helpers import (
    APP_PY,
    REPO_ROOT,
    DashServer,
    free_port,
    make_config,
    person,
    start_process,
    wait_for,
)
from test_cli import run_cli

import presence_dash
from presence_dash.storage.db import create_schema, engine_for, metadata
from presence_dash.storage.migrations import SchemaRefused, prepare_at_start, read_state, upgrade
from presence_dash.storage.migrations.runner import PG_LOCK_KEY
from presence_dash.storage.migrations.tables import app_metadata

DATA = Path(__file__).resolve().parent / "data"
HEAD = read_state(sa.create_engine("sqlite://")).head
CHANGED_AT = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)


def create_release_0_1_0(engine: sa.Engine) -> None:
    """Release 0.1.0's tables, as that release's create_all made them (tests/data)."""
    sql = (DATA / f"release-0.1.0-{engine.dialect.name}.sql").read_text(encoding="utf-8")
    with engine.begin() as conn:
        for statement in sql.split(";"):
            if any(line and not line.startswith("--") for line in statement.splitlines()):
                conn.exec_driver_sql(statement)


def _load_release_0_1_0(engine: sa.Engine) -> None:
    """Release 0.1.0's schema with a row in the tables a user would miss."""
    create_release_0_1_0(engine)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO status_changes (person_id, old_status, new_status, changed_at) "
                "VALUES ('ada', 'offline', 'online', :at)"
            ),
            {"at": CHANGED_AT},
        )
        conn.execute(
            sa.text(
                "INSERT INTO kiosk_tokens (name, token_sha256, created_by, created_at) "
                "VALUES ('lobby', :digest, 'admin', :at)"
            ),
            {"digest": "ab" * 32, "at": CHANGED_AT},
        )
        conn.execute(
            sa.text(
                "INSERT INTO provider_notes (provider, key, value, updated_at) "
                "VALUES ('cisco', 'subscription', 'sub-1', :at)"
            ),
            {"at": CHANGED_AT},
        )


def _rows(engine: sa.Engine) -> dict[str, list[tuple[Any, ...]]]:
    with engine.connect() as conn:
        return {
            "status_changes": list(
                conn.execute(
                    sa.text("SELECT person_id, old_status, new_status FROM status_changes")
                )
            ),
            "kiosk_tokens": list(
                conn.execute(sa.text("SELECT name, created_by FROM kiosk_tokens"))
            ),
            "provider_notes": list(
                conn.execute(sa.text("SELECT provider, key, value FROM provider_notes"))
            ),
        }


RELEASE_ROWS = {
    "status_changes": [("ada", "offline", "online")],
    "kiosk_tokens": [("lobby", "admin")],
    "provider_notes": [("cisco", "subscription", "sub-1")],
}


def _no_difference(engine: sa.Engine) -> list[Any]:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, app_metadata()))


def _history(server: DashServer) -> list[dict[str, Any]]:
    answer = server.get("/api/people/ada/history?hours=48")
    assert answer.status_code == 200, answer.text
    return answer.json()["changes"]


def _serve(tmp_path: Path, database_url: str, **server: Any) -> tuple[Path, list[str]]:
    config = make_config(tmp_path, [person("ada")], None, database=database_url, **server)
    # A port of its own: the default 8000 may be another test's, and a taken port fails the
    # start before the schema is looked at.
    return config, [str(APP_PY), "--config", str(config), "--port", str(free_port())]


def test_a_release_0_1_0_sqlite_database_is_migrated_at_start_with_its_rows(
    tmp_path: Path, dash_server: Callable[..., DashServer]
) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = engine_for(url)
    _load_release_0_1_0(engine)
    config, _ = _serve(tmp_path, url)

    server = dash_server(config)

    assert _history(server) == [
        {"from": "offline", "to": "online", "at": CHANGED_AT.strftime("%Y-%m-%dT%H:%M:%S.000Z")}
    ]
    server.stop()
    assert read_state(engine).current == HEAD
    assert _rows(engine) == RELEASE_ROWS
    assert _no_difference(engine) == []


def test_postgresql_behind_refuses_to_start_naming_db_upgrade_then_upgrades(
    tmp_path: Path, database_url: str, dash_server: Callable[..., DashServer]
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite is migrated at start (the test above)")
    engine = engine_for(database_url)
    _load_release_0_1_0(engine)
    config, args = _serve(tmp_path, database_url)

    proc, _out, err = start_process(args, cwd=tmp_path, logs=tmp_path / "refused")
    assert proc.wait(timeout=30) == 1
    lines = err.read_text().strip().splitlines()
    assert lines[-1].startswith("presence-dash: database schema is behind this presence-dash")
    assert f"run `presence-dash db upgrade --config {config}` first" in lines[-1]
    assert "Traceback" not in err.read_text()
    assert read_state(engine).pre_migrations  # untouched: no revision, no new table
    assert "person_state" not in read_state(engine).tables

    done = run_cli(tmp_path, "db", "upgrade", "--config", str(config))
    assert (done.returncode, done.stderr.count("Traceback")) == (0, 0), done.stderr
    assert done.stdout.strip().endswith(f"upgraded none -> {HEAD}")
    again = run_cli(tmp_path, "db", "upgrade", "--config", str(config))
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip().endswith(f"already at {HEAD} (head)")
    current = run_cli(tmp_path, "db", "current", "--config", str(config))
    assert current.stdout.strip().endswith(f"{HEAD} (head)")

    server = dash_server(config)
    assert [c["to"] for c in _history(server)] == ["online"]
    assert _rows(engine) == RELEASE_ROWS
    assert _no_difference(engine) == []


def test_auto_migrate_applies_postgresql_migrations_at_start(
    tmp_path: Path, database_url: str, dash_server: Callable[..., DashServer]
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only: SQLite is always migrated")
    engine = engine_for(database_url)
    _load_release_0_1_0(engine)
    config, _ = _serve(tmp_path, database_url, auto_migrate=True)

    server = dash_server(config)

    assert [c["to"] for c in _history(server)] == ["online"]
    assert read_state(engine).current == HEAD
    assert _rows(engine) == RELEASE_ROWS


def test_an_empty_database_is_created_at_start_on_either_database(database_url: str) -> None:
    engine = engine_for(database_url)
    prepare_at_start(engine, auto_migrate=False)
    assert read_state(engine).current == HEAD
    assert _no_difference(engine) == []


def test_a_create_all_database_from_between_releases_is_stamped_and_keeps_its_rows(
    sql_engine: sa.Engine,
) -> None:
    """A build after 0.1.0 made some v1.1 tables with create_all (here: everything but the
    per-source history): stamped at the baseline, the rest added, nothing created twice."""
    tables = [t for t in app_metadata().sorted_tables if t.name != "source_changes"]
    metadata.create_all(sql_engine, tables=tables)
    with sql_engine.begin() as conn:
        conn.execute(
            sa.text("INSERT INTO provider_state (provider, last_success) VALUES ('cisco', :at)"),
            {"at": CHANGED_AT},
        )

    before, after = upgrade(sql_engine)

    assert (before.current, before.pre_migrations, after.current) == (None, True, HEAD)
    with sql_engine.connect() as conn:
        assert conn.execute(sa.text("SELECT provider FROM provider_state")).all() == [("cisco",)]
    assert _no_difference(sql_engine) == []


def test_tables_that_are_not_release_0_1_0s_are_refused_not_stamped(
    sql_engine: sa.Engine,
) -> None:
    with sql_engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE audit_log (id INTEGER PRIMARY KEY)"))
    with pytest.raises(SchemaRefused, match=r"no migration revision.*audit_log\.action"):
        upgrade(sql_engine)
    assert read_state(sql_engine).current is None


def test_a_database_ahead_of_the_code_is_refused(tmp_path: Path, database_url: str) -> None:
    engine = engine_for(database_url)
    create_schema(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '0099_from_the_future'"))

    with pytest.raises(SchemaRefused, match="0099_from_the_future, which this presence-dash"):
        prepare_at_start(engine, auto_migrate=True)
    config, _ = _serve(tmp_path, database_url)
    done = run_cli(tmp_path, "db", "upgrade", "--config", str(config))
    assert done.returncode == 1
    assert (
        done.stderr.strip()
        .splitlines()[-1]
        .startswith("presence-dash: database schema is at revision 0099_from_the_future")
    )


def test_db_upgrade_without_a_config_is_a_usage_error(tmp_path: Path) -> None:
    done = run_cli(tmp_path, "db", "upgrade")
    assert done.returncode == 2
    assert "db upgrade: needs --config FILE" in done.stderr


def test_two_db_upgrades_at_once_on_postgresql_take_turns(
    tmp_path: Path, database_url: str
) -> None:
    """Both wait on the advisory lock the test holds, then one migrates and the other finds
    the work done: both exit 0, nothing created twice."""
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL's advisory lock")
    engine = engine_for(database_url)
    _load_release_0_1_0(engine)
    config, _ = _serve(tmp_path, database_url)
    low = PG_LOCK_KEY & 0xFFFFFFFF
    waiting = sa.text(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND objid = :low"
    )
    with engine.connect() as holder:
        holder.execute(sa.select(sa.func.pg_advisory_lock(PG_LOCK_KEY)))
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "presence_dash.launch", "db", "upgrade", "-c", str(config)],
                cwd=tmp_path,
                env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        with engine.connect() as watcher:
            wait_for(
                lambda: watcher.execute(waiting, {"low": low}).scalar() == 2,
                timeout=30,
                what="both upgrades waiting on the lock",
            )
        holder.execute(sa.select(sa.func.pg_advisory_unlock(PG_LOCK_KEY)))
        holder.commit()
    results = [p.communicate(timeout=30) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], results
    outputs = sorted(out.strip().rsplit(": ", 1)[-1] for out, _ in results)
    assert outputs == [f"already at {HEAD} (head)", f"upgraded none -> {HEAD}"]
    assert _rows(engine) == RELEASE_ROWS


def test_the_revisions_head_is_the_schema_the_code_defines(sql_engine: sa.Engine) -> None:
    """A table or column changed without a revision fails here (autogenerate's comparison,
    what `alembic check` runs)."""
    upgrade(sql_engine)
    assert _no_difference(sql_engine) == []


def test_every_module_defining_a_table_is_in_the_migrations_target() -> None:
    """The migrations see the tables of TABLE_MODULES only; importing every module of the
    package (in this process) must not find one more."""
    for module in pkgutil.walk_packages(presence_dash.__path__, "presence_dash."):
        if module.name.endswith(".launch") or ".migrations" in module.name:
            continue  # launch monkey-patches; env.py runs only under alembic
        importlib.import_module(module.name)
    listed = subprocess.run(
        [
            sys.executable,
            "-c",
            "from presence_dash.storage.migrations.tables import app_metadata\n"
            "print(' '.join(sorted(app_metadata().tables)))",
        ],
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.split()
    missing = sorted(set(metadata.tables) - set(listed))
    assert not missing, f"tables {missing}: add their module to migrations/tables.TABLE_MODULES"
    assert listed == sorted(metadata.tables)
