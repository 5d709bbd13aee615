"""Paired comparison of two checkpoints on the same items: accuracy before and after, the change,
a paired bootstrap 95% interval of the change and an exact McNemar p-value; Fisher's exact test for
two independent proportions (a targeted group against an untargeted control). Pure functions.

Why these: both checkpoints answer the *same* items, so the unit of resampling is the item (its
pair of outcomes), and the only items that carry evidence about a change are the discordant ones
(fixed: wrong -> right, broken: right -> wrong) — McNemar's test conditions on them and, exact, needs
no large-sample approximation (binomial(b + c, 1/2)).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

REPS = 20000  # bootstrap replicates, only above EXACT_UP_TO items (a group that large moves its
# percentiles by well under one item between seeds); below, the bootstrap distribution is exact
EXACT_UP_TO = 3000  # items: the exact distribution costs O(n^2) (0.1 s at 3,000)
EXACT_PAIRS = 1_000_000  # (n_a + 1) x (n_b + 1) outcome pairs of difference(): ~0.1 s and ~50 MB at the top


def _binomial_pmf(m: int, p: float):
    """P(X = k) for k = 0..m, X ~ binomial(m, p), computed in logs (numpy)."""
    import numpy as np

    k = np.arange(m + 1)
    if p <= 0.0 or p >= 1.0:
        out = np.zeros(m + 1)
        out[0 if p <= 0.0 else m] = 1.0
        return out
    logfact = np.concatenate([[0.0], np.cumsum(np.log(np.arange(1, m + 1)))])
    return np.exp(logfact[m] - logfact[k] - logfact[m - k] + k * math.log(p) + (m - k) * math.log1p(-p))


def _percentiles(samples) -> tuple[float, float]:
    """The 2.5th and 97.5th percentiles of sampled replicates, rounded as every interval here."""
    import numpy as np

    lo, hi = np.percentile(samples, [2.5, 97.5])
    return (round(float(lo), 4), round(float(hi), 4))


def _quantiles(values, probs, qs=(0.025, 0.975)) -> tuple[float, float]:
    """The ``qs`` quantiles of a discrete distribution (values ascending, their probabilities): the
    least value whose cumulative probability reaches each — what the percentiles of infinitely many
    bootstrap replicates converge to."""
    import numpy as np

    cdf = np.cumsum(probs)
    cdf /= cdf[-1]
    return tuple(round(float(values[min(int(np.searchsorted(cdf, q - 1e-12)), len(values) - 1)]), 4) for q in qs)


def mcnemar_exact(fixed: int, broken: int) -> float:
    """Two-sided exact McNemar p-value: P(as extreme a split of the fixed + broken discordant
    items under binomial(m, 1/2)), doubled and capped at 1. No discordant items: 1.0."""
    m = fixed + broken
    if m == 0:
        return 1.0
    tail = sum(math.comb(m, k) for k in range(min(fixed, broken) + 1))
    return min(1.0, 2 * tail / 2 ** m)


def bootstrap_ci(fixed: int, broken: int, n: int, *, reps: int = REPS, seed: int = 0) -> tuple[float, float]:
    """Paired bootstrap 95% interval of (after - before) accuracy over ``n`` items of which ``fixed``
    went wrong -> right and ``broken`` right -> wrong: resampling items with replacement is drawing
    how many of each kind (+1, -1, 0) from a multinomial. Up to ``EXACT_UP_TO`` items that
    distribution is computed exactly (F fixed ~ binomial(n, f/n), then B broken ~ binomial(n - F,
    b/(n - f))), so the interval is the bootstrap's own, not one draw of it: no seed moves it.
    Larger groups are sampled (``reps``, ``seed``)."""
    if n <= 0:
        return (0.0, 0.0)
    import numpy as np

    rest = n - fixed - broken
    if n > EXACT_UP_TO:
        draws = np.random.default_rng(seed).multinomial(n, [fixed / n, broken / n, rest / n], size=reps)
        return _percentiles((draws[:, 0] - draws[:, 1]) / n)
    pmf = np.zeros(2 * n + 1)  # P(F - B = d), index d + n
    p_fixed = _binomial_pmf(n, fixed / n)
    q = broken / (n - fixed) if n > fixed else 0.0
    for f in np.nonzero(p_fixed > 1e-300)[0]:
        b = _binomial_pmf(n - f, q)
        pmf[f + n - (n - f): f + n + 1] += p_fixed[f] * b[::-1]  # d = f - b for b = n-f .. 0
    values = (np.arange(2 * n + 1) - n) / n
    return _quantiles(values, pmf)


CLUSTER_REPS = 20000  # resamples of the documents: the endpoints move by well under a point between seeds


def cluster_ci(clusters: Sequence[tuple[int, int, int]], *, reps: int = CLUSTER_REPS,
               seed: int = 0) -> tuple[float, float]:
    """A 95% interval of (after - before) accuracy resampling whole clusters (documents) instead of
    items: ``clusters`` are (fixed, broken, items) per document. Items of one document share its
    concepts and sentences, so they fail and get fixed together; resampling items treats them as
    independent and gives too narrow an interval. Percentile bootstrap of the ratio sum(fixed -
    broken) / sum(items) over ``reps`` resamples (seeded; no exact form)."""
    import numpy as np

    if not clusters:
        return (0.0, 0.0)
    net = np.array([f - b for f, b, _ in clusters], dtype=float)
    size = np.array([n for _, _, n in clusters], dtype=float)
    rng = np.random.default_rng(seed)
    k = len(clusters)
    deltas = []
    for start in range(0, reps, 2000):  # bounded memory: 2,000 resamples x clusters at a time
        counts = rng.multinomial(k, np.full(k, 1.0 / k), size=min(2000, reps - start))
        deltas.append((counts @ net) / np.maximum(counts @ size, 1.0))
    return _percentiles(np.concatenate(deltas))


def compare(before: Sequence[bool], after: Sequence[bool], *, seed: int = 0) -> dict[str, Any]:
    """``{"n", "from", "to", "delta", "ci95", "p", "fixed", "broken"}`` for paired outcomes."""
    if len(before) != len(after):
        raise ValueError(f"{len(before)} outcomes before but {len(after)} after")
    n = len(before)
    fixed = sum(1 for a, b in zip(before, after) if b and not a)
    broken = sum(1 for a, b in zip(before, after) if a and not b)
    acc_a = sum(map(bool, before)) / n if n else 0.0
    acc_b = sum(map(bool, after)) / n if n else 0.0
    return {"n": n, "from": round(acc_a, 4), "to": round(acc_b, 4), "delta": round(acc_b - acc_a, 4),
            "ci95": list(bootstrap_ci(fixed, broken, n, seed=seed)), "p": round(mcnemar_exact(fixed, broken), 6),
            "fixed": fixed, "broken": broken}


def fisher_exact(a: int, n_a: int, b: int, n_b: int) -> float:
    """Two-sided Fisher exact p for ``a`` of ``n_a`` against ``b`` of ``n_b`` (sum of the tables no
    more likely than the observed one, with the margins fixed)."""
    total, hits = n_a + n_b, a + b
    if n_a == 0 or n_b == 0:
        return 1.0
    denom = math.comb(total, hits)

    def prob(x: int) -> float:
        return math.comb(n_a, x) * math.comb(n_b, hits - x) / denom

    observed = prob(a)
    lo, hi = max(0, hits - n_b), min(n_a, hits)
    return min(1.0, sum(p for x in range(lo, hi + 1) if (p := prob(x)) <= observed * (1 + 1e-9)))


def difference(a: int, n_a: int, b: int, n_b: int, *, reps: int = REPS, seed: int = 0) -> dict[str, Any]:
    """Rate a/n_a minus rate b/n_b, a bootstrap 95% interval (each group resampled on its own) and
    Fisher's exact p."""
    import numpy as np

    ra, rb = (a / n_a if n_a else 0.0), (b / n_b if n_b else 0.0)
    if n_a and n_b and (n_a + 1) * (n_b + 1) > EXACT_PAIRS:
        rng = np.random.default_rng(seed)
        lo, hi = _percentiles(rng.binomial(n_a, ra, reps) / n_a - rng.binomial(n_b, rb, reps) / n_b)
    elif n_a and n_b:  # exact: every (x, y) pair of the two binomials, as for bootstrap_ci
        pa, pb = _binomial_pmf(n_a, ra), _binomial_pmf(n_b, rb)
        d = (np.arange(n_a + 1)[:, None] / n_a - np.arange(n_b + 1)[None, :] / n_b).ravel()
        w = (pa[:, None] * pb[None, :]).ravel()
        order = np.argsort(d, kind="stable")
        lo, hi = _quantiles(d[order], w[order])
    else:
        lo = hi = 0.0
    return {"delta": round(ra - rb, 4), "ci95": [lo, hi], "p": round(fisher_exact(a, n_a, b, n_b), 6)}
