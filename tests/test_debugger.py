"""Debugger logic on a hand-built chemistry chain: probes, diagnosis, patch samples, replay."""

from __future__ import annotations

import re

import pytest

from proda.debugger import diagnosis as DIAG, patch as PATCH, probes as PROBES, replay as REPLAY
from proda.records import (Chain, Concept, Diagnosis, Item, Option, Sample, Span, Statement, Step,
                           make)

SP = Span(start=0, end=1)
STEPS = [
    "A buffer consists of a weak acid and its conjugate base in comparable amounts.",
    # 24 words: longer than the 13-word contamination window, so it must be quoted in parts
    "When a strong acid is added, the extra hydrogen ions react with the conjugate base, "
    "which converts the conjugate base into the weak acid.",
    "Most of the added hydrogen ions are consumed by this reaction.",
    "The pH of the buffer falls only slightly.",
]
PRE = ["A strong acid is added to a buffer solution"]
CHAIN = make(Chain, chunk="k1", doc="d1", discipline="chemistry",
             process="Buffer action against added acid", preconditions=PRE,
             steps=[Step(text=t, span=SP) for t in STEPS])


def _st(subject: str, relation: str, obj: str, steps: list[int]) -> Statement:
    return make(Statement, chain=CHAIN.key, chunk="k1", doc="d1", discipline="chemistry",
                subject=subject, relation=relation, object=obj, quote="(source sentence)", span=SP,
                steps=steps)


STATEMENTS = [
    _st("buffer", "consists_of", "weak acid", [0, 1]),
    _st("hydrogen ions", "produces", "weak acid", [1, 2]),
    _st("conjugate base", "decreases", "hydrogen ions", [1, 2]),
    _st("consumption of hydrogen ions", "decreases", "pH change", [2, 3]),
]


def _c(name: str, category: str, definition: str, statements: list[Statement]) -> Concept:
    return make(Concept, discipline="chemistry", name=name, aliases=[], category=category,
                definition=definition, statements=sorted(s.key for s in statements))


CONCEPTS = [
    _c("buffer", "solution", "A buffer is a solution that resists changes in pH when small "
       "amounts of acid or base are added", [STATEMENTS[0]]),
    _c("weak acid", "substance", "an acid that dissociates only partially in water",
       STATEMENTS[:2]),
    _c("conjugate base", "substance", "the species that forms when an acid loses a proton",
       [STATEMENTS[2]]),
    _c("hydrogen ions", "substance", "positively charged protons that make a solution acidic",
       STATEMENTS[1:3]),
]
NEIGHBOURS = [
    _c("strong acid", "substance", "an acid that dissociates almost completely in water", []),
    _c("strong base", "substance", "a base that releases hydroxide ions completely in water", []),
    _c("pH scale", "measure", "a logarithmic scale of hydrogen ion concentration", []),
]
# a stem quoting the premise and the steps verbatim, as a benchmark item may
STEM = " ".join([PRE[0] + ".", *STEPS[:3], "What is the outcome?"])
OPTIONS = [
    Option(text=STEPS[3], operator="", reason=""),
    Option(text="The pH of the buffer rises only slightly.", operator="inversion",
           reason="it reverses the direction of the pH change"),
    Option(text=STEPS[2], operator="truncation", reason="it is an intermediate step"),
    Option(text="The pH of the strong base falls only slightly.", operator="adjacency",
           reason="it swaps the buffer for a strong base"),
]
ITEM = make(Item, discipline="chemistry", chain=CHAIN.key, doc="d1",
            statements=[s.key for s in STATEMENTS], concepts=[c.key for c in CONCEPTS],
            variant="conclusion", split="dev", stem=STEM, options=OPTIONS, answer=0)
# the chain's other item: the middle step asked for, steps around it quoted back to back
MIDDLE_STEM = " ".join([PRE[0] + ".", STEPS[0], STEPS[2], STEPS[3], "Which step is missing?"])
HEX_ID = re.compile(r"\b[0-9a-f]{16,}\b")


# --- a local contamination checker, written independently of proda's --------------------------

def grams(text: str, n: int = 13) -> set[tuple[str, ...]]:
    """Word n-grams of the text reduced to letters (numbers and markers cannot break a run)."""
    text = re.sub(r"[(\[]\s*(?:\d+|[a-z]|[ivx]+)\s*[)\]]", " ", text.lower())
    toks = re.findall(r"[a-z]+", text)
    return {tuple(toks[i:i + n]) for i in range(len(toks) - n + 1)}


def contaminated(sample: Sample, texts: list[str], n: int = 13) -> bool:
    banned = set().union(*(grams(t, n) for t in texts))
    return bool(grams(sample.prompt + " " + sample.response, n) & banned)


# --- probes ----------------------------------------------------------------------------------------

def probes() -> list[PROBES.Probe]:
    return PROBES.probes_for_item(ITEM, CHAIN, STATEMENTS, CONCEPTS, NEIGHBOURS, ngram=13)


def test_probes_come_from_the_items_own_nodes_and_never_its_stem():
    ps = probes()
    assert 2 <= len(ps) <= 10
    assert {p.kind for p in ps} == {"concept", "statement"}
    own = set(ITEM.statements) | set(ITEM.concepts)
    for p in ps:
        text = " ".join([p.stem, *p.options])
        assert p.node in own and set(p.concepts) <= set(ITEM.concepts)
        assert ITEM.stem not in text and not grams(text) & grams(ITEM.stem)
        assert not {o.text for o in ITEM.options} & set(p.options)
        assert 2 <= len(p.options) <= 4 and 0 <= p.answer < len(p.options)
        assert len({o.lower() for o in p.options}) == len(p.options)
    assert ps == probes()  # deterministic


def test_concept_probe_asks_for_the_term_with_same_category_distractors():
    weak = next(p for p in probes() if p.node == CONCEPTS[1].key)
    assert weak.kind == "concept" and weak.options[weak.answer] == "weak acid"
    assert "dissociates only partially" in weak.stem
    by_name = {c.name: c for c in CONCEPTS + NEIGHBOURS}
    assert {by_name[o].category for o in weak.options} == {"substance"}


def test_concept_probe_masks_the_name_in_its_definition():
    buffer = PROBES.probes_for_item(ITEM, CHAIN, STATEMENTS, CONCEPTS[:1], NEIGHBOURS, ngram=13)[0]
    assert buffer.kind == "concept" and buffer.options[buffer.answer] == "buffer"
    assert "buffer" not in buffer.stem.lower()


def test_statement_probe_has_the_true_object_against_others():
    p = next(p for p in probes() if p.node == STATEMENTS[0].key)
    assert p.stem == "What does buffer consist of?" and p.options[p.answer] == "weak acid"
    assert set(p.concepts) == {CONCEPTS[0].key, CONCEPTS[1].key}


def test_blind_flags_catch_probes_answerable_from_the_options():
    def probe(stem, options, answer=0):
        return PROBES.Probe(key="k", node="n", kind="statement", stem=stem, options=options, answer=answer)

    assert PROBES.blind_flags(probe("What does a buffer resist?", ["pH changes", "heat", "light"])) == []
    assert PROBES.blind_flags(probe("Which of these, the weak acid, is weak?", ["weak acid", "salt", "ion"])) == [
        "answer named in the stem", "answer is the only option sharing a word with the stem"]
    assert PROBES.blind_flags(probe("What does insulin lower?", ["blood glucose", "glucagon", "insulin receptor"]))\
        == []  # a distractor shares the stem's word too


# --- diagnosis -------------------------------------------------------------------------------------

def test_probes_far_below_the_base_rate_are_a_concept_gap_on_the_failed_nodes():
    ps = probes()
    d = DIAG.diagnose(ITEM, 3, "ckpt", ps, [False] * len(ps), base=0.8)
    assert d.label == "concept_gap" and d.item == ITEM.key and d.chain == CHAIN.key
    assert d.nodes[0] == ps[0].node and set(ps[0].concepts) <= set(d.nodes)
    assert d.confused_with == OPTIONS[3].text
    ev = d.evidence
    assert (ev["probes"], ev["correct"], ev["base_rate"]) == (len(ps), 0, 0.8)
    assert ev["p_below_base"] == pytest.approx(0.2 ** len(ps), abs=1e-4) and ev["p_below_base"] <= 0.1
    assert d.key == make(Diagnosis, **{f: getattr(d, f) for f in d.__struct_fields__
                                       if f != "key"}).key


def test_one_failed_probe_is_no_longer_enough_for_a_concept_gap():
    """The old rule ("any failed probe is a concept gap") labelled almost everything a gap."""
    ps = probes()
    one_wrong = [i != 0 for i in range(len(ps))]
    assert DIAG.diagnose(ITEM, 3, "ckpt", ps, one_wrong, base=0.6).label != "concept_gap"


def test_probes_well_above_chance_are_a_reasoning_deficit_on_the_chain():
    ps = probes()
    d = DIAG.diagnose(ITEM, 2, "ckpt", ps, [True] * len(ps), base=0.5)
    assert d.label == "reasoning_deficit" and d.nodes == ITEM.statements
    assert d.confused_with == STEPS[2] and d.evidence["p_above_chance"] <= 0.1


def test_too_few_probes_or_middling_results_are_undetermined():
    ps = probes()
    few = DIAG.diagnose(ITEM, 2, "ckpt", ps[:2], [False, False], base=0.9, min_probes=3)
    assert few.label == "undetermined" and "fewer than 3" in few.evidence["why"]
    assert set(few.nodes) == set(ITEM.statements) | set(ITEM.concepts)
    half = [i % 2 == 0 for i in range(len(ps))]
    assert DIAG.diagnose(ITEM, 2, "ckpt", ps, half, base=0.7).label == "undetermined"  # between the two
    assert DIAG.diagnose(ITEM, 2, "ckpt", [], [], base=0.5).label == "undetermined"


def test_the_tail_probabilities_are_exact():
    assert DIAG.binomial_cdf(0, 6, 0.34) == pytest.approx(0.66 ** 6)
    assert DIAG.binomial_cdf(6, 6, 0.34) == pytest.approx(1.0)
    assert DIAG.poisson_binomial_sf(2, [0.5, 0.5]) == pytest.approx(0.25)
    assert DIAG.poisson_binomial_sf(1, [0.25, 0.5]) == pytest.approx(1 - 0.75 * 0.5)
    assert DIAG.poisson_binomial_sf(0, [0.3]) == pytest.approx(1.0)


def test_diagnose_rejects_inconsistent_input():
    ps = probes()
    with pytest.raises(ValueError):
        DIAG.diagnose(ITEM, 0, "ckpt", ps, [True] * len(ps), base=0.5)  # answered correctly
    with pytest.raises(ValueError):
        DIAG.diagnose(ITEM, 1, "ckpt", ps, [True], base=0.5)
    with pytest.raises(ValueError):
        DIAG.diagnose(ITEM, 1, "ckpt", ps, [True] * len(ps), base=1.5)


def test_confused_concepts_are_the_swapped_in_neighbours():
    assert [c.name for c in DIAG.confused_concepts(ITEM, 3, CONCEPTS + NEIGHBOURS)] == ["strong base"]
    assert DIAG.confused_concepts(ITEM, 2, CONCEPTS + NEIGHBOURS) == []  # truncation: a step


# --- patch samples -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("n", "mix", "want"), [
    (20, [6, 3, 1], [12, 6, 2]), (10, [6, 3, 1], [6, 3, 1]), (7, [6, 3, 1], [4, 2, 1]),
    (0, [6, 3, 1], [0, 0, 0]), (5, [1, 1, 1], [2, 2, 1]), (3, [0, 1, 0], [0, 3, 0]),
])
def test_mix_counts(n, mix, want):
    assert PATCH.mix_counts(n, mix) == want


def test_mix_counts_always_sum_to_n():
    for n in range(60):
        assert sum(PATCH.mix_counts(n, [6, 3, 1])) == n


def diagnosis(label: str, chosen: int) -> Diagnosis:
    ps = probes()
    if label == "reasoning_deficit":
        return DIAG.diagnose(ITEM, chosen, "ckpt", ps, [True] * len(ps), base=0.5)
    if label == "undetermined":
        return DIAG.diagnose(ITEM, chosen, "ckpt", ps[:1], [False], base=0.5)
    return DIAG.diagnose(ITEM, chosen, "ckpt", ps, [False] * len(ps), base=0.8)


def patch(label: str, chosen: int, **kw) -> list[Sample]:
    d = diagnosis(label, chosen)
    confused = DIAG.confused_concepts(ITEM, chosen, CONCEPTS + NEIGHBOURS)
    return PATCH.patch_samples(d, ITEM, CHAIN, STATEMENTS, CONCEPTS + NEIGHBOURS, confused,
                               kw.pop("n", 20), kw.pop("mix", [6, 3, 1]), "0001-debug.jsonl",
                               **{"ngram": 13, **kw})


CASES = [(label, chosen) for label in DIAG.LABELS for chosen in (1, 2, 3)]
KNOWN = {s.key for s in STATEMENTS} | {c.key for c in CONCEPTS + NEIGHBOURS}


@pytest.mark.parametrize(("label", "chosen"), CASES)
def test_patch_has_the_exact_mix_and_provenance(label, chosen):
    samples = patch(label, chosen)
    assert [sum(s.format == f for s in samples) for f in PATCH.FORMATS] == [12, 6, 2]
    assert len({s.key for s in samples}) == 20 and len({s.prompt for s in samples}) == 20
    for s in samples:
        assert (s.origin, s.source, s.discipline) == ("patch", "0001-debug.jsonl", "chemistry")
        assert s.statements or s.concepts
        assert set(s.statements) | set(s.concepts) <= KNOWN  # what it teaches, by key
        assert not HEX_ID.search(s.prompt + s.response)  # no internal ids
        assert s.key == make(Sample, **{f: getattr(s, f) for f in s.__struct_fields__
                                        if f != "key"}).key
    assert samples == patch(label, chosen)  # deterministic


@pytest.mark.parametrize(("label", "chosen"), CASES)
def test_patch_never_repeats_the_stem_a_step_or_an_option_even_in_parts(label, chosen):
    """New wording: not even an 8-word run of a chain step, the stem or any option, on text
    reduced to letters (so numbered parts would not pass either)."""
    texts = [ITEM.stem, MIDDLE_STEM, *STEPS, *PRE, *(o.text for o in ITEM.options)]
    for s in patch(label, chosen):
        assert not contaminated(s, texts, 8), s


def test_safe_quoting_is_gone():
    from proda.debugger import wording

    assert not hasattr(wording, "safe_quote") and not hasattr(PATCH, "_Ctx")


def test_candidates_breaking_the_rule_are_dropped_and_counted():
    from proda.synth.orthogonality import Rule

    clean = patch("concept_gap", 3)
    # another item (of any split) whose option is exactly what one patch sample says at length
    victim = next(s for s in clean if len(s.response.split()) >= 14)
    other = make(Item, discipline="chemistry", chain="c2", doc="d2", statements=[], concepts=[],
                 variant="conclusion", split="holdout", stem="Unrelated stem?", answer=0,
                 options=[Option(text="A short answer.", operator="", reason=""),
                          Option(text=victim.response, operator="adjacency", reason="")])
    dropped: dict[str, int] = {}
    again = patch("concept_gap", 3, rule=Rule([ITEM, other], 13), dropped=dropped)
    assert victim not in again and dropped.get("run", 0) + dropped.get("whole", 0) >= 1
    assert len(again) == 20  # another candidate took its place


def test_adjacency_gap_contrasts_the_confused_concept():
    samples = patch("concept_gap", 3)
    both = [s for s in samples if "strong base" in s.prompt + s.response
            and "buffer" in s.prompt + s.response]
    assert len(both) >= 3
    assert any(s.format == "tf" and s.response.startswith("False") and "strong base" in s.prompt
               for s in samples)


def test_inversion_teaches_the_direction_of_the_links_behind_the_answer():
    samples = patch("concept_gap", 1)
    assert any("increases" in s.prompt and "decreases" in s.prompt for s in samples if s.format == "mcq")
    assert any("pH change" in s.prompt + s.response for s in samples)


def test_reasoning_deficit_composes_the_relations_in_varied_wordings():
    samples = patch("reasoning_deficit", 2)
    text = " ".join(s.prompt + " " + s.response for s in samples)
    assert "In turn," in text or "Then," in text
    opens = [s.prompt for s in samples if s.format == "open"]
    assert len({p.split()[0] for p in opens}) >= 4  # not one template with slots refilled
    mcq = [s for s in samples if s.format == "mcq"]
    assert all("\n(a) " in s.prompt and "\n(b) " in s.prompt for s in mcq)
    assert {s.response.split(".")[0] for s in samples if s.format == "tf"} <= {"True", "False"}


def test_a_small_chain_yields_fewer_samples_rather_than_duplicates():
    chain = make(Chain, chunk="k2", doc="d1", discipline="chemistry", process="Dilution",
                 preconditions=[], steps=[Step(text="Water is added.", span=SP),
                                          Step(text="The concentration drops.", span=SP)])
    st = make(Statement, chain=chain.key, chunk="k2", doc="d1", discipline="chemistry",
              subject="water", relation="decreases", object="concentration", quote="q", span=SP,
              steps=[0, 1])
    item = make(Item, discipline="chemistry", chain=chain.key, doc="d1", statements=[st.key],
                concepts=[], variant="conclusion", split="dev", stem="Water is added. Then?",
                options=[Option(text="The concentration drops.", operator="", reason=""),
                         Option(text="The concentration rises.", operator="inversion", reason="")],
                answer=0)
    d = DIAG.diagnose(item, 1, "ckpt", [], [], base=0.5)
    samples = PATCH.patch_samples(d, item, chain, [st], [], [], 60, [6, 3, 1], "p.jsonl", ngram=13)
    counts = [sum(s.format == f for s in samples) for f in PATCH.FORMATS]
    assert 0 < len(samples) < 60 and all(c <= w for c, w in zip(counts, [36, 18, 6]))
    assert len({s.prompt for s in samples}) == len(samples)


def test_patch_rejects_bad_arguments():
    d = diagnosis("concept_gap", 3)
    with pytest.raises(ValueError):
        PATCH.patch_samples(d, ITEM, CHAIN, STATEMENTS, CONCEPTS, [], 20, [6, 3, 1], "", ngram=13)
    with pytest.raises(ValueError):
        PATCH.patch_samples(d, ITEM, CHAIN, STATEMENTS, CONCEPTS, [], 20, [0, 0, 0], "p.jsonl", ngram=13)


# --- replay and error rates --------------------------------------------------------------------------

def original(i: int, statements: list[str]) -> Sample:
    return make(Sample, discipline="chemistry", format="open", prompt=f"Question {i}?",
                response=f"Answer {i}.", statements=statements, concepts=[], origin="synth",
                source="")


def test_replay_leaves_out_originals_sharing_a_statement_with_the_patch():
    samples = patch("reasoning_deficit", 2)
    used = STATEMENTS[0].key
    originals = [original(i, [used] if i % 3 == 0 else [f"other{i}"]) for i in range(60)]
    replay = REPLAY.replay_samples(originals, samples, 0.5, "seed")
    assert len(replay) == 10
    by_key = {o.key: o for o in originals}
    for r in replay:
        assert r.origin == "replay" and r.source == "0001-debug.jsonl"
        assert r.key in by_key and by_key[r.key].prompt == r.prompt  # same content, same key
        assert used not in r.statements
    assert replay == REPLAY.replay_samples(originals[::-1], samples, 0.5, "seed")  # order-free
    assert {r.key for r in replay} != {r.key for r in REPLAY.replay_samples(originals, samples, 0.5,
                                                                       "other seed")}


def test_replay_count_rounds_and_is_capped_by_the_eligible_pool():
    samples = patch("reasoning_deficit", 2)
    originals = [original(i, []) for i in range(5)]
    assert len(REPLAY.replay_samples(originals, samples, 0.5, "s")) == 5
    assert REPLAY.replay_samples(originals, samples, 0.0, "s") == []
    assert len(REPLAY.replay_samples([original(i, []) for i in range(40)], samples[:3], 0.5, "s")) == 2


def test_replay_protects_what_the_patch_may_disturb_first():
    samples = patch("reasoning_deficit", 2)
    originals = [original(i, [f"s{i}"]) for i in range(40)]
    originals = [make(Sample, **{**{f: getattr(o, f) for f in o.__struct_fields__ if f != "key"},
                                 "concepts": ["near"] if i % 4 == 1 else []}) for i, o in enumerate(originals)]
    replay = REPLAY.replay_samples(originals, samples, 0.5, "seed", passed={"s0", "s1", "s2"},
                                   neighbours={"near"})
    statements = [r.statements[0] for r in replay]
    assert statements[0] == "s1"  # both behind a passed item and near the patch
    assert set(statements[1:3]) == {"s0", "s2"}  # behind a passed item
    assert all(r.concepts == ["near"] for r in replay[3:10])  # then the neighbours


def test_error_rates_per_discipline():
    ps = probes()
    d1 = DIAG.diagnose(ITEM, 1, "ckpt", ps, [True] * len(ps), base=0.5)
    d2 = DIAG.diagnose(ITEM, 2, "ckpt", ps, [True] * len(ps), base=0.5)  # same item: counted once
    rates = DIAG.error_rates([d1, d2], {"chemistry": 4, "physics": 10, "history": 0})
    assert rates == {"chemistry": 0.25, "history": 0.0, "physics": 0.0}
    with pytest.raises(ValueError):
        DIAG.error_rates([d1], {"physics": 3})


# --- the LLM judge (debug.diagnosis = "llm") ------------------------------------------------------

def test_the_llm_judge_labels_failures_through_the_cache(tmp_path):
    from fake_openai import FakeOpenAI

    from proda.debugger import judge as JUDGE
    from proda.debugger.run import Plan
    from proda.project import Project, init_project

    init_project(tmp_path / "p")
    ps = probes()
    plan = Plan(ITEM, CHAIN, STATEMENTS, CONCEPTS, NEIGHBOURS, ps, [True] * len(ps))
    with FakeOpenAI() as server:
        (tmp_path / "p" / "specs" / "proda.toml").write_text(
            f'[llm]\nbackend = "openai"\nmodel = "judge"\nbase_url = "{server.url}"\n[debug]\ndiagnosis = "llm"\n')
        project = Project.at(tmp_path / "p")
        first = JUDGE.judge(project, "ckpt", [(plan, 3)], 0.4)
        again = JUDGE.judge(project, "ckpt", [(plan, 3)], 0.4)
        calls = server.total
    [d] = first
    assert d.label == "concept_gap" and d.nodes == [STATEMENTS[0].key]  # node 1; 99 is out of range
    assert d.evidence["method"] == "llm" and d.evidence["reason"] == "it confuses node 1"
    assert d.evidence["probes"] == len(ps) and d.confused_with == OPTIONS[3].text
    assert again == first and calls == 1  # the second run is served by the LLM cache


def test_the_llm_judge_needs_an_llm_backend(tmp_path):
    from proda.debugger import judge as JUDGE
    from proda.errors import UsageError
    from proda.project import Project, init_project

    init_project(tmp_path / "p")
    with pytest.raises(UsageError, match="needs an LLM"):
        JUDGE.judge(Project.at(tmp_path / "p"), "ckpt", [], 0.5)


def test_positive_lessons_state_nothing_false():
    samples = patch("concept_gap", 3, lessons="positive")
    assert samples and all(s.format in PATCH.FORMATS for s in samples)
    for s in samples:
        text = s.prompt + " " + s.response
        assert not s.response.startswith("False") and "strong base" not in text, s
        assert "increases pH change" not in text  # the inverted claim is never spelled out
    contrast = patch("concept_gap", 3)
    assert any("strong base" in s.prompt + s.response for s in contrast)
    with pytest.raises(ValueError):
        patch("concept_gap", 3, lessons="other")


def test_paraphrases_state_each_relation_in_other_words():
    plain = patch("reasoning_deficit", 2, n=60)
    more = patch("reasoning_deficit", 2, n=60, paraphrases=3)
    said = " ".join(s.prompt + " " + s.response for s in more)
    assert "lowers" in said or "reduces" in said  # "decreases" said another way
    assert len({s.prompt for s in more} - {s.prompt for s in plain}) >= 3
    texts = [ITEM.stem, MIDDLE_STEM, *STEPS, *PRE, *(o.text for o in ITEM.options)]
    assert not any(contaminated(s, texts, 8) for s in more)
