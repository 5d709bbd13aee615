"""Patch files: the debugger's edits of the training data, reviewable and committable.

``specs/patches/NNNN-<label>.jsonl`` (numbered in creation order, see :func:`next_patch_path`):

- line 1, the header: ``{"proda_patch": 1, "created_from": <checkpoint key>, "diagnoses":
  [{"item", "label", "nodes", "confused_with", "discipline", "chain", "evidence"}, ...], "error_rates":
  {<discipline>: float}, "budget": {"mode", "total", "by_discipline", ...}, "dropped": {<kind>: int}}``
  (``budget``: the phase-2 allocation; ``dropped``: candidates the orthogonality rule rejected);
- every further line, one training Sample as JSON (``msgspec.json``, the same encoding as every
  other record file, including ``"type": "Sample"``).

Hand edits are expected (a patch is a source file). On reading, every line is validated; a bad line
raises :class:`UsageError` naming the file and the line number. The ``key`` of a sample line is
never trusted: it is recomputed from the content with :func:`proda.records.make`, so a hand-written
line may omit it and an edited line whose old key no longer matches its text gets its new key.
A line may also omit ``type``, ``statements``/``concepts`` (default []), ``origin`` (default
"patch") and ``source`` (default: the patch file name). Blank lines are skipped.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from ..errors import UsageError
from ..umask import readable_mode
from ..records import Diagnosis, Sample, make

if TYPE_CHECKING:
    from ..project import Project

VERSION = 1
_NAME = re.compile(r"^(\d+)-.*\.jsonl$")
_LINE_HINT = ("each line after the header is one sample: {\"discipline\", \"format\" (open|mcq|tf), "
              "\"prompt\", \"response\"} plus optional \"statements\", \"concepts\", \"origin\" "
              "(patch|replay), \"source\"; fix or delete that line")


class DiagnosisSummary(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    item: str
    label: str
    nodes: list[str]
    confused_with: str
    discipline: str = ""
    chain: str = ""
    evidence: dict[str, Any] = msgspec.field(default_factory=dict)


class PatchHeader(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    proda_patch: int
    created_from: str = ""  # the checkpoint a debugger patch came from; "" for a hand-written one
    diagnoses: list[DiagnosisSummary] = msgspec.field(default_factory=list)
    error_rates: dict[str, float] = msgspec.field(default_factory=dict)
    # phase 2: {"mode", "samples_per_error", "total", "by_discipline", "written", "replay"}
    budget: dict[str, Any] = msgspec.field(default_factory=dict)
    dropped: dict[str, int] = msgspec.field(default_factory=dict)  # candidates the rule rejected, by kind


class _SampleLine(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    type: str = "Sample"
    key: str = ""  # ignored: recomputed from the content
    discipline: str
    format: str
    prompt: str
    response: str
    statements: list[str] = msgspec.field(default_factory=list)
    concepts: list[str] = msgspec.field(default_factory=list)
    origin: str = "patch"
    source: str = ""


def make_header(checkpoint: str, diagnoses: Iterable[Diagnosis], rates: dict[str, float], *,
                budget: dict[str, Any] | None = None, dropped: dict[str, int] | None = None) -> dict[str, Any]:
    """The header object of a patch created from ``checkpoint``'s diagnoses."""
    return {
        "proda_patch": VERSION,
        "created_from": checkpoint,
        "diagnoses": [{"item": d.item, "label": d.label, "nodes": list(d.nodes),
                       "confused_with": d.confused_with, "discipline": d.discipline,
                       "chain": d.chain, "evidence": dict(d.evidence)} for d in diagnoses],
        "error_rates": dict(sorted(rates.items())),
        "budget": dict(budget or {}),
        "dropped": dict(dropped or {}),
    }


def write_patch(path: Path, header: dict[str, Any], samples: Iterable[Sample]) -> None:
    """Write a patch file atomically (temp file in the same folder, fsync, ``os.replace``)."""
    path = Path(path)
    try:
        head = msgspec.convert({"proda_patch": VERSION, **header}, PatchHeader)
    except msgspec.ValidationError as exc:
        raise ValueError(f"bad patch header: {exc}") from exc
    lines = [msgspec.json.encode(head)] + [msgspec.json.encode(s) for s in samples]
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(b"\n".join(lines) + b"\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, readable_mode())  # a file to review and commit: the user's umask, not 0600
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _what(exc: Exception) -> str:
    """msgspec's message with the JSON path made readable ("- at `$.prompt`" -> "(field prompt)")."""
    return re.sub(r" - at `\$\.?([^`]*)`", lambda m: f" (field {m.group(1)})" if m.group(1) else "",
                  str(exc))


def patch_bytes(path: Path) -> bytes:
    """A patch file's bytes, or a message saying it cannot be read."""
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise UsageError(f"{path}: cannot read patch file: {exc.strerror}",
                         "check the path under specs/patches/") from exc


def read_patch(path: Path, raw: bytes | None = None) -> tuple[dict[str, Any], list[Sample]]:
    """The header (as plain data) and the samples of a patch file, every line validated; ``raw``:
    its bytes, read already (the path then only names it in messages)."""
    path = Path(path)
    raw = patch_bytes(path) if raw is None else raw
    header: PatchHeader | None = None
    samples: list[Sample] = []
    for lineno, line in enumerate(raw.split(b"\n"), 1):
        if not line.strip():
            continue

        def fail(what: str, hint: str = _LINE_HINT) -> UsageError:
            return UsageError(f"{path}, line {lineno}: {what}", hint)  # noqa: B023

        try:
            line.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise fail(f"not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
        if header is None:
            header = _header(line, fail)
            continue
        try:
            rec = msgspec.json.decode(line, type=_SampleLine)
        except msgspec.ValidationError as exc:  # a subclass of DecodeError: catch it first
            raise fail(_what(exc)) from exc
        except msgspec.DecodeError as exc:
            raise fail(f"not valid JSON ({_what(exc)})") from exc
        if rec.type != "Sample":
            raise fail(f"a {rec.type!r} record where a Sample was expected")
        if rec.format not in ("open", "mcq", "tf"):
            raise fail(f"format {rec.format!r} is not one of open, mcq, tf")
        if rec.origin not in ("patch", "replay"):
            raise fail(f"origin {rec.origin!r} is not one of patch, replay")
        if not rec.prompt.strip() or not rec.response.strip():
            raise fail("empty prompt or response")
        samples.append(make(Sample, discipline=rec.discipline, format=rec.format,
                            prompt=rec.prompt, response=rec.response,
                            statements=list(rec.statements), concepts=list(rec.concepts),
                            origin=rec.origin, source=rec.source or path.name))
    if header is None:
        raise UsageError(f"{path}, line 1: missing patch header (the file is empty)",
                         'the first line must be {"proda_patch": 1, "created_from": ...}')
    return msgspec.to_builtins(header), samples


def _header(line: bytes, fail) -> PatchHeader:
    hint = 'the first line must be {"proda_patch": 1, "created_from": "<checkpoint>", ...}'
    try:
        obj = msgspec.json.decode(line)
    except msgspec.DecodeError as exc:
        raise fail(f"not valid JSON ({_what(exc)})", hint) from exc
    if not isinstance(obj, dict) or "proda_patch" not in obj:
        raise fail("missing patch header: the first line is not a header object", hint)
    try:
        head = msgspec.convert(obj, PatchHeader)
    except msgspec.ValidationError as exc:
        raise fail(f"bad patch header: {_what(exc)}", hint) from exc
    if head.proda_patch != VERSION:
        raise fail(f"unsupported patch format version {head.proda_patch} (this proda reads "
                   f"{VERSION})", "upgrade proda, or regenerate the patch with `proda debug`")
    return head


def list_patches(patches_dir: Path) -> list[Path]:
    """The patch files of a folder, in number order (hidden and temporary files excluded)."""
    patches_dir = Path(patches_dir)
    if not patches_dir.is_dir():
        return []
    found = [(int(m.group(1)), p.name, p) for p in patches_dir.iterdir()
             if p.is_file() and (m := _NAME.match(p.name))]
    return [p for _, _, p in sorted(found)]


def written_from(patches_dir: Path, checkpoint: str) -> list[str]:
    """The names of the patch files whose header says they were diagnosed from ``checkpoint`` (a
    file whose header cannot be read is left to the build to report)."""
    out = []
    for path in list_patches(patches_dir):
        try:
            with open(path, "rb") as fh:
                head = msgspec.json.decode(fh.readline())
        except (OSError, msgspec.DecodeError):
            continue
        if isinstance(head, dict) and head.get("created_from") == checkpoint:
            out.append(path.name)
    return out


def next_patch_path(patches_dir: Path, label: str) -> Path:
    """``NNNN-<label>.jsonl``, NNNN one above the highest number in the folder (0001 if none)."""
    patches_dir = Path(patches_dir)
    top = 0
    if patches_dir.is_dir():
        for p in patches_dir.iterdir():
            if m := _NAME.match(p.name):
                top = max(top, int(m.group(1)))
    slug = re.sub(r"[^a-z0-9._-]+", "-", label.lower()).strip("-.") or "patch"
    return patches_dir / f"{top + 1:04d}-{slug}.jsonl"


def latest_error_rates(project: "Project") -> dict[str, float] | None:
    files = project.patch_files()
    if not files:
        return None
    header, _ = read_patch(files[-1])
    return header.get("error_rates") or None
