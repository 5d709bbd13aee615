"""`proda build -j N` and `doit -n N` run independent shards at once without corrupting the
state they share: the catalog, the memo journals and the objects come out whole, and the build
is the one a single-task build makes."""

from __future__ import annotations

import os
import subprocess
import sys


from conftest import doc
from proda.engine.storage import Journal, Objects
from proda.hashing import digest_bytes
from proda.make import build
from proda.project import Project

CORPUS = {d: {f"d{i:02}.md": doc(f"{d}{i}", 3) for i in range(6)} for d in ("physics", "biology", "geology", "chemistry")}


def journals_are_whole(project) -> int:
    entries = 0
    for path in (project.build / "memo").rglob("*.log"):
        journal = Journal(path)
        loaded = journal.load(repair=False)
        # every frame complete and checksummed: no torn or interleaved write
        assert not journal.torn, f"{path} ends inside a frame"
        assert journal.damaged == 0, f"{path} has frames that fail their checksum"
        assert len(loaded) == journal.frames, f"{path} has duplicate entries"
        entries += journal.frames
    return entries


def objects_are_whole(project) -> int:
    store = Objects(project.build)
    files = list(store.dir.rglob("*.msgpack"))
    for path in files:
        assert digest_bytes(path.read_bytes()) == path.stem, f"{path} does not hash to its name"
    assert not list(store.dir.rglob("*.tmp")), "a temporary object was left behind"
    return len(files)


def test_parallel_build_equals_serial(make_project):
    serial = build(make_project(CORPUS, name="serial"), until="synth")
    project = make_project(CORPUS, name="parallel")
    streams = sys.stdout, sys.stderr
    parallel = build(Project.at(project.root, ('run.executor="processes"', "run.workers=2")), until="synth", jobs=4)
    assert parallel["version"] == serial["version"]
    # doit's tasks on threads swap the streams concurrently: the build puts back the caller's
    assert (sys.stdout, sys.stderr) == streams
    assert journals_are_whole(project) > 0 and objects_are_whole(project) > 0
    from proda.engine.catalog import open_catalog

    with open_catalog(project, read_only=True) as cat:
        assert cat.query("SELECT count(*) FROM versions WHERE id = ?", [parallel["version"]])[0][0] == 1
        runs = cat.query("SELECT count(DISTINCT stage || shard) FROM stage_runs")[0][0]
    assert runs == 4 * 4 + 5  # ingest..bench per discipline, synth per discipline + patches


def test_doit_n_in_a_project_folder(make_project):
    project = make_project(CORPUS, name="doit")
    build(project, until="chunk")
    for d in ("physics", "geology"):  # edit one document in two disciplines: two shards go stale
        (project.corpus / d / "d00.md").write_text(doc(f"{d}-edited", 3))
    ran = subprocess.run([sys.executable, "-m", "doit", "-n", "3", "ingest", "chunk", "extract"], cwd=project.root,
                         capture_output=True, text=True, env={**os.environ})
    assert ran.returncode == 0, ran.stderr
    journals_are_whole(project)
    objects_are_whole(project)
    again = build(Project.at(project.root), until="extract")
    assert all(s["built"] == 0 for s in again["stages"].values()), again
    clean = make_project({d: dict(files) for d, files in CORPUS.items()}, name="clean")
    for d in ("physics", "geology"):
        (clean.corpus / d / "d00.md").write_text(doc(f"{d}-edited", 3))
    assert build(clean, until="extract")["version"] == again["version"]
