"""kill -9 in the middle of a stage, then rebuild: same version as a clean build, and the items
finished before the kill are not recomputed."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time

from conftest import doc
from proda.make import build
from proda.project import Project


def test_kill_mid_stage_then_resume(make_project):
    corpus = {"physics": {f"doc{i:03}.md": doc(f"topic{i}", 5) for i in range(160)}}
    project = make_project(corpus)
    build(project, until="chunk")
    journal = project.build / "memo" / "extract" / "physics.log"
    proc = subprocess.Popen([sys.executable, "-m", "proda", "build", "--until", "extract", "-C", str(project.root)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline:
        if journal.exists() and journal.stat().st_size > 20_000:
            break
        if proc.poll() is not None:
            break
        time.sleep(0.002)
    assert proc.poll() is None, "the build finished before it could be killed; make the corpus larger"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (project.build / "extract" / "physics.json").exists()  # nothing half-published
    done_before = journal.stat().st_size

    resumed = build(Project.at(project.root), until="extract")
    extract = resumed["stages"]["extract"]
    assert extract["from_memo"] > 0, "finished items were recomputed"
    assert done_before > 0

    clean_root = project.root.parent / "clean"
    shutil.copytree(project.specs, clean_root / "specs")
    clean = build(Project.at(clean_root), until="extract")
    assert clean["version"] == resumed["version"]
    assert clean["stages"]["extract"]["built"] == extract["built"] + extract["reused"]
    json.dumps(resumed)
