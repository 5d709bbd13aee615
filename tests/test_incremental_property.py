"""Incremental == clean, as a property: after any sequence of edits — documents and whole
disciplines added, edited, renamed and removed, settings changed — an incremental build has the
version id and record keys of a clean build of the same specs."""

from __future__ import annotations

import shutil

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import doc
from proda.make import build
from proda.engine.outputs import load_shard
from proda.project import Project
from proda.project import init_project

TOPICS = ["alpha", "beta", "gamma", "delta", "omega", "sigma"]
DISCIPLINES = ["physics", "biology"]

edit = st.one_of(
    st.tuples(st.just("add"), st.sampled_from(DISCIPLINES), st.sampled_from(TOPICS), st.integers(2, 4)),
    st.tuples(st.just("modify"), st.integers(0, 10), st.sampled_from(TOPICS), st.integers(2, 4)),
    st.tuples(st.just("delete"), st.integers(0, 10), st.none(), st.none()),
    st.tuples(st.just("rename"), st.integers(0, 10), st.sampled_from(TOPICS), st.none()),
    st.tuples(st.just("setting"), st.sampled_from([300, 600, 1200]), st.integers(0, 1), st.none()),
    # removal is a change too: whole disciplines come and go
    st.tuples(st.just("add_discipline"), st.sampled_from(["chemistry", "geology"]), st.sampled_from(TOPICS), st.none()),
    st.tuples(st.just("remove_discipline"), st.integers(0, 10), st.none(), st.none()),
)


def _files(root):
    return sorted(p for p in (root / "specs" / "corpus").rglob("*") if p.is_file())


def _apply(root, action):
    kind, a, b, c = action
    files = _files(root)
    if kind == "add":
        (root / "specs" / "corpus" / a).mkdir(parents=True, exist_ok=True)  # it may have been removed
        (root / "specs" / "corpus" / a / f"{b}-{c}.md").write_text(doc(b, c))
    elif kind == "modify" and files:
        files[a % len(files)].write_text(doc(b, c))
    elif kind == "delete" and len(files) > 1:
        files[a % len(files)].unlink()
    elif kind == "rename" and files:
        path = files[a % len(files)]
        path.rename(path.with_name(f"{b}-renamed{path.suffix}"))
    elif kind == "add_discipline":
        (root / "specs" / "corpus" / a).mkdir(exist_ok=True)
        (root / "specs" / "corpus" / a / f"{b}.md").write_text(doc(f"{a}-{b}"))
    elif kind == "remove_discipline":
        folders = sorted(p for p in (root / "specs" / "corpus").iterdir() if p.is_dir())
        if len(folders) > 1:
            shutil.rmtree(folders[a % len(folders)])
    elif kind == "setting":
        (root / "specs" / "proda.toml").write_text(f"[chunk]\nsize = {a}\noverlap = {b}\n")


def _keys(project):
    return {(stage, d): [r.key for r in load_shard(project.build, stage, d)]
            for stage in ("ingest", "chunk", "extract") for d in project.disciplines()}


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=st.lists(edit, min_size=1, max_size=4))
def test_incremental_equals_clean(tmp_path_factory, edits):
    base = tmp_path_factory.mktemp("inc")
    root = base / "p"
    init_project(root)
    for d in DISCIPLINES:
        (root / "specs" / "corpus" / d).mkdir(parents=True, exist_ok=True)
        (root / "specs" / "corpus" / d / "seed.md").write_text(doc(d))
    build(Project.at(root), until="extract")
    for action in edits:
        _apply(root, action)
        incremental = build(Project.at(root), until="extract")
    clean_root = base / "clean"
    shutil.copytree(root / "specs", clean_root / "specs")
    clean = build(Project.at(clean_root), until="extract")
    assert incremental["version"] == clean["version"]
    assert _keys(Project.at(root)) == _keys(Project.at(clean_root))
