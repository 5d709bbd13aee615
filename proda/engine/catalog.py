"""The DuckDB catalog ``build/proda.duckdb``: versions, tags, stage runs, test results, the
training log, diagnoses and the LLM call cache — queried with SQL by ``log``, ``diff``,
``report`` and ``show``, and open to users (``duckdb build/proda.duckdb``).

Schema changes are numbered migrations applied in order (the sqlite-utils way); the applied
number is kept in ``meta``. Only one process writes at a time (the project lock).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import threading
from pathlib import Path

from . import layout

if TYPE_CHECKING:
    from ..project import Project

MIGRATIONS: list[str] = [
    # 1: versions and tags
    """
    CREATE TABLE versions (id VARCHAR PRIMARY KEY, created TIMESTAMP DEFAULT current_timestamp,
                           manifests VARCHAR, counts VARCHAR);
    CREATE TABLE tags (name VARCHAR PRIMARY KEY, version VARCHAR, created TIMESTAMP DEFAULT current_timestamp);
    CREATE TABLE stage_runs (version VARCHAR, stage VARCHAR, shard VARCHAR, built INTEGER,
                             reused INTEGER, seconds DOUBLE, finished DOUBLE);
    """,
    # 2: test results, per (checkpoint, item), and test runs (for --failed)
    """
    CREATE TABLE results (checkpoint VARCHAR, scorer VARCHAR, item VARCHAR, discipline VARCHAR,
                          split VARCHAR, chosen INTEGER, scores VARCHAR, correct BOOLEAN,
                          PRIMARY KEY (checkpoint, scorer, item));
    CREATE SEQUENCE test_run_ids START 1;
    CREATE TABLE test_runs (id INTEGER PRIMARY KEY, checkpoint VARCHAR, created TIMESTAMP DEFAULT current_timestamp,
                            origin VARCHAR, ran INTEGER, reused INTEGER, passed INTEGER, failed INTEGER);
    CREATE TABLE test_run_items (run INTEGER, item VARCHAR, correct BOOLEAN);
    """,
    # 3: training log and diagnoses
    """
    CREATE TABLE train_log (checkpoint VARCHAR, step INTEGER, loss DOUBLE, lr DOUBLE);
    CREATE TABLE checkpoints (key VARCHAR PRIMARY KEY, parent VARCHAR, trainer VARCHAR, samples INTEGER,
                              stats VARCHAR, created TIMESTAMP DEFAULT current_timestamp);
    CREATE TABLE diagnoses (checkpoint VARCHAR, item VARCHAR, discipline VARCHAR, label VARCHAR,
                            chain VARCHAR, nodes VARCHAR, confused_with VARCHAR, patch VARCHAR,
                            PRIMARY KEY (checkpoint, item));
    """,
    # 4: the LLM call cache (see proda/llm/cache.py)
    """
    CREATE TABLE IF NOT EXISTS llm_cache (key VARCHAR PRIMARY KEY, backend VARCHAR, model VARCHAR,
                                          response VARCHAR, created TIMESTAMP DEFAULT current_timestamp);
    """,
]

class Catalog:
    def __init__(self, path: Path, read_only: bool = False):
        import duckdb

        from ..errors import LockError

        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.con = duckdb.connect(str(path), read_only=read_only and path.exists())
        except duckdb.IOException as exc:
            raise LockError(f"the catalog {path} is in use by another process: {exc}",
                            "wait for the running build to finish") from exc
        self.lock = threading.Lock()  # one connection, shared by the stage's threads
        if not read_only:
            self.migrate()

    def migrate(self) -> None:
        with self.lock:
            self.con.execute("CREATE TABLE IF NOT EXISTS meta (schema_version INTEGER)")
            row = self.con.execute("SELECT max(schema_version) FROM meta").fetchone()
            current = row[0] or 0
            for number, sql in enumerate(MIGRATIONS, start=1):
                if number > current:
                    self.con.execute("BEGIN")
                    self.con.execute(sql)
                    self.con.execute("INSERT INTO meta VALUES (?)", [number])
                    self.con.execute("COMMIT")

    def execute(self, sql: str, params=None):
        with self.lock:
            return self.con.execute(sql, params or [])

    def query(self, sql: str, params=None) -> list[tuple]:
        with self.lock:
            return self.con.execute(sql, params or []).fetchall()

    def close(self) -> None:
        self.con.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def open_catalog(project: "Project", read_only: bool = False) -> Catalog:
    return Catalog(layout.catalog(project.build), read_only=read_only)
