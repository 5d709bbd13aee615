"""The extract stage over a real HTTP backend (a loopback OpenAI-compatible server): faults are
survived, a rebuild makes zero calls, an edit re-extracts only its document, and a response
cached for one model is never served for another."""

from __future__ import annotations

import pytest

from conftest import doc
from fake_openai import FakeOpenAI
from proda.build import build
from proda.engine import load_shard
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
    import shutil

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
