"""Story tests of the build engine: build twice, edit one thing, change a setting, status."""

from __future__ import annotations

import json

import pytest

from conftest import doc
from proda.make import build, status
from proda.engine.outputs import load_shard
from proda.project import Project


def corpus():
    return {"physics": {"a.md": doc("alpha"), "b.md": doc("beta")},
            "biology": {"c.md": doc("gamma"), "d.txt": doc("delta")}}


def test_second_build_reuses_everything(make_project):
    project = make_project(corpus())
    first = build(project, until="chunk")
    assert first["stages"]["chunk"]["built"] > 0
    second = build(Project.at(project.root), until="chunk")
    assert second["version"] == first["version"]
    for counts in second["stages"].values():
        assert counts["built"] == 0
    assert second["stages"]["chunk"]["reused"] == first["stages"]["chunk"]["built"]


def test_edit_one_document_rebuilds_only_its_chunks(make_project):
    project = make_project(corpus())
    build(project, until="chunk")
    chunks_before = {c.doc: c for c in load_shard(project.build, "chunk", "physics")}
    (project.corpus / "physics" / "a.md").write_text(doc("alpha prime", 4))
    result = build(Project.at(project.root), until="chunk")
    docs = [d for d in load_shard(project.build, "ingest", "physics") if type(d).__name__ == "Document"]
    edited = next(d for d in docs if d.path == "physics/a.md")
    own = [c for c in load_shard(project.build, "chunk", "physics") if c.doc == edited.key]
    total = sum(1 for d in ("physics", "biology") for _ in load_shard(project.build, "chunk", d))
    assert result["stages"]["chunk"]["built"] == len(own)
    assert result["stages"]["chunk"]["reused"] == total - len(own)
    assert result["stages"]["ingest"]["built"] == 1
    assert len(chunks_before) == 2


def test_a_new_document_synthesizes_only_its_own_windows(make_project):
    """synth memoises one unit per document: adding a document computes its windows and reuses
    every other document's, whose concepts it sees only through its own statements."""
    from proda.engine import layout, storage
    from proda.records import Sample, Statement

    project = make_project(corpus())
    build(project, until="synth")
    before = storage.read_json(layout.run_stats(project.build, "synth", "physics"))
    (project.corpus / "physics" / "e.md").write_text(doc("epsilon"))
    build(Project.at(project.root), until="synth")
    after = storage.read_json(layout.run_stats(project.build, "synth", "physics"))
    docs = [d for d in load_shard(project.build, "ingest", "physics") if type(d).__name__ == "Document"]
    new = next(d.key for d in docs if d.path == "physics/e.md")
    own = {s.key for s in load_shard(project.build, "extract", "physics") if isinstance(s, Statement) and s.doc == new}
    samples = [s for s in load_shard(project.build, "synth", "physics") if isinstance(s, Sample)]
    # computed / from_memo: samples of the units computed and of those answered by the memo
    assert own and before["computed"] > 0
    assert after["from_memo"] == before["computed"] + before["from_memo"], "another document's windows were recomputed"
    assert after["computed"] == sum(1 for s in samples if s.statements and set(s.statements) <= own) > 0


def test_changing_a_setting_rebuilds_that_stage_and_downstream_only(make_project):
    project = make_project(corpus())
    build(project, until="extract")
    project = Project.at(project.root, ("chunk.size=400",))
    result = build(project, until="extract")
    assert result["stages"]["ingest"]["built"] == 0
    assert result["stages"]["chunk"]["built"] > 0
    assert result["stages"]["extract"]["built"] > 0


def test_status_explains_data_params_and_upstream(make_project):
    project = make_project(corpus())
    fresh = status(project)
    assert fresh["stale"][0]["reason"].startswith("missing")
    assert fresh["version"] is None  # nothing built: no version (it was the id of an empty version)
    build(project, until="chunk")
    assert not [s for s in status(Project.at(project.root))["stale"] if s["stage"] in ("ingest", "chunk")]
    (project.corpus / "physics" / "b.md").write_text(doc("beta two"))
    reasons = {(s["task"], s["reason"].split(":")[0]) for s in status(Project.at(project.root))["stale"]}
    assert ("ingest:physics", "data") in reasons
    assert ("chunk:physics", "upstream") in reasons
    assert not any(task == "ingest:biology" for task, _ in reasons)
    changed = status(Project.at(project.root, ("chunk.overlap=0",)))["stale"]
    assert any(s["reason"] == "params: chunk.overlap 1 -> 0" for s in changed)


def test_doit_and_proda_build_agree(make_project, proda_cli):
    import subprocess
    import sys

    project = make_project(corpus())
    listing = subprocess.run([sys.executable, "-m", "doit", "list", "--all"], cwd=project.root,
                             capture_output=True, text=True)
    assert listing.returncode == 0, listing.stderr
    for stage in ("ingest", "chunk", "extract", "bench", "synth", "compile", "test"):
        assert stage in listing.stdout
    ran = subprocess.run([sys.executable, "-m", "doit", "chunk"], cwd=project.root, capture_output=True, text=True)
    assert ran.returncode == 0, ran.stderr
    out = json.loads(proda_cli("build", "--until", "chunk", "--json", cwd=project.root).stdout)
    assert out["stages"]["chunk"]["built"] == 0 and out["stages"]["chunk"]["reused"] > 0


def test_build_json_shape_and_until_validation(make_project, proda_cli):
    project = make_project(corpus())
    out = json.loads(proda_cli("build", "--until", "ingest", "--json", "-C", str(project.root)).stdout)
    assert set(out) >= {"version", "stages"}
    assert set(out["stages"]["ingest"]) >= {"built", "reused", "seconds"}
    bad = proda_cli("build", "--until", "chunks", "-C", str(project.root), check=False)
    assert bad.returncode == 2 and "did you mean 'chunk'" in bad.stderr


@pytest.mark.parametrize("toml, needle", [
    ("[chunk]\nsizes = 3\n", "sizes"),
    ("[chunk]\nsize = 'big'\n", "chunk.size"),
    ("[chunk\n", "not valid TOML"),
    ("[synth]\nbudget = 'eror'\n", "did you mean 'error'"),
    ("[compile]\ntrainer = 'huge'\n", "one of 'lora', 'tiny'"),
    ("[test]\nscorer = 'logik'\n", "test.scorer"),
    ("[llm]\nbackend = 'openia'\n", "did you mean 'openai'"),
    ("\ufeff[chunk]\nsize = 'big'\n", "chunk.size"),  # a byte-order mark is read past
    (b"# caf\xe9\n[chunk]\nsize = 900\n", "re-save it as UTF-8"),
    (None, "is a folder"),
])
def test_malformed_config_is_a_usage_error(make_project, proda_cli, toml, needle):
    project = make_project(corpus())
    settings = project.root / "specs" / "proda.toml"
    settings.unlink()
    if toml is None:
        settings.mkdir()
    elif isinstance(toml, bytes):
        settings.write_bytes(toml)
    else:
        settings.write_text(toml, encoding="utf-8")
    proc = proda_cli("build", "--until", "ingest", "-C", str(project.root), check=False)
    assert proc.returncode == 2
    assert needle in proc.stderr and "proda.toml" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_doit_list_in_the_repository_root():
    """The repository's own dodo.py drives the example project in specs/ (the same tasks)."""
    import subprocess
    import sys

    from conftest import ROOT

    listing = subprocess.run([sys.executable, "-m", "doit", "list", "--all"], cwd=ROOT, capture_output=True,
                             text=True)
    assert listing.returncode == 0, listing.stderr
    assert "extract:physics" in listing.stdout and "compile:all" in listing.stdout and "test:all" in listing.stdout
    info = subprocess.run([sys.executable, "-m", "doit", "info", "chunk:physics"], cwd=ROOT, capture_output=True,
                          text=True)
    # doit info exits 1 for a task that is not up to date (this checkout has not built the example)
    assert info.returncode in (0, 1) and "build/ingest/physics.json" in info.stdout


def test_removing_an_empty_discipline_folder_is_not_a_noop(make_project):
    """The no-op fast path stats folders too: an empty discipline is a shard, its removal a change."""
    project = make_project({"physics": {"a.md": doc("heat")}, "biology": {}})
    (project.corpus / "biology").mkdir(exist_ok=True)
    with_empty = build(project, until="ingest")
    (project.corpus / "biology").rmdir()
    after = build(Project.at(project.root), until="ingest")
    clean = make_project({"physics": {"a.md": doc("heat")}}, name="clean")
    assert after["version"] == build(clean, until="ingest")["version"] != with_empty["version"]


def test_a_version_holds_no_shard_built_from_other_upstream_than_on_disk(make_project):
    """After an edit and ``--until bench``, the synth shards on disk were made from the old items:
    they are not part of this version (so no command reports them as its samples), and neither is
    anything built on them; building on restores them, with the id a clean build gives."""
    from proda.engine import versions

    project = make_project(corpus())
    full = build(project, until="synth")
    assert {t.split(":")[0] for t in versions.manifests(project)} == {"ingest", "chunk", "extract", "bench", "synth"}
    (project.corpus / "physics" / "a.md").write_text(doc("alpha prime", 4))
    partial = build(Project.at(project.root), until="bench")
    found = versions.manifests(Project.at(project.root))
    assert not [t for t in found if t.startswith("synth:")], sorted(found)
    assert (project.build / "synth" / "physics.json").exists()  # on disk still, reused by the next build
    assert partial["version"] == versions.current(Project.at(project.root)) != full["version"]
    again = build(Project.at(project.root), until="synth")
    assert any(t.startswith("synth:") for t in versions.manifests(Project.at(project.root)))
    clean = make_project({**corpus(), "physics": {**corpus()["physics"], "a.md": doc("alpha prime", 4)}}, name="clean")
    assert build(clean, until="synth")["version"] == again["version"]


def _during(monkeypatch, stage: str, act):
    """Run ``act(shard)`` once, while ``stage``'s first shard is running (after it has read its inputs)."""
    from proda.engine import runner

    real, done = runner.execute, []

    def execute(project, st, shard):
        out = real(project, st, shard)
        if st.name == stage and not done:
            done.append(shard)
            act(shard)
        return out

    monkeypatch.setattr(runner, "execute", execute)
    return done


def test_status_during_a_build_does_not_hide_a_settings_change(make_project, monkeypatch, proda_cli):
    """`proda status` run while a build trains, after a setting was changed, used to rewrite the
    recipe file the running task depends on: doit then recorded the new recipe as the one the
    task ran with, and the next build called the old output up to date. Status writes nothing now,
    and a build whose specs moved while it ran leaves no no-op stamp."""
    from proda.engine import layout

    project = make_project(corpus())
    toml = project.root / "specs" / "proda.toml"
    recipe = layout.recipe(project.build, "chunk")

    def edit_and_ask(shard):
        assert "size = 1200" in toml.read_text()
        toml.write_text(toml.read_text().replace("size = 1200", "size = 400"))
        before = recipe.read_bytes(), recipe.stat().st_mtime_ns
        asked = proda_cli("status", "--json", cwd=project.root, check=False)  # another process, as a user's
        assert not json.loads(asked.stdout)["up_to_date"], asked.stderr
        assert (recipe.read_bytes(), recipe.stat().st_mtime_ns) == before, "status rewrote a recipe file"

    done = _during(monkeypatch, "chunk", edit_and_ask)
    first = build(project, until="chunk")
    assert done and first["stages"]["chunk"]["built"] > 0
    monkeypatch.undo()
    assert not status(Project.at(project.root))["up_to_date"]
    again = build(Project.at(project.root), until="chunk")
    assert again["stages"]["chunk"]["built"] > 0, "the chunks of the old chunk.size were kept as up to date"
    manifest = json.loads((project.build / "chunk" / "physics.json").read_text())
    assert manifest["recipe"]["params"]["chunk"]["size"] == 400
    assert build(Project.at(project.root), until="chunk")["stages"]["chunk"]["built"] == 0


def test_an_input_edited_while_its_shard_runs_fails_the_shard(make_project, monkeypatch):
    """A corpus file edited after ingest read it and before doit records its state: the shard's
    output is of the earlier text, so the build stops with a message naming the file, and the
    next build reads the new text (doit would otherwise have recorded the new file as done)."""
    from proda.errors import StageError
    from proda.records import Document

    project = make_project(corpus())
    edited = []

    def edit(shard):
        target = sorted((project.corpus / shard).iterdir())[0]
        target.write_text(doc("alpha edited", 4))
        edited.append(shard)

    _during(monkeypatch, "ingest", edit)
    with pytest.raises(StageError):
        build(project, until="ingest", quiet=True)
    monkeypatch.undo()
    build(Project.at(project.root), until="ingest")
    texts = [d.text for d in load_shard(project.build, "ingest", edited[0]) if isinstance(d, Document)]
    assert any("alpha edited" in t for t in texts)
    assert build(Project.at(project.root), until="ingest")["stages"]["ingest"]["built"] == 0


def test_an_undone_edit_is_built_from_an_earlier_build_and_says_so(make_project):
    """Chunks that come back when an edit is undone are new to the output (built) but computed by
    an earlier build: `restored` counts them and the stage line says so (compile's checkpoints
    trained before showed as `built`, as if trained again)."""
    from proda.make import stage_line

    project = make_project(corpus())
    target = project.corpus / "physics" / "a.md"
    original = target.read_text()
    build(project, until="chunk")
    target.write_text(doc("alpha prime", 4))
    edited = build(Project.at(project.root), until="chunk")["stages"]["chunk"]
    assert edited["built"] > 0 and edited["restored"] == 0  # computed now
    target.write_text(original)
    undone = build(Project.at(project.root), until="chunk")["stages"]["chunk"]
    assert undone["built"] > 0 and undone["restored"] == undone["built"]
    assert f"({undone['built']} of them made earlier)" in stage_line("chunk", undone)


def test_status_after_a_failed_task_says_it_failed_not_that_everything_changed(make_project):
    """doit forgets a failed task's state, so status called each of its inputs changed (every
    bench manifest, and "the output manifest is not the one this task wrote"): it says the task's
    last run failed instead."""
    from proda.errors import UsageError

    project = make_project(corpus())
    build(project, until="synth")
    patches = project.root / "specs" / "patches"
    patches.mkdir(parents=True, exist_ok=True)
    (patches / "0001-mine.jsonl").write_text('{"proda_patch": 1, "created_from": ""}\nnot json\n')
    with pytest.raises(UsageError):
        build(Project.at(project.root), until="synth", quiet=True)
    reasons = [s["reason"] for s in status(Project.at(project.root))["stale"] if s["task"] == "synth:patches"]
    assert len(reasons) == 1 and reasons[0].startswith("failed: its last run failed"), reasons


def test_a_build_of_nothing_has_no_version(make_project):
    """An empty corpus built up to chunk recorded no version but reported the empty version's id,
    which no command could resolve; it reports "" (status: null), and tag refuses."""
    from proda.engine.versions import tag
    from proda.errors import UsageError

    project = make_project({})
    assert build(project, until="chunk")["version"] == ""
    assert status(Project.at(project.root))["version"] is None
    with pytest.raises(UsageError, match="nothing is built yet"):
        tag(Project.at(project.root), "v1")


def test_status_of_a_copied_project_says_it_was_moved(make_project):
    """doit keys its records by absolute path, so in a copy of a built project status listed every
    old file as removed and every file as added; it says the project moved, and the copy's build
    reuses everything."""
    import shutil

    project = make_project(corpus())
    first = build(project, until="chunk")
    copy = project.root.parent / "copy"
    shutil.copytree(project.root, copy)
    reasons = [s["reason"] for s in status(Project.at(copy))["stale"] if s["stage"] == "ingest"]
    assert reasons and all(r.startswith(f"moved: build/ was made in {project.root}") for r in reasons), reasons
    again = build(Project.at(copy), until="chunk")
    assert again["version"] == first["version"] and again["stages"]["chunk"]["built"] == 0
    # an edit made in a copy is still named, from doit's records under the old paths
    other = project.root.parent / "other"
    shutil.copytree(project.root, other)
    (other / "specs" / "corpus" / "physics" / "a.md").write_text(doc("alpha edited", 4))
    (other / "specs" / "corpus" / "biology" / "c.md").unlink()
    said = {(s["task"], s["reason"]) for s in status(Project.at(other))["stale"]}
    assert ("ingest:physics", "data: specs/corpus/physics/a.md changed") in said, said
    assert ("ingest:biology", "data: specs/corpus/biology/c.md removed") in said, said
