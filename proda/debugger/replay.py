"""Replay: a deterministic subset of the original samples mixed into a patch."""

from __future__ import annotations



from ..records import Sample, make
from .wording import ranked


# --- replay --------------------------------------------------------------------------------------


def replay_samples(originals: list[Sample], patch: list[Sample], ratio: float, seed: str,
                   *, patch_name: str | None = None) -> list[Sample]:
    """round(ratio * len(patch)) originals (half up), none sharing a statement with the patch.

    The subset (returned in that order) is the originals ranked by xxh3(seed, key): deterministic,
    independent of input order, and adding originals only swaps in those that outrank the chosen
    ones. Copies get origin="replay" and source = ``patch_name`` (default: the patch samples'
    source); identity is (format, prompt, response), so a copy keeps its original's key.
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
    return [_replay(s, name) for s in ranked(seed, pool.values())[:count]]


def _replay(s: Sample, name: str) -> Sample:
    fields = {f: getattr(s, f) for f in s.__struct_fields__ if f != "key"}
    return make(Sample, **{**fields, "origin": "replay", "source": name})
