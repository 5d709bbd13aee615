"""Instance-level orthogonality: no benchmark item is a training instance (checked, not assumed).

Input → output: benchmark ``Item``s (both splits) and training ``Sample``s (synthesized, patch and
replay alike) → ``{sample key: Finding}`` for every contaminated sample. The rule, exactly:

- Texts are compared *reduced*: lower-cased; enumeration markers — "(1)", "[2]", "(a)", "(iv)", and
  a single letter followed by ".", ")" or ":" at the start of a line or after a space ("A. ", "b) ")
  — removed; then everything that is not a letter (digits, punctuation, symbols, underscores) is a
  word separator. What is left is words of letters and single spaces, so numbering, punctuation and
  markers cannot hide a shared run of words.
- A sample is its prompt and response read as one text (a run may cross from one into the other).
- An item's texts are its stem and every option (the answer and each distractor).
- A sample is contaminated when (kind ``stem``) its reduced prompt equals an item's reduced stem,
  (``run``) it shares a run of ``synth.ngram`` (13) words with any item text, or (``whole``) it
  contains a whole item text of at least 8 words (shorter ones are common phrases).

Speed: each distinct word is hashed once (xxh3-64); an n-gram's hash is a polynomial of its word
hashes computed for all positions of a batch of samples at once with numpy (n shifted multiply-adds
modulo 2^64), and looked up in the sorted array of item n-gram hashes with ``searchsorted``. Hash hits
are confirmed word by word before they are reported, so a collision never drops a sample. On the
paper's scale (16k items × 160k samples) this is one pass of a few seconds on 2 cores; see
``tests/perf/orthogonality.py``.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from ..records import Item, Sample

MIN_ANSWER_WORDS = 8
_LETTERS = re.compile(r"[^\W\d_]+")
# Enumeration markers, removed before the reduction (after lower-casing): "(1)", "[ii]", "(a)", and a
# single letter with ".", ")" or ":" at the start of a text or line or after a blank ("a. ", "b) ").
_MARKER = re.compile(r"[(\[]\s*(?:\d{1,3}|[a-z]|[ivxlc]{1,5})\s*[)\]]"
                     r"|(?<![^\s\x00])[a-z][.):](?=[\s\x00]|$)")
_SEP = "\x00"
_P = np.uint64(0x9E3779B97F4A7C15)  # odd multiplier: invertible modulo 2^64
_BATCH = 1 << 13  # samples per numpy pass (bounds memory)


def reduced(text: str) -> str:
    """``text`` reduced as the rule says: lower-case letters and single spaces (see module doc)."""
    return " ".join(words(text))


def words(text: str) -> list[str]:
    """The words of a text as the rule reduces it: lower-cased, enumeration markers removed, every
    run of letters a word (digits, punctuation and symbols separate words)."""
    return _LETTERS.findall(_MARKER.sub(" ", text.replace(_SEP, " ").lower()))


def ngrams(text: str, n: int) -> set[tuple[str, ...]]:
    """The word n-grams of a text (of :func:`words`)."""
    w = words(text)
    return {tuple(w[i:i + n]) for i in range(len(w) - n + 1)}


_NONLETTER_NON_ASCII = re.compile(r"(?:(?![^\W\d_])[^\x00-\x7f])+")
_WORD_BYTE = np.zeros(256, bool)
_WORD_BYTE[np.frombuffer(b"abcdefghijklmnopqrstuvwxyz", np.uint8)] = True
_WORD_BYTE[128:] = True  # bytes of non-ASCII letters (other non-ASCII characters are blanked first)
_Q = 0x100000001B3  # byte-level multiplier (odd)
_Q_INV = pow(_Q, -1, 1 << 64)


_POWERS: dict[int, np.ndarray] = {}  # base -> its powers 0..len-1 (modulo 2^64), grown on demand


def _powers(base: int, count: int) -> np.ndarray:
    have = _POWERS.get(base)
    if have is None or len(have) < count:
        have = np.full(max(count, 1 << 20), base, np.uint64)
        have[0] = 1
        _POWERS[base] = have = np.cumprod(have, out=have)  # wraps modulo 2^64
    return have[:count]


def _tokenise(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """A 64-bit hash of every word of every text, concatenated, and the word count of each text.

    Same words as :func:`words` (a property test checks it), but in numpy over the UTF-8 bytes of the
    whole batch: a word is a run of ASCII letters and bytes of non-ASCII letters, its
    hash a polynomial of its bytes from prefix sums, then mixed. No Python loop per word.
    """
    if not texts:
        return np.empty(0, np.uint64), np.empty(0, np.int64)
    big = _MARKER.sub(" ", _SEP.join(t.replace(_SEP, " ") if _SEP in t else t for t in texts).lower())
    if not big.isascii():
        big = _NONLETTER_NON_ASCII.sub(" ", big)
    data = np.frombuffer(big.encode("utf-8"), np.uint8)
    edges = np.diff(np.concatenate(([0], _WORD_BYTE[data].view(np.int8), [0])))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    # sum_{k in word} b_k Q^(end-1-k) = (C[end] - C[start]) * Q^(end-1), with C the prefix sums of b_k Q^-k
    prefix = np.zeros(len(data) + 1, np.uint64)
    np.cumsum((data.astype(np.uint64) + np.uint64(1)) * _powers(_Q_INV, len(data)), out=prefix[1:])
    h = (prefix[ends] - prefix[starts]) * _powers(_Q, len(data))[ends - 1] if len(ends) else prefix[:0]
    h ^= h >> np.uint64(31)  # final mix, so word hashes look random to the n-gram polynomial
    h *= np.uint64(0xBF58476D1CE4E5B9)
    h ^= h >> np.uint64(29)
    text_of = np.searchsorted(np.flatnonzero(data == 0), starts)
    return h, np.bincount(text_of, minlength=len(texts)).astype(np.int64)


def _gram_hashes(ids: np.ndarray, lengths: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Hash, text index and word position of every n-gram that lies inside one text."""
    total = len(ids)
    if total < n or n <= 0:
        return np.empty(0, np.uint64), np.empty(0, np.int64), np.empty(0, np.int64)
    span = total - n + 1
    h = ids[:span].copy()
    for j in range(1, n):  # wraps modulo 2^64 by design
        h *= _P
        h += ids[j:j + span]
    starts = np.cumsum(lengths) - lengths
    seg = np.repeat(np.arange(len(lengths)), lengths)[:span]
    pos = np.arange(span) - starts[seg]
    valid = pos + n <= lengths[seg]
    return h[valid], seg[valid], pos[valid]


class _Index:
    """The n-gram hashes of some item texts: a bitmap prefilter, then a sorted array with owners."""

    def __init__(self, texts: list[str], owners: list[tuple[int, str]], n: int,
                 whole: bool = False):
        self.n, self.texts, self.owners = n, texts, owners
        ids, lengths = _tokenise(texts)
        hashes, seg, pos = _gram_hashes(ids, lengths, n)
        if whole:  # only the n-gram that is the whole text
            keep = lengths[seg] == n
            hashes, seg, pos = hashes[keep], seg[keep], pos[keep]
        order = np.argsort(hashes, kind="stable")
        self.hashes, self.seg, self.pos = hashes[order], seg[order], pos[order]
        # ~1/32 load: one random memory access rejects almost every sample n-gram.
        bits = int(min(28, max(12, np.ceil(np.log2(max(1, len(hashes)) * 32)))))
        self.shift = np.uint64(64 - bits)
        self.table = np.zeros(1 << bits, bool)
        self.table[hashes >> self.shift] = True

    def hits(self, hashes: np.ndarray) -> np.ndarray:
        """Indices of ``hashes`` that are item n-gram hashes."""
        cand = np.flatnonzero(self.table[hashes >> self.shift])
        if not len(cand) or not len(self.hashes):
            return cand[:0]
        idx = np.minimum(np.searchsorted(self.hashes, hashes[cand]), len(self.hashes) - 1)
        return cand[self.hashes[idx] == hashes[cand]]

    def confirm(self, gram: list[str], h: np.uint64) -> tuple[int, str] | None:
        """The (item, field) whose text really holds ``gram`` (hash equality confirmed word by word)."""
        lo = int(np.searchsorted(self.hashes, h, "left"))
        hi = int(np.searchsorted(self.hashes, h, "right"))
        for k in range(lo, hi):
            seg, pos = int(self.seg[k]), int(self.pos[k])
            if words(self.texts[seg])[pos:pos + self.n] == gram:
                return self.owners[seg]
        return None


class Finding(NamedTuple):
    """Why a sample was dropped: ``kind`` is ``stem``, ``run`` or ``whole`` (see module doc)."""

    kind: str
    item: str  # the item's key
    field: str  # stem | answer | option N (1-based, in the item's option order)
    text: str  # the shared run, the whole item text, or the stem

    def __str__(self) -> str:
        if self.kind == "stem":
            return f"its prompt equals the stem of item {self.item}"
        if self.kind == "whole":
            return f"it contains the whole {self.field} of item {self.item}: \"{self.text}\""
        return (f"it shares the {len(self.text.split())}-word run \"{self.text}\" with the {self.field} "
                f"of item {self.item}")


KINDS = ("stem", "run", "whole")


def item_texts(items: Sequence[Item]) -> tuple[list[str], list[tuple[int, str]]]:
    """Every text of every item (stem, then each option) and its (item index, field name)."""
    texts, owners = [], []
    for i, it in enumerate(items):
        texts.append(it.stem)
        owners.append((i, "stem"))
        for j, option in enumerate(it.options):
            texts.append(option.text)
            owners.append((i, "answer" if j == it.answer else f"option {j + 1}"))
    return texts, owners


class Rule:
    """The rule against a fixed set of items, built once (its n-gram indexes), applied to many texts."""

    def __init__(self, items: Sequence[Item], n: int):
        self.items, self.n = list(items), n
        texts, owners = item_texts(self.items)
        self.stem_of: dict[str, int] = {}
        for i, it in enumerate(self.items):
            self.stem_of.setdefault(reduced(it.stem), i)
        self.stem_lengths = {len(k.split()) for k in self.stem_of if k}
        self.indexes = [_Index(texts, owners, n)] if texts else []
        # Whole item texts shorter than n words but long enough to be distinctive.
        lengths = [len(words(t)) for t in texts]
        for length in sorted({w for w in lengths if MIN_ANSWER_WORDS <= w < n}):
            chosen = [i for i, w in enumerate(lengths) if w == length]
            self.indexes.append(_Index([texts[i] for i in chosen], [owners[i] for i in chosen], length, whole=True))

    def find(self, pairs: Sequence[tuple[str, str]]) -> dict[int, Finding]:
        """``{index: Finding}`` for the (prompt, response) pairs that break the rule."""
        out: dict[int, Finding] = {}
        if not self.items:
            return out
        for start in range(0, len(pairs), _BATCH):
            batch = pairs[start:start + _BATCH]
            joined = [f"{prompt}\n{response}" for prompt, response in batch]
            ids, lens = _tokenise(joined)
            for b, (prompt, _) in enumerate(batch):
                if len(words(prompt)) in self.stem_lengths and (hit := self.stem_of.get(reduced(prompt))) is not None:
                    out[start + b] = Finding("stem", self.items[hit].key, "stem", reduced(self.items[hit].stem))
            for index in self.indexes:
                hashes, seg, pos = _gram_hashes(ids, lens, index.n)
                for k in index.hits(hashes):
                    b = int(seg[k])
                    if start + b in out:
                        continue
                    gram = words(joined[b])[int(pos[k]):int(pos[k]) + index.n]
                    owner = index.confirm(gram, hashes[k])
                    if owner is None:
                        continue  # a hash collision, not an overlap
                    item, field = owner
                    kind = "run" if index is self.indexes[0] else "whole"
                    out[start + b] = Finding(kind, self.items[item].key, field, " ".join(gram))
        return out


def contaminated(items: Sequence[Item], samples: Sequence[Sample], n: int) -> dict[str, Finding]:
    """``{sample key: Finding}`` for every sample that breaks the rule against ``items`` (module doc).

    Pass every item of both splits and every sample, whatever its origin: the rule has no exceptions.
    """
    if not items or not samples:
        return {}
    found = rule_for(items, n).find([(s.prompt, s.response) for s in samples])
    return {samples[i].key: f for i, f in sorted(found.items())}


_rules: dict[tuple[tuple[str, ...], int], Rule] = {}
_rules_lock = threading.Lock()


def rule_for(items: Sequence[Item], n: int) -> Rule:
    """The rule for these items, built once per process: every synth shard of a build checks its
    samples against the same items (all of them), so the 17 shards share one set of indexes
    instead of building it 17 times (the last rule is kept; items are identified by their keys)."""
    key = (tuple(it.key for it in items), n)
    with _rules_lock:
        rule = _rules.get(key)
        if rule is None:
            rule = Rule(items, n)
            _rules.clear()
            _rules[key] = rule
        return rule


def counts(found: dict[str, Finding]) -> dict[str, int]:
    """How many samples were dropped for each kind of the rule (every kind listed, 0 included)."""
    out = dict.fromkeys(KINDS, 0)
    for f in found.values():
        out[f.kind] += 1
    return out
