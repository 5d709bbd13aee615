"""Sentence segmentation with character offsets, for plain text and light Markdown.

``segment(text)`` returns ``(sentence, start, end)`` with ``text[start:end] == sentence``; ``sentences``
also says which block (paragraph, list item) and which Markdown heading each sentence sits under, which
the heuristic extractor uses to keep a reasoning chain inside one paragraph and to name it.

The boundaries come from ``sentencex`` (Wikimedia's rule-based segmenter, Rust core, offline, MIT):
it gives character offsets directly and runs at tens of MB/s, where pysbd managed about 0.3 MB/s on
this corpus, too slow for the extract budget. We only add what it does not know about: Markdown
structure (headings, fenced code, tables, list items, hard-wrapped lines) and two repairs, a closing
bracket or quote split off a sentence and a bare enumerator ("1.", "(a)") split off its item.
"""

from __future__ import annotations

import re
from typing import NamedTuple

import sentencex

_HEADING = re.compile(r"^ {0,3}#{1,6}(?:\s|$)")
_FENCE = re.compile(r"^ {0,3}(?:```|~~~)")
_TABLE = re.compile(r"^\s*(?:Table:|\|)|\s\|\s")
_LIST = re.compile(r"^\s*(?:[-*+•]|\d{1,3}[.)]|\(?[a-zA-Z]\))\s+")
_OPEN_END = re.compile(r"[^.!?:;]\s*$")  # a line that stops mid-sentence (hard wrap)
_ENUMERATOR = re.compile(r"^\(?(?:\d{1,3}|[a-zA-Z]|[ivxIVX]{1,4})[.)]$")
_CLOSERS = ")]}\"”’'»"
_WRAP_MIN = 50  # a shorter line is a unit of its own (an equation, a label), never a wrap


class Sentence(NamedTuple):
    text: str
    start: int  # offsets into the segmented text
    end: int
    block: int  # index of the paragraph / list item / line it belongs to
    heading: str  # the nearest Markdown heading above it ("" if none)


def _lines(text: str):
    pos = 0
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        yield body, pos, pos + len(body)
        pos += len(line)


def blocks(text: str) -> list[tuple[int, int, str]]:
    """``(start, end, heading)`` of each run of text to segment; headings, code and tables excluded."""
    out: list[tuple[int, int, str]] = []
    heading, in_fence = "", False
    current: list[int] | None = None  # [start, end] of the open block
    last_line = ""

    def close() -> None:
        nonlocal current
        if current is not None:
            out.append((current[0], current[1], heading))
            current = None

    for line, start, end in _lines(text):
        if _FENCE.match(line):
            close()
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        if not line.strip():
            close()
            continue
        if _HEADING.match(line):
            close()
            heading = line.strip().lstrip("#").strip()
            continue
        if _TABLE.search(line):
            close()
            continue
        wrapped = (current is not None and len(last_line) >= _WRAP_MIN and _OPEN_END.search(last_line)
                   and not _LIST.match(line) and "=" not in line)
        if wrapped:
            current[1] = end
        else:
            close()
            current = [start, end]
        last_line = line
    close()
    return out


def _split(text: str, start: int, end: int) -> list[list[int]]:
    piece = text[start:end].replace("\n", " ").replace("\r", " ")  # same length: offsets hold
    spans: list[list[int]] = []
    for bound in sentencex.get_sentence_boundaries("en", piece):
        s, e = bound["start_index"], bound["end_index"]
        while s < e and piece[s].isspace():
            s += 1
        while e > s and piece[e - 1].isspace():
            e -= 1
        # a closing bracket or quote that the segmenter put at the head of the next sentence
        while spans and s < e and piece[s] in _CLOSERS and (s + 1 == e or piece[s + 1].isspace()):
            spans[-1][1] = s + 1
            s += 1
            while s < e and piece[s].isspace():
                s += 1
        if s < e:
            spans.append([s, e])
    merged: list[list[int]] = []
    for span in spans:
        if merged and _ENUMERATOR.match(piece[merged[-1][0]:merged[-1][1]]):
            merged[-1][1] = span[1]
        else:
            merged.append(span)
    return [[start + s, start + e] for s, e in merged]


def sentences(text: str) -> list[Sentence]:
    """Every sentence of ``text`` outside headings, code fences and tables, in order."""
    out: list[Sentence] = []
    for index, (start, end, heading) in enumerate(blocks(text)):
        for s, e in _split(text, start, end):
            out.append(Sentence(text[s:e], s, e, index, heading))
    return out


def segment(text: str) -> list[tuple[str, int, int]]:
    """``(sentence_text, start, end)`` for each sentence, relative to ``text``."""
    return [(s.text, s.start, s.end) for s in sentences(text)]
