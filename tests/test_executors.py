"""Executors for the memo map: worker processes give the same records and version id as one
process; a worker that dies mid-stage is replaced and its units sent again; a killed driver
resumes with the units journalled before the kill."""

from __future__ import annotations

import functools
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import doc
from proda.engine import executors
from proda.make import build
from proda.config import RunConfig
from proda.errors import UsageError
from proda.project import Project

CORPUS = {"physics": {f"d{i:02}.md": doc(f"topic{i}", 3) for i in range(12)},
          "biology": {f"d{i:02}.md": doc(f"bio{i}", 3) for i in range(8)}}


def double(x):
    return [x * 2]


def die_once(x, *, marker: str):
    """Kills its own worker process the first time any worker reaches unit 5."""
    if x == 5:
        try:
            os.close(os.open(marker, os.O_CREAT | os.O_EXCL))
        except FileExistsError:
            pass
        else:
            os.kill(os.getpid(), signal.SIGKILL)
    return [x * 2]


def refuse(x):
    if x % 3 == 0:
        raise ValueError(f"unit {x} is bad")
    return [x]


def outcomes(executor, fn, payloads, skip=()):
    return sorted(executor.run(fn, payloads, skip))


def test_processes_match_local_and_survive_a_dead_worker(tmp_path):
    pool = executors.Processes(2)
    try:
        local = outcomes(executors.LOCAL, double, list(range(40)))
        remote = outcomes(pool, double, list(range(40)))
        assert [(i, k) for i, k, _, _ in remote] == [(i, k) for i, k, _, _ in local]
        from proda.engine.storage import encode_records

        assert all(value == encode_records(records) for (_, _, records, _), (_, _, _, value) in zip(local, remote))
        marker = str(tmp_path / "died")
        again = outcomes(pool, functools.partial(die_once, marker=marker), list(range(40)))
        assert os.path.exists(marker), "no worker was killed"
        assert [(i, v) for i, _, _, v in again] == [(i, v) for i, _, _, v in remote]
        skipped = outcomes(pool, refuse, list(range(9)), skip=(ValueError,))
        assert [i for i, kind, _, _ in skipped if kind == executors.SKIP] == [0, 3, 6]
        assert "unit 3 is bad" in skipped[3][3]
    finally:
        pool.close()


def test_a_batch_whose_submit_finds_the_pool_broken_is_sent_again():
    """A worker can die while the driver is still sending: the pool then refuses the next batch
    (BrokenProcessPool from submit). That batch must go to the fresh pool with the others in flight
    (CI once lost five units this way)."""
    from concurrent.futures import ThreadPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    class Breaks(ThreadPoolExecutor):  # a pool whose third submit finds a dead worker
        calls = 0

        def submit(self, *args, **kwargs):
            Breaks.calls += 1
            if Breaks.calls == 3:
                raise BrokenProcessPool("a worker died")
            return super().submit(*args, **kwargs)

    pool = executors.Processes(2)
    pool._start = lambda: setattr(pool, "_pool", Breaks(2)) or pool._pool
    try:
        got = outcomes(pool, double, list(range(40)))
    finally:
        pool.close()
    assert Breaks.calls > 3, "the pool never broke"
    assert [(i, k) for i, k, _, _ in got] == [(i, executors.OK) for i in range(40)]


def test_a_map_never_publishes_a_shard_short_of_units(make_project, monkeypatch, capsys):
    """If an executor ever returned fewer outcomes than units, the stage fails with a message
    instead of publishing a shard without their records."""
    from proda.errors import StageError

    class Lossy(executors.Local):
        def run_batches(self, fn, payloads, skip, threads=1):
            for batch in super().run_batches(fn, payloads, skip, threads):
                if batch[0][0] != 1:  # unit 1's outcome never comes back
                    yield batch

    monkeypatch.setattr(executors, "choose", lambda *args: Lossy())
    project = make_project(CORPUS)
    with pytest.raises(StageError):
        build(project, until="chunk")
    assert "came back from no worker" in capsys.readouterr().err
    from proda.engine.outputs import read_manifest

    assert read_manifest(project.build, "chunk", "physics") is None, "a shard short of units was published"


def test_unknown_executor_is_a_usage_error():
    with pytest.raises(UsageError, match="did you mean 'processes'"):
        executors.for_config(RunConfig(executor="proceses"))


def test_a_function_that_cannot_leave_the_process_runs_locally():
    assert executors.choose(RunConfig(executor="processes"), lambda x: [x], 10, 1) is executors.LOCAL
    assert executors.choose(RunConfig(executor="processes"), double, 10, 8) is executors.LOCAL  # threads


def test_processes_build_has_the_local_version(make_project):
    local = build(make_project(CORPUS, name="local"), until="synth")
    project = make_project(CORPUS, name="procs")
    procs = build(Project.at(project.root, ('run.executor="processes"', "run.workers=2")), until="synth")
    assert procs["version"] == local["version"]
    assert {k: v["built"] for k, v in procs["stages"].items()} == {k: v["built"] for k, v in local["stages"].items()}
    again = build(Project.at(project.root, ('run.executor="processes"',)), until="synth")
    assert again["version"] == local["version"] and all(v["built"] == 0 for v in again["stages"].values())


def test_killed_driver_resumes_with_finished_units(make_project):
    corpus = {"physics": {f"doc{i:03}.md": doc(f"topic{i}", 5) for i in range(160)}}
    project = make_project(corpus)
    build(project, until="chunk")
    journal = project.build / "memo" / "extract" / "physics.log"
    proc = subprocess.Popen([sys.executable, "-m", "proda", "build", "--until", "extract", "--executor",
                             "processes", "-C", str(project.root)], start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 180
    while time.time() < deadline and proc.poll() is None:
        if journal.exists() and journal.stat().st_size > 20_000:
            break
        time.sleep(0.005)
    assert proc.poll() is None, "the build finished before it could be killed; make the corpus larger"
    os.killpg(proc.pid, signal.SIGKILL)  # the driver and its workers
    proc.wait()
    assert not (project.build / "extract" / "physics.json").exists()
    resumed = build(Project.at(project.root, ('run.executor="processes"',)), until="extract")
    assert resumed["stages"]["extract"]["from_memo"] > 0, "units journalled before the kill were recomputed"
    clean_root = project.root.parent / "clean"
    shutil.copytree(project.specs, clean_root / "specs")
    clean = build(Project.at(clean_root), until="extract")
    assert clean["version"] == resumed["version"]
