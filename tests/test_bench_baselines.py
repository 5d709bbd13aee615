"""Option-only baselines: each rule finds the tell it is meant to find, ties score chance, and the
classifier learns a planted tell (so a benchmark at chance is not at chance by construction)."""

from __future__ import annotations

import random

from proda.bench import baselines
from proda.records import Item, Option, make


def test_each_rule_finds_its_tell():
    answer = "Heat raises the rate of the reaction."
    edited = ["Heat lowers the rate of the reaction.", "Light raises the rate of the reaction.",
              "Heat raises the cost of the reaction."]
    options = [edited[0], answer, edited[1], edited[2]]
    picks = baselines.picks("Why does the reaction speed up?", options)
    assert picks["most_similar"] == [1]  # the answer is the one the others were edited from
    long = ["A short one.", "The longest option of them all by far.", "Medium sized one.", "Tiny."]
    assert baselines.picks("?", long)["longest"] == [1] and baselines.picks("?", long)["shortest"] == [3]
    negated = ["It is not stable.", "It is stable.", "It never settles.", "It cannot form."]
    assert baselines.picks("?", negated)["no_negation"] == [1]
    assert baselines.picks("What does the enzyme bind?", ["The enzyme binds the substrate.", "A cat sleeps.",
                                                          "Dogs bark.", "Rain falls."])["stem_overlap"] == [0]


def test_affirmative_picks_the_rising_direction_and_ties_otherwise():
    """The direction prior: inversion makes 'blocks' of the answer's 'causes', and a rule (or a model)
    that prefers the rising side wins when answers state what happens."""
    factorial = ["Heat causes melting.", "Heat blocks melting.", "Cold causes melting.", "Cold blocks melting."]
    assert baselines.affirmative(factorial) == [0, 2]
    assert baselines.credit(baselines.affirmative(factorial), 0) == 0.5  # answer rising: twice chance
    assert baselines.credit(baselines.affirmative(factorial), 1) == 0.0  # answer falling: never
    assert baselines.affirmative(["More heat.", "Less heat.", "Fewer cells.", "Higher rates."]) == [0, 3]
    assert baselines.affirmative(["It is red.", "It is tan.", "It is big."]) == [0, 1, 2]  # no direction: a tie
    assert baselines.direction("Releases absorb heat") == 0  # release/absorb go both ways in the tables: neither


def test_a_tie_scores_chance():
    same = ["It is red.", "It is tan.", "It is big.", "It is old."]
    picks = baselines.picks("?", same)
    assert picks["no_negation"] == [0, 1, 2, 3] and picks["stem_overlap"] == [0, 1, 2, 3]
    assert baselines.credit(picks["no_negation"], 2) == 0.25
    assert baselines.credit([1], 1) == 1.0 and baselines.credit([1], 0) == 0.0


def _items(rng: random.Random, n: int, planted: bool) -> list[Item]:
    out = []
    for k in range(n):
        words = [" ".join(rng.choice("abcdefgh") * rng.randint(2, 6) for _ in range(rng.randint(4, 9)))
                 for _ in range(4)]
        answer = rng.randrange(4)
        if planted:  # the answer carries a comma, and is the only one that does
            words[answer] += ", indeed"
        options = [Option(text=w + ".", operator="" if i == answer else "adjacency", reason="")
                   for i, w in enumerate(words)]
        out.append(make(Item, discipline="d", chain=f"c{k}", doc=f"doc{k % 40}", statements=[], concepts=[],
                        variant="conclusion", split="dev" if k % 2 else "holdout", stem="?", options=options,
                        answer=answer))
    return out


def test_the_classifier_learns_a_planted_tell_and_not_noise():
    rng = random.Random(3)
    planted = baselines.option_only(_items(rng, 300, planted=True))["classifier"]
    assert planted["dev"] > 0.9 and planted["holdout"] > 0.9
    noise = baselines.option_only(_items(rng, 300, planted=False))["classifier"]
    assert abs(noise["dev"] - 0.25) < 0.08 and abs(noise["holdout"] - 0.25) < 0.08


def test_intervals_leave_chance_out_for_a_tell_and_keep_it_in_for_noise():
    """Each figure's bootstrap interval: around the figure, the same for the same items, and a
    planted tell's leaves chance out where noise's keeps it in."""
    rng = random.Random(3)
    for planted in (True, False):
        items = _items(rng, 200, planted=planted)
        intervals: dict = {}
        scores = baselines.option_only(items, intervals)
        again: dict = {}
        assert baselines.option_only(items, again) == scores and again == intervals  # deterministic
        for name, by_split in scores.items():
            for split, value in by_split.items():
                low, high = intervals[name][split]
                assert low <= value <= high, (name, split)
        low, high = intervals["classifier"]["holdout"]
        assert (low > 0.25) if planted else (low < 0.25 < high)
    assert baselines.interval([]) is None and baselines.interval([0.25] * 9) == [0.25, 0.25]
    wide, narrow = baselines.interval([1.0, 0.0] * 20), baselines.interval([1.0, 0.0] * 500)
    assert wide[1] - wide[0] > 2 * (narrow[1] - narrow[0])  # more items, a narrower interval


def test_the_permutation_null_tells_a_planted_tell_from_noise():
    """Random answers give the null; a planted tell lies far beyond it (small p), noise inside it."""
    def rows(planted: bool):
        return [(baselines.features(i.stem, [o.text for o in i.options]), i.answer, i.doc)
                for i in _items(random.Random(5), 80, planted=planted)]

    tell = baselines.permutation_null(rows(True), permutations=19, refolds=2)
    assert tell["observed"] > 0.9 and tell["p"] == 0.05 and tell["null_max"] < 0.5  # (1 + 0) / (1 + 19)
    assert abs(tell["null_mean"] - 0.25) < 0.06
    noise = baselines.permutation_null(rows(False), permutations=19, refolds=2)
    assert noise["p"] > 0.1 and abs(noise["observed"] - 0.25) < 0.12
    assert baselines.permutation_null(rows(False), permutations=19, refolds=2) == noise  # seeded


def test_cross_fitted_credits_average_to_the_cross_fitted_score():
    rows = [(baselines.features(i.stem, [o.text for o in i.options]), i.answer, i.doc)
            for i in _items(random.Random(4), 120, planted=True)]
    per_item = baselines.cross_fitted_credits(rows)
    assert len(per_item) == len(rows) and abs(sum(per_item) / len(rows) - baselines.cross_fitted(rows)) < 1e-12


def test_question_dependence_compares_each_item_with_and_without_its_stem():
    from proda.records import Result
    from proda.score.results import question

    items = _items(random.Random(5), 4, planted=False)
    rows = [([0.0, -1.0, -2.0, -3.0], [0.0, -1.0, -2.0, -3.0]),   # option 0 either way
            ([-1.0, 0.0, -2.0, -3.0], [0.0, -1.0, -2.0, -3.0]),   # the stem moves it to option 1
            ([-3.0, -2.0, -1.0, 0.0], [-3.0, -2.0, -1.0, 0.0]),
            ([-3.0, -2.0, -1.0, 0.0], [-3.0, -2.0, -1.0, 0.0])]
    results = [make(Result, checkpoint="c", item=i.key, chosen=max(range(4), key=lambda k: s[k]), scores=s,
                    correct=max(range(4), key=lambda k: s[k]) == i.answer, unconditional=u)
               for i, (s, u) in zip(items, rows)]
    q = question(items, results)
    right = sum(r.correct for r in results) / 4
    alone = sum(max(range(4), key=lambda k: u[k]) == i.answer for i, (_, u) in zip(items, rows)) / 4
    assert q["with"]["all"] == right and q["without"]["all"] == alone
    assert q["adds"]["all"] == round(right - alone, 4) and q["n"]["all"] == 4
    assert q["n"]["dev"] + q["n"]["holdout"] == 4
