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


def _atoms(text: str, start: int, end: int, size: int) -> list[tuple[int, int]]:
    """The sentences of text[start:end]; a sentence longer than ``size`` is cut at the last
    whitespace that fits (or at ``size`` characters when there is none)."""
    sentences, cut = [], start
    for match in _SENTENCE_END.finditer(text, start, end):
        sentences.append((cut, match.start()))
        cut = match.end()
    sentences.append((cut, end))
    out = []
    for a, b in sentences:
        while b - a > size:
            space = max(text.rfind(c, a + 1, a + size + 1) for c in " \n\t")
            stop = space if space > a else a + size
            out.append((a, stop))
            a = stop
            while a < b and text[a].isspace():
                a += 1
        if b > a:
            out.append((a, b))
    return [(a, b) for a, b in out if text[a:b].strip()]


def _split_long(text: str, start: int, end: int, size: int) -> list[tuple[int, int]]:
    """A paragraph as pieces of at most ``size`` characters, cut at sentence ends where it can."""
    if end - start <= size:
        return [(start, end)]
    pieces: list[tuple[int, int]] = []
    for a, b in _atoms(text, start, end, size):
        if pieces and b - pieces[-1][0] <= size:
            pieces[-1] = (pieces[-1][0], b)
        else:
            pieces.append((a, b))
    return pieces


def chunk_spans(text: str, size: int, overlap: int) -> list[tuple[int, int]]:
    """Chunk spans of ``text``, each at most ``size`` characters whatever the headings."""
    units: list[tuple[int, int]] = []
    for start, end in paragraphs(text):
        units.extend(_split_long(text, start, end, size))
    # a heading alone is merged into the paragraph after it, when both fit in one chunk
    merged: list[tuple[int, int]] = []
    for span in units:
        if merged and text[merged[-1][0]:merged[-1][1]].lstrip().startswith("#") and \
                "\n" not in text[merged[-1][0]:merged[-1][1]].strip() and span[1] - merged[-1][0] <= size:
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
