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
                yield [outcome for outcome in batch if outcome[0] != 1]  # unit 1's outcome never comes back

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


# --- whole tasks on workers: proda build -j N with worker processes ------------------------------


def kill_own_worker_once(marker: str) -> int:
    """Kills the worker process it runs on the first time it is called (anywhere), else its pid."""
    try:
        os.close(os.open(marker, os.O_CREAT | os.O_EXCL))
    except FileExistsError:
        return os.getpid()
    os.kill(os.getpid(), signal.SIGKILL)
    return -1


def test_a_task_whose_worker_dies_runs_again_on_a_fresh_pool(tmp_path, capfd):
    pool = executors.Processes(2)
    try:
        marker = str(tmp_path / "died")
        pid = pool.run_task(kill_own_worker_once, marker)
        assert os.path.exists(marker), "no worker was killed"
        assert pid > 0 and pid != os.getpid()
    finally:
        pool.close()
    assert "its task is sent again" in capfd.readouterr().err


def test_a_task_that_reaches_a_worker_after_the_build_died_is_not_started(make_project):
    from proda.engine import runner
    from proda.errors import StageError

    project = make_project(CORPUS)
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    with pytest.raises(StageError, match="has ended"):
        runner.execute_on_worker(str(project.root), (), "ingest", "physics", gone.pid, "")
    assert not (project.build / "ingest" / "physics.json").exists()


def refuse_with_a_hint():
    raise UsageError("bad input", "fix the file")


def test_a_task_error_comes_back_whole_and_one_that_cannot_is_said(make_project, monkeypatch):
    from proda.engine import runner, storage
    from proda.engine.stage import get
    from proda.errors import StageError
    from proda.hashing import digest

    pool = executors.Processes(1)
    try:
        with pytest.raises(UsageError) as raised:
            pool.run_task(refuse_with_a_hint)
        assert raised.value.hint == "fix the file" and str(raised.value) == "bad input\n  hint: fix the file"
    finally:
        pool.close()
    project = make_project(CORPUS)
    recipe = digest(runner.recipe_of(get("ingest"), project))

    def damaged(*args):  # pickles, but cannot be rebuilt from its args: the pool would call it broken
        raise storage.Damaged(project.build / "x", "its checksum fails")

    monkeypatch.setattr(runner, "execute", damaged)
    with pytest.raises(StageError, match="failed on a worker process: Damaged") as raised:
        runner.execute_on_worker(str(project.root), (), "ingest", "physics", os.getpid(), recipe)
    import pickle

    again = pickle.loads(pickle.dumps(raised.value))
    assert "Damaged" in str(again) and "Traceback" in again.hint


def test_a_task_whose_settings_changed_under_the_build_is_refused(make_project):
    from proda.engine import runner
    from proda.errors import StageError

    project = make_project(CORPUS)
    with pytest.raises(StageError, match="settings changed while the build ran"):
        runner.execute_on_worker(str(project.root), (), "ingest", "physics", os.getpid(), "not-this-recipe")
    assert not (project.build / "ingest" / "physics.json").exists()


def ran_on_worker(project) -> dict[str, bool]:
    """Per task, whether it ran whole on another process than this test's."""
    import json

    stats = [json.loads(path.read_text()) for path in (project.build / "runs").glob("*.json")]
    return {f"{s['stage']}.{s['shard']}": s["on_worker"] and s["process"] != os.getpid() for s in stats}


def test_jobs_with_worker_processes_run_whole_tasks_there(make_project):
    local = build(make_project(CORPUS, name="local"), until="synth")
    project = make_project(CORPUS, name="tasks")
    settings = ('run.executor="processes"', "run.workers=2")
    tasks = build(Project.at(project.root, settings), until="synth", jobs=2)
    assert tasks["version"] == local["version"]
    assert {k: v["built"] for k, v in tasks["stages"].items()} == {k: v["built"] for k, v in local["stages"].items()}
    where = ran_on_worker(project)
    assert len(where) == 2 * 5 + 1 and all(where.values()), where  # every CPU-bound task, synth's patches too
    one = make_project(CORPUS, name="units")
    build(Project.at(one.root, settings), until="chunk", jobs=1)  # -j 1: the units are spread instead
    assert not any(ran_on_worker(one).values())
    few = make_project(CORPUS, name="few")  # fewer tasks at once than workers: the units are spread
    build(Project.at(few.root, ('run.executor="processes"', "run.workers=3")), until="chunk", jobs=2)
    assert not any(ran_on_worker(few).values())


def test_only_cpu_bound_stages_leave_the_build_process(make_project):
    from proda.engine import stage as stages

    project = make_project(CORPUS)
    assert [n for n in stages.ORDER if stages.get(n).cpu_bound(project)] == ["ingest", "chunk", "extract", "bench",
                                                                              "synth"]
    llm = Project.at(project.root, ('llm.backend="openai"', 'llm.model="m"', 'llm.base_url="http://127.0.0.1:9"'))
    assert not stages.get("extract").cpu_bound(llm)  # its calls go through the catalog's cache


def workers_of(pid: int) -> list[int]:
    """The grandchildren of a process: with worker processes, its pool's workers (children of the
    pool's fork server)."""
    parent = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    parent[int(entry)] = int(fh.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                pass
    children = {p for p, pp in parent.items() if pp == pid}
    return [p for p, pp in parent.items() if pp in children]


TWO = {d: {f"doc{i:03}.md": doc(f"{d}{i}", 5) for i in range(80)} for d in ("physics", "biology")}


def extract_with_tasks_on_workers(make_project, stderr):
    """A project built up to chunk, and `proda build --until extract -j 2` with worker processes
    started on it in a session of its own; returns the project, the extract journals and the
    process."""
    project = make_project(TWO)
    build(project, until="chunk")
    journals = [project.build / "memo" / "extract" / f"{d}.log" for d in TWO]
    proc = subprocess.Popen([sys.executable, "-m", "proda", "build", "--until", "extract", "--executor", "processes",
                             "-j", "2", "-C", str(project.root)], start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=stderr, text=True)
    return project, journals, proc


def test_tasks_whose_workers_are_killed_run_again_from_their_journals(make_project):
    project, journals, proc = extract_with_tasks_on_workers(make_project, subprocess.PIPE)
    deadline, killed = time.time() + 180, []
    while time.time() < deadline and proc.poll() is None and not killed:
        if any(j.exists() and j.stat().st_size > 20_000 for j in journals):
            killed = workers_of(proc.pid)
            for pid in killed:
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.005)
    _, err = proc.communicate(timeout=300)
    assert killed, "the build finished before a worker could be killed; make the corpus larger"
    assert proc.returncode == 0, err
    assert "its task is sent again" in err
    import json

    runs = [json.loads((project.build / "runs" / f"extract.{d}.json").read_text()) for d in TWO]
    assert any(r["from_memo"] > 0 for r in runs), "the task sent again recomputed what its journal kept"
    again = build(Project.at(project.root), until="extract")
    assert again["stages"]["extract"]["built"] == 0
    clean_root = project.root.parent / "clean"
    shutil.copytree(project.specs, clean_root / "specs")
    assert build(Project.at(clean_root), until="extract")["version"] == again["version"]


def fail_at_seven(x):
    if x == 7:
        raise RuntimeError("unit 7 broke")
    return [x]


def test_local_maps_journal_cheap_units_together_and_keep_those_before_a_failure():
    batches = list(executors.LOCAL.run_batches(double, list(range(200)), ()))
    assert sorted(i for b in batches for i, *_ in b) == list(range(200))
    assert len(batches) < 200  # cheap units share a journal write
    got = []
    with pytest.raises(RuntimeError, match="unit 7 broke"):
        for batch in executors.LOCAL.run_batches(fail_at_seven, list(range(10)), ()):
            got += [i for i, *_ in batch]
    assert got == list(range(7))  # every unit finished before the failure reached the journal


def test_a_stage_with_fewer_shards_than_workers_spreads_its_units(make_project):
    project = make_project({"physics": CORPUS["physics"]})  # one discipline: one shard per stage
    result = build(Project.at(project.root, ('run.executor="processes"', "run.workers=2")), until="chunk", jobs=2)
    assert result["stages"]["chunk"]["built"] > 0
    assert ran_on_worker(project) == {"ingest.physics": False, "chunk.physics": False}


def test_a_killed_build_leaves_no_worker_writing(make_project):
    """kill -9 of the build process alone (not its workers): the workers that run whole tasks stop
    with it, so nothing goes on writing beside the next build; that build reuses what they
    journalled and gives the clean build's version id."""
    project, journals, proc = extract_with_tasks_on_workers(make_project, subprocess.DEVNULL)
    deadline, workers = time.time() + 180, []
    while time.time() < deadline and proc.poll() is None and not workers:
        if any(j.exists() and j.stat().st_size > 20_000 for j in journals):
            workers = workers_of(proc.pid)
            os.kill(proc.pid, signal.SIGKILL)  # the build process only
        time.sleep(0.005)
    proc.wait()
    assert workers, "the build finished before it could be killed; make the corpus larger"

    def alive(pid: int) -> bool:
        try:
            with open(f"/proc/{pid}/stat") as fh:
                return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
        except OSError:
            return False

    deadline = time.time() + 10
    while time.time() < deadline and any(alive(p) for p in workers):
        time.sleep(0.05)
    assert not any(alive(p) for p in workers), "a worker went on after its build was killed"
    assert not (project.build / "extract" / "physics.json").exists() or not (project.build / "extract" / "biology.json").exists()
    resumed = build(Project.at(project.root), until="extract")
    assert resumed["stages"]["extract"]["from_memo"] > 0, "units journalled before the kill were recomputed"
    clean_root = project.root.parent / "clean"
    shutil.copytree(project.specs, clean_root / "specs")
    assert build(Project.at(clean_root), until="extract")["version"] == resumed["version"]


def test_an_interrupted_build_stops_its_workers_at_once(capfd):
    pool = executors.Processes(1)
    import threading

    done = threading.Event()

    def wait_for_task():
        try:
            pool.run_task(time.sleep, 60)
        except BaseException:  # noqa: BLE001 — the pool shut down under it
            pass
        done.set()

    threading.Thread(target=wait_for_task, daemon=True).start()
    deadline = time.time() + 30
    while time.time() < deadline and not (pool._pool and getattr(pool._pool, "_processes", None)):
        time.sleep(0.05)
    time.sleep(0.5)  # the task is running on the worker
    workers = list(pool._pool._processes.values())
    started = time.time()
    pool.close(now=True)
    assert time.time() - started < 5, "close(now=True) waited for the running task"
    for process in workers:
        process.join(5)
        assert not process.is_alive()
    assert done.wait(5), "the interrupted task was sent again to a new pool"
    assert "sent again" not in capfd.readouterr().err


def test_running_a_worker_task_here_changes_nothing_of_this_process(make_project):
    """execute_on_worker called in the build process (as these tests do) must not leave it
    believing it is a pool worker: its maps would all stay local from then on."""
    from proda.engine import progress, runner
    from proda.errors import StageError

    project = make_project(CORPUS)
    with pytest.raises(StageError):
        runner.execute_on_worker(str(project.root), (), "ingest", "physics", os.getpid(), "not-this-recipe")
    assert executors.ON_WORKER is False and progress.DRAW is True


_FIRST_TASKS = """
import sys
from proda.engine import executors
for name in executors.PRELOAD:
    __import__(name)
from proda.engine import layout, runner
from proda.engine.stage import ORDER, get
before = set(sys.modules)
project = runner.worker_project(sys.argv[1], ())
for name in ORDER[:ORDER.index("synth") + 1]:
    stage, shard = get(name), project.disciplines()[0]
    assert stage.cpu_bound(project), name
    for path in (layout.manifest(project.build, name, shard), layout.journal(project.build, name, shard)):
        path.unlink(missing_ok=True)
    runner.execute(project, stage, shard)
print(sorted(m for m in set(sys.modules) - before if m.startswith(("proda", "numpy"))))
"""


def test_a_worker_imports_nothing_on_its_first_task_of_a_stage(make_project, monkeypatch):
    """Every worker process of every build starts from the fork server's imports (PRELOAD): a module
    a stage imports lazily would be imported again by each worker, on its first task (ingest's
    quality filter brought numpy.random, ~30 ms a worker)."""
    import subprocess
    import sys

    project = make_project(CORPUS)
    build(project, until="synth")
    out = subprocess.run([sys.executable, "-c", _FIRST_TASKS, str(project.root)], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]", out
    # ... and the pool's fork server is the one that imports them
    import multiprocessing.context

    asked = []
    monkeypatch.setattr(multiprocessing.context.ForkServerContext, "set_forkserver_preload",
                        lambda self, names: asked.append(list(names)))
    executors.Processes(1)._new_pool().shutdown()
    assert asked == [list(executors.PRELOAD)]


def test_ray_batches_grow_to_carry_enough_work_once_a_units_cost_is_known():
    """On a big cluster the count rule alone sends a shard of cheap units one unit per Ray task
    (375 chunk units on 128 CPUs), each task's round trip costing far more than its work."""
    size = executors.batch_size
    assert size(375, 375, 128, None) == 1  # unknown cost: the count rule (about four per CPU)
    assert size(375, 375, 128, 0.00005) == executors.MAX_BATCH  # 50 µs units: grown to 64 (3 ms of work)
    assert size(375, 375, 128, 0.005) == 10  # 5 ms units: ten make the 50 ms a batch should carry
    assert size(20_000, 20_000, 128, 0.00005) == executors.MAX_BATCH  # never past MAX_BATCH
    assert size(20_000, 20_000, 128, 0.2) == 40  # costly units: the count rule's size stands (20,000 / 512)
    assert size(375, 5, 128, 0.00005) == 5  # the last units: no batch beyond them
    assert size(375, 2, 2, 0.00005) == 2
    # what the sizes add up to: every unit once, in order
    n, sent, out = 1000, 0, []
    while sent < n:
        step = size(n, n - sent, 128, 0.001)
        out.append(range(sent, sent + step))
        sent += step
    assert [i for r in out for i in r] == list(range(n))
    assert len(out) == 1000 / 50  # 1 ms units: batches of 50, not 2 (the count rule on 128 CPUs)
