"""Diagnosis of a failed item from its probe results; the confused concept; error rates per discipline."""

from __future__ import annotations

from collections.abc import Iterable


from ..records import Concept, Diagnosis, Item, make
from .probes import Probe
from .wording import mentions, name_pattern


LABELS = ("concept_gap", "reasoning_deficit")


# --- diagnosis -----------------------------------------------------------------------------------


def diagnose(item: Item, chosen: int, checkpoint: str, probes: list[Probe],
             probe_correct: list[bool]) -> Diagnosis:
    """Label a failure: a failed probe is a concept gap, else the model failed to compose the chain.

    Reasoning-deficit nodes are ``item.statements`` (the statements of the item's chain).
    """
    if len(probes) != len(probe_correct):
        raise ValueError(f"{len(probes)} probes but {len(probe_correct)} probe results")
    if not 0 <= chosen < len(item.options):
        raise ValueError(f"chosen option {chosen} out of range for {len(item.options)} options")
    if chosen == item.answer:
        raise ValueError("the item was answered correctly: nothing to diagnose")
    failed = [p for p, ok in zip(probes, probe_correct) if not ok]
    if failed:
        label = "concept_gap"
        nodes = list(dict.fromkeys(k for p in failed for k in [p.node, *p.concepts]))
    else:
        label, nodes = "reasoning_deficit", list(dict.fromkeys(item.statements))
    return make(Diagnosis, checkpoint=checkpoint, item=item.key, discipline=item.discipline,
                label=label, chain=item.chain, nodes=nodes,
                confused_with=item.options[chosen].text)


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


