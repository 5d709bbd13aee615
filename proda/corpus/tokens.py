"""Whitespace tokens of a document as numpy arrays: what the quality filter and the near-duplicate
shingles need, without a Python loop per token.

The text is viewed as an array of code points (UTF-32). Lookup tables over the Basic Multilingual
Plane say which code point is whitespace (``str.isspace``), a letter (``str.isalpha``) or one of
the punctuation marks stripped from a token's ends and middle (``STRIP``). From them, per token
(``str.split()`` tokens, in order): its length without those marks, whether it is a word (every
remaining character a letter, at least one), whether it is pure ASCII, and a 64-bit hash of its
stripped, ASCII-lower-cased form (a polynomial hash with a splitmix finaliser, computed with prefix
sums). Counted this way, a token statistic costs a few array passes instead of one bytecode loop per
token: about ten times faster on prose. Text with code points beyond the BMP (emoji, rare scripts)
returns None and the caller uses plain ``str`` methods.
"""

from __future__ import annotations

import threading
from typing import Any, NamedTuple

import numpy as np

STRIP = ".,;:!?()[]\"'"
_M = np.uint64(0x9E3779B97F4A7C15)  # odd, so invertible modulo 2**64
_M_INV = np.uint64(pow(0x9E3779B97F4A7C15, -1, 1 << 64))
_tables: dict[str, Any] = {}
_guard = threading.Lock()


class Tokens(NamedTuple):
    count: int  # tokens, as len(text.split())
    stripped_len: np.ndarray  # per token: characters left after removing STRIP
    word: np.ndarray  # per token: the stripped token is non-empty and all letters
    ascii: np.ndarray  # per token: only ASCII characters
    hashes: np.ndarray  # per token: uint64 hash of the stripped, ASCII-lower-cased token
    sentence_ends: int  # [.!?] followed by whitespace or the end (the quality filter's sentence count)


_SPACE, _STRIPPED, _ALPHA, _END = 1, 2, 4, 8  # bits of the character class table


def _table(name: str) -> np.ndarray:
    """``class``: a bit set per BMP code point; ``lower``: ASCII-lower-cased code point + 1."""
    tables = _tables.get("bmp")
    if tables is None:
        with _guard:  # doit's -j threads may tokenise at once: build once, publish whole
            tables = _tables.get("bmp")
            if tables is None:
                chars = [chr(c) for c in range(0x10000)]
                cls = np.fromiter(map(str.isspace, chars), dtype=np.uint8, count=0x10000) * np.uint8(_SPACE)
                cls |= np.fromiter(map(str.isalpha, chars), dtype=np.uint8, count=0x10000) * np.uint8(_ALPHA)
                cls[[ord(c) for c in STRIP]] |= _STRIPPED
                cls[[ord(c) for c in ".!?"]] |= _END
                lower = np.arange(0x10000, dtype=np.uint64)
                lower[ord("A"):ord("Z") + 1] += np.uint64(32)
                # +1: no character contributes zero to a hash
                tables = _tables["bmp"] = {"class": cls, "lower": lower + np.uint64(1)}
    return tables[name]


def _powers(n: int) -> tuple[np.ndarray, np.ndarray]:
    """M**k and M**-k modulo 2**64 for k < n (cached, grown on demand; one tuple, swapped whole)."""
    have = _tables.get("powers")
    if have is None or len(have[0]) < n:
        size = max(n, 1 << 16, 2 * (len(have[0]) if have is not None else 0))
        with np.errstate(over="ignore"):
            pw = np.cumprod(np.full(size, _M, dtype=np.uint64))
            inv = np.cumprod(np.full(size, _M_INV, dtype=np.uint64))
        have = (np.concatenate(([np.uint64(1)], pw[:-1])), np.concatenate(([np.uint64(1)], inv[:-1])))
        _tables["powers"] = have
    return have


def _finalise(h: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: spreads a polynomial hash's bits."""
    with np.errstate(over="ignore"):
        h = (h ^ (h >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        h = (h ^ (h >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return h ^ (h >> np.uint64(31))


def hash_word(word: str) -> int:
    """The hash :func:`tokens` gives a token that strips to ``word`` (ASCII lower case expected)."""
    found = tokens(word)
    return int(found.hashes[0]) if found is not None and found.count else 0


def tokens(text: str) -> Tokens | None:
    """The token arrays of ``text``, or None when it has code points beyond the BMP.

    Per-token counts are differences of running sums taken at token starts (whitespace in between
    adds nothing); ``np.take`` rather than fancy indexing, which costs about three times as much here.
    """
    cp = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    if cp.size and int(cp.max()) > 0xFFFF:
        return None
    cls = np.take(_table("class"), cp)
    space = (cls & _SPACE).astype(bool)
    start = ~space
    start[1:] &= space[:-1]
    firsts = np.flatnonzero(start)
    count = len(firsts)
    after = np.ones_like(space)
    after[:-1] = space[1:]
    sentence_ends = int(np.count_nonzero((cls & _END).astype(bool) & after))
    if count == 0:
        empty = np.zeros(0, dtype=np.int64)
        return Tokens(0, empty, empty.astype(bool), empty.astype(bool), empty.astype(np.uint64), sentence_ends)
    kept = (cls & (_SPACE | _STRIPPED)) == 0
    rank = np.cumsum(kept) - kept  # kept characters before each character
    total = int(rank[-1]) + int(kept[-1])
    stripped_len = np.diff(np.append(np.take(rank, firsts), total))
    # non-letters among the kept characters (low 32 bits) and non-ASCII characters (high), summed
    # per token as differences of one running sum
    flags = (kept & ((cls & _ALPHA) == 0)).astype(np.int64) | (((cp >= 128) & ~space).astype(np.int64) << 32)
    running = np.cumsum(flags)
    per_token = np.diff(np.append(np.take(running, firsts) - np.take(flags, firsts), running[-1]))
    not_alpha, non_ascii = per_token & 0xFFFFFFFF, per_token >> 32
    word = (stripped_len > 0) & (not_alpha == 0)
    pw, inv = _powers(total + 1)
    with np.errstate(over="ignore"):
        values = np.take(_table("lower"), cp) * np.take(pw, rank) * kept
        sums = np.add.reduceat(values, firsts)
        hashes = _finalise(sums * np.take(inv, np.take(rank, firsts)))
    return Tokens(count, stripped_len, word, non_ascii == 0, hashes, sentence_ends)
