"""Replay: original samples mixed into a patch, chosen for what the patch may disturb.

A patch pushes the model towards some concepts; what it is most likely to disturb is (1) the facts
behind the dev items the model already answers right, and (2) the concepts next to the patched ones
(same document, or linked to them by a statement). Replay takes originals in that order of priority
— both, then facts behind passed items, then neighbours, then the rest — and by a seeded hash within
a tier, so the choice is deterministic and independent of input order.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..records import Sample, make
from .wording import ranked


def replay_samples(originals: list[Sample], patch: list[Sample], ratio: float, seed: str,
                   *, patch_name: str | None = None, passed: Iterable[str] = (),
                   neighbours: Iterable[str] = ()) -> list[Sample]:
    """round(ratio * len(patch)) originals (half up), none sharing a statement with the patch.

    ``passed``: statement keys behind dev items the checkpoint passed; ``neighbours``: concept keys
    near the patched ones. An original teaching a passed item's statement ranks before one touching
    a neighbour concept, which ranks before the rest (both: first). Copies get origin="replay" and
    source = ``patch_name`` (default: the patch samples' source); identity is (format, prompt,
    response), so a copy keeps its original's key.
    """
    if ratio < 0:
        raise ValueError(f"replay ratio must be >= 0, got {ratio}")
    count = int(ratio * len(patch) + 0.5)
    if not count:
        return []
    name = patch_name if patch_name is not None else patch[0].source
    used = {k for s in patch for k in s.statements}
    taken = {s.key for s in patch}
    pool = {s.key: s for s in originals if s.key not in taken and not used & set(s.statements)}
    passed, near = set(passed), set(neighbours)

    def tier(s: Sample) -> int:
        keeps, touches = bool(passed & set(s.statements)), bool(near & set(s.concepts))
        return 0 if keeps and touches else 1 if keeps else 2 if touches else 3

    order = ranked(seed, pool.values())
    order.sort(key=tier)  # stable: the hash order holds within a tier
    return [_replay(s, name) for s in order[:count]]


def _replay(s: Sample, name: str) -> Sample:
    fields = {f: getattr(s, f) for f in s.__struct_fields__ if f != "key"}
    return make(Sample, **{**fields, "origin": "replay", "source": name})
