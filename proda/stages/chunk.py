"""chunk: Documents -> paragraph-aware Chunks with their offsets in the document.

Paragraphs (blank-line separated) are packed greedily up to ``chunk.size`` characters; the last
``chunk.overlap`` paragraphs of a chunk open the next one. A paragraph longer than the size is cut
at sentence ends. ``chunk.text == document.text[span.start:span.end]`` always holds. Headings stay
with the paragraph that follows them. Memoised per document: editing one document rebuilds only
its chunks. Example project: about 4 chunks per document.
"""

from __future__ import annotations

import functools

from typing import TYPE_CHECKING

from ..engine.stage import Stage
from ..records import Document

if TYPE_CHECKING:
    from ..project import Project


class ChunkStage(Stage):
    name = "chunk"
    version = 2  # 2: every chunk within chunk.size, long sentences and headings included
    sections = ("chunk",)

    def cpu_bound(self, project: "Project") -> bool:
        return True

    def file_deps(self, project: "Project", shard):
        from ..engine.outputs import manifest_path

        return [manifest_path(project.build, "ingest", shard)]

    def run(self, ctx):
        from ..corpus.chunking import chunks_of

        cfg = ctx.config.chunk
        docs = [r for r in ctx.upstream("ingest") if isinstance(r, Document)]
        return ctx.map(((d.key, d) for d in docs), functools.partial(chunks_of, size=cfg.size, overlap=cfg.overlap),
                       label="doc")


STAGE = ChunkStage()
