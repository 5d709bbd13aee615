"""Paragraph-aware chunking with character spans: ``chunk.text == doc.text[span.start:span.end]``."""

from __future__ import annotations

import re

from ..records import Chunk, Document, Span, make

_PARA = re.compile(r"\n\s*\n")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def paragraphs(text: str) -> list[tuple[int, int]]:
    spans, pos = [], 0
    for match in _PARA.finditer(text):
        if text[pos:match.start()].strip():
            spans.append((pos, match.start()))
        pos = match.end()
    if text[pos:].strip():
        spans.append((pos, len(text)))
    return spans


def _split_long(text: str, start: int, end: int, size: int) -> list[tuple[int, int]]:
    if end - start <= size:
        return [(start, end)]
    pieces, cut = [], start
    for match in _SENTENCE_END.finditer(text, start, end):
        if match.start() - cut >= size:
            pieces.append((cut, match.start()))
            cut = match.end()
    pieces.append((cut, end))
    return [p for p in pieces if text[p[0]:p[1]].strip()]


def chunk_spans(text: str, size: int, overlap: int) -> list[tuple[int, int]]:
    units: list[tuple[int, int]] = []
    for start, end in paragraphs(text):
        units.extend(_split_long(text, start, end, size))
    # a heading alone is merged into the paragraph after it
    merged: list[tuple[int, int]] = []
    for span in units:
        if merged and text[merged[-1][0]:merged[-1][1]].lstrip().startswith("#") and \
                "\n" not in text[merged[-1][0]:merged[-1][1]].strip():
            merged[-1] = (merged[-1][0], span[1])
        else:
            merged.append(span)
    chunks, current = [], []
    for span in merged:
        if current and span[1] - current[0][0] > size:
            chunks.append((current[0][0], current[-1][1]))
            keep = current[-overlap:] if overlap > 0 else []
            current = [s for s in keep if span[1] - s[0] <= size]
        current.append(span)
    if current:
        chunks.append((current[0][0], current[-1][1]))
    return chunks


def chunks_of(doc: Document, size: int, overlap: int) -> list[Chunk]:
    return [make(Chunk, doc=doc.key, discipline=doc.discipline, index=i, span=Span(start=s, end=e),
                 text=doc.text[s:e])
            for i, (s, e) in enumerate(chunk_spans(doc.text, size, overlap))]
