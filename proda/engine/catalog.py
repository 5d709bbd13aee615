"""The DuckDB catalog ``build/proda.duckdb``: versions, tags, stage runs, test results, the
training log, diagnoses and the LLM call cache — queried with SQL by ``log``, ``diff``,
``report`` and ``show``, and open to users (``duckdb build/proda.duckdb``).

Schema changes are numbered migrations applied in order (the sqlite-utils way); the applied
number is kept in ``meta``. Only one process writes at a time (the project lock).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import contextlib
import os
import shutil
import tempfile
import threading
import time
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
    # 7: each result's option scores without the stem (the question's share of the accuracy)
    """
    ALTER TABLE results ADD COLUMN unconditional VARCHAR;
    """,
]

class Catalog:
    """One connection to the catalog. ``read_only`` never writes and never makes a build wait: it
    reads the file itself when no build is running, else a private snapshot of it."""

    def __init__(self, path: Path, read_only: bool = False):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path, self.snapshot = path, None
        fresh = not path.exists()
        reading = read_only and not fresh  # a catalog not made yet is made (and migrated) first
        try:
            self._connect(reading)
            self.lock = threading.RLock()  # one connection, shared by the stage's threads
            if not reading:
                self.migrate()
        except _damage() as exc:
            import duckdb

            if not (_is_damage(exc) or isinstance(exc, duckdb.IOException)):
                raise  # a bug, not a damaged file: never move a catalog aside for that
            self._heal_or_raise(exc, reading)
            fresh = True
        if fresh and not reading:
            self.restore()
        self.con.armed = True  # from now on, damage a statement runs into is healed (see _Guarded)

    def _connect(self, read_only: bool) -> None:
        con = _open_for_reading(self.path, self) if read_only else _open_for_writing(self.path)
        self.con = _Guarded(self, con, read_only)

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
        if self.snapshot is not None:
            shutil.rmtree(self.snapshot, ignore_errors=True)

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


WRITE_WAIT = 60.0  # seconds a writer waits for other processes (readers hold the file for moments)


def _busy(exc: Exception) -> bool:
    return "lock" in str(exc).lower()


def _open_for_writing(path: Path):
    """A read-write connection; waits (up to ``PRODA_CATALOG_WAIT`` seconds, default 60) while
    another process has the file open — a reading command holds it for moments. Any other error
    is raised as it is (a damaged file is healed by the caller)."""
    import duckdb

    from ..errors import LockError

    wait = float(os.environ.get("PRODA_CATALOG_WAIT", WRITE_WAIT))
    deadline = time.monotonic() + wait
    delay = 0.05
    while True:
        try:
            return duckdb.connect(str(path))
        except duckdb.IOException as exc:
            if not _busy(exc):
                raise
            if time.monotonic() > deadline:
                raise LockError(f"the catalog {path} stayed in use by another process for {wait:.0f}s",
                                "wait for the other proda command (a build?) to finish, then run this "
                                "one again") from None
        time.sleep(delay)
        delay = min(1.0, delay * 2)


def _open_for_reading(path: Path, catalog: "Catalog"):
    """Read-only: the file itself when no other process writes it; else a private snapshot (the
    file and its write-ahead log, copied), so reading never waits for, nor blocks, a build."""
    import duckdb

    from ..errors import LockError
    from .lock import held_elsewhere

    if not held_elsewhere(path.parent):
        try:
            return duckdb.connect(str(path), read_only=True)
        except duckdb.IOException as exc:
            if not _busy(exc):  # busy: another command writes; read a snapshot instead
                raise
    for _ in range(3):  # a copy taken in the middle of a checkpoint may not open: copy again
        folder = Path(tempfile.mkdtemp(prefix="proda-catalog-"))
        try:
            copy = folder / path.name
            shutil.copyfile(path, copy)
            wal = path.with_name(path.name + ".wal")
            if wal.exists():
                shutil.copyfile(wal, folder / wal.name)
            con = duckdb.connect(str(copy), read_only=True)
            con.execute("SELECT count(*) FROM meta").fetchall()
            catalog.snapshot = folder
            return con
        except (OSError, duckdb.Error):
            shutil.rmtree(folder, ignore_errors=True)
            time.sleep(0.2)
    raise LockError("a build is writing the catalog and it could not be read meanwhile",
                    "run this command again when the build has finished")


def open_catalog(project: "Project", read_only: bool = False) -> Catalog:
    return Catalog(layout.catalog(project.build), read_only=read_only)
