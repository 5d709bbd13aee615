"""Instance-level orthogonality: planted contamination is caught, clean samples are not."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proda.records import Item, Option, Sample, make
from proda.synth import orthogonality
from proda.synth.orthogonality import contaminated, words

STEM = ("Consider the process: how a buffer resists a pH change. Step 1: A strong acid is added to the "
        "buffer solution. Step 2: The added hydrogen ions react with the conjugate base. Which statement "
        "is the conclusion that follows from these steps?")
ANSWER = "The pH of the buffer solution decreases only slightly after the acid is added."  # 14 words


def item(stem: str = STEM, answer: str = ANSWER) -> Item:
    options = [Option(text=answer, operator="", reason=""),
               Option(text="The pH rises.", operator="inversion", reason="reversed")]
    return make(Item, discipline="chemistry", chain="c", doc="d", statements=[], concepts=[], variant="conclusion",
                split="dev", stem=stem, options=options, answer=0)


def sample(prompt: str, response: str = "Buffers resist change. Explanation: weak acids.") -> Sample:
    return make(Sample, discipline="chemistry", format="open", prompt=prompt, response=response, statements=[],
                concepts=[], origin="synth", source="")


CLEAN = sample("What does a buffer prevent?",
               "A buffer prevents large pH changes. Explanation: a buffer is a solution that resists changes in pH.")


def test_a_shared_13_gram_with_a_stem_is_caught():
    planted = sample("Explain buffers.", "Recall that a strong acid is added to the buffer solution. Step 2: The "
                     "added hydrogen ions react, as we saw.")
    found = contaminated([item()], [CLEAN, planted], 13)
    assert set(found) == {planted.key}
    f = found[planted.key]
    assert (f.kind, f.item, f.field) == ("run", item().key, "stem") and "13-word" in str(f)


def test_a_shared_n_gram_with_the_answer_is_caught_despite_case_and_punctuation():
    planted = sample("THE pH, of the BUFFER solution -- decreases only slightly: after the acid is ADDED!?")
    found = contaminated([item()], [planted, CLEAN], 13)
    assert set(found) == {planted.key} and found[planted.key].field == "answer"


def test_twelve_shared_words_are_not_thirteen():
    twelve = " ".join(words(STEM)[5:17])
    near = sample("Say why.", f"Indeed {twelve} quite.")
    assert contaminated([item()], [near], 13) == {}
    assert set(contaminated([item()], [near], 12)) == {near.key}


def test_a_prompt_equal_to_a_short_stem_is_caught():
    short = item(stem="Which gas do plants release?", answer="Oxygen.")
    same = sample("which gas do plants release")
    found = contaminated([short], [same, CLEAN], 13)
    assert set(found) == {same.key} and found[same.key].kind == "stem" and "equals the stem" in str(found[same.key])


def test_a_whole_answer_of_eight_words_or_more_is_caught_but_not_a_short_one():
    eight = item(stem="Short stem here?", answer="Warm moist air rises and cools into clouds.")
    five = item(stem="Another short stem?", answer="The pressure drops quickly.")
    holds_eight = sample("Weather.", "We know warm moist air rises and cools into clouds every day.")
    holds_five = sample("Weather.", "Here the pressure drops quickly, so what?")
    found = contaminated([eight, five], [holds_eight, holds_five], 13)
    assert set(found) == {holds_eight.key} and found[holds_eight.key].kind == "whole"
    assert "contains the whole answer" in str(found[holds_eight.key])
    partial = sample("Weather.", "Warm moist air rises and cools, forming fog.")
    assert contaminated([eight], [partial], 13) == {}


def test_the_numbered_parts_trick_is_caught():
    """The old debugger's ``_safe``: cut a quoted sentence into parts of at most n-1 words and number
    them "(1) ... (2) ...", so that no n-gram of the word-and-digit text survives while each part still
    carries the fact verbatim. Reduced to letters, the numbers are gone and the run is whole again."""
    parts = "(1) The pH of the buffer solution decreases only slightly (2) after the acid is added."
    for marker in (parts, parts.replace("(1)", "[1]").replace("(2)", "[2]"),
                   parts.replace("(1)", "(a)").replace("(2)", "(b)"), parts.replace("(1) ", "").replace("(2)", "2."),
                   parts.replace("(1) ", "A. ").replace("(2)", "\nB)"), parts.replace("(2)", "--/ 2 /--")):
        trick = sample(f"Recall the fact: {marker}")
        found = contaminated([item()], [trick, CLEAN], 13)
        assert set(found) == {trick.key}, marker
        assert found[trick.key].field == "answer" and found[trick.key].kind == "run"


def test_a_run_across_prompt_and_response_and_any_option_is_caught():
    across = sample("The pH of the buffer solution decreases only", "slightly after the acid is added.")
    assert set(contaminated([item()], [across], 13)) == {across.key}
    distractor = "The buffer solution turns bright blue because the added acid reacts with the indicator dye."
    it = make(Item, discipline="chemistry", chain="c", doc="d", statements=[], concepts=[], variant="conclusion",
              split="holdout", stem=STEM, answer=0,
              options=[Option(text=ANSWER, operator="", reason=""),
                       Option(text=distractor, operator="adjacency", reason="swapped")])
    quoting = sample("Why?", "Because " + distractor.lower())
    found = contaminated([it], [quoting], 13)
    assert set(found) == {quoting.key} and found[quoting.key].field == "option 2"


def test_counts_name_every_kind():
    found = contaminated([item()], [sample("Explain.", "so " + ANSWER)], 13)
    assert orthogonality.counts(found) == {"stem": 0, "run": 1, "whole": 0}


def test_many_batches_and_empty_inputs(monkeypatch):
    monkeypatch.setattr(orthogonality, "_BATCH", 3)
    samples = [sample(f"Question {i}?", f"Answer {i}.") for i in range(10)]
    planted = sample("Explain.", "so " + ANSWER)
    samples.insert(7, planted)
    assert set(contaminated([item()], samples, 13)) == {planted.key}
    assert contaminated([], samples, 13) == {} and contaminated([item()], [], 13) == {}
    assert contaminated([item()], [sample("", "")], 13) == {}


_TEXT = st.text(alphabet=st.sampled_from(list("aAbB iIvxzZ09_-.,;:()[]'\"\n\t\x00éÉøß“”—–½²İǅ\u0301")), max_size=40)


@settings(max_examples=300, deadline=None)
@given(st.lists(_TEXT, max_size=6))
def test_fast_tokeniser_agrees_with_words(texts):
    assert all(w.isalpha() and w == w.lower() or not w.isascii() for t in texts for w in words(t))
    hashes, lengths = orthogonality._tokenise(texts)
    expected = [words(t) for t in texts]
    assert lengths.tolist() == [len(w) for w in expected]
    seen: dict[str, int] = {}
    for word, h in zip((w for ws in expected for w in ws), hashes.tolist()):
        assert seen.setdefault(word, h) == h  # equal words hash equally, wherever they are
    assert len(set(seen.values())) == len(seen)


@pytest.mark.parametrize("n", [1, 3, 13])
def test_every_n(n):
    text = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi"
    probe = sample("q", " ".join(words(text)[:n]))
    found = contaminated([item(stem=text)], [probe], n)
    assert set(found) == {probe.key}
