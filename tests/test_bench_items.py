"""bench items: symmetric option sets from the three operators, fluent edits that say why they are
wrong, stems that state each premise once, and option-only baselines at chance."""

from __future__ import annotations

import random
import re

import msgspec
import pytest

from proda.bench import baselines, options
from proda.bench.edits import Pool, adjacency, article_for, inversion, pluralise, singularise
from proda.bench.items import items_for_chain, items_for_document
from proda.config import BenchConfig
from proda.records import Chain, Concept, DroppedItem, Item, Span, Statement, Step, make
from proda.text.relations import OPPOSITE_VERBS

# --- hand-built knowledge --------------------------------------------------------------------------


def chain(doc: str, discipline: str, process: str, pre: list[str], steps: list[str]) -> Chain:
    return make(Chain, chunk=f"{doc}-c1", doc=doc, discipline=discipline, process=process, preconditions=pre,
                steps=[Step(text=t, span=Span(start=200 * i, end=200 * i + len(t))) for i, t in enumerate(steps)])


def stmt(ch: Chain, subject: str, relation: str, obj: str, steps: list[int]) -> Statement:
    return make(Statement, chain=ch.key, chunk=ch.chunk, doc=ch.doc, discipline=ch.discipline, subject=subject,
                relation=relation, object=obj, quote=" ".join(ch.steps[i].text for i in steps),
                span=Span(start=200 * steps[0], end=200 * steps[0] + 40), steps=steps)


def concept(discipline: str, name: str, category: str, parents=(), aliases=()) -> Concept:
    return make(Concept, discipline=discipline, name=name, aliases=list(aliases), category=category,
                definition=f"what {name} is", statements=sorted(s.key for s in parents))


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
B_CONCEPTS = [concept("chemistry", "buffer", "mixture", B_STMTS[2:3]),
              concept("chemistry", "conjugate base", "species", B_STMTS[:2]),
              concept("chemistry", "weak acid", "species", B_STMTS[1:2]),
              concept("chemistry", "hydrogen ions", "species", [B_STMTS[0], B_STMTS[3]], ["hydrogen ion"]),
              concept("chemistry", "pH", "quantity", B_STMTS[2:3]),
              concept("chemistry", "strong acid", "species", B_STMTS[3:])]
B_NEIGHBOURS = [concept("chemistry", n, c) for n, c in [
    ("catalyst", "species"), ("temperature", "quantity"), ("hydroxide ions", "species"), ("solution", "mixture"),
]] + B_CONCEPTS
CFG = BenchConfig()


def buffer_items(cfg: BenchConfig = CFG) -> list:
    return items_for_chain(BUFFER, B_STMTS, B_CONCEPTS, B_NEIGHBOURS, cfg, split="dev")


def answer(item: Item) -> str:
    return item.options[item.answer].text


def by_operator(item: Item) -> dict[str, str]:
    return {o.operator: o.text for o in item.options}


# --- shape and provenance --------------------------------------------------------------------------


def test_items_keep_provenance_and_shape():
    items = buffer_items()
    assert [i.variant for i in items] == ["conclusion", "middle"]
    for item in items:
        assert isinstance(item, Item) and item.split == "dev"
        assert item.chain == BUFFER.key and item.doc == BUFFER.doc and item.discipline == "chemistry"
        assert item.statements == sorted(s.key for s in B_STMTS)
        assert item.concepts == sorted(c.key for c in B_CONCEPTS)
        assert len(item.options) == CFG.options
        assert [o.operator for o in item.options].count("") == 1 and item.options[item.answer].operator == ""
        assert len({o.text.lower() for o in item.options}) == len(item.options)
        for o in item.options:
            assert set(filter(None, o.operator.split("+"))) <= {"adjacency", "inversion", "truncation"}
            assert bool(o.reason) == bool(o.operator)
        assert answer(item) not in item.stem  # what is asked is not shown
    assert answer(items[0]) == BUFFER.steps[-1].text
    assert answer(items[1]) == BUFFER.steps[1].text and "[missing]" in items[1].stem


def test_the_options_are_a_square_no_option_is_the_source():
    """Two edits and their combination: every option differs from two others by one edit."""
    for item in buffer_items():
        labels = sorted(o.operator for o in item.options)
        assert len(labels) == 4 and labels[0] == "" and labels[1]
        if len(set(labels)) == 4:  # two operators: the double edit is made of the single ones
            first, second = [label for label in labels[1:] if "+" not in label]
            both = next(label for label in labels if "+" in label)
            assert set(both.split("+")) == {first, second} | ({"truncation"} if "truncation" in both else set())
        # each single edit, applied to the other single-edit option, gives the double edit
        words = [re.findall(r"\w+", o.text.lower()) for o in item.options]

        def distance(a, b):
            return sum(x != y for x, y in zip(words[a], words[b])) + abs(len(words[a]) - len(words[b]))

        for a in range(4):
            near = sorted(distance(a, b) for b in range(4) if b != a)
            assert near[0] > 0 and near[2] > near[0], (a, near, [o.text for o in item.options])


def test_no_option_has_more_distinct_words_than_another():
    """'buffer' -> 'salt solution' adds a word to the edited options and never to the answer, which
    would then be (one of) the options of fewest words: such a set is not kept; 'solution' is."""
    salty = [c for c in B_NEIGHBOURS if c.name != "solution"] + [concept("chemistry", "salt solution", "mixture")]
    for neighbours, swapped in ((B_NEIGHBOURS, True), (salty, False)):
        first = items_for_chain(BUFFER, B_STMTS, B_CONCEPTS, neighbours, CFG, split="dev")[0]
        assert isinstance(first, Item) == swapped
        if swapped:
            assert any("of the solution" in o.text for o in first.options)
            assert options.even(first.options)
        else:  # dropped with the reason and the closest set, which the options alone give away
            assert first.reason == "options_tell" and "distinct words" in first.detail
            assert any("salt solution" in o.text for o in first.options) and not options.even(first.options)


def test_inversion_states_the_opposite_relation_and_never_adds_not():
    item = buffer_items()[0]
    ops = by_operator(item)
    assert ops["inversion"] == answer(item).replace("decreases", "increases")
    assert "'increases'" in next(o.reason for o in item.options if o.operator == "inversion")
    for o in item.options:
        assert baselines.negated(o.text) == baselines.negated(answer(item))


def test_inversion_comes_from_the_triple_of_the_sentence():
    ch = chain("doc-c", "chemistry", "Catalysis", [], ["The reaction is slow.", "A catalyst speeds up the reaction."])
    s = stmt(ch, "catalyst", "increases", "reaction", [1])
    edits = inversion(ch.steps[1].text, [s])
    assert [e.text for e in edits] == ["slows down"] and "(catalyst increases reaction)" in edits[0].reason
    causal = "Smoking causes lung damage."
    edit = inversion(causal, [stmt(ch, "Smoking", "causes", "lung damage", [1])])[0]
    assert causal[:edit.start] + edit.text + causal[edit.end:] == "Smoking blocks lung damage."
    # a noun is not a verb: "the release of" stays; no triple, no relation word: nothing
    assert inversion("The release of energy warms the room.", [stmt(ch, "release", "produces", "energy", [1])]) \
        [0].text == "cools"
    assert inversion("The sample is prepared today.", []) == []
    for relation, table in OPPOSITE_VERBS.items():
        assert all(a != b and " not" not in b for a, b in table.items()), relation


def test_adjacency_swaps_a_same_category_concept_in_number_and_with_its_article():
    pool = Pool([concept("biology", "enzyme", "protein")],
                [concept("biology", n, c) for n, c in [("antibody", "protein"), ("hormones", "protein"),
                                                       ("ribosome", "organelle")]])
    sentence = "An enzyme lowers the barrier, and enzymes work fast."
    texts = {sentence[:e.start] + e.text + sentence[e.end:] for e in adjacency(sentence, pool)}
    assert "An antibody lowers the barrier, and enzymes work fast." in texts
    assert "A hormone lowers the barrier, and enzymes work fast." in texts
    assert "An enzyme lowers the barrier, and antibodies work fast." in texts
    assert not any("ribosome" in t for t in texts)  # another category
    assert article_for("hour") == "an" and article_for("university") == "a" and article_for("LDL") == "an"
    assert pluralise("enzyme") == "enzymes" and pluralise("body") == "bodies" and singularise("hormones") == "hormone"


def test_the_stem_states_each_premise_once_and_never_the_answer():
    ch = chain("doc-p", "physics", "A falling ball", ["the ball falls", "The air resists the fall"],
               ["When the ball falls, gravity pulls the ball down.", "The ball accelerates toward the ground.",
                "The air resists the fall, so the ball reaches a terminal speed."])
    item = next(i for i in items_for_chain(ch, [], [concept("physics", "ball", "object")],
                                           [concept("physics", "stone", "object")], CFG) if i.variant == "conclusion")
    # "the ball falls" is step 1 already; "The air resists the fall" is the answer's: neither is a premise
    assert "Preconditions" not in item.stem and item.stem.count("Consider the process: A falling ball.") == 1
    assert item.stem.count("gravity pulls") == 1
    assert "terminal speed" not in item.stem  # the precondition quoted from the answer would give it away


def test_a_chain_without_material_for_two_edits_is_dropped_with_its_reason():
    plain = chain("doc-n", "chemistry", "Neutral", [], ["A sample is prepared.", "The sample rests overnight."])
    [dropped] = items_for_chain(plain, [], [], [], CFG)
    assert isinstance(dropped, DroppedItem) and dropped.reason == "no_symmetric_set"
    assert "operators that apply: none" in dropped.detail and dropped.stem


def test_items_are_deterministic_and_input_order_free():
    first = buffer_items()
    again = items_for_chain(BUFFER, list(reversed(B_STMTS)), list(reversed(B_CONCEPTS)), B_NEIGHBOURS, CFG,
                            split="dev")
    assert first == again and [i.key for i in first] == [i.key for i in again]
    assert {i.split for i in items_for_chain(BUFFER, B_STMTS, B_CONCEPTS, B_NEIGHBOURS, CFG, split="holdout")} \
        == {"holdout"}


@pytest.mark.parametrize("options", [2, 3, 5])
def test_option_count_follows_config(options):
    for item in buffer_items(BenchConfig(options=options)):
        if isinstance(item, Item):
            assert len(item.options) == options
            assert len({re.sub(r"\W+", " ", o.text.lower()) for o in item.options}) == options


# --- option-only baselines over many chains -------------------------------------------------------

_THINGS = {"agent": ["enzyme", "catalyst", "solvent", "membrane", "hormone", "signal", "protein", "current"],
           "quantity": ["pressure", "temperature", "rate", "density", "voltage", "acidity", "volume", "speed"]}
_VERBS = [("increases", "increases"), ("decreases", "decreases"), ("raises", "increases"), ("lowers", "decreases"),
          ("causes", "causes"), ("enables", "enables"), ("produces", "produces"), ("affects", "related_to")]
_TAILS = ["", " during the reaction", " in the cell", " over several weeks", " when the load grows"]


def synthetic(rng: random.Random, k: int):
    """A chain of "The <agent> <verb> the <quantity><tail>." steps, one triple per step, and the
    document's concepts, as the extractor makes them."""
    agents, quantities = rng.sample(_THINGS["agent"], 5), rng.sample(_THINGS["quantity"], 5)
    steps, triples = [], []
    for i in range(rng.randint(2, 4)):
        a, q = rng.choice(agents), rng.choice(quantities)
        verb, relation = rng.choice(_VERBS)
        steps.append(f"The {a} {verb} the {q}{rng.choice(_TAILS)}.")
        triples.append((a, relation, q, i))
    ch = chain(f"doc{k}", "synthetic", f"Process {k}", [], steps)
    statements = [stmt(ch, a, r, q, [i]) for a, r, q, i in triples]
    own = {a for a, *_ in triples} | {q for _, _, q, _ in triples}
    concepts = [concept("synthetic", n, "agent" if n in _THINGS["agent"] else "quantity",
                        [s for s in statements if n in (s.subject, s.object)]) for n in sorted(own)]
    neighbours = concepts + [concept("synthetic", n, "agent" if n in _THINGS["agent"] else "quantity")
                             for n in agents + quantities if n not in own]
    return ch, statements, concepts, neighbours


def test_option_only_baselines_score_chance_on_synthetic_chains():
    """Over many documents of random chains, every rule that never reads the question scores chance:
    within 5 points over all items, and per split within 5 points plus its sampling error."""
    import math

    rng = random.Random(11)
    items = []
    for doc in range(100):
        units = [synthetic(rng, 6 * doc + k) for k in range(6)]
        units = [(msgspec.structs.replace(ch, doc=f"doc{doc}"), st, cs, nb) for ch, st, cs, nb in units]
        items += [i for i in items_for_document(units, CFG, split="dev" if doc % 2 else "holdout")
                  if isinstance(i, Item)]
    assert len(items) > 600
    n = {s: sum(i.split == s for i in items) for s in ("dev", "holdout")}
    for name, by_split in baselines.option_only(items).items():
        assert abs(sum(by_split[s] * n[s] for s in n) / len(items) - 0.25) <= 0.05, (name, by_split)
        for split, value in by_split.items():
            assert abs(value - 0.25) <= 0.05 + 1.96 * math.sqrt(0.25 * 0.75 / n[split]), (name, split, value)
    assert all(options.even(i.options) for i in items)
    positions = [i.answer for i in items]
    assert all(positions.count(p) / len(positions) > 0.18 for p in range(4))


# --- a document's items across splits, and what no choice of sets can balance ----------------------


def test_a_document_of_two_chain_groups_puts_them_on_both_splits_and_a_group_on_one():
    rng = random.Random(5)
    units = [synthetic(rng, k) for k in range(4)]
    units = [(msgspec.structs.replace(ch, doc="doc", steps=[msgspec.structs.replace(
        s, span=Span(start=1000 * k + s.span.start, end=1000 * k + s.span.end)) for s in ch.steps]), st, cs, nb)
        for k, (ch, st, cs, nb) in enumerate(units)]
    records = items_for_document(units, CFG, split="")
    made = [r for r in records if isinstance(r, Item)]
    assert len({r.chain for r in made}) >= 2
    assert {r.split for r in made} == {"dev", "holdout"}
    for key in {r.chain for r in records}:  # one chain: one split
        assert len({r.split for r in records if r.chain == key}) == 1
    # given a split, every record carries it
    assert {r.split for r in items_for_document(units, CFG, split="holdout")} == {"holdout"}


def test_an_option_is_never_another_sentence_the_document_states():
    rising = chain("doc-p", "economics", "A shortage", [],
                   ["Buyers compete for the few goods.", "The price rises toward equilibrium."])
    falling = chain("doc-p", "economics", "A surplus", [],
                    ["Sellers cut their stock.", "The price falls toward equilibrium."])
    statements = {c.key: [stmt(c, "price", "increases" if c is rising else "decreases", "equilibrium", [1])]
                  for c in (rising, falling)}
    names = [("price", "quantity"), ("equilibrium", "state"), ("buyers", "agent"), ("sellers", "agent"),
             ("demand", "quantity"), ("supply", "quantity")]
    pool = [concept("economics", n, c) for n, c in names]
    units = [(c, statements[c.key], pool[:2], pool) for c in (rising, falling)]
    alone = items_for_document(units[:1], CFG, split="dev")  # the falling sentence is not stated: offered
    together = items_for_document(units, CFG, split="dev")
    texts = {o.text for r in together if isinstance(r, Item) for o in r.options}
    assert "The price falls toward equilibrium." in {o.text for r in alone for o in r.options}  # kept or not
    assert not any(o.text == "The price falls toward equilibrium." and r.chain == rising.key
                   for r in together if isinstance(r, Item) for o in r.options)
    assert not any(o.text == "The price rises toward equilibrium." and r.chain == falling.key
                   for r in together if isinstance(r, Item) for o in r.options), texts


def test_items_whose_every_set_the_direction_rule_answers_are_dropped_unless_others_offset_them():
    """A document of "causes" answers whose only sets invert them: the direction rule picks the
    answer among two rising options in every set (credit 0.5 each, chance 0.25); keeping them all
    would put the rule at 0.5. Items are dropped until the rule could be within the slack of chance;
    "blocks" answers (the rule never picks them) offset them one for one."""
    def choice(n: int, rising: bool) -> options.Choice:
        verb, other = ("causes", "blocks") if rising else ("blocks", "causes")
        texts = [f"Heat {n} {verb} the rise.", f"Cold {n} {verb} the rise.", f"Heat {n} {other} the rise.",
                 f"Cold {n} {other} the rise."]
        return options.Choice(stem=f"Step {n}?", options=[make_option(t) for t in texts], answer=0, spread=0.0)

    def surplus(kept) -> float:
        return sum(baselines.credit(baselines.affirmative([o.text for o in c.options]), c.answer) - 0.25
                   for c in kept if c is not None)

    rising = options.balance([[choice(n, True)] for n in range(8)], "seed")
    assert 0 < sum(c is not None for c in rising) < 8 and surplus(rising) <= options._SLACK
    mixed = options.balance([[choice(n, n % 2 == 0)] for n in range(8)], "seed")
    assert all(c is not None for c in mixed) and surplus(mixed) == 0
    six = options.balance([[choice(n, n < 6)] for n in range(8)], "seed")  # 6 rising, 2 falling
    assert sum(c is not None for c in six) == 6 and surplus(six) == options._SLACK
    # with sets that can go either way, nothing is dropped
    free = [[choice(n, True), options.Choice(stem=f"Step {n}?", options=[make_option(t) for t in (
        f"Heat {n} blocks the rise.", f"Cold {n} blocks the rise.", f"Heat {n} causes the rise.",
        f"Cold {n} causes the rise.")], answer=0, spread=0.0)] for n in range(8)]
    assert all(c is not None for c in options.balance(free, "seed"))


def make_option(text: str):
    from proda.records import Option

    return Option(text=text, operator="", reason="")
