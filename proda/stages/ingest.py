"""ingest: corpus files -> normalised, quality-filtered, deduplicated Documents (+ Dropped reasons).

Input: ``specs/corpus/<discipline>/**`` (txt, md, html, jsonl — one document per line with a
``text`` field — and pdf through pypdf). Output, per discipline shard: ``Document`` records and a
``Dropped`` record for every file or line skipped, with its reason (binary, empty, encoding,
too_large, unreadable, unsupported, malformed, quality, duplicate, outside — a link out of the
project —, not_regular — a FIFO, device, socket or folder link) — never silently lost. Only regular
files inside the project are read, and never more than ``ingest.max_bytes`` of one.
Memoised per file (key: path + bytes hash); dedup is a cheap pass over the shard.
Run alone: ``proda build --until ingest``. Example project: 48 documents kept, 0 dropped.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from ..engine.stage import Stage
from ..hashing import digest, digest_bytes
from ..records import Document, Dropped, MinHash, make

if TYPE_CHECKING:
    from ..project import Project


class Ingest(Stage):
    name = "ingest"
    # 2: per-file units also yield the document's MinHash signature (new shingle hash)
    # 3: jsonl read line by line; links out of the project and special files skipped with a reason
    # 4: marker phrases counted as word sequences, not substrings of the lower-cased text
    #    (proda/corpus/quality.py): a few documents' quality scores move; 17 text scans fewer
    # 5: words of more than 10 characters on average are not prose (a blob); UTF-16 without a
    #    byte-order mark is an encoding problem, not binary; a dangling link's reason names the link
    version = 5
    sections = ("ingest",)

    def cpu_bound(self, project: "Project") -> bool:
        return True

    def file_deps(self, project: "Project", shard):
        return project.corpus_deps(shard)

    def upstream(self, project: "Project", shard):
        return []  # the corpus only (no listing of it needed to say so)

    def run(self, ctx):
        from ..corpus import readers

        project, cfg = ctx.project, ctx.config.ingest
        units = []
        for path, why in project.corpus_entries(ctx.shard):  # paths as strings: no PurePath per file
            rel = project.rel(path)
            # read once: it keys the unit and is its input; a skipped entry is keyed by its reason
            content = readers.load(path, cfg.max_bytes) if not why else list(why.split(": ", 1))
            key = digest([rel, digest_bytes(content)]) if isinstance(content, bytes) else digest([rel, content])
            units.append((key, (ctx.shard, rel, path, content)))
        records = ctx.map(units, functools.partial(readers.read_unit, cfg=cfg), label="file")
        documents = [r for r in records if isinstance(r, Document)]
        dropped = [r for r in records if isinstance(r, Dropped)]
        import numpy as np

        from ..corpus.quality import near_duplicates

        signatures = {r.path: np.frombuffer(r.signature, dtype="<u8").astype(np.uint64)
                      for r in records if isinstance(r, MinHash)}
        kept, duplicates = near_duplicates(documents, cfg.near_duplicate, signatures)
        dropped += [make(Dropped, discipline=d.discipline, path=d.path, reason="duplicate",
                         detail=f"duplicate of {original}") for d, original in duplicates]
        reasons: dict[str, int] = {}
        for r in dropped:
            reasons[r.reason] = reasons.get(r.reason, 0) + 1
        ctx.extra["dropped_reasons"] = dict(sorted(reasons.items()))  # for build's one-line summary
        return kept + sorted(dropped, key=lambda r: r.path)


STAGE = Ingest()
