"""The numpy token arrays agree with plain str methods (what the quality filter used to compute
one token at a time), and the near-duplicate shingles follow the words."""

from __future__ import annotations

from collections import Counter

import numpy as np
from hypothesis import given, settings, strategies as st

from proda.corpus.quality import _STRIP, _SENT_END, MARKER_WORDS, _word_stats, shingles, signature
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
