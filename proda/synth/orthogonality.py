"""Instance-level orthogonality: no benchmark item is a training instance (checked, not assumed).

Input → output: benchmark ``Item``s and training ``Sample``s → ``{sample key: reason}`` for every
contaminated sample. A sample is contaminated when

- its prompt equals an item's stem (after normalisation), or
- its prompt or response shares a word n-gram (``synth.ngram``, 13 by default) with an item's stem or
  correct answer, or
- it contains an item's whole answer (answers of at least 8 words; shorter ones are common phrases).

Normalisation: lowercase, punctuation is a word separator, whitespace collapsed.

Speed: each distinct word is hashed once (xxh3-64); an n-gram's hash is a polynomial of its word
hashes computed for all positions of a batch of samples at once with numpy (n shifted multiply-adds
modulo 2^64), and looked up in the sorted array of item n-gram hashes with ``searchsorted``. Hash hits
are confirmed word by word before they are reported, so a collision never drops a sample. On the
paper's scale (16k items × 160k samples) this is one pass of a few seconds on 2 cores; see
``tests/perf/orthogonality.py``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from ..records import Item, Sample

MIN_ANSWER_WORDS = 8
_WORD = re.compile(r"[^\W_]+")
_SEP = "\x00"
_P = np.uint64(0x9E3779B97F4A7C15)  # odd multiplier: invertible modulo 2^64
_BATCH = 1 << 13  # samples per numpy pass (bounds memory)


def words(text: str) -> list[str]:
    """The normalised words of a text: lowercase, punctuation stripped, whitespace collapsed."""
    return _WORD.findall(text.lower())


def ngrams(text: str, n: int) -> set[tuple[str, ...]]:
    """The word n-grams of a text (of :func:`words`)."""
    w = words(text)
    return {tuple(w[i:i + n]) for i in range(len(w) - n + 1)}


_NONWORD_NON_ASCII = re.compile(r"[^\x00-\x7f\w]+")
_WORD_BYTE = np.zeros(256, bool)
_WORD_BYTE[np.frombuffer(b"0123456789abcdefghijklmnopqrstuvwxyz", np.uint8)] = True
_WORD_BYTE[128:] = True  # bytes of non-ASCII word characters (the others are blanked first)
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
    whole batch: a word is a run of ASCII alphanumerics and bytes of non-ASCII word characters, its
    hash a polynomial of its bytes from prefix sums, then mixed. No Python loop per word.
    """
    if not texts:
        return np.empty(0, np.uint64), np.empty(0, np.int64)
    big = _SEP.join(t.replace(_SEP, " ") if _SEP in t else t for t in texts).lower()
    if not big.isascii():
        big = _NONWORD_NON_ASCII.sub(" ", big)
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

    def __init__(self, texts: list[str], owners: list[tuple[int, int]], n: int,
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

    def confirm(self, gram: list[str], h: np.uint64) -> tuple[int, int] | None:
        """The (item, field) whose text really holds ``gram`` (hash equality confirmed word by word)."""
        lo = int(np.searchsorted(self.hashes, h, "left"))
        hi = int(np.searchsorted(self.hashes, h, "right"))
        for k in range(lo, hi):
            seg, pos = int(self.seg[k]), int(self.pos[k])
            if words(self.texts[seg])[pos:pos + self.n] == gram:
                return self.owners[seg]
        return None


_FIELDS = ("stem", "answer")


def contaminated(items: Sequence[Item], samples: Sequence[Sample], n: int) -> dict[str, str]:
    """``{sample key: reason}`` for every sample that overlaps a benchmark item (see module doc)."""
    if not items or not samples:
        return {}
    stems = [it.stem for it in items]
    answers = [it.options[it.answer].text if 0 <= it.answer < len(it.options) else "" for it in items]
    stem_of: dict[str, int] = {}
    for i, stem in enumerate(stems):
        stem_of.setdefault(" ".join(words(stem)), i)
    stem_lengths = {len(k.split()) for k in stem_of if k}
    owners = [(i, 0) for i in range(len(items))] + [(i, 1) for i in range(len(items))]
    indexes = [_Index(stems + answers, owners, n)]
    # Whole answers shorter than n words but long enough to be distinctive.
    answer_words = [len(words(a)) for a in answers]
    for length in sorted({w for w in answer_words if MIN_ANSWER_WORDS <= w < n}):
        chosen = [i for i, w in enumerate(answer_words) if w == length]
        indexes.append(_Index([answers[i] for i in chosen], [(i, 1) for i in chosen], length, whole=True))

    out: dict[str, str] = {}
    for start in range(0, len(samples), _BATCH):
        batch = samples[start:start + _BATCH]
        texts = [t for s in batch for t in (s.prompt, s.response)]
        ids, lengths = _tokenise(texts)
        for b in np.flatnonzero(np.isin(lengths[0::2], list(stem_lengths))):
            hit = stem_of.get(" ".join(words(batch[b].prompt)))
            if hit is not None:
                out[batch[b].key] = f"its prompt equals the stem of item {items[hit].key}"
        for index in indexes:
            hashes, seg, pos = _gram_hashes(ids, lengths, index.n)
            for k in index.hits(hashes):
                s = int(seg[k])
                sample = batch[s // 2]
                if sample.key in out:
                    continue
                gram = words(texts[s])[int(pos[k]):int(pos[k]) + index.n]
                owner = index.confirm(gram, hashes[k])
                if owner is None:
                    continue  # a hash collision, not an overlap
                item, field = owner
                where = "prompt" if s % 2 == 0 else "response"
                if index is indexes[0]:
                    out[sample.key] = (f"its {where} shares the {index.n}-word sequence \"{' '.join(gram)}\" "
                                       f"with the {_FIELDS[field]} of item {items[item].key}")
                else:
                    out[sample.key] = f"its {where} contains the answer of item {items[item].key}"
    return out
