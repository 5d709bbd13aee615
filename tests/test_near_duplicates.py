"""The near-duplicate pass keeps and drops what a plain sequential pass over every document does.

``near_duplicates`` sends only the documents that share an LSH band (or a text) with another
through its sequential loop (``_sequential``); the reference runs every document through that
loop, as the pass did before. Shards mix unique documents, edited copies, exact copies and documents without a
precomputed signature."""

from __future__ import annotations

from hypothesis import given, settings, strategies as st

from proda.corpus.quality import _alone, _sequential, near_duplicates, shingles, signature


class Doc:
    def __init__(self, path: str, text: str):
        self.path, self.text = path, text


def reference(documents, threshold, signatures):
    """The sequential pass over every document, in path order (what near_duplicates did before
    it learned to skip the documents alone in every band)."""
    documents = sorted(documents, key=lambda d: d.path)
    sigs = [signatures.get(d.path) for d in documents]
    return _sequential([(d, signature(shingles(d.text)) if s is None else s) for d, s in zip(documents, sigs)],
                       threshold)


VOCAB = [f"w{i}" for i in range(200)]


@st.composite
def shards(draw):
    bases = draw(st.lists(st.lists(st.sampled_from(VOCAB), min_size=20, max_size=80), min_size=1, max_size=8))
    docs = []
    for n in range(draw(st.integers(1, 25))):
        words = list(draw(st.sampled_from(bases)))
        kind = draw(st.sampled_from(["copy", "edit", "edit", "new"]))
        if kind == "edit":
            for _ in range(draw(st.integers(1, 6))):
                words[draw(st.integers(0, len(words) - 1))] = draw(st.sampled_from(VOCAB))
        elif kind == "new":
            words = draw(st.lists(st.sampled_from(VOCAB), min_size=20, max_size=80))
        docs.append(Doc(f"d{draw(st.integers(0, 999)):03}-{n}", " ".join(words)))
    signed = draw(st.lists(st.booleans(), min_size=len(docs), max_size=len(docs)))
    return docs, {d.path: signature(shingles(d.text)) for d, s in zip(docs, signed) if s}


@settings(max_examples=150, deadline=None)
@given(shards(), st.sampled_from([0.5, 0.8, 0.95]))
def test_same_documents_kept_and_dropped_as_a_sequential_pass(shard, threshold):
    docs, sigs = shard
    kept, dups = near_duplicates(docs, threshold, dict(sigs))
    want_kept, want_dups = reference(docs, threshold, dict(sigs))
    assert [d.path for d in kept] == [d.path for d in want_kept]
    assert [(d.path, p) for d, p in dups] == [(d.path, p) for d, p in want_dups]


def test_alone_means_no_band_in_common():
    a = signature(shingles(" ".join(VOCAB[:60])))
    b = signature(shingles(" ".join(VOCAB[:59] + ["other"])))  # one word changed: bands in common
    c = signature(shingles(" ".join(VOCAB[100:160])))
    assert _alone([a, b, c]) == [False, False, True]
    assert _alone([a]) == [True] and _alone([]) == []
