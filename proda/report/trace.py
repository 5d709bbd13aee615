"""``proda show KEY``: trace any record to its source text.

item -> chain -> statements -> concepts -> chunk -> document span (and result -> item ->...,
concept -> statement -> chain -> ...). A key prefix of at least 6 characters is enough.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..engine import stage as stages
from ..engine.outputs import load_shard
from ..errors import UsageError
from ..records import Chain, Chunk, Concept, Document, Dropped, DroppedItem, Item, Result, Sample, Statement

if TYPE_CHECKING:
    from ..project import Project


def _index(project: "Project") -> dict[str, Any]:
    index: dict[str, Any] = {}
    shards = project.disciplines()
    for stage in ("ingest", "chunk", "extract", "bench"):
        for shard in shards:
            for r in load_shard(project.build, stage, shard):
                index[r.key] = r
    for shard in stages.get("synth").shards(project):
        for r in load_shard(project.build, "synth", shard):
            index[r.key] = r
    for r in load_shard(project.build, "test", "all"):
        index[r.key] = r
    return index


def show(project: "Project", key: str) -> dict[str, Any]:
    if len(key) < 6:
        raise UsageError("give at least 6 characters of the key", "keys are printed by proda test/diff/stats")
    index = _index(project)
    matches = [k for k in index if k.startswith(key)]
    if not matches:
        raise UsageError(f"no record with key {key!r} in the current build", "check the key, or run `proda build`")
    if len(matches) > 1:
        raise UsageError(f"{key!r} matches {len(matches)} records", "give more characters")
    record = index[matches[0]]
    return {"key": record.key, "kind": type(record).__name__.lower(), "trace": trace(index, record)}


def trace(index: dict[str, Any], record) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []

    def add(r, text: str) -> None:
        out.append({"kind": type(r).__name__.lower(), "key": r.key, "text": text})

    statements_by_chain: dict[str, list[Statement]] = {}
    concepts_by_statement: dict[str, list[Concept]] = {}
    for r in index.values():  # one pass over the build, not one per statement shown
        if isinstance(r, Statement):
            statements_by_chain.setdefault(r.chain, []).append(r)
        elif isinstance(r, Concept):
            for k in r.statements:
                concepts_by_statement.setdefault(k, []).append(r)
    chain = None
    if isinstance(record, Dropped):
        add(record, f"{record.path} (discipline {record.discipline}): dropped by ingest, "
                    f"reason {record.reason}: {record.detail}")
    if isinstance(record, Result):
        add(record, f"checkpoint {record.checkpoint}: chose option {record.chosen}, "
                    f"{'correct' if record.correct else 'wrong'}")
        record = index.get(record.item, record)
    if isinstance(record, Sample):
        add(record, f"[{record.format}, {record.origin}] {record.prompt}\n-> {record.response}")
        statements = [index[k] for k in record.statements if k in index]
        if statements:
            chain = index.get(statements[0].chain)
        elif record.statements:  # it names nodes the build no longer has: say so, not a trace that just stops
            where = f"specs/patches/{record.source}" if record.source else "its patch file"
            out.append({"kind": "note", "key": "", "text":
                        f"the {len(record.statements)} statement(s) this sample was written from are no longer "
                        f"in the build (the text they came from was edited or removed since {where} was written); "
                        f"it still trains — edit or delete its line in {where} if it no longer holds"})
        elif record.origin != "synth":
            out.append({"kind": "note", "key": "", "text": "a sample written by hand (or by another tool) in "
                        f"specs/patches/{record.source}: it names no knowledge node to trace"})
    if isinstance(record, Item):
        options = "\n".join(f"  {'*' if i == record.answer else ' '} {o.text}"
                            + (f"   [{o.operator}: {o.reason}]" if o.operator else "")
                            for i, o in enumerate(record.options))
        add(record, f"[{record.split}, {record.variant}] {record.stem}\n{options}")
        chain = index.get(record.chain)
    if isinstance(record, DroppedItem):
        options = "".join(f"\n  {o.text}" + (f"   [{o.operator}]" if o.operator else "") for o in record.options)
        add(record, f"[{record.split}, {record.variant}] dropped by bench, reason {record.reason}: "
                    f"{record.detail}\n{record.stem}{options}")
        chain = index.get(record.chain)
    if isinstance(record, Concept):
        add(record, f"{record.name} ({record.category}): {record.definition}")
        statements = [index[k] for k in record.statements if k in index]
        for s in statements[:3]:
            add(s, f"{s.subject} --{s.relation}--> {s.object}   \"{s.quote}\"")
        chain = index.get(statements[0].chain) if statements else None
    if isinstance(record, Statement):
        add(record, f"{record.subject} --{record.relation}--> {record.object}   \"{record.quote}\"")
        chain = index.get(record.chain)
    if isinstance(record, Chain):
        chain = record
    if chain is not None:
        steps = "\n".join(f"  {i + 1}. {s.text}" for i, s in enumerate(chain.steps))
        pre = f"given: {'; '.join(chain.preconditions)}\n" if chain.preconditions else ""
        add(chain, f"{chain.process}\n{pre}{steps}")
        if not isinstance(record, (Statement, Concept)):
            for s in statements_by_chain.get(chain.key, []):
                add(s, f"{s.subject} --{s.relation}--> {s.object}")
                for c in concepts_by_statement.get(s.key, []):
                    add(c, f"{c.name} ({c.category}): {c.definition}")
        record = index.get(chain.chunk, record)
    if isinstance(record, Chunk):
        add(record, record.text)
        record = index.get(record.doc, record)
    if isinstance(record, Document):
        span = ""
        if chain is not None and chain.steps:
            # a chain's steps follow its reasoning, not always the text: its span covers them all
            start, end = min(s.span.start for s in chain.steps), max(s.span.end for s in chain.steps)
            span = f" chars {start}-{end}:\n" + record.text[start:end]
        add(record, f"{record.path} — {record.title}{span}")
    # drop repeated concept lines, keep order
    seen, unique = set(), []
    for entry in out:
        if entry["key"] not in seen:
            seen.add(entry["key"])
            unique.append(entry)
    return unique
