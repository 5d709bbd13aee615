"""The extract stage over a real HTTP backend (a loopback OpenAI-compatible server): faults are
survived, a rebuild makes zero calls, an edit re-extracts only its document, and a response
cached for one model is never served for another."""

from __future__ import annotations

import json
import shutil

import pytest

from conftest import doc
from fake_openai import FakeOpenAI
from proda.make import build, status
from proda.engine.outputs import load_shard
from proda.project import Project


def _toml(url: str, model: str) -> str:
    return (f'[llm]\nbackend = "openai"\nmodel = "{model}"\nbase_url = "{url}"\nconcurrency = 4\n'
            'max_retries = 4\ntimeout = 10\n')


@pytest.fixture
def server():
    with FakeOpenAI(delay_ms=5, fail_first=3, fail_status=500, malformed_first=1) as s:
        yield s


def test_openai_extraction_is_cached_per_model_and_incremental(make_project, server):
    project = make_project({"physics": {"a.md": doc("alpha"), "b.md": doc("beta")},
                            "biology": {"c.md": doc("gamma")}}, toml=_toml(server.url, "model-a"))
    first = build(project, until="extract")
    calls = server.total
    assert calls > 0 and first["stages"]["extract"]["built"] > 0
    chains = [r for d in ("physics", "biology") for r in load_shard(project.build, "extract", d)
              if type(r).__name__ == "Chain"]
    assert chains and all(len(c.steps) >= 2 for c in chains)

    # rebuild from scratch (memo gone, catalog kept): every answer comes from the call cache
    for sub in ("extract", "memo/extract"):
        shutil.rmtree(project.build / sub, ignore_errors=True)
    (project.build / ".stamp").unlink(missing_ok=True)
    again = build(Project.at(project.root), until="extract")
    assert server.total == calls, "a rebuild called the server again"
    assert again["version"] == first["version"]

    # an edit re-extracts only that document's chunks
    biology = load_shard(project.build, "extract", "biology")
    b_chains = {r.key for r in load_shard(project.build, "extract", "physics") if type(r).__name__ == "Chain"
                and r.doc != _doc_key(project, "physics/a.md")}
    (project.corpus / "physics" / "a.md").write_text(doc("alpha edited", 4))
    edited = build(Project.at(project.root), until="extract")
    assert server.total > calls
    assert edited["stages"]["ingest"]["built"] == 1
    assert load_shard(project.build, "extract", "biology") == biology
    after = {r.key for r in load_shard(project.build, "extract", "physics") if type(r).__name__ == "Chain"}
    assert b_chains <= after  # b.md's chains survive untouched

    # another model id: nothing cached for it is served
    before = server.calls.get("model-b", 0)
    (project.specs / "proda.toml").write_text(_toml(server.url, "model-b"))
    build(Project.at(project.root), until="extract")
    assert server.calls["model-b"] > before


def test_a_dead_endpoint_fails_the_stage_with_a_message(make_project, proda_cli):
    project = make_project({"physics": {"a.md": doc("alpha")}}, toml=_toml("http://127.0.0.1:9/v1", "m"))
    proc = proda_cli("build", "--until", "extract", "-C", str(project.root), check=False)
    assert proc.returncode == 1
    assert "127.0.0.1:9" in proc.stderr
    # good work is kept: ingest and chunk finished
    assert (project.build / "chunk" / "physics.json").exists()


def _doc_key(project, path):
    return next(r.key for r in load_shard(project.build, "ingest", path.split("/")[0]) if r.path == path)


def test_a_reply_still_malformed_after_repair_skips_its_unit_and_is_retried(make_project):
    # the first two calls answer prose around JSON: the first unit's call and its repair round
    with FakeOpenAI(malformed_first=2) as server:
        toml = _toml(server.url, "m").replace("concurrency = 4", "concurrency = 1")
        project = make_project({"physics": {"a.md": doc("alpha"), "b.md": doc("beta")}}, toml=toml)
        first = build(project, until="extract")
        assert first["stages"]["extract"]["skipped"] == 1
        manifest = json.loads((project.build / "extract" / "physics.json").read_text())
        assert "malformed" in manifest["extra"]["skipped"][0]["reason"].lower() or \
            "invalid" in manifest["extra"]["skipped"][0]["reason"].lower()
        assert first["stages"]["extract"]["built"] > 0  # the good units are kept
        stale = status(Project.at(project.root))["stale"]
        assert any(s["reason"].startswith("incomplete") for s in stale)
        calls = server.total
        before = {r.key for r in load_shard(project.build, "extract", "physics") if type(r).__name__ == "Chain"}
        second = build(Project.at(project.root), until="extract")
        assert second["stages"]["extract"]["skipped"] == 0
        after = {r.key for r in load_shard(project.build, "extract", "physics") if type(r).__name__ == "Chain"}
        assert before < after  # every finished chain kept; the retried chunk's chains added
        # asked again: the skipped chunk, then its new chains' statement windows — nothing else
        assert 0 < server.total - calls < calls / 2
        clean_root = project.root.parent / "clean"
        shutil.copytree(project.specs, clean_root / "specs")
        assert build(Project.at(clean_root), until="extract")["version"] == second["version"]


def test_a_bad_definition_reply_skips_that_concept_not_the_discipline(make_project):
    """A concept whose definition stays unusable keeps the canonicaliser's definition; the shard
    is published with everything else, reports the concept skipped, and the next build asks again."""
    from fake_openai import canned

    refused: dict[str, str] = {}  # the one definition request refused (its repair round too)

    def responder(body):
        user = next(m["content"] for m in body["messages"] if m["role"] == "user")
        if "definition" in str(body.get("response_format")) and refused.setdefault("user", user) == user:
            return "I cannot help with that."
        return canned(body)

    with FakeOpenAI() as server:
        server.responder = responder
        project = make_project({"physics": {"a.md": doc("alpha"), "b.md": doc("beta")}}, toml=_toml(server.url, "m"))
        first = build(project, until="extract")
        assert first["stages"]["extract"]["skipped"] == 1
        skipped = json.loads((project.build / "extract" / "physics.json").read_text())["extra"]["skipped"]
        assert skipped[0]["unit"].startswith("L1:") and "definition" in skipped[0]["reason"]
        concepts = [r for r in load_shard(project.build, "extract", "physics") if type(r).__name__ == "Concept"]
        defined = [c for c in concepts if c.definition.endswith("is a thing the corpus describes.")]
        assert len(defined) == len(concepts) - 1  # every other concept has the model's definition
        assert any(s["reason"].startswith("incomplete") for s in status(Project.at(project.root))["stale"])
        server.responder = canned
        second = build(Project.at(project.root), until="extract")
        assert second["stages"]["extract"]["skipped"] == 0
        concepts = [r for r in load_shard(project.build, "extract", "physics") if type(r).__name__ == "Concept"]
        assert all(c.definition.endswith("is a thing the corpus describes.") for c in concepts)


def test_a_stage_whose_every_unit_was_skipped_fails_the_build(make_project, proda_cli):
    """Every reply unusable: not a success with nothing built (exit 0), but exit 1 with the first
    reason; what was built is kept, and one bad shard among good ones does not fail the build."""
    with FakeOpenAI() as server:
        server.responder = lambda body: "I cannot help with that."
        project = make_project({"physics": {"a.md": doc("alpha")}, "biology": {"b.md": doc("beta")}},
                               toml=_toml(server.url, "m"))
        proc = proda_cli("build", "--until", "extract", "-C", str(project.root), check=False)
        assert proc.returncode == 1, proc.stderr
        assert "extract: every unit was skipped" in proc.stderr and "Traceback" not in proc.stderr
        assert (project.build / "chunk" / "physics.json").exists()

        from fake_openai import canned

        def some_fail(body):  # physics's replies unusable, biology's fine
            user = next(m["content"] for m in body["messages"] if m["role"] == "user")
            return "I cannot help with that." if "alpha" in user.lower() else canned(body)

        server.responder = some_fail
        partial = proda_cli("build", "--until", "extract", "-C", str(project.root), check=False)
        assert partial.returncode == 0, partial.stderr
        assert "skipped" in partial.stdout
