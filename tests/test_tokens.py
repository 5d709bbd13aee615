"""The numpy token arrays agree with plain str methods (what the quality filter used to compute
one token at a time), and the near-duplicate shingles follow the words."""

from __future__ import annotations

from collections import Counter

import numpy as np
from hypothesis import given, settings, strategies as st

from proda.corpus.quality import (_MIX, _SALTS, _STRIP, _SENT_END, MARKER_PHRASES, MARKER_WORDS, _word_stats,
                                  _words, phrase_hits, shingles, signature)
from proda.corpus.tokens import tokens

PIECES = ["abc", "DEF", ".", ",", ";", " ", "!", "?", "(", ")", '"', "'", "é", "ß", "123", "because",
          "Therefore", "is", "a", "\n", "\n\n", "x'y", "ARE", "causes.", "☃", "α", "\t", "\u2003", "İ"]


def reference(text: str) -> tuple[int, int, int, int, int]:
    words = list(filter(str.isalpha, text.translate(_STRIP).split()))
    counts = Counter(w.lower() for w in words if w.isascii())
    return (len(text.split()), len(words), sum(counts[w] for w in MARKER_WORDS),
            sum(1 for w in words if len(w) >= 8), len(_SENT_END.findall(text)))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=200))
def test_token_statistics_match_str_methods(pieces):
    text = "".join(pieces)
    assert _word_stats(text, tokens(text)) == reference(text)


def test_beyond_the_bmp_falls_back_to_str_methods():
    text = "Heat flows 😀 because the cell divides. " * 5
    assert tokens(text) is None
    assert _word_stats(text, None) == reference(text)
    assert len(shingles(text)) == len(shingles(text.replace("😀", "x")))


def test_shingles_see_words_not_case_or_punctuation():
    a = "The cell divides because the membrane grows, and then the cell splits."
    assert np.array_equal(shingles(a), shingles(a.upper().replace(",", "")))
    assert not np.array_equal(shingles(a), shingles(a.replace("membrane", "wall")))
    same = signature(shingles(a * 3)) == signature(shingles(a * 3 + " Extra words here now."))
    assert same.mean() > 0.6


def test_signature_in_blocks_matches_one_array():
    """The signature mixed a block of shingles at a time is the one from the whole 64 x n array."""
    rng = np.random.default_rng(3)
    for n in (1, 5, 1023, 1024, 1025, 2048, 2049, 5000):
        hashes = rng.integers(0, 1 << 61, size=n, dtype=np.uint64)
        mixed = hashes[None, :] ^ _SALTS[:, None]
        mixed *= _MIX[0]
        assert np.array_equal(signature(hashes), mixed.min(axis=1))


def reference_hash(token: str) -> int:
    """The token hash one token at a time: a polynomial over the stripped, ASCII-lower-cased
    characters (code point + 1), then splitmix64's finaliser (what signatures were built from)."""
    mask, m = (1 << 64) - 1, 0x9E3779B97F4A7C15
    h = 0
    for j, c in enumerate(token.translate(_STRIP)):
        code = ord(c) + 32 if "A" <= c <= "Z" else ord(c)
        h = (h + (code + 1) * pow(m, j, 1 << 64)) & mask
    h = ((h ^ (h >> 30)) * 0xBF58476D1CE4E5B9) & mask
    h = ((h ^ (h >> 27)) * 0x94D049BB133111EB) & mask
    return h ^ (h >> 31)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=200), st.booleans())
def test_token_arrays_match_one_token_at_a_time(pieces, ascii_only):
    """ASCII text (bytes tables) and BMP text (code point tables) give the same arrays as plain
    str methods: lengths, word and ASCII flags, and hashes, value for value."""
    text = "".join(p for p in pieces if p.isascii() or not ascii_only)
    found, words = tokens(text), text.split()
    assert found.count == len(words)
    assert found.stripped_len.tolist() == [len(w.translate(_STRIP)) for w in words]
    assert found.word.tolist() == [w.translate(_STRIP).isalpha() for w in words]
    assert found.ascii.tolist() == [w.isascii() for w in words]
    assert found.hashes.tolist() == [reference_hash(w) for w in words]


PHRASE_PIECES = sorted({w for p in MARKER_PHRASES for w in p.split()} | {" ", "  ", "s", "\n", "x", ",", "(", "."}
                       | {w.upper() for p in MARKER_PHRASES for w in p.split()})


def reference_phrase_hits(text: str) -> int:
    """Occurrences of each marker phrase as a sequence of words (whitespace tokens stripped of
    punctuation, ASCII-lower-cased, empty ones left out), one phrase at a time."""
    lower = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
    words = [w for w in (t.translate(_STRIP).translate(lower) for t in text.split()) if w]
    hits = 0
    for phrase in MARKER_PHRASES:
        seq = phrase.split()
        hits += sum(words[i:i + len(seq)] == seq for i in range(len(words) - len(seq) + 1))
    return hits


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(PHRASE_PIECES + list(MARKER_PHRASES)), max_size=60))
def test_phrase_hits_count_word_sequences(pieces):
    text = "".join(pieces)
    assert phrase_hits(_words(text, tokens(text))) == reference_phrase_hits(text)


def test_phrases_are_words_not_substrings():
    count = lambda text: phrase_hits(_words(text, tokens(text)))  # noqa: E731
    assert count("It is a cell, which leads to growth; as a result, it divides due\nto heat.") == 5
    assert count("Also that mislead tom: this is a") == 1  # "is a" at the end; no "so that", "lead to"
    assert count("IS AN (Which Means)") == 2


def reference_normalise(text: str) -> str:
    """normalise one rewrite after another, each over the whole text (what it did before its
    fast paths)."""
    import re
    import unicodedata

    text = unicodedata.normalize("NFKC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = text.translate(dict.fromkeys(c for c in range(32) if c not in (9, 10)))
    text = text.replace("\t", " ").replace("\u00a0", " ")
    lines = map(str.strip, re.sub("  +", " ", text).split("\n"))
    return re.sub("\n\n\n+", "\n\n", "\n".join(lines)).strip()


NORMALISE_PIECES = ["a", "B", " ", "  ", "\t", "\r", "\r\n", "\n", "\n\n\n", "\x00", "\x07", "\x0b", "\x0c",
                    "\x1c", "\x1f", "\x7f", "\u00a0", "é", "ﬁ", "\u2003", "\u3000", "\x85", "\u2028", "Ⅸ", "."]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(NORMALISE_PIECES), max_size=80))
def test_normalise_fast_paths_change_nothing(pieces):
    from proda.corpus.readers import normalise

    text = "".join(pieces)
    assert normalise(text) == reference_normalise(text)
