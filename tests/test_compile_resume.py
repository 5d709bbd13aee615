"""A build killed (-9) during compile resumes training from its last saved step, and the resumed
checkpoint has the key and the weights of an uninterrupted compile."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from proda.make import build
from proda.project import Project
from proda.project import example_specs, init_project

pytestmark = pytest.mark.slow
TOML = "[compile]\nepochs = 20\nsave_every = 5\nhidden_size = 64\nlayers = 2\n"


def _project(root):
    init_project(root)
    shutil.copytree(example_specs() / "corpus" / "physics", root / "specs" / "corpus" / "physics")
    (root / "specs" / "proda.toml").write_text(TOML)
    return Project.at(root)


def _weights(checkpoint):
    from safetensors.torch import load_file

    return load_file(str(checkpoint / "model.safetensors"))


def test_kill_during_compile_resumes_to_the_same_checkpoint(tmp_path):
    env = {**os.environ, "PRODA_THREADS": "1"}  # byte-reproducible weights
    os.environ["PRODA_THREADS"] = "1"
    project = _project(tmp_path / "killed")
    build(project, until="synth")
    proc = subprocess.Popen([sys.executable, "-m", "proda", "build", "--until", "compile", "-C", str(project.root)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    checkpoints = project.build / "checkpoints"
    deadline = time.time() + 240
    saved = None
    while time.time() < deadline and proc.poll() is None:
        # a saved state is whole once it has its name (written with its hash, by one rename)
        saved = next(iter(checkpoints.glob(".state-*/trainer_state.pt")), None) if checkpoints.exists() else None
        if saved is not None:
            break
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)  # at once: a saved state exists, the run is far from done
    assert saved is not None, "compile finished before a state was saved"
    proc.wait()
    assert not [p for p in checkpoints.iterdir() if not p.name.startswith(".")]  # nothing published

    resumed = build(Project.at(project.root), until="compile")
    assert resumed["stages"]["compile"]["built"] == 1
    key = json.loads((project.build / "compile" / "all.json").read_text())["extra"]["checkpoint"]
    meta = json.loads((checkpoints / key / "proda.json").read_text())
    assert meta["stats"]["resumed_from"] > 0

    clean = _project(tmp_path / "clean")
    build(clean, until="compile")
    clean_key = json.loads((clean.build / "compile" / "all.json").read_text())["extra"]["checkpoint"]
    assert clean_key == key
    a, b = _weights(checkpoints / key), _weights(clean.build / "checkpoints" / key)
    assert a.keys() == b.keys() and all((a[k] == b[k]).all() for k in a)
