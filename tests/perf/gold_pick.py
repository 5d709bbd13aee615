"""Pick gold passages by a fixed rule, printing file, span and hash (never the text).

Run: ``python tests/perf/gold_pick.py [--position 3] [--from 0.667] [--corpus DIR]``. The rule (see
``tests/data/gold/README.md``): per discipline, the file at ``--position`` of the sorted list (the next
position not already used by the gold set when it yields nothing, wrapping round to 0); the document normalised as ingest
does and cut as the chunk stage does (1200 characters, no overlap); the first chunk starting at or after
``--from`` of the text that is at least 500 characters and mostly prose (at least 60% of its characters
in lines of six or more words that are not headings, table rows, code or equations). One JSON line per
passage.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))
sys.path.insert(0, str(HERE))

import gold as G  # noqa: E402

_CODE_CHARS = re.compile(r"[=(){}\[\]<>]")


def prose_share(body: str) -> float:
    prose, fenced = 0, False
    for line in body.split("\n"):
        s = line.strip()
        if s.startswith("```"):
            fenced = not fenced
            continue
        if fenced or not s or s.startswith(("#", "|", "$", "\\")) or " | " in s:  # headings, tables, equations
            continue
        if len(_CODE_CHARS.findall(s)) > 0.1 * len(s):
            continue
        if len(s.split()) >= 6:
            prose += len(line)
    return prose / max(1, len(body))


def pick(text: str, chunk_spans, start_share: float, avoid: list[tuple[int, int]]) -> tuple[int, int] | None:
    spans = chunk_spans(text, 1200, 0)
    for floor in (start_share, 1 / 3):
        for a, b in spans:
            if a < floor * len(text) or b - a < 500:
                continue
            if any(min(b, y) > max(a, x) for x, y in avoid):
                continue
            if prose_share(text[a:b]) >= 0.6:
                return a, b
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--position", type=int, default=3)
    parser.add_argument("--from", dest="start", type=float, default=2 / 3)
    parser.add_argument("--corpus", default="/work/shared/corpus/openstax")
    args = parser.parse_args()
    from proda.corpus.chunking import chunk_spans
    from proda.corpus.readers import normalise

    existing = G.load()
    used_files = {p.file for p in existing}
    avoid: dict[str, list] = {}
    for p in existing:
        avoid.setdefault(p.file, []).append(p.span)
    corpus = Path(args.corpus)
    for folder in sorted(d for d in corpus.iterdir() if d.is_dir()):
        files = sorted(folder.glob("*.txt"))
        for position in [*range(args.position, len(files)), *range(0, args.position)]:  # wraps around
            rel = f"{folder.name}/{files[position].name}"
            if rel in used_files:
                continue
            text = normalise(files[position].read_text(encoding="utf-8"))
            span = pick(text, chunk_spans, args.start, avoid.get(rel, []))
            if span is None:
                continue
            body = text[span[0]:span[1]]
            print(json.dumps({"discipline": folder.name, "position": position, "file": rel, "span": list(span),
                              "sha256": hashlib.sha256(body.encode()).hexdigest()[:16]}))
            break


if __name__ == "__main__":
    main()
