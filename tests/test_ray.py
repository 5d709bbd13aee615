"""The Ray executor on one local cluster shared by these tests (two CPUs): a build gives the same
version id as a local one; a Ray worker killed mid-stage is replaced and the build finishes with
the same id; a driver killed mid-stage resumes with its journalled units. Skipped, with the reason,
only where Ray is not installed or cannot start here."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import doc
from proda.make import build
from proda.project import Project

ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'proda[ray]')")
pytestmark = pytest.mark.ray

CORPUS = {"physics": {f"d{i:02}.md": doc(f"topic{i}", 3) for i in range(10)},
          "biology": {f"d{i:02}.md": doc(f"bio{i}", 3) for i in range(6)}}
RAY = ('run.executor="ray"',)


@pytest.fixture(scope="module")
def cluster():
    """One local Ray cluster for the module: builds find it initialised and use it."""
    if not ray.is_initialized():
        try:
            ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        except Exception as exc:  # noqa: BLE001
            pytest.skip(f"a local Ray cluster cannot start here: {exc}")
    yield ray.get_runtime_context().gcs_address
    ray.shutdown()


def test_ray_build_has_the_local_version(make_project, cluster):
    local = build(make_project(CORPUS, name="local"), until="bench")
    project = make_project(CORPUS, name="ray")
    remote = build(Project.at(project.root, RAY), until="bench")
    assert remote["version"] == local["version"]
    assert {k: v["built"] for k, v in remote["stages"].items()} == {k: v["built"] for k, v in local["stages"].items()}


MARKER = ""


def chunks_or_die(doc_, size, overlap):
    """Runs on a Ray worker: the first call kills that worker's process; Ray retries the batch."""
    from proda.corpus.chunking import chunks_of

    try:
        os.close(os.open(MARKER, os.O_CREAT | os.O_EXCL))
    except FileExistsError:
        return chunks_of(doc_, size, overlap)
    os.kill(os.getpid(), signal.SIGKILL)


def test_killed_ray_worker_still_gives_the_same_version(make_project, cluster, monkeypatch, tmp_path):
    global MARKER
    MARKER = str(tmp_path / "killed")
    local = build(make_project(CORPUS, name="local"), until="chunk")
    import ray.cloudpickle

    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the workers cannot import tests/
    import proda.corpus.chunking

    monkeypatch.setattr(proda.corpus.chunking, "chunks_of", chunks_or_die)
    project = make_project(CORPUS, name="ray")
    remote = build(Project.at(project.root, RAY), until="chunk")
    assert os.path.exists(MARKER), "no Ray worker was killed"
    assert remote["version"] == local["version"]


def test_killed_driver_resumes_on_the_cluster(make_project, cluster):
    corpus = {"physics": {f"doc{i:03}.md": doc(f"topic{i}", 5) for i in range(120)}}
    project = make_project(corpus)
    build(project, until="chunk")
    journal = project.build / "memo" / "extract" / "physics.log"
    proc = subprocess.Popen([sys.executable, "-m", "proda", "build", "--until", "extract", "--address", cluster,
                             "-C", str(project.root)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 180
    while time.time() < deadline and proc.poll() is None:
        if journal.exists() and journal.stat().st_size > 20_000:
            break
        time.sleep(0.005)
    assert proc.poll() is None, "the build finished before it could be killed; make the corpus larger"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (project.build / "extract" / "physics.json").exists()
    resumed = build(Project.at(project.root, RAY), until="extract")
    assert resumed["stages"]["extract"]["from_memo"] > 0, "units journalled before the kill were recomputed"
    clean = make_project(corpus, name="clean")
    assert build(clean, until="extract")["version"] == resumed["version"]


def test_no_address_starts_a_local_cluster_whatever_ray_address_says(make_project, cluster):
    """With run.address empty the build starts a cluster of its own, as documented: Ray itself
    would join RAY_ADDRESS (or the last `ray start`) and then refuse the CPU count it was given."""
    import json

    from ray._private import state

    local = build(make_project(CORPUS, name="local"), until="chunk")
    project = make_project(CORPUS, name="ray")
    env = {**os.environ, "RAY_ADDRESS": cluster}  # a running cluster the build must not join
    proc = subprocess.Popen([sys.executable, "-m", "proda", "-C", str(project.root), "build", "--until", "chunk",
                             "--executor", "ray", "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err[-2000:]
    assert json.loads(out)["version"] == local["version"]
    assert proc.pid not in {job["DriverPid"] for job in state.jobs()}, "the build joined the RAY_ADDRESS cluster"
