"""``proda export --format knowledge OUT``: the build's knowledge graph as three JSON Lines files.

- ``chains.jsonl``: one L3 chain per line — ``key``, ``discipline``, ``process``, ``preconditions``,
  ``steps`` and ``context`` (each ``{"text", "start", "end"}``, character offsets into the document),
  ``provenance`` (``document`` path, ``document_key``, ``chunk``, ``chunk_span``) and the keys of its
  ``statements``.
- ``statements.jsonl``: one L2 triple per line — ``subject``, ``relation``, ``object``, the source
  sentence (``quote``) with its ``provenance`` (document, chunk, chain, ``span``, the chain ``steps`` it
  came from; ``[]`` for a context sentence) and links to the ``subject_concept`` / ``object_concept``.
- ``concepts.jsonl``: one L1 concept per line — ``name``, ``aliases``, ``category``, ``definition``
  (``""`` when the corpus does not define it) with ``defined_by`` and ``definition_provenance``
  (document and span of the defining sentence), and links to its ``statements``, ``chains`` and
  ``documents``.

Load it into a graph store as nodes (chains, statements, concepts) and edges (the key lists), the
way GraphRAG-style tools take entities and relationships. ``OUT/knowledge.json`` records that proda
wrote the folder; files proda did not write are never overwritten unless ``force``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import UsageError
from .formats import _atomic, _jsonl

if TYPE_CHECKING:
    from ..project import Project

FILES = ("chains.jsonl", "statements.jsonl", "concepts.jsonl")
MANIFEST = "knowledge.json"
VERSION = 1


def _documents_and_chunks(project: "Project") -> tuple[dict[str, Any], dict[str, tuple[int, int]]]:
    from ..engine.outputs import load_shard
    from ..records import Chunk, Document

    docs: dict[str, Any] = {}
    chunks: dict[str, tuple[int, int]] = {}
    for d in project.disciplines():
        for r in load_shard(project.build, "ingest", d):
            if isinstance(r, Document):
                docs[r.key] = r.path
        for r in load_shard(project.build, "chunk", d):
            if isinstance(r, Chunk):
                chunks[r.key] = (r.span.start, r.span.end)
    return docs, chunks


def _span(step) -> dict[str, Any]:
    return {"text": step.text, "start": step.span.start, "end": step.span.end}


def knowledge_rows(chains, statements, concepts, documents: dict[str, str], chunks: dict[str, tuple[int, int]]
                   ) -> tuple[list[dict], list[dict], list[dict]]:
    """The three files' rows, in key order, with provenance and links resolved."""
    by_chain: dict[str, list[str]] = {}
    for s in statements.values():
        by_chain.setdefault(s.chain, []).append(s.key)
    concept_of: dict[tuple[str, str], str] = {}  # (discipline, statement key, role) -> concept
    for c in concepts.values():
        for key in c.statements:
            s = statements.get(key)
            if s is None:
                continue
            forms = {c.name, *c.aliases}
            if s.subject in forms:
                concept_of[(key, "subject")] = c.key
            if s.object in forms and s.relation != "defined_as":
                concept_of[(key, "object")] = c.key
    chain_rows = []
    for c in sorted(chains.values(), key=lambda c: c.key):
        span = chunks.get(c.chunk)
        chain_rows.append({
            "key": c.key, "discipline": c.discipline, "process": c.process, "preconditions": list(c.preconditions),
            "steps": [_span(s) for s in c.steps], "context": [_span(s) for s in c.context],
            "provenance": {"document": documents.get(c.doc, ""), "document_key": c.doc, "chunk": c.chunk,
                           "chunk_span": list(span) if span else None},
            "statements": sorted(by_chain.get(c.key, []))})
    statement_rows = []
    for s in sorted(statements.values(), key=lambda s: s.key):
        statement_rows.append({
            "key": s.key, "discipline": s.discipline, "subject": s.subject, "relation": s.relation,
            "object": s.object, "quote": s.quote,
            "provenance": {"document": documents.get(s.doc, ""), "document_key": s.doc, "chunk": s.chunk,
                           "chain": s.chain, "span": [s.span.start, s.span.end], "steps": list(s.steps)},
            "subject_concept": concept_of.get((s.key, "subject"), ""),
            "object_concept": concept_of.get((s.key, "object"), "")})
    concept_rows = []
    for c in sorted(concepts.values(), key=lambda c: c.key):
        parents = [statements[k] for k in c.statements if k in statements]
        defining = statements.get(c.defined_by) if c.defined_by else None
        concept_rows.append({
            "key": c.key, "discipline": c.discipline, "name": c.name, "aliases": list(c.aliases),
            "category": c.category, "definition": c.definition, "defined_by": c.defined_by,
            "definition_provenance": None if defining is None else {
                "document": documents.get(defining.doc, ""), "document_key": defining.doc, "chunk": defining.chunk,
                "span": [defining.span.start, defining.span.end]},
            "statements": list(c.statements), "chains": sorted({s.chain for s in parents}),
            "documents": sorted({documents.get(s.doc, s.doc) for s in parents})})
    return chain_rows, statement_rows, concept_rows


def _guard(out: Path, force: bool) -> None:
    manifest = out / MANIFEST
    ours = False
    if manifest.is_file():
        try:
            ours = json.loads(manifest.read_text(encoding="utf-8")).get("writer") == "proda"
        except (OSError, ValueError):
            ours = False
    foreign = [name for name in FILES if (out / name).exists()] if not ours else []
    if out.exists() and not out.is_dir():
        raise UsageError(f"{out} is a file; knowledge is exported to a folder", "give a folder path as OUT")
    if foreign and not force:
        raise UsageError(f"{out} already has {', '.join(foreign)}, which proda did not write",
                         "choose another folder, or pass --force to overwrite them")


def export_knowledge(project: "Project", out: Path, force: bool = False) -> Path:
    """Write ``chains.jsonl``, ``statements.jsonl``, ``concepts.jsonl`` and ``knowledge.json`` into ``out``."""
    from ..engine.outputs import knowledge

    graph = knowledge(project)
    if not graph.chains:
        raise UsageError("no knowledge to export yet", "run `proda build --until extract` first")
    out = Path(out)
    _guard(out, force)
    documents, chunks = _documents_and_chunks(project)
    rows = knowledge_rows(graph.chains, graph.statements, graph.concepts, documents, chunks)
    out.mkdir(parents=True, exist_ok=True)
    for name, part in zip(FILES, rows):
        _jsonl(part, out / name)
    with _atomic(out / MANIFEST, "w") as fh:  # written last: its presence marks a finished export
        json.dump({"writer": "proda", "format": "knowledge", "version": VERSION,
                   "counts": {name.split(".")[0]: len(part) for name, part in zip(FILES, rows)}}, fh, indent=1)
    return out
