"""bench items: each distractor operator is wrong for its stated reason; order, balance, split."""

from __future__ import annotations

import random
import re

import pytest

from proda.config import BenchConfig
from proda.records import Chain, Concept, Item, Span, Statement, Step, make
from proda.bench.items import items_for_chain, split_of

# --- hand-built knowledge: two disciplines --------------------------------------------------------


def chain(doc: str, discipline: str, process: str, pre: list[str], steps: list[str]) -> Chain:
    return make(Chain, chunk=f"{doc}-c1", doc=doc, discipline=discipline, process=process, preconditions=pre,
                steps=[Step(text=t, span=Span(start=200 * i, end=200 * i + len(t))) for i, t in enumerate(steps)])


def stmt(ch: Chain, subject: str, relation: str, obj: str, steps: list[int]) -> Statement:
    return make(Statement, chain=ch.key, chunk=ch.chunk, doc=ch.doc, discipline=ch.discipline, subject=subject,
                relation=relation, object=obj, quote=" ".join(ch.steps[i].text for i in steps),
                span=Span(start=200 * steps[0], end=200 * steps[0] + 40), steps=steps)


def concept(discipline: str, name: str, category: str, definition: str, parents=(), aliases=()) -> Concept:
    return make(Concept, discipline=discipline, name=name, aliases=list(aliases), category=category,
                definition=definition, statements=sorted(s.key for s in parents))


BUFFER = chain("doc-buffers", "chemistry", "How a buffer resists a pH change",
               ["A buffer contains a weak acid and its conjugate base"],
               ["A strong acid is added to the buffer solution.",
                "The added hydrogen ions react with the conjugate base.",
                "The conjugate base is converted into the weak acid.",
                "The pH of the buffer decreases only slightly."])
B_STMTS = [stmt(BUFFER, "hydrogen ions", "causes", "conjugate base", [1]),
           stmt(BUFFER, "conjugate base", "produces", "weak acid", [2]),
           stmt(BUFFER, "buffer", "prevents", "pH change", [3]),
           stmt(BUFFER, "strong acid", "increases", "hydrogen ions", [0, 1])]
B_CONCEPTS = [
    concept("chemistry", "buffer", "solution", "a solution that resists changes in pH", [B_STMTS[2]]),
    concept("chemistry", "conjugate base", "chemical species", "what an acid leaves after losing a proton",
            B_STMTS[:2]),
    concept("chemistry", "weak acid", "chemical species", "an acid that dissociates only partially", [B_STMTS[1]]),
    concept("chemistry", "hydrogen ions", "chemical species", "protons in solution", [B_STMTS[0], B_STMTS[3]],
            aliases=["hydrogen ion"]),
    concept("chemistry", "pH", "quantity", "the negative logarithm of hydrogen ion concentration", [B_STMTS[2]]),
    concept("chemistry", "strong acid", "chemical species", "an acid that dissociates almost completely",
            [B_STMTS[3]]),
]
B_NEIGHBOURS = [concept("chemistry", n, c, d) for n, c, d in [
    ("catalyst", "substance", "a substance that speeds a reaction"),
    ("temperature", "quantity", "a measure of thermal energy"),
    ("hydroxide ions", "chemical species", "negatively charged ions of oxygen and hydrogen"),
]] + B_CONCEPTS

WATER = chain("doc-water", "earth_science", "The hydrologic cycle over the ocean", [],
              ["Solar energy heats the ocean surface.",
               "Warm water evaporates into water vapour.",
               "Rising water vapour cools and condenses into clouds.",
               "Clouds release precipitation that returns water to the surface."])
W_STMTS = [stmt(WATER, "solar energy", "increases", "evaporation", [0, 1]),
           stmt(WATER, "condensation", "produces", "clouds", [2]),
           stmt(WATER, "clouds", "produces", "precipitation", [3])]
W_CONCEPTS = [
    concept("earth_science", "solar energy", "energy", "radiant energy from the Sun", [W_STMTS[0]]),
    concept("earth_science", "clouds", "feature", "visible masses of water droplets", W_STMTS[1:], ["cloud"]),
    concept("earth_science", "precipitation", "process", "water falling from clouds", [W_STMTS[2]]),
]
W_NEIGHBOURS = [concept("earth_science", n, c, d) for n, c, d in [
    ("groundwater", "feature", "water held underground"),
    ("infiltration", "process", "the soaking of water into the ground"),
]] + W_CONCEPTS

CFG = BenchConfig()


def buffer_items(cfg: BenchConfig = CFG) -> list[Item]:
    return items_for_chain(BUFFER, B_STMTS, B_CONCEPTS, B_NEIGHBOURS, cfg)


def conclusion(items: list[Item]) -> Item:
    return next(i for i in items if i.variant == "conclusion")


def option(item: Item, operator: str):
    return next(o for o in item.options if o.operator == operator)


def answer(item: Item) -> str:
    return item.options[item.answer].text


# --- shape ---------------------------------------------------------------------------------------


def test_items_keep_provenance_and_shape():
    items = buffer_items()
    assert [i.variant for i in items] == ["conclusion", "middle"]
    for item in items:
        assert item.chain == BUFFER.key and item.doc == BUFFER.doc and item.discipline == "chemistry"
        assert item.statements == sorted(s.key for s in B_STMTS)
        assert item.concepts == sorted(c.key for c in B_CONCEPTS)
        assert len(item.options) == CFG.options
        assert [o.operator for o in item.options].count("") == 1 and item.options[item.answer].operator == ""
        assert sorted(o.operator for o in item.options if o.operator) == ["adjacency", "inversion", "truncation"]
        texts = [o.text.lower() for o in item.options]
        assert len(set(texts)) == len(texts)
        assert all(o.reason for o in item.options if o.operator)
    assert answer(items[0]) == BUFFER.steps[-1].text
    assert "decreases only slightly" not in items[0].stem  # the conclusion is what is asked
    # the middle variant hides the step it asks for and the conclusion (offered as truncation)
    assert "[missing]" in items[1].stem and BUFFER.steps[-1].text not in items[1].stem


def test_middle_variant_needs_three_steps_and_the_setting():
    two = chain("doc-x", "chemistry", "Short", [], ["Heat increases the rate.", "The reaction finishes sooner."])
    assert [i.variant for i in items_for_chain(two, [], [], [], CFG)] == ["conclusion"]
    assert [i.variant for i in buffer_items(BenchConfig(middle_items=False))] == ["conclusion"]
    hidden = answer([i for i in buffer_items() if i.variant == "middle"][0])
    assert hidden == BUFFER.steps[1].text


# --- one test per operator: wrong for the stated reason -------------------------------------------


def test_adjacency_puts_a_neighbour_of_the_same_category_in_place_of_a_key_concept():
    item = conclusion(buffer_items())
    distractor = option(item, "adjacency")
    # the answer's key concept is pH (a quantity); the same-category neighbour is temperature
    assert "pH" in answer(item) and "pH" not in distractor.text
    assert "temperature" in distractor.text.lower()
    assert distractor.text == answer(item).replace("pH", "temperature")
    assert "temperature" in distractor.reason and "pH" in distractor.reason


def test_adjacency_prefers_the_concept_of_the_answer_step_and_ignores_other_disciplines():
    middle = [i for i in buffer_items() if i.variant == "middle"][0]
    distractor = option(middle, "adjacency")
    assert distractor.text == "The added hydroxide ions react with the conjugate base."
    foreign = [concept("earth_science", "aardvark ions", "chemical species", "not chemistry")]
    items = items_for_chain(BUFFER, B_STMTS, B_CONCEPTS, foreign + B_NEIGHBOURS, CFG)
    assert all("aardvark" not in o.text for i in items for o in i.options)


def test_adjacency_follows_the_callers_order_so_other_documents_do_not_matter():
    later = [concept("chemistry", "pressure", "quantity", "force per area")]
    assert buffer_items() == items_for_chain(BUFFER, B_STMTS, B_CONCEPTS, B_NEIGHBOURS + later, CFG)


def test_inversion_reverses_the_relation_word():
    item = conclusion(buffer_items())
    distractor = option(item, "inversion")
    assert "decreases" in answer(item)
    assert "increases" in distractor.text and "decreases" not in distractor.text
    assert distractor.text == answer(item).replace("decreases", "increases")
    assert "'increases'" in distractor.reason and "'decreases'" in distractor.reason


def test_inversion_swaps_subject_and_object_or_negates_when_no_polarity_word():
    middle = [i for i in buffer_items() if i.variant == "middle"][0]
    distractor = option(middle, "inversion")  # "hydrogen ions causes conjugate base" has no polarity word
    assert distractor.text == "The added conjugate base react with the hydrogen ions."
    assert "swaps subject and object" in distractor.reason
    plain = chain("doc-n", "chemistry", "Neutral", [], ["A sample is prepared.", "The sample is stable today."])
    inv = option(items_for_chain(plain, [], [], [], CFG)[0], "inversion")
    assert inv.text in ("The sample is unstable today.", "The sample is not stable today.")
    causal = chain("doc-c", "chemistry", "Causal", [], ["A spark forms.", "The spark causes the fire."])
    inv = option(items_for_chain(causal, [], [], [], CFG)[0], "inversion")
    assert inv.text == "The spark is caused by the fire." and "causal direction" in inv.reason
    negated = chain("doc-m", "chemistry", "Negated", [], ["Water is added.", "The salt does not dissolve."])
    inv = option(items_for_chain(negated, [], [], [], CFG)[0], "inversion")
    assert inv.text == "The salt does dissolve." and "negation" in inv.reason


def test_truncation_offers_an_intermediate_step_the_stem_does_not_show():
    item = conclusion(buffer_items())
    distractor = option(item, "truncation")
    intermediate = [s.text for s in BUFFER.steps[:-1]]
    assert distractor.text in intermediate
    # not copyable from the stem: a scorer cannot prefer it by repeating its context
    assert distractor.text not in item.stem
    assert "intermediate step" in distractor.reason and "not its conclusion" in distractor.reason


# --- determinism, balance, split -------------------------------------------------------------------


def test_option_order_is_deterministic_and_input_order_free():
    first = buffer_items()
    again = items_for_chain(BUFFER, list(reversed(B_STMTS)), list(reversed(B_CONCEPTS)), B_NEIGHBOURS, CFG)
    assert first == again and [i.key for i in first] == [i.key for i in again]
    water = items_for_chain(WATER, W_STMTS, W_CONCEPTS, W_NEIGHBOURS, CFG)
    assert water == items_for_chain(WATER, W_STMTS, W_CONCEPTS, W_NEIGHBOURS, CFG)
    assert {i.discipline for i in water} == {"earth_science"}


_SUBJECTS = ["the enzyme", "the catalyst", "the solvent", "the membrane", "the current", "the pressure",
             "the glacier", "the magma", "the protein", "the signal", "the population", "the market price"]
_VERBS = ["increases", "decreases", "enables", "prevents", "causes", "produces", "raises", "lowers",
          "converts", "binds", "moves toward", "depends on"]
_TAILS = ["", " during the reaction", " at high temperature", " over several weeks", " in the cell",
          " within the sample", " when the load grows"]


def _synthetic(rng: random.Random, k: int) -> tuple[Chain, list[Statement], list[Concept], list[Concept]]:
    """A random chain of "<A> <verb> <B><tail>." steps, with one statement per step (as the extractor makes)."""
    names = rng.sample(_SUBJECTS, 6)
    steps, triples = [], []
    for i in range(rng.randint(2, 5)):
        a, b = rng.sample(names, 2)
        verb = rng.choice(_VERBS)
        steps.append(f"{a[0].upper() + a[1:]} {verb} {b}{rng.choice(_TAILS)}.")
        triples.append((a.removeprefix("the "), verb, b.removeprefix("the "), i))
    ch = chain(f"doc{k}", "synthetic", f"Process {k}", [], steps)
    relation = {"increases": "increases", "raises": "increases", "decreases": "decreases", "lowers": "decreases",
                "enables": "enables", "prevents": "prevents", "causes": "causes", "produces": "produces",
                "depends on": "requires"}
    statements = [stmt(ch, a, relation.get(v, "related_to"), b, [i]) for a, v, b, i in triples]
    concepts = [concept("synthetic", n.removeprefix("the "), f"cat{j % 2}", f"definition of {n}")
                for j, n in enumerate(names)]
    return ch, statements, concepts[:4], concepts


def test_option_lengths_are_balanced_over_many_items():
    rng = random.Random(7)
    diffs, signed, lengths, positions = [], [], [], []
    for k in range(300):
        ch, st, cs, nb = _synthetic(rng, k)
        for item in items_for_chain(ch, st, cs, nb, CFG):
            right = len(answer(item))
            lengths.append(right)
            positions.append(item.answer)
            for o in item.options:
                if o.operator:
                    diffs.append(abs(len(o.text) - right))
                    signed.append(len(o.text) - right)
    mean_len = sum(lengths) / len(lengths)
    assert sum(diffs) / len(diffs) < 0.25 * mean_len
    assert abs(sum(signed) / len(signed)) < 0.10 * mean_len  # not systematically longer or shorter
    assert {positions.count(p) / len(positions) > 0.15 for p in range(CFG.options)} == {True}


def test_split_is_deterministic_and_follows_the_ratio():
    keys = [f"{i:032x}" for i in range(4000)]
    assert [split_of(k, 0.5) for k in keys] == [split_of(k, 0.5) for k in keys]
    share = sum(split_of(k, 0.3) == "holdout" for k in keys) / len(keys)
    assert 0.26 < share < 0.34
    assert {split_of(k, 0.0) for k in keys} == {"dev"} and {split_of(k, 1.0) for k in keys} == {"holdout"}
    assert {i.split for i in buffer_items()} == {split_of(BUFFER.key, CFG.holdout)}


@pytest.mark.parametrize("options", [2, 3, 5])
def test_option_count_follows_config(options):
    for item in buffer_items(BenchConfig(options=options)):
        assert len(item.options) == options
        assert len({re.sub(r"\W+", " ", o.text.lower()) for o in item.options}) == options
