"""``proda export --format knowledge``: three JSON Lines files whose keys, provenance and links let a
reader walk concept -> statement -> chain -> document span without proda."""

from __future__ import annotations

import json

import pytest

from conftest import doc
from proda.errors import UsageError
from proda.export.knowledge import FILES, export_knowledge
from proda.make import build
from proda.project import Project
from proda.corpus.readers import normalise

DEFINITIONS = ("# Buffers\n\nA buffer is a solution that resists changes in acidity. When a strong acid is added to a "
               "buffer, its weak base reacts with the acid. As a result, the pH changes only slightly. Therefore, "
               "buffers protect cells from sudden changes in acidity.\n")


def _read(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_knowledge_export_round_trip(make_project, proda_cli, tmp_path):
    project = make_project({"chemistry": {"buffers.md": DEFINITIONS + "\n" + doc("acid").split("\n", 2)[2], "b.md": doc("beta")},
                            "physics": {"c.md": doc("gamma")}})
    build(project, until="extract")
    out = tmp_path / "kg"
    proda_cli("export", "--format", "knowledge", str(out), "-C", str(project.root))
    chains, statements, concepts = (_read(out / name) for name in FILES)
    assert chains and statements and concepts
    assert json.loads((out / "knowledge.json").read_text())["counts"] == {
        "chains": len(chains), "statements": len(statements), "concepts": len(concepts)}
    texts = {}
    for d in ("chemistry", "physics"):
        for path in (project.corpus / d).iterdir():
            texts[f"{d}/{path.name}"] = normalise(path.read_text(encoding="utf-8"))
    by_chain = {c["key"]: c for c in chains}
    by_statement = {s["key"]: s for s in statements}
    for c in chains:  # every step's offsets point at its text in the document
        text = texts[c["provenance"]["document"]]
        for step in c["steps"] + c["context"]:
            assert text[step["start"]:step["end"]] == step["text"]
        start, end = c["provenance"]["chunk_span"]
        assert all(start <= step["start"] and step["end"] <= end for step in c["steps"])
        assert all(by_statement[k]["provenance"]["chain"] == c["key"] for k in c["statements"])
    for s in statements:  # zero orphans: every statement's chain is there
        prov = s["provenance"]
        assert prov["chain"] in by_chain
        assert texts[prov["document"]][prov["span"][0]:prov["span"][1]] == s["quote"]
    concept_keys = {c["key"] for c in concepts}
    assert any(s["subject_concept"] for s in statements)
    assert all(s[side] in concept_keys for s in statements for side in ("subject_concept", "object_concept")
               if s[side])
    buffer = next(c for c in concepts if c["name"] == "buffer")
    assert buffer["definition"] == "A buffer is a solution that resists changes in acidity."
    prov = buffer["definition_provenance"]
    assert texts[prov["document"]][prov["span"][0]:prov["span"][1]] == buffer["definition"]
    assert buffer["category"] == "substance" and buffer["documents"] == ["chemistry/buffers.md"]
    assert all(k in by_statement for c in concepts for k in c["statements"])
    assert all(k in by_chain for c in concepts for k in c["chains"])
    # a second export overwrites its own files; a foreign file is never overwritten without --force
    proda_cli("export", "--format", "knowledge", str(out), "-C", str(project.root))
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "chains.jsonl").write_text("my own notes\n")
    refused = proda_cli("export", "--format", "knowledge", str(foreign), "-C", str(project.root), check=False)
    assert refused.returncode == 2 and "--force" in refused.stderr
    assert (foreign / "chains.jsonl").read_text() == "my own notes\n"
    proda_cli("export", "--format", "knowledge", "--force", str(foreign), "-C", str(project.root))
    assert _read(foreign / "chains.jsonl") == chains


def test_knowledge_export_needs_a_build(make_project, tmp_path):
    project = make_project({"physics": {"c.md": doc("gamma")}})
    with pytest.raises(UsageError):
        export_knowledge(Project.at(project.root), tmp_path / "kg")
