"""The no-op fast path: answer "nothing to do" without loading doit, the config or any record.

After every successful full build (one whose code and specs did not move while it ran: it may
have read either state), ``build/.stamp`` records a digest of the stat signature
(path, size, mtime) of every input that can make any task stale: proda's own code, the config,
every corpus and patch file, the local model folders named in the config, every stage manifest
and recipe file, doit's state file, and the objects and checkpoint files the current manifests
name (so an edited, truncated or deleted output is noticed; the full path then checks it against
its hash). If a later ``proda build`` (or ``proda status``) computes the same digest, doit would
find every task up to date — so the answer is read from the stamp directly. The stamp is sealed
with a hash of its own content, so an edited stamp is not believed either. Damage that leaves
size and mtime alone (a flipped bit on disk) is what ``proda verify`` and ``build --verify`` are for. Anything else (a touched file, a new setting, a deleted output) falls through
to doit, which decides for real. This is ninja's trick: stat, don't hash, when nothing moved.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from . import layout
from .stage import ORDER



def _walk(folder: str, out: list) -> None:
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        try:
            if entry.is_dir(follow_symlinks=False):
                if entry.name != "__pycache__":
                    # the folder itself too: an empty discipline folder is a shard, and removing
                    # it must void the stamp even though no file went with it
                    out.append((entry.path, -2, 0))
                    _walk(entry.path, out)
            else:
                st = entry.stat(follow_symlinks=False)
                out.append((entry.path, st.st_size, st.st_mtime_ns))
        except OSError:
            out.append((entry.path, -1, -1))


def _model_dirs(config_file: Path) -> list[str]:
    import tomllib

    try:
        tree = tomllib.loads(config_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    found = []
    for section, key in (("compile", "base_model"), ("llm", "model"), ("llm", "adapter")):
        value = tree.get(section, {}).get(key)
        if isinstance(value, str) and value and os.path.isdir(value):
            found.append(value)
    return found


def _input_stats(root: Path) -> list:
    """The stat signature of what a build reads and does not write: proda's code, the specs and
    the local model folders the config names."""
    stats: list = []
    code = Path(__file__).resolve().parent.parent  # all of proda's code
    for folder in (str(code), str(root / "specs")):
        _walk(folder, stats)
    for model in _model_dirs(root / "specs" / "proda.toml"):
        _walk(model, stats)
    return stats


def inputs(root: Path) -> str:
    """A digest of :func:`_input_stats`: equal before and after a build when nothing it reads
    moved while it ran."""
    import xxhash

    stats = sorted(_input_stats(root))
    return xxhash.xxh3_128_hexdigest(json.dumps(stats).encode())


def signature(root: Path, overrides: tuple[str, ...] = (), until: str | None = None,
              watch: list[str] | tuple[str, ...] = ()) -> str:
    import xxhash

    stats = _input_stats(root)
    build = root / "build"
    for stage in ORDER:
        _walk(str(layout.stage_dir(build, stage)), stats)
    _walk(str(layout.recipes(build)), stats)
    for extra in (layout.doit_db(build), layout.version_marker(build), *map(Path, watch)):
        try:
            st = extra.stat()
            stats.append((str(extra), st.st_size, st.st_mtime_ns))
        except OSError:
            stats.append((str(extra), -1, -1))
    stats.sort()
    # where units run ([run]) changes no output, so it does not void the stamp
    overrides = [o for o in overrides if not o.replace(" ", "").startswith("run.")]
    blob = json.dumps([overrides, until, os.environ.get("PRODA_SET", ""), stats])
    return xxhash.xxh3_128_hexdigest(blob.encode())


def load(root: Path) -> dict | None:
    """The stamp of the last successful build, if it is intact (its seal matches its content)."""
    import xxhash

    try:
        stamp = json.loads(layout.stamp(root / "build").read_text())
        body = json.dumps([stamp["signature"], stamp["watch"], stamp["result"]], sort_keys=True)
        if stamp["seal"] != xxhash.xxh3_128_hexdigest(body.encode()):
            return None
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return stamp


def save(root: Path, overrides: tuple[str, ...], until: str | None, result: dict,
         watch: list[str] = ()) -> None:
    import xxhash

    from .storage import write_json

    watch = sorted(watch)
    sig = signature(root, overrides, until, watch)
    body = json.dumps([sig, watch, result], sort_keys=True)
    write_json(layout.stamp(root / "build"), {"signature": sig, "watch": watch, "result": result,
                                              "seal": xxhash.xxh3_128_hexdigest(body.encode())})


def noop_result(root: Path, overrides: tuple[str, ...] = (), until: str | None = None) -> dict | None:
    """The build result if nothing moved since the last successful build of the same target."""
    stamp = load(root)
    if not stamp or stamp.get("signature") != signature(root, overrides, until, stamp["watch"]):
        return None
    saved = stamp["result"]  # the stamp file sorts its keys: stages back to pipeline order
    stages = {name: saved["stages"][name] for name in ORDER if name in saved["stages"]}
    for counts in stages.values():  # a no-op builds nothing and reuses everything
        counts["reused"] += counts["built"]
        counts["built"], counts["seconds"] = 0, 0.0
        for key in ("from_memo", "damaged", "restored"):
            counts[key] = 0
    result = {"version": saved["version"], "stages": stages, "tasks": {}, "up_to_date": True}
    result.update({k: v for k, v in saved.items() if k not in result and k != "repaired"})
    return result
