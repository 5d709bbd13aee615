"""Extraction quality against the hand-annotated gold set, and extraction speed, in one JSON line.

Run: ``python tests/perf/extract_quality.py [--baseline REV] [--details dev|test|all]``. Needs the shared
OpenStax corpus (``../shared/corpus/openstax`` or ``--corpus``); reads it, never copies it.

Each gold passage (``tests/data/gold``, see ``gold.py``) is given to the extractor as one chunk of its
document; chains, statements and (per discipline, over all passages of that discipline, so a
definition borrowed from another document shows up) concepts are scored:

- ``chain_precision`` / ``chain_recall``: step level — predicted steps that belong to the gold chain
  their chain overlaps most (at least two of its steps), and gold steps so recovered;
- ``triple_precision`` / ``triple_recall``: subject, relation and object all match a gold triple
  (``related_to`` never does: the gold set has no untyped triples); a ``defined_as`` triple whose
  subject is a gold-defined term, taken from that term's defining span, is right too (the gold
  definition entails it) but not required;
- ``definition_precision`` (``_recall``): concepts whose definition is a gold definition of that
  concept, among concepts that carry a definition; ``category_accuracy`` over the right ones;
- ``related_to_share``: ``related_to`` statements among all; ``precondition_copy_share``: chains with
  a precondition that repeats (part of) one of its own steps;
- ``by_split``: the same figures per gold split (``dev``, ``dev2``, ``test``, ``test2``, ``test3``) and
  ``held_out`` (``test``, ``test2`` and ``test3`` pooled: the splits never studied in detail);
- ``docs_per_s_per_core``: whole OpenStax sample (130 documents), chunked with the default chunk
  settings, chains + statements + concepts, documents per CPU-second of this one process.

``--baseline REV`` runs the same scorer on ``git archive REV proda`` in a subprocess right before the
current tree, and nests its figures under ``"baseline"``: before and after measured side by side.
"""

from __future__ import annotations

import argparse
import importlib
import json
import re
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(HERE))

import gold as G  # noqa: E402

SPLITS = ("dev", "dev2", "test", "test2", "test3")  # see tests/data/gold/README.md
HELD_OUT = ("test", "test2", "test3")  # never studied in detail while developing the rules


def _find(name: str, modules: list[str]):
    for module in modules:
        try:
            found = getattr(importlib.import_module(module), name, None)
        except ImportError:
            continue
        if found is not None:
            return found
    raise SystemExit(f"cannot find {name} in {modules}")


def _corpus(arg: str | None) -> Path:
    for candidate in ([Path(arg)] if arg else []) + [REPO.parent / "shared" / "corpus" / "openstax",
                                                    Path("/work/shared/corpus/openstax")]:
        if candidate.is_dir():
            return candidate
    raise SystemExit("the shared OpenStax corpus is not here; pass --corpus DIR")


def _copies(pre: str, step: str) -> bool:
    a, b = " ".join(G.words(pre)), " ".join(G.words(step))
    if not a or not b:
        return False
    if a in b or b in a:
        return True
    x, y = set(a.split()), set(b.split())
    return len(x & y) >= 0.8 * len(x | y)


def _ratio(num: float, den: float) -> float | None:
    return round(num / den, 3) if den else None


class Tally:
    def __init__(self) -> None:
        self.c = defaultdict(float)

    def add(self, **kw) -> None:
        for k, v in kw.items():
            self.c[k] += v

    def figures(self) -> dict:
        c = self.c
        return {
            "chain_precision": _ratio(c["step_right"], c["steps"]),
            "chain_recall": _ratio(c["gold_recalled"], c["gold_steps"]),
            "triple_precision": _ratio(c["triple_right"], c["triples"]),
            "triple_recall": _ratio(c["gold_triples_found"], c["gold_triples"]),
            "definition_precision": _ratio(c["def_right"], c["defined"]),
            "definition_recall": _ratio(c["gold_defs_found"], c["gold_defs"]),
            "category_accuracy": _ratio(c["category_right"], c["def_right"]),
            "related_to_share": _ratio(c["related_to"], c["triples"]),
            "precondition_copy_share": _ratio(c["copying_chains"], c["chains"]),
            "chains": int(c["chains"]), "statements": int(c["triples"]), "defined_concepts": int(c["defined"]),
        }


def score(args) -> dict:
    from proda.config import ChunkConfig, ExtractConfig
    from proda.extract import get_extractor
    from proda.records import Chunk, Document, Span, make

    normalise = _find("normalise", ["proda.stages.ingest", "proda.corpus.readers", "proda.corpus.ingest"])
    chunk_spans = _find("chunk_spans", ["proda.stages.chunk", "proda.corpus.chunking"])
    corpus = _corpus(args.corpus)
    extractor, cfg = get_extractor(args.extractor), ExtractConfig()
    passages = G.load()
    texts: dict[str, str] = {}
    tallies = {"all": Tally(), "held_out": Tally(), **{split: Tally() for split in SPLITS}}

    def of(split: str) -> list[Tally]:  # pooled, the split's own, and held-out
        return [tallies["all"], tallies[split]] + ([tallies["held_out"]] if split in HELD_OUT else [])

    show = args.details
    by_discipline: dict[str, list] = defaultdict(list)
    for p in passages:
        text = texts.setdefault(p.file, normalise((corpus / p.file).read_text(encoding="utf-8")))
        body = G.check_text(p, text)
        doc = make(Document, discipline=p.discipline, path=p.file, title=p.file, text=text, source_hash="",
                   words=len(text.split()))
        chunk = make(Chunk, doc=doc.key, discipline=p.discipline, index=0,
                     span=Span(start=p.span[0], end=p.span[1]), text=body)
        chains = extractor.chains(chunk, cfg)
        statements = [s for c in chains for s in extractor.statements(c, cfg)]
        by_discipline[p.discipline].append((p, statements))
        gold_chains = [[tuple(s) for s in c["steps"]] for c in p.chains]
        predicted = [[(s.span.start, s.span.end) for s in c.steps] for c in chains]
        right, n, recalled, total = G.chain_scores(predicted, gold_chains)
        copying = sum(1 for c in chains if any(_copies(pre, s.text) for pre in c.preconditions for s in c.steps))
        triple_right, found = 0, set()
        verdicts = []
        for s in statements:
            hits = [i for i, g in enumerate(p.triples) if G.triple_match(s.subject, s.relation, s.object, g)]
            # a gold definition entails (term, defined_as, what its span says): right, though not required
            defines = s.relation == "defined_as" and any(G.defines(s.subject, (s.span.start, s.span.end), d)
                                                          for d in p.definitions)
            triple_right += bool(hits) or defines
            found.update(i for i in hits if not p.triples[i]["optional"])
            verdicts.append(bool(hits) or defines)
        required = sum(1 for g in p.triples if not g["optional"])
        for t in of(p.split):
            t.add(step_right=right, steps=n, gold_recalled=recalled, gold_steps=total, chains=len(chains),
                  copying_chains=copying, triples=len(statements), triple_right=triple_right,
                  gold_triples=required, gold_triples_found=len(found),
                  related_to=sum(s.relation == "related_to" for s in statements))
        if show in (p.split, "all"):
            _print_passage(p, body, chains, statements, verdicts, gold_chains, text)
    for discipline, pairs in sorted(by_discipline.items()):
        statements = [s for _, ss in pairs for s in ss]
        concepts = extractor.concepts(discipline, statements)
        found: dict[str, set[int]] = defaultdict(set)
        for c in concepts:
            if not c.definition.strip():
                continue
            names = [c.name, *c.aliases]
            home, where = None, None
            for p, _ in pairs:
                where = G.definition_span(c.definition, texts[p.file], p.span)
                if where is not None:
                    home = p
                    break
            candidates = [home] if home is not None else [p for p, _ in pairs]
            right = category = False
            for p in candidates:
                for i, g in enumerate(p.definitions):
                    if G.definition_right(names, c.definition, where, g, texts[p.file]):
                        right = True
                        category = category or g["category"] == c.category
                        if not g["optional"]:
                            found[p.id].add(i)
            split = (home or candidates[0]).split
            for t in of(split):
                t.add(defined=1, def_right=right, category_right=category)
            if show in (split, "all"):
                print(f"  DEF {'OK ' if right else 'BAD'} [{c.category}] {c.name}: {c.definition[:110]}",
                      file=sys.stderr)
        for p, _ in pairs:
            for t in of(p.split):
                t.add(gold_defs=sum(1 for g in p.definitions if not g["optional"]), gold_defs_found=len(found[p.id]))
    out = tallies["all"].figures()
    out["passages"] = len(passages)
    out["by_split"] = {k: tallies[k].figures() for k in (*SPLITS, "held_out")}
    if not args.no_speed:
        out.update(_speed(corpus, extractor, cfg, normalise, chunk_spans, ChunkConfig(), make, Document, Chunk, Span))
    return out


def _speed(corpus, extractor, cfg, normalise, chunk_spans, chunk_cfg, make, Document, Chunk, Span) -> dict:
    docs = []
    for path in sorted(corpus.glob("*/*.txt")):
        text = normalise(path.read_text(encoding="utf-8"))
        doc = make(Document, discipline=path.parent.name, path=path.name, title=path.name, text=text,
                   source_hash="", words=len(text.split()))
        docs.append((doc, [make(Chunk, doc=doc.key, discipline=doc.discipline, index=i, span=Span(start=s, end=e),
                                text=text[s:e]) for i, (s, e) in enumerate(chunk_spans(text, chunk_cfg.size,
                                                                                        chunk_cfg.overlap))]))
    cpu, wall = time.process_time(), time.perf_counter()
    statements: dict[str, list] = defaultdict(list)
    for doc, chunks in docs:
        for chunk in chunks:
            for chain in extractor.chains(chunk, cfg):
                statements[doc.discipline] += extractor.statements(chain, cfg)
    for discipline, ss in statements.items():
        extractor.concepts(discipline, ss)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    mb = sum(len(d.text.encode()) for d, _ in docs) / 1e6
    return {"documents": len(docs), "docs_per_s_per_core": round(len(docs) / cpu, 2), "cpu_s": round(cpu, 2),
            "wall_s": round(wall, 2), "cpu_s_per_mb": round(cpu / mb, 2)}


def _print_passage(p, body, chains, statements, verdicts, gold_chains, text) -> None:
    err = sys.stderr
    print(f"\n=== {p.id} ({p.split}) {p.file}", file=err)
    for g in gold_chains:
        print("  GOLD chain: " + " -> ".join(text[a:b][:50] for a, b in g), file=err)
    for c in chains:
        steps = [(s.span.start, s.span.end) for s in c.steps]
        marks = ["+" if any(G.overlaps(st, gs) for g in gold_chains for gs in g) else "-" for st in steps]
        print(f"  CHAIN [{c.process}] pre={[x[:40] for x in c.preconditions]}", file=err)
        for m, s in zip(marks, c.steps):
            print(f"     {m} {s.text[:120]}", file=err)
    for s, ok in zip(statements, verdicts):
        print(f"  {'OK ' if ok else 'BAD'} ({s.subject}) -[{s.relation}]-> ({s.object})", file=err)
    for g in p.triples:
        if not g["optional"] and not any(G.triple_match(s.subject, s.relation, s.object, g) for s in statements):
            print(f"  MISSED ({g['subject']}) -[{g['relation']}]-> ({g['object']})", file=err)


def _baseline(rev: str, args) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        archive = subprocess.run(["git", "-C", str(REPO), "archive", rev, "proda"], check=True, capture_output=True)
        subprocess.run(["tar", "-x", "-C", tmp], input=archive.stdout, check=True)
        cmd = [sys.executable, str(Path(__file__).resolve()), "--root", tmp, "--extractor", args.extractor]
        cmd += ["--corpus", args.corpus] if args.corpus else []
        cmd += ["--no-speed"] if args.no_speed else []
        done = subprocess.run(cmd, check=True, capture_output=True, text=True)
        result = json.loads(done.stdout.strip().splitlines()[-1])
        result["revision"] = rev
        return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", help="the OpenStax folder (default: ../shared/corpus/openstax)")
    parser.add_argument("--extractor", default="heuristic")
    parser.add_argument("--baseline", metavar="REV", help="also score `git archive REV proda`, side by side")
    parser.add_argument("--details", choices=(*SPLITS, "all"), help="print what was matched, on stderr")
    parser.add_argument("--no-speed", action="store_true", help="skip the speed run over the whole sample")
    parser.add_argument("--root", help=argparse.SUPPRESS)  # where to import proda from (baseline runs)
    args = parser.parse_args()
    sys.path.insert(0, args.root or str(REPO))
    before = _baseline(args.baseline, args) if args.baseline else None
    result = score(args)
    if before is not None:
        result["baseline"] = before
    print(json.dumps(result))


if __name__ == "__main__":
    main()
