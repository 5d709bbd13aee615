"""Commands that only read work while a build holds the project and writes the catalog, and never
show DuckDB's own lock message; a writer waits for a reader instead of failing."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from conftest import doc

HOLD = """
import sys, time
from proda.project import Project
from proda.engine import lock
from proda.engine.catalog import open_catalog
project = Project.at(sys.argv[1])
with lock.hold(project), open_catalog(project) as cat:   # what a running build holds
    cat.execute("CREATE TABLE IF NOT EXISTS held_by_test (x INTEGER)")  # writes still in the WAL
    cat.execute("INSERT INTO held_by_test VALUES (1)")
    print("holding", flush=True)
    time.sleep(float(sys.argv[2]))
"""

READ = """
import sys, time
from proda.project import Project
from proda.engine.catalog import open_catalog
with open_catalog(Project.at(sys.argv[1]), read_only=True) as cat:
    print("reading", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def _hold(script: str, root, seconds: float) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", script, str(root), str(seconds)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    assert line.strip() in ("holding", "reading"), proc.stderr.read()
    return proc


@pytest.fixture
def built(make_project, proda_cli):
    project = make_project({"physics": {"a.md": doc("alpha")}, "biology": {"b.md": doc("beta")}})
    proda_cli("build", "--until", "chunk", "-C", str(project.root))
    proda_cli("tag", "v1", "-C", str(project.root))
    return project


def test_reading_commands_work_while_a_build_writes_the_catalog(built, proda_cli):
    holder = _hold(HOLD, built.root, 60)
    try:
        for args in (["log", "--json"], ["report", "--json"], ["diff", "v1", "--json"], ["stats", "--json"],
                     ["status", "--json"]):
            proc = proda_cli(*args, "-C", str(built.root), check=False)
            assert proc.returncode == 0, (args, proc.stderr)
            assert "Could not set lock" not in proc.stderr and "duckdb" not in proc.stderr.lower(), args
            json.loads(proc.stdout)
        versions = json.loads(proda_cli("log", "--json", "-C", str(built.root)).stdout)["versions"]
        assert [v["tags"] for v in versions] == [["v1"]]
        # a command that writes says in one line what to do, without DuckDB's message
        busy = proda_cli("tag", "v3", "-C", str(built.root), check=False, env={"PRODA_CATALOG_WAIT": "1"})
        assert busy.returncode == 3 and "stayed in use by another process" in busy.stderr
        assert len(busy.stderr.strip().splitlines()) <= 2 and "duckdb.org" not in busy.stderr
    finally:
        holder.kill()
        holder.wait()


def test_a_writer_waits_for_a_reader(built, proda_cli):
    reader = _hold(READ, built.root, 2)
    try:
        started = time.monotonic()
        proda_cli("tag", "v2", "-C", str(built.root))  # opens the catalog for writing
        assert time.monotonic() - started > 0.5  # it waited for the reader rather than failing
    finally:
        reader.wait(timeout=60)
    assert "v2" in proda_cli("log", "-C", str(built.root)).stdout


def test_log_of_a_project_never_built_lists_nothing(make_project, proda_cli):
    project = make_project({"physics": {"a.md": doc("alpha")}})
    proda_cli("report", "-C", str(project.root))  # reads: must not invent a version
    out = proda_cli("log", "--json", "-C", str(project.root)).stdout
    assert json.loads(out) == {"versions": []}
    assert proda_cli("log", "-C", str(project.root)).stdout.strip() == "no versions yet"
