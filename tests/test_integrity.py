"""Fault injection: for every kind of file under build/, flip bytes, truncate, delete, or replace
it with another valid file of its kind, then build. The result is the clean build's version id,
or a clear error naming the file and the fix — never a traceback, never damaged content served.

One small project is built once (a first build with other settings first, so older valid files
exist to swap in); each case puts that pristine build/ back in the same place (same absolute paths,
same mtimes, so doit's state still matches), damages one file and builds in-process.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import doc, gen
from proda.engine import storage
from proda.errors import ProdaError
from proda.make import build
from proda.project import Project, init_project

TOML = """[chunk]
size = 1200
[compile]
epochs = 1.0
hidden_size = 32
layers = 1
heads = 2
vocab_size = 300
"""
CORPUS = {"physics": {"alpha.md": doc("alpha"), "beta.md": doc("beta"), "empty.md": ""},
          "biology": {"gamma.md": doc("gamma")}}


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    """(root, clean version id, the pristine build/, the older snapshot of build/)."""
    base = tmp_path_factory.mktemp("integrity")
    root = base / "project"
    init_project(root)
    gen(root / "specs" / "corpus", CORPUS)
    (root / "specs" / "proda.toml").write_text(TOML)
    build(Project.at(root, ("chunk.size=600",)), until="extract")
    old = base / "old-build"
    shutil.copytree(root / "build", old, symlinks=True)
    clean = build(Project.at(root))["version"]
    keep = base / "pristine-build"
    shutil.copytree(root / "build", keep, symlinks=True)
    return root, clean, keep, old


def _restore(root: Path, keep: Path) -> None:
    shutil.rmtree(root / "build")
    shutil.copytree(keep, root / "build", symlinks=True)


def _manifest(root: Path, stage: str, shard: str) -> dict:
    return json.loads((root / "build" / stage / f"{shard}.json").read_text())


def _object(root: Path, stage: str, shard: str) -> Path:
    return storage.Objects(root / "build").path(_manifest(root, stage, shard)["object"])


def _checkpoint(root: Path) -> Path:
    return root / "build" / "checkpoints" / _manifest(root, "compile", "all")["extra"]["checkpoint"]


def _safetensors(path: Path) -> Path:
    import torch
    from safetensors.torch import save_file

    save_file({"x": torch.zeros(3)}, str(path))
    return path


# kind -> (the file to damage, another valid file of its kind), both from the project root
KINDS = {
    "object": (lambda r, o: _object(r, "chunk", "physics"), lambda r, o: _object(r, "chunk", "biology")),
    "manifest": (lambda r, o: r / "build/extract/physics.json", lambda r, o: r / "build/extract/biology.json"),
    "older manifest": (lambda r, o: r / "build/chunk/physics.json", lambda r, o: o / "chunk/physics.json"),
    "memo journal": (lambda r, o: r / "build/memo/extract/physics.log", lambda r, o: r / "build/memo/extract/biology.log"),
    "run stats": (lambda r, o: r / "build/runs/chunk.physics.json", lambda r, o: r / "build/runs/chunk.biology.json"),
    "recipe": (lambda r, o: r / "build/recipes/chunk.json", lambda r, o: r / "build/recipes/ingest.json"),
    "doit state": (lambda r, o: r / "build/.doit.db", lambda r, o: o / ".doit.db"),
    "catalog": (lambda r, o: r / "build/proda.duckdb", lambda r, o: o / "proda.duckdb"),
    "version marker": (lambda r, o: r / "build/version.json", lambda r, o: o / "version.json"),
    "version record": (lambda r, o: next((r / "build/versions").glob("[0-9a-f]*.json")),
                       lambda r, o: next((o / "versions").glob("[0-9a-f]*.json"))),
    "stamp": (lambda r, o: r / "build/.stamp", lambda r, o: r / "build/recipes/test.json"),
    "checkpoint weights": (lambda r, o: _checkpoint(r) / "model.safetensors",
                           lambda r, o: _safetensors(r.parent / "other.safetensors")),
    "checkpoint record": (lambda r, o: _checkpoint(r) / "proda.json", lambda r, o: _checkpoint(r) / "config.json"),
    "tokenizer": (lambda r, o: _checkpoint(r) / "tokenizer.json", lambda r, o: _checkpoint(r) / "tokenizer_config.json"),
    "lock": (lambda r, o: r / "build/.lock", lambda r, o: r / "build/version.json"),
}
MUST_WARN = {"object", "manifest", "checkpoint weights", "checkpoint record", "tokenizer"}


def _damage(path: Path, how: str, other: Path) -> None:
    if how == "flip":
        data = bytearray(path.read_bytes())
        rng = random.Random(len(data))
        for _ in range(3):
            i = rng.randrange(len(data))
            data[i] ^= 1 << rng.randrange(8)
        path.write_bytes(bytes(data))
    elif how == "truncate":
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    elif how == "delete":
        path.unlink()
    else:
        path.write_bytes(other.read_bytes())


@pytest.mark.parametrize("how", ["flip", "truncate", "delete", "replace"])
@pytest.mark.parametrize("kind", list(KINDS))
def test_damage_then_build_gives_the_clean_version(pristine, kind, how, capfd):
    root, clean, keep, old = pristine
    _restore(root, keep)
    target, other = (f(root, old) for f in KINDS[kind])
    if how == "delete" and kind == "lock":
        pytest.skip("the lock file is recreated by every build; deleting it is not damage")
    _damage(target, how, other)
    try:
        result = build(Project.at(root))
    except ProdaError as exc:  # acceptable only as a clear error that names the file and the fix
        pytest.fail(f"{kind}/{how}: the build stopped instead of repairing: {exc}")
    err = capfd.readouterr().err
    assert "Traceback" not in err
    assert result["version"] == clean, f"{kind}/{how}: {err}"
    if kind in MUST_WARN and (kind, how) != ("manifest", "delete"):  # a deleted output is just missing
        shown = target.relative_to(root).as_posix()
        assert shown in err or str(target.parent.relative_to(root)) in err, f"{kind}/{how}: no warning\n{err}"
    # and the repaired build is a real one: the next build is a no-op with the same id
    again = build(Project.at(root))
    assert again["version"] == clean and sum(s["built"] for s in again["stages"].values()) == 0


def test_damage_that_keeps_size_and_mtime_is_found_by_verify(pristine, proda_cli):
    """A flipped bit on disk moves nothing the no-op check stats: `proda verify` finds it,
    `proda verify --repair` moves it aside and rebuilds the clean version."""
    root, clean, keep, old = pristine
    _restore(root, keep)
    target = _object(root, "extract", "biology")
    st = target.stat()
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0x01
    target.write_bytes(bytes(data))
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))
    found = proda_cli("verify", "--json", "-C", str(root), check=False)
    assert found.returncode == 1, found.stderr
    report = json.loads(found.stdout)
    assert not report["ok"] and report["checked"]["objects"] > 0
    assert any(p["path"] == target.relative_to(root).as_posix() for p in report["problems"])
    fixed = proda_cli("verify", "--repair", "--json", "-C", str(root))
    assert json.loads(fixed.stdout)["version"] == clean and "Traceback" not in fixed.stderr
    assert proda_cli("verify", "-C", str(root)).stdout.startswith("ok:")


def test_an_edited_manifest_is_found_by_verify(pristine, proda_cli):
    """A manifest edited into another valid manifest (a count changed, same size and mtime) fails
    its own hash: `proda verify` names it, `--repair` rebuilds the clean version."""
    root, clean, keep, old = pristine
    _restore(root, keep)
    target = root / "build" / "ingest" / "physics.json"
    st = target.stat()
    data = json.loads(target.read_text())
    n = data["records"]
    text = target.read_text().replace(f'"records": {n}', f'"records": {(n + 1) % 10 if n < 9 else n - 1}', 1)
    assert text != target.read_text() and len(text) == st.st_size
    target.write_text(text)
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))
    found = proda_cli("verify", "--json", "-C", str(root), check=False)
    assert found.returncode == 1, found.stderr
    report = json.loads(found.stdout)
    assert report["checked"]["manifests"] > 0
    assert [p["problem"] for p in report["problems"] if p["path"] == "build/ingest/physics.json"] == [
        "its content does not match its hash (edited or damaged)"]
    fixed = proda_cli("verify", "--repair", "--json", "-C", str(root))
    assert json.loads(fixed.stdout)["version"] == clean


def test_a_manifest_without_its_digest_is_found_by_verify(pristine, proda_cli):
    """Deleting the hash a manifest carries does not get an edit past the check: a manifest
    without one is named by `proda verify`, and `--repair` rebuilds the clean version."""
    root, clean, keep, old = pristine
    _restore(root, keep)
    target = root / "build" / "chunk" / "physics.json"
    data = json.loads(target.read_text())
    del data["digest"]
    data["records"] += 1
    target.write_text(json.dumps(data))
    found = proda_cli("verify", "--json", "-C", str(root), check=False)
    assert found.returncode == 1, found.stderr
    problems = [p["problem"] for p in json.loads(found.stdout)["problems"] if p["path"] == "build/chunk/physics.json"]
    assert problems and "field 'digest' is missing" in problems[0]
    fixed = proda_cli("verify", "--repair", "--json", "-C", str(root))
    assert json.loads(fixed.stdout)["version"] == clean
    assert proda_cli("verify", "-C", str(root)).stdout.startswith("ok:")


def test_damaged_memo_frames_are_counted_and_recomputed(pristine):
    root, clean, keep, old = pristine
    _restore(root, keep)
    journal = root / "build/memo/chunk/physics.log"
    data = bytearray(journal.read_bytes())
    data[len(data) // 2] ^= 0x40
    journal.write_bytes(bytes(data))
    (root / "build/chunk/physics.json").unlink()  # make chunk:physics run and read its memo
    result = build(Project.at(root))
    assert result["version"] == clean
    assert result["stages"]["chunk"]["damaged"] == 1
    assert storage.Journal(journal).load() and storage.Journal(journal).damaged == 0  # rewritten clean


def test_lost_catalog_history_is_restored_from_build(pristine, proda_cli):
    root, clean, keep, old = pristine
    _restore(root, keep)
    proda_cli("tag", "v1", "-C", str(root))
    (root / "build/proda.duckdb").unlink()
    log = json.loads(proda_cli("log", "--json", "-C", str(root)).stdout)
    assert log["versions"] == []  # read-only commands do not create a catalog...
    proda_cli("tag", "again", "-C", str(root))  # ...a writing one restores the recorded history
    log = json.loads(proda_cli("log", "--json", "-C", str(root)).stdout)
    ids = {v["id"]: v["tags"] for v in log["versions"]}
    assert clean in ids and set(ids[clean]) == {"v1", "again"} and len(ids) >= 2
    checked = json.loads(proda_cli("verify", "--json", "-C", str(root)).stdout)["checked"]
    assert checked["versions"] == len(log["versions"])  # the tag file is not counted as a version


def test_status_names_damage_without_repairing(pristine, proda_cli):
    root, clean, keep, old = pristine
    _restore(root, keep)
    target = root / "build/bench/physics.json"
    target.write_text("{not json")
    status = json.loads(proda_cli("status", "--json", "-C", str(root)).stdout)
    reasons = [s["reason"] for s in status["stale"] if s["task"] == "bench:physics"]
    assert reasons and reasons[0].startswith("damaged: build/bench/physics.json")
    assert target.read_text() == "{not json"  # status reports; only a build repairs


def test_interrupt_during_compile_exits_3_with_the_message(tmp_path):
    root = tmp_path / "p"
    init_project(root)
    gen(root / "specs" / "corpus", CORPUS)
    (root / "specs" / "proda.toml").write_text(TOML.replace("epochs = 1.0", "epochs = 400.0"))
    err = open(tmp_path / "err", "w")
    proc = subprocess.Popen([sys.executable, "-m", "proda", "build", "-C", str(root)], stdout=subprocess.DEVNULL,
                            stderr=err, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.time() + 240
    while "  synth " not in (tmp_path / "err").read_text() and time.time() < deadline:  # compile is next
        assert proc.poll() is None, (tmp_path / "err").read_text()
        time.sleep(0.1)
    time.sleep(2)
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=60) == 3
    text = (tmp_path / "err").read_text()
    assert "build interrupted; finished items are kept" in text and "Traceback" not in text


def test_one_recipe_gives_the_same_weights_on_a_busy_machine(tmp_path):
    """compile.threads is part of the recipe and kernels are deterministic, so the load of the
    machine (here: two busy processes) cannot change the binary; the checkpoint records the hash
    of its files, and the compile manifest (so the version id) carries it."""
    def compile_once(name: str) -> tuple[str, bytes, str]:
        root = tmp_path / name
        init_project(root)
        gen(root / "specs" / "corpus", CORPUS)
        (root / "specs" / "proda.toml").write_text(TOML)
        result = build(Project.at(root), until="compile")
        manifest = _manifest(root, "compile", "all")
        key = manifest["extra"]["checkpoint"]
        weights = (root / "build" / "checkpoints" / key / "model.safetensors").read_bytes()
        return manifest["extra"]["weights"][key], weights, result["version"]

    idle = compile_once("idle")
    burners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    try:
        busy = compile_once("busy")
    finally:
        for proc in burners:
            proc.kill()
            proc.wait()
    assert idle[0] and idle == busy
