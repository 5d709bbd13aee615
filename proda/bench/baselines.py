"""Option-only baselines: rules that answer an item without reading its question.

An item measures knowledge only if nothing but the question (and what the model knows) tells the
answer apart: a rule that never reads the stem must score what guessing scores. Each rule returns
the options it would pick; when several tie, the rule is credited ``1/len(ties)`` if the answer is
among them (the expected score of breaking the tie at random), so a rule that cannot decide scores
chance, not zero. The rules:

- ``most_similar``: the option with the highest mean word overlap (Jaccard) with the other options —
  the "centroid" that wins when distractors are all edited from the answer;
- ``longest`` / ``shortest``: by characters — wins when edits lengthen or shorten the answer;
- ``no_negation``: an option without "not"/"never"/"no" when only some have one — wins when
  distractors are made by adding a negation;
- ``stem_overlap``: the option sharing the most content words with the stem (it reads the stem's
  words, not its meaning) — wins when the answer repeats the premises;
- ``affirmative``: the option stating the "rising" direction (causes, increases, produces, enables,
  higher, more, ...) rather than its opposite (blocks, decreases, consumes, lower, less, ...) when
  the options differ in it — wins when textbooks state what happens more often than what does not
  and inversion turns the answer's "causes" into a distractor's "blocks" (on OpenStax, three in four
  answers of inverted sets rise). A language model has the same prior; the bench balances it like
  the length rules, and drops the items no choice of sets can balance;
- ``classifier``: a small conditional-logit model (L2-regularised) on these and a dozen more surface
  features of each option (length, capitals, digits, commas, word length, words no other option
  has, ...), fit on the ``dev`` items and scored on the ``holdout`` items (which share no sentence
  with them, but may come from the same documents: the split is by chain group); its ``dev`` figure
  is cross-fitted (each fifth of dev, by document, scored by a model fit on the other four). It is
  the one rule the bench does not balance: its figure is an independent check, where the balanced
  rules' figures are near chance by construction.

:func:`option_only` can also give each figure's percentile bootstrap 95% interval over the split's
items (:func:`interval`): on ~100 items a rule's figure moves by several points with the items drawn.

Pure functions; numpy is imported only by the classifier and the intervals.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..hashing import digest

RULES = ("most_similar", "longest", "shortest", "no_negation", "stem_overlap", "affirmative")  # built against
FOLDS = 5  # the classifier's dev figure: each fifth of dev (by document) scored by a model fit on the rest
NAMES = RULES + ("classifier",)

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_NEGATION = re.compile(r"\b(?:not|no|never|none|neither|nor|cannot|without)\b|n't\b", re.IGNORECASE)
_PRONOUN = re.compile(r"^\s*(?:it|they|this|these|that|those|he|she|its|their)\b", re.IGNORECASE)
STOP = frozenset("""a an the of to in on at by for with from and or but as is are was were be been being it its
    this that these those which who whom whose what when where how than then so such into onto over under
    can could may might must shall should will would do does did has have had not no also very more most less least fewer
    their there they them he she his her we our you your i about after before between during through""".split())


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("’", "'"))


def content(text: str) -> set[str]:
    return {w for w in words(text) if w not in STOP}


def _argmax(values: Sequence[float]) -> list[int]:
    best = max(values)
    return [i for i, v in enumerate(values) if v == best]


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a | b else 1.0


def similarity(options: Sequence[str]) -> list[float]:
    """Each option's mean word-set Jaccard similarity to the other options."""
    sets = [set(words(o)) for o in options]
    n = len(sets)
    return [sum(_jaccard(sets[i], sets[j]) for j in range(n) if j != i) / max(1, n - 1) for i in range(n)]


def negated(text: str) -> bool:
    return bool(_NEGATION.search(text))


def picks(stem: str | set[str], options: Sequence[str]) -> dict[str, list[int]]:
    """The options each rule picks (several when they tie); ``stem`` may be given as its content words."""
    n = len(options)
    lengths = [len(o) for o in options]
    neg = [negated(o) for o in options]
    plain = [i for i in range(n) if not neg[i]]
    stem_words = stem if isinstance(stem, set) else content(stem)
    return {
        "most_similar": _argmax([round(s, 9) for s in similarity(options)]),
        "longest": _argmax(lengths),
        "shortest": _argmax([-x for x in lengths]),
        "no_negation": plain if 0 < len(plain) < n else list(range(n)),
        "stem_overlap": _argmax([len(content(o) & stem_words) for o in options]),
        "affirmative": affirmative(options),
    }


def _direction_words() -> tuple[frozenset[str], frozenset[str]]:
    """The one-word entries of the rising and the falling side of the opposite-relation tables."""
    from ..text import relations as R

    pairs = [p for r in ("increases", "causes", "produces", "enables") for p in R.OPPOSITE_VERBS[r].items()]
    pairs += [(a, b) if a != "fewer" else (b, a) for a, b in R.POLARITY_PAIRS]  # ("fewer", "more"): falling first
    pairs = [(a, b) for a, b in pairs if " " not in a + b]
    rising, falling = {a for a, _ in pairs}, {b for _, b in pairs}
    return frozenset(rising - falling), frozenset(falling - rising)  # absorb/release: both ways, neither


_RISING, _FALLING = _direction_words()


def direction(text: str) -> int:
    """Rising words minus falling words of a sentence (the ``affirmative`` rule's feature)."""
    ws = words(text)
    return sum(w in _RISING for w in ws) - sum(w in _FALLING for w in ws)


def affirmative(options: Sequence[str]) -> list[int]:
    """The options stating the most rising direction (every option when they do not differ)."""
    return _argmax([direction(o) for o in options])


def credit(picked: Sequence[int], answer: int) -> float:
    return 1.0 / len(picked) if answer in picked else 0.0


def credits(stem: str | set[str], options: Sequence[str], answer: int) -> dict[str, float]:
    """Each rule's expected score on one item."""
    return {name: credit(p, answer) for name, p in picks(stem, options).items()}


# --- the classifier --------------------------------------------------------------------------------

FEATURES = ("chars", "words", "sim_mean", "sim_max", "sim_min", "negation", "stem_overlap", "stem_share",
            "capitals", "digits", "commas", "word_length", "pronoun_start", "unique_words", "shared_share",
            "long_words", "parentheses")


def features(stem: str | set[str], options: Sequence[str]) -> list[list[float]]:
    """Surface features of each option, minus their mean over the item's options (only differences
    between the options of one item can tell the answer)."""
    sets = [set(words(o)) for o in options]
    stem_words = stem if isinstance(stem, set) else content(stem)
    rows = []
    for i, o in enumerate(options):
        ws = words(o)
        others = [_jaccard(sets[i], sets[j]) for j in range(len(options)) if j != i] or [0.0]
        rest = set().union(*(sets[j] for j in range(len(options)) if j != i)) if len(options) > 1 else set()
        cw = content(o)
        rows.append([
            len(o), len(ws), sum(others) / len(others), max(others), min(others), float(negated(o)),
            len(cw & stem_words), len(cw & stem_words) / max(1, len(cw)), sum(c.isupper() for c in o),
            sum(c.isdigit() for c in o), o.count(","), sum(map(len, ws)) / max(1, len(ws)),
            float(bool(_PRONOUN.match(o))), len(sets[i] - rest), len(sets[i] & rest) / max(1, len(sets[i])),
            sum(len(w) >= 9 for w in ws), float("(" in o),
        ])
    means = [sum(col) / len(rows) for col in zip(*rows)]
    return [[v - m for v, m in zip(row, means)] for row in rows]


def _stack(examples):
    """(features [items, options, features], mask [items, options], answers) padded to the widest item."""
    import numpy as np

    width = max(len(x) for x, _ in examples)
    nf = len(examples[0][0][0])
    xs = np.zeros((len(examples), width, nf))
    mask = np.zeros((len(examples), width), dtype=bool)
    for n, (x, _) in enumerate(examples):
        xs[n, :len(x)] = x
        mask[n, :len(x)] = True
    return xs, mask, np.array([a for _, a in examples])


def fit(examples: Sequence[tuple[list[list[float]], int]], steps: int = 300, l2: float = 0.1):
    """A conditional-logit model (softmax over each item's options) on feature rows; returns the
    weights and feature scales, or None with nothing to fit."""
    import numpy as np

    examples = [(x, a) for x, a in examples if len(x) > 1]
    if not examples:
        return None
    xs, mask, answers = _stack(examples)
    scale = xs[mask].std(axis=0)
    scale[scale == 0] = 1.0
    xs = xs / scale
    rows = np.arange(len(xs))
    w = np.zeros(xs.shape[2])
    m = np.zeros_like(w)
    v = np.zeros_like(w)
    for t in range(1, steps + 1):  # Adam on the mean negative log-likelihood
        z = np.where(mask, xs @ w, -np.inf)
        p = np.exp(z - z.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        grad = ((p[:, :, None] * xs).sum(axis=1) - xs[rows, answers]).mean(axis=0) + 2 * l2 * w
        m = 0.9 * m + 0.1 * grad
        v = 0.999 * v + 0.001 * grad * grad
        w -= 0.05 * (m / (1 - 0.9 ** t)) / (np.sqrt(v / (1 - 0.999 ** t)) + 1e-8)
    return w, scale


def classifier_credits(model, examples: Sequence[tuple[list[list[float]], int]]) -> list[float]:
    """The fitted model's credit on each example (its argmax, ties split; a guess without a model)."""
    import numpy as np

    if model is None:
        return [1 / len(x) for x, _ in examples]
    w, scale = model
    out = []
    for x, a in examples:
        z = np.round((np.asarray(x, dtype=float) / scale) @ w, 9)
        out.append(credit([i for i, v in enumerate(z) if v == z.max()], a))
    return out


def classifier_score(model, examples: Sequence[tuple[list[list[float]], int]]) -> float | None:
    """Mean credit of the fitted model over examples; None when there are none."""
    return _mean(classifier_credits(model, examples)) if examples else None


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def cross_fitted_credits(examples, salt: Sequence[str] = ()) -> list[float]:
    """The classifier's credit on each (features, answer, document) example, in their order, each
    fifth of them (by document: ``salt`` draws another partition) scored by a model fit on the
    other four."""
    fold = [int(digest([*salt, "fold", e[2]])[:8], 16) % FOLDS for e in examples]
    folds = [[i for i, f in enumerate(fold) if f == h] for h in range(FOLDS)]
    out: list[float] = [0.0] * len(examples)
    for h, mine in enumerate(folds):
        if not mine:
            continue
        model = fit([examples[i][:2] for k, other in enumerate(folds) if k != h for i in other])
        for i, c in zip(mine, classifier_credits(model, [examples[i][:2] for i in mine])):
            out[i] = c
    return out


def cross_fitted(examples, salt: Sequence[str] = ()) -> float | None:
    """The mean of :func:`cross_fitted_credits` (None without examples)."""
    return _mean(cross_fitted_credits(examples, salt))


def permutation_null(examples, permutations: int = 100, refolds: int = 5, seed: int = 0) -> dict:
    """Could a benchmark of these items with no tell at all score what the classifier scores?

    The cross-fitted figure of (features, answer, document) ``examples``, averaged over ``refolds``
    partitions into folds, against the same figure with each item's answer replaced by one of its
    options drawn at random, ``permutations`` times (the features kept: whatever they tell, they
    cannot tell a random answer). Returns the observed figure, the null's mean, standard deviation
    and maximum, and the permutation p-value ``(1 + #null >= observed) / (1 + permutations)``: a
    small p says the classifier found a tell; a large one, that a tell-free benchmark of this size
    lands as far above chance. Seeded: the same examples give the same figures."""
    import random

    def figure(rows, tag: str) -> float:
        return sum(cross_fitted(rows, (tag, f"refold{r}")) or 0.0 for r in range(refolds)) / refolds

    observed = figure(examples, "observed")
    rng = random.Random(seed)
    null = [figure([(x, rng.randrange(len(x)), doc) for x, _, doc in examples], f"null{k}")
            for k in range(permutations)]
    mean = sum(null) / len(null) if null else None
    sd = (sum((v - mean) ** 2 for v in null) / (len(null) - 1)) ** 0.5 if len(null) > 1 else None
    return {"observed": round(observed, 4), "null_mean": None if mean is None else round(mean, 4),
            "null_sd": None if sd is None else round(sd, 4), "null_max": round(max(null), 4) if null else None,
            "p": round((1 + sum(v >= observed for v in null)) / (1 + len(null)), 4),
            "permutations": permutations, "refolds": refolds}


INTERVAL_REPS = 2000  # bootstrap resamples of a split's items for a baseline's 95% interval


def interval(credits: Sequence[float], reps: int = INTERVAL_REPS, seed: int = 0) -> list[float] | None:
    """A percentile bootstrap 95% interval of the mean credit, the items resampled (a fixed seed:
    the same items give the same interval); None without items. For the classifier the fitted
    models are held fixed: the interval shows how much the figure moves with the items drawn,
    not with the fit."""
    import numpy as np

    if not credits:
        return None
    # a resample of n items is, for the mean, how many of each distinct credit it drew: a
    # multinomial draw over those few values (0, 1, 1/k for k-way ties) — the same distribution as
    # drawing item indices, in O(reps x values) time and memory instead of O(reps x items)
    values, counts = np.unique(np.asarray(credits, dtype=float), return_counts=True)
    n = len(credits)
    drawn = np.random.default_rng(seed).multinomial(n, counts / n, size=reps)
    means = drawn @ values / n
    return [round(float(np.percentile(means, 2.5)), 4), round(float(np.percentile(means, 97.5)), 4)]


def option_only(items, intervals: dict | None = None) -> dict[str, dict[str, float | None]]:
    """Every baseline's score on the ``dev`` and ``holdout`` items (None for an empty split); with
    ``intervals`` (a dict), each score's bootstrap 95% interval is put there, by the same names."""
    by_split: dict[str, list] = {"dev": [], "holdout": []}
    for item in items:
        by_split.setdefault(item.split, []).append(item)
    scores: dict[str, dict[str, list[float]]] = {name: {} for name in NAMES}  # per item
    examples: dict[str, list] = {}
    for split in ("dev", "holdout"):
        chosen = by_split[split]
        per_item = [credits(i.stem, [o.text for o in i.options], i.answer) for i in chosen]
        for name in RULES:
            scores[name][split] = [c[name] for c in per_item]
        examples[split] = [(features(i.stem, [o.text for o in i.options]), i.answer, i.doc) for i in chosen]
    dev = examples["dev"]
    scores["classifier"]["dev"] = cross_fitted_credits(dev)
    scores["classifier"]["holdout"] = classifier_credits(fit([e[:2] for e in dev]), [e[:2] for e in examples["holdout"]])
    out: dict[str, dict[str, float | None]] = {}
    for name in NAMES:
        out[name] = {}
        for split in ("dev", "holdout"):
            mean = _mean(scores[name][split])
            out[name][split] = round(mean, 4) if mean is not None else None
            if intervals is not None:
                intervals.setdefault(name, {})[split] = interval(scores[name][split])
    return out
