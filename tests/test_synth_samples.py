"""synth samples: format mix, no ids in texts, explanations that justify and refute, windows, budgets."""

from __future__ import annotations

import random
import re
from collections import Counter

import pytest

from proda.config import BenchConfig, SynthConfig
from proda.errors import UsageError
from proda.records import Chain, Concept, Item, Sample, Span, Statement, Step, make
from proda.bench.items import items_for_chain
from proda.synth.orthogonality import contaminated
from proda.synth.samples import allocate_budget, budget_windows, format_of, samples_for_window, window_units

CFG = SynthConfig()


def chain(doc: str, discipline: str, steps: list[str]) -> Chain:
    return make(Chain, chunk=f"{doc}-c1", doc=doc, discipline=discipline, process=f"Process of {doc}",
                preconditions=[], steps=[Step(text=t, span=Span(start=200 * i, end=200 * i + len(t)))
                                         for i, t in enumerate(steps)])


def stmt(ch: Chain, subject: str, relation: str, obj: str, step: int) -> Statement:
    return make(Statement, chain=ch.key, chunk=ch.chunk, doc=ch.doc, discipline=ch.discipline, subject=subject,
                relation=relation, object=obj, quote=ch.steps[step].text,
                span=Span(start=200 * step, end=200 * step + 40), steps=[step])


def concept(discipline: str, name: str, category: str, definition: str, parents, aliases=()) -> Concept:
    return make(Concept, discipline=discipline, name=name, aliases=list(aliases), category=category,
                definition=definition, statements=sorted(s.key for s in parents))


BUFFER = chain("doc-buffers", "chemistry", [
    "A strong acid is added to the buffer solution.",
    "The added hydrogen ions react with the conjugate base.",
    "The conjugate base is converted into the weak acid.",
    "The pH of the buffer decreases only slightly."])
B_STMTS = [stmt(BUFFER, "strong acid", "increases", "hydrogen ions", 0),
           stmt(BUFFER, "hydrogen ions", "causes", "conjugate base", 1),
           stmt(BUFFER, "conjugate base", "produces", "weak acid", 2),
           stmt(BUFFER, "buffer", "prevents", "pH change", 3)]
B_CONCEPTS = [
    concept("chemistry", "strong acid", "chemical species", "an acid that dissociates almost completely", B_STMTS),
    concept("chemistry", "hydrogen ions", "chemical species", "protons in solution", B_STMTS,
            aliases=["hydrogen ion"]),
    concept("chemistry", "conjugate base", "chemical species", "what an acid leaves after losing a proton", B_STMTS),
    concept("chemistry", "weak acid", "chemical species", "an acid that dissociates only partially", B_STMTS),
    concept("chemistry", "buffer", "solution", "A buffer is a solution that resists changes in pH.", B_STMTS),
    concept("chemistry", "pH change", "quantity", "a shift in acidity", B_STMTS),
]
WATER = chain("doc-water", "earth_science", [
    "Solar energy heats the ocean surface.",
    "Rising water vapour cools and condenses into clouds.",
    "Clouds release precipitation that returns water to the surface."])
W_STMTS = [stmt(WATER, "solar energy", "increases", "evaporation", 0),
           stmt(WATER, "condensation", "produces", "clouds", 1),
           stmt(WATER, "clouds", "produces", "precipitation", 2)]
W_CONCEPTS = [concept("earth_science", n, "process", d, W_STMTS) for n, d in [
    ("solar energy", "radiant energy from the Sun"), ("evaporation", "liquid water turning into vapour"),
    ("condensation", "vapour turning into droplets"), ("clouds", "masses of water droplets"),
    ("precipitation", "water falling from clouds")]]

HEX = re.compile(r"\b[0-9a-f]{12,}\b")


def all_samples(statements, concepts, cfg=CFG) -> list[Sample]:
    return [s for unit in window_units(statements, cfg.window)
            for s in samples_for_window(unit, concepts, cfg, unit[0].discipline)]


_RELATIONS = ["causes", "increases", "decreases", "enables", "prevents", "produces", "requires", "is_a",
              "part_of", "precedes", "consists_of", "defined_as", "related_to"]


def many_statements(n: int, seed: int = 0) -> tuple[list[Statement], list[Concept]]:
    rng = random.Random(seed)
    words = [f"factor{i}" for i in range(60)]
    statements = []
    for k in range(n):
        ch = chain(f"doc{k // 10}", "synthetic", [f"Step about {k}.", f"Another step {k}."])
        a, b = rng.sample(words, 2)
        statements.append(stmt(ch, a, rng.choice(_RELATIONS), b, rng.randint(0, 1)))
    concepts = [concept("synthetic", w, "thing", f"the quantity called {w}", statements[:3]) for w in words]
    return statements, concepts


# --- formats --------------------------------------------------------------------------------------


def test_format_mix_follows_the_ratio_over_many_windows():
    statements, _ = many_statements(3000)
    units = window_units(statements, CFG.window)
    counts = Counter(format_of(u, CFG.mix) for u in units)
    total = sum(counts.values())
    for fmt, share in (("open", 0.6), ("mcq", 0.3), ("tf", 0.1)):
        assert abs(counts[fmt] / total - share) < 0.03, counts
    assert Counter(format_of(u, [1, 0, 0]) for u in units) == Counter(open=len(units))
    assert {format_of(u, [0, 2, 1]) for u in units} == {"mcq", "tf"}


def test_every_format_has_an_answer_then_an_explanation():
    statements, concepts = many_statements(400, seed=3)
    samples = all_samples(statements, concepts)
    assert {s.format for s in samples} == {"open", "mcq", "tf"}
    for s in samples:
        assert s.origin == "synth" and s.source == "" and s.discipline == "synthetic"
        head, explanation = s.response.split(" Explanation: ", 1)
        assert head and explanation.strip()
        if s.format == "mcq":
            letters = re.findall(r"^([A-H])\. ", s.prompt, re.M)
            assert len(letters) == CFG.mcq_options
            right = head[0]
            assert head.startswith(f"{right}. ")
            option_text = re.search(rf"^{right}\. (.*)$", s.prompt, re.M).group(1)
            assert head[3:].rstrip(".") == option_text
            for wrong in set(letters) - {right}:  # every distractor is refuted
                assert f"{wrong} is wrong because" in explanation
        elif s.format == "tf":
            assert head.split()[0] in ("True.", "False.")
            claim = s.prompt.removeprefix("True or false: ")
            truth = head.split(" ", 1)[1]
            assert (claim == truth) == head.startswith("True.")
            if head.startswith("False."):
                assert "wrong because" in explanation
            else:
                assert "is false" in explanation
        else:
            assert s.prompt.endswith("?") or s.prompt.endswith(".")


def test_open_sample_answers_with_the_relation_and_cites_definitions():
    unit = window_units(B_STMTS, 2)[0]
    sample = samples_for_window(unit, B_CONCEPTS, SynthConfig(mix=[1, 0, 0]), "chemistry")[0]
    assert sample.format == "open"
    assert sample.response.startswith("Strong acid increases hydrogen ions.")
    assert "dissociates almost completely" in sample.response  # a definition is cited
    assert "hydrogen ions causes conjugate base" in sample.response  # the window's other relation
    assert sample.statements == [s.key for s in unit]
    assert set(sample.concepts) <= {c.key for c in B_CONCEPTS} and sample.concepts


def test_mcq_distractors_come_from_the_window_or_relation_inversion():
    unit = window_units(B_STMTS, 2)[0]
    sample = samples_for_window(unit, B_CONCEPTS, SynthConfig(mix=[0, 1, 0]), "chemistry")[0]
    options = re.findall(r"^[A-H]\. (.*)$", sample.prompt, re.M)
    assert "Strong acid increases hydrogen ions" in options
    assert "Strong acid decreases hydrogen ions" in options  # inversion
    assert "it inverts the relation" in sample.response


def test_no_internal_ids_in_any_text():
    keys = set()
    statements, concepts = many_statements(300, seed=5)
    samples = all_samples(statements, concepts) + all_samples(B_STMTS, B_CONCEPTS) + all_samples(W_STMTS, W_CONCEPTS)
    for s in statements + B_STMTS + W_STMTS:
        keys |= {s.key, s.chain, s.doc, s.chunk}
    keys |= {c.key for c in concepts + B_CONCEPTS + W_CONCEPTS}
    for sample in samples:
        for text in (sample.prompt, sample.response):
            assert not HEX.search(text), text
            assert not any(k[:12] in text for k in keys if len(k) >= 12)


def test_samples_do_not_restate_benchmark_items():
    items = items_for_chain(BUFFER, B_STMTS, B_CONCEPTS, B_CONCEPTS, BenchConfig())
    items += items_for_chain(WATER, W_STMTS, W_CONCEPTS, W_CONCEPTS, BenchConfig())
    items = [i for i in items if isinstance(i, Item)]  # not the variants dropped (DroppedItem)
    assert items
    samples = []
    for mix in ([1, 0, 0], [0, 1, 0], [0, 0, 1]):
        cfg = SynthConfig(mix=mix)
        samples += all_samples(B_STMTS, B_CONCEPTS, cfg) + all_samples(W_STMTS, W_CONCEPTS, cfg)
    assert not any("Consider the process" in s.prompt for s in samples)
    stems = {i.stem for i in items}
    assert not any(s.prompt in stems for s in samples)
    assert contaminated(items, samples, CFG.ngram) == {}


def test_samples_are_deterministic():
    first = all_samples(B_STMTS + W_STMTS, B_CONCEPTS + W_CONCEPTS)
    again = all_samples(list(reversed(W_STMTS + B_STMTS)), list(reversed(B_CONCEPTS + W_CONCEPTS)))
    assert [s.key for s in first] == [s.key for s in again]


# --- windows and budgets ---------------------------------------------------------------------------


def test_windows_stay_in_one_document_and_focus_each_statement_once():
    units = window_units(W_STMTS + B_STMTS, 2)
    assert all(len({s.doc for s in u}) == 1 for u in units)
    assert sorted(u[0].key for u in units) == sorted(s.key for s in W_STMTS + B_STMTS)
    assert [len(u) for u in units if u[0].doc == BUFFER.doc] == [2, 2, 2, 2]
    assert units[3] == [B_STMTS[3], B_STMTS[2]]  # the last focus takes the statement before it
    assert window_units(list(reversed(B_STMTS + W_STMTS)), 2) == units
    # editing one document leaves the other document's windows as they were
    edited = [stmt(WATER, "clouds", "produces", "rain", 2)] + W_STMTS[:2]
    others = [u for u in units if u[0].doc == BUFFER.doc]
    assert [u for u in window_units(edited + B_STMTS, 2) if u[0].doc == BUFFER.doc] == others


def test_budget_windows_selects_a_stable_subset():
    statements, _ = many_statements(200, seed=9)
    units = window_units(statements, 2)
    assert budget_windows(units, 0, "s") == units and budget_windows(units, 10_000, "s") == units
    picked = budget_windows(units, 50, "seed")
    assert len(picked) == 50 and picked == budget_windows(units, 50, "seed")
    assert picked != budget_windows(units, 50, "other")
    assert all(u in units for u in picked)
    grown = budget_windows(units + [[statements[0], statements[5]]], 50, "seed")
    assert len([u for u in grown if u not in picked]) <= 1  # one more window changes at most one pick


def test_allocate_budget_uniform_and_error_proportional():
    assert allocate_budget(["b", "a", "c"], 10, None, "uniform") == {"a": 4, "b": 3, "c": 3}
    out = allocate_budget(["a", "b", "c"], 100, {"a": 0.6, "b": 0.3, "c": 0.1}, "error")
    assert out == {"a": 60, "b": 30, "c": 10}
    assert sum(allocate_budget(["a", "b", "c"], 101, {"a": 0.5, "b": 0.25, "c": 0.25}, "error").values()) == 101
    assert allocate_budget(["a", "b"], 10, None, "error") == {"a": 5, "b": 5}
    assert allocate_budget(["a", "b"], 10, {"a": 0.0, "b": 0.0}, "error") == {"a": 5, "b": 5}
    with pytest.raises(UsageError):
        allocate_budget(["a"], 10, None, "random")


def test_long_source_definitions_are_clipped_and_restated_never_copied():
    long_def = ("A buffer is a solution that resists changes in pH when small amounts of acid or base "
                "are added to it in the laboratory.")
    concepts = [c for c in B_CONCEPTS if c.name != "buffer"] + [
        concept("chemistry", "buffer", "solution", long_def, B_STMTS),
        concept("chemistry", "hydrogen ions", "chemical species",  # mentions, does not define
                "The added hydrogen ions react with the conjugate base in the buffer.", B_STMTS)]
    unit = window_units(B_STMTS, 2)[3]
    assert unit[0].subject == "buffer"
    for mix in ([1, 0, 0], [0, 1, 0], [0, 0, 1]):
        sample = samples_for_window(unit, concepts, SynthConfig(mix=mix), "chemistry")[0]
        assert "Buffer can be described as a solution that resists changes in pH" in sample.response
        source = " ".join(re.findall(r"\w+", long_def.lower()))
        text = re.findall(r"\w+", (sample.prompt + " " + sample.response).lower())
        assert not any(" ".join(text[i:i + CFG.ngram]) in source for i in range(len(text) - CFG.ngram + 1))
    open_ = samples_for_window(window_units(B_STMTS, 2)[1], concepts, SynthConfig(mix=[1, 0, 0]), "chemistry")[0]
    assert "react with the conjugate base" not in open_.response  # a mention is not a definition
