"""Diagnosis of a failed item from its probe results, calibrated; the confused concept; error rates.

A failure is labelled from the item's *valid* probes (proda/debugger/probes.py) against two
references, so that the label does not follow from the number of probes alone:

- ``base_rate``: the model's accuracy on valid probes of all probed dev items (what "knowing" looks
  like for this checkpoint);
- ``chance``: 1 / options of each probe.

With ``n`` valid probes of which ``k`` were answered right:

- fewer than ``min_probes`` valid probes: ``undetermined`` (too little evidence);
- ``concept_gap`` when P(X <= k | binomial(n, base_rate)) <= ``alpha``: the model does worse on this
  item's own nodes than on probes in general — it lacks or confuses them; the nodes are the failed
  probes' nodes;
- ``reasoning_deficit`` when P(X >= k | the probes' chance rates) <= ``alpha`` and k / n >= base_rate:
  it knows the parts (clearly better than guessing, no worse than usual) and still failed to compose
  them; the nodes are the chain's statements;
- otherwise ``undetermined``.

The numbers behind each label are kept (``Diagnosis.evidence``). :func:`error_rates` feeds phase 2.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

from ..records import Concept, Diagnosis, Item, make
from .probes import Probe
from .wording import mentions, name_pattern

LABELS = ("concept_gap", "reasoning_deficit", "undetermined")


def binomial_cdf(k: int, n: int, p: float) -> float:
    """P(X <= k) for X ~ binomial(n, p)."""
    return min(1.0, sum(math.comb(n, i) * p ** i * (1 - p) ** (n - i) for i in range(0, min(k, n) + 1)))


def poisson_binomial_sf(k: int, rates: Sequence[float]) -> float:
    """P(X >= k) for X a sum of independent Bernoulli(rate) (exact, by dynamic programming)."""
    dist = [1.0]
    for r in rates:
        nxt = [0.0] * (len(dist) + 1)
        for i, pr in enumerate(dist):
            nxt[i] += pr * (1 - r)
            nxt[i + 1] += pr * r
        dist = nxt
    return min(1.0, sum(dist[k:]))


def base_rate(correct: Iterable[bool]) -> float:
    """Accuracy over a pool of probe results (0.5 for an empty pool: no information)."""
    xs = list(correct)
    return sum(xs) / len(xs) if xs else 0.5


def diagnose(item: Item, chosen: int, checkpoint: str, probes: list[Probe], probe_correct: list[bool],
             *, base: float, min_probes: int = 3, alpha: float = 0.1) -> Diagnosis:
    """The calibrated label of one failure (see the module doc), with its evidence."""
    if len(probes) != len(probe_correct):
        raise ValueError(f"{len(probes)} probes but {len(probe_correct)} probe results")
    if not 0 <= chosen < len(item.options):
        raise ValueError(f"chosen option {chosen} out of range for {len(item.options)} options")
    if chosen == item.answer:
        raise ValueError("the item was answered correctly: nothing to diagnose")
    if not 0.0 <= base <= 1.0:
        raise ValueError(f"base rate {base} is not a probability")
    n, k = len(probes), sum(probe_correct)
    chance = [1 / len(p.options) for p in probes]
    below = binomial_cdf(k, n, base) if n else 1.0
    above = poisson_binomial_sf(k, chance) if n else 1.0
    failed = [p for p, ok in zip(probes, probe_correct) if not ok]
    if n < min_probes:
        label, why = "undetermined", f"{n} valid probes, fewer than {min_probes}"
    elif below <= alpha:
        label, why = "concept_gap", f"{k}/{n} probes right, below the base rate {base:.2f} (p={below:.3f})"
    elif above <= alpha and k / n >= base:
        label, why = "reasoning_deficit", f"{k}/{n} probes right, above chance (p={above:.3f})"
    else:
        label, why = "undetermined", f"{k}/{n} probes right: neither below the base rate nor above chance"
    if label == "concept_gap":
        nodes = list(dict.fromkeys(x for p in failed for x in [p.node, *p.concepts]))
    elif label == "reasoning_deficit":
        nodes = list(dict.fromkeys(item.statements))
    else:  # undetermined: the item's own nodes, for a patch that teaches them all
        nodes = list(dict.fromkeys([*item.statements, *item.concepts]))
    evidence: dict[str, Any] = {
        "method": "probes", "probes": n, "correct": k, "base_rate": round(base, 4),
        "chance": round(sum(chance) / n, 4) if n else 0.0, "p_below_base": round(below, 4),
        "p_above_chance": round(above, 4), "min_probes": min_probes, "alpha": alpha, "why": why,
        "failed_probes": [p.node for p in failed]}
    return make(Diagnosis, checkpoint=checkpoint, item=item.key, discipline=item.discipline,
                label=label, chain=item.chain, nodes=nodes, confused_with=item.options[chosen].text,
                evidence=evidence)
def confused_concepts(item: Item, chosen: int, pool: Iterable[Concept]) -> list[Concept]:
    """Concepts the chosen distractor names that the correct answer does not, in order of
    appearance — the ``confused`` argument of :func:`patch_samples`.

    Only an adjacency distractor (or one of unknown origin) swaps in a neighbouring concept; an
    inversion or truncation distractor confuses a relation or a step, so it gives [] (the patch
    contrasts the inverted relation / the intermediate step itself).
    """
    if item.options[chosen].operator in ("inversion", "truncation"):
        return []
    text, answer = item.options[chosen].text, item.options[item.answer].text
    found = {}
    for c in pool:
        m = name_pattern(c).search(text)
        if m and not mentions(answer, c) and c.key not in found:
            found[c.key] = (m.start(), c.key, c)
    return [c for _, _, c in sorted(found.values())]


def error_rates(diagnoses: list[Diagnosis], totals: dict[str, int]) -> dict[str, float]:
    """Diagnosed failures / tested items, per discipline (every discipline of ``totals``).

    Diagnoses are counted once per item. A discipline with diagnoses but no total, or more failures
    than items, is an inconsistent input (ValueError). A total of 0 gives 0.0.
    """
    items: dict[str, set[str]] = {}
    for d in diagnoses:
        items.setdefault(d.discipline, set()).add(d.item)
    rates = {}
    for disc in sorted(set(totals) | set(items)):
        failed, total = len(items.get(disc, ())), totals.get(disc)
        if total is None or failed > total:
            raise ValueError(f"{disc}: {failed} diagnosed items but {total} tested")
        rates[disc] = failed / total if total else 0.0
    return rates


