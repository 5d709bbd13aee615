"""The DuckDB catalog ``build/proda.duckdb``: versions, tags, stage runs, test results, the
training log, diagnoses and the LLM call cache — queried with SQL by ``log``, ``diff``,
``report`` and ``show``, and open to users (``duckdb build/proda.duckdb``).

Schema changes are numbered migrations applied in order (the sqlite-utils way); the applied
number is kept in ``meta``. Only one process writes at a time (the project lock).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import contextlib
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
    # 5: the evidence behind each diagnosis (probe counts, base rate, p-values; or the judge's reason)
    """
    ALTER TABLE diagnoses ADD COLUMN evidence VARCHAR DEFAULT '{}';
    """,
    # 6: regression suite results (lm-eval), per (checkpoint, suite, task, metric)
    """
    CREATE TABLE suite_results (checkpoint VARCHAR, suite VARCHAR, task VARCHAR, metric VARCHAR,
                                value DOUBLE, stderr DOUBLE, PRIMARY KEY (checkpoint, suite, task, metric));
    """,
]

class Catalog:
    def __init__(self, path: Path, read_only: bool = False):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        fresh = not path.exists()
        try:
            self._connect(read_only and path.exists())
            self.lock = threading.RLock()  # one connection, shared by the stage's threads
            if not read_only:
                self.migrate()
        except _damage() as exc:
            import duckdb

            if not (_is_damage(exc) or isinstance(exc, duckdb.IOException)):
                raise  # a bug, not a damaged file: never move a catalog aside for that
            self._heal_or_raise(exc, read_only)
            fresh = True
        if fresh and not read_only:
            self.restore()
        self.con.armed = True  # from now on, damage a statement runs into is healed (see _Guarded)

    def _connect(self, read_only: bool) -> None:
        import duckdb

        from ..errors import LockError

        try:
            self.con = _Guarded(self, duckdb.connect(str(self.path), read_only=read_only), read_only)
        except duckdb.IOException as exc:
            if "lock" in str(exc).lower():
                raise LockError(f"the catalog {self.path} is in use by another process: {exc}",
                                "wait for the running build to finish") from exc
            raise

    def _heal_or_raise(self, exc: Exception, read_only: bool) -> None:
        """A catalog that does not open (truncated, overwritten, corrupt blocks) is derived state:
        move it aside, start a fresh one and restore the history recorded under build/."""
        from ..errors import DamagedError

        with contextlib.suppress(Exception):
            self.con.close()
        why = str(exc).splitlines()[0][:160]
        if read_only:
            raise DamagedError(f"the catalog {self.path} is damaged ({why})",
                               "run `proda build` or `proda verify --repair`: it is moved aside "
                               "and its versions and tags are restored") from None
        move_damaged(self.path, why)
        self._connect(False)
        self.lock = threading.RLock()
        self.migrate()

    def restore(self) -> int:
        """Insert the versions (and tags) recorded under ``build/versions/`` that this catalog
        lacks — the history of a catalog that was deleted or damaged. Returns how many."""
        import json

        folder = layout.versions(self.path.parent)
        if not folder.is_dir():
            return 0
        known = {row[0] for row in self.query("SELECT id FROM versions")}
        added = 0
        for file in sorted(folder.glob("*.json")):
            if file.name == "tags.json":
                continue
            try:
                entry = json.loads(file.read_text(encoding="utf-8"))
                vid, created = entry["id"], entry["created"]
                manifests, counts = entry["manifests"], entry["counts"]
            except (OSError, ValueError, KeyError, TypeError):
                continue
            if vid in known or vid != file.stem:
                continue
            self.execute("INSERT OR IGNORE INTO versions (id, created, manifests, counts) VALUES (?, ?, ?, ?)",
                         [vid, created, json.dumps(manifests, sort_keys=True), json.dumps(counts, sort_keys=True)])
            added += 1
        try:
            tags = json.loads((folder / "tags.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            tags = {}
        if isinstance(tags, dict):
            for name, vid in tags.items():
                if isinstance(name, str) and isinstance(vid, str):
                    self.execute("INSERT OR IGNORE INTO tags (name, version) VALUES (?, ?)", [name, vid])
        return added

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


HEALED: list[str] = []  # catalogs replaced mid-command in this process (make.build reruns once)


class _Guarded:
    """The DuckDB connection, watching every statement for damage (a block whose checksum fails,
    a file cut short). Damage found mid-command is healed at once when writing — the file moved
    aside, a fresh catalog restored from build/versions/ — and reported as a DamagedError, so the
    command can be run again (``proda build`` does that itself); read-only, it is only reported."""

    def __init__(self, catalog: "Catalog", con, read_only: bool):
        self._catalog, self._con, self._read_only = catalog, con, read_only
        self.armed = False  # while the catalog opens, damage is healed by Catalog.__init__

    def __getattr__(self, name):
        return getattr(self._con, name)

    def execute(self, *args, **kwargs):
        return self._guard(self._con.execute, *args, **kwargs)

    def executemany(self, *args, **kwargs):
        return self._guard(self._con.executemany, *args, **kwargs)

    def _guard(self, call, *args, **kwargs):
        import duckdb

        from ..errors import DamagedError

        try:
            return call(*args, **kwargs)
        except duckdb.Error as exc:
            if not self.armed or not _is_damage(exc):
                raise
            why = str(exc).splitlines()[0][:160]
        path = self._catalog.path
        if self._read_only:
            raise DamagedError(f"the catalog {path} is damaged ({why})",
                               "run `proda verify --repair`: it is moved aside and its versions and "
                               "tags are restored from build/versions/")
        with contextlib.suppress(Exception):
            self._con.close()
        move_damaged(path, why)
        self._catalog._connect(False)
        self._catalog.migrate()
        self._catalog.restore()
        self._catalog.con.armed = True
        HEALED.append(str(path))
        raise DamagedError(f"the catalog {path} was damaged ({why}); it was replaced by a fresh one "
                           "with the versions and tags recorded under build/versions/",
                           "run the command again")


def _is_damage(exc: Exception) -> bool:
    text = str(exc)
    return any(sign in text for sign in ("Corrupt database", "checksum", "Could not read enough bytes",
                                         "not a valid DuckDB database", "Invalid block"))


def move_damaged(path: Path, why: str) -> None:
    """Move a damaged catalog (and its write-ahead log) to build/damaged/, with a warning; the
    next open creates a fresh one and restores the versions and tags recorded under build/."""
    from .damage import move_aside_path, say

    root = path.parent.parent
    moved = move_aside_path(root, path)
    wal = path.with_name(path.name + ".wal")
    if wal.exists():
        move_aside_path(root, wal)
    say(f"warning: build/{path.name}: damaged ({why}); moved to {moved}; a new catalog restores "
        "the versions and tags recorded under build/versions/ (test results, training logs and "
        "the LLM call cache start empty: `proda test` scores again)")


def _damage() -> tuple[type[BaseException], ...]:
    """The DuckDB errors a damaged database file raises (a lock conflict is a LockError)."""
    import duckdb

    return (duckdb.IOException, duckdb.SerializationException, duckdb.InternalException,
            duckdb.CatalogException, duckdb.Error)


def open_catalog(project: "Project", read_only: bool = False) -> Catalog:
    return Catalog(layout.catalog(project.build), read_only=read_only)
