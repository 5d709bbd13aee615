"""``proda export``: the current build's training data, benchmark and checkpoint for other tools.

chat-jsonl -> OUT (a file): OpenAI chat messages, one training sample per line.
hf         -> OUT/ : Hugging Face datasets layout (train = samples, test = items, Parquet).
lm-eval    -> OUT/ : an lm-evaluation-harness task folder; ``OUT/run.sh`` evaluates the current
              checkpoint with ``lm_eval --include_path OUT --tasks proda``.
checkpoint -> OUT/ : the current checkpoint, a ``save_pretrained`` folder (a tiny model with its
              tokenizer, or a LoRA adapter naming its base) for transformers, peft or ``vllm serve``;
              its ``proda.json`` (key, parent, trainer, weights hash, training stats) with it.
knowledge  -> OUT/ : the knowledge graph, ``chains.jsonl`` / ``statements.jsonl`` / ``concepts.jsonl``
              with keys, provenance (document, chunk, character spans) and links (``knowledge.py``).
"""

from __future__ import annotations

from pathlib import Path

from typing import TYPE_CHECKING

from . import formats
from ..engine import outputs
from ..errors import UsageError

if TYPE_CHECKING:
    from ..project import Project


def export_project(project: "Project", fmt: str, out: Path, force: bool = False) -> Path:
    """Write export ``fmt`` to ``out``. An existing ``out`` must be a previous export of the same
    format (or ``force``), and never a path inside specs/ or build/: see ``guard``."""
    from . import guard

    guard.check(project, out, fmt, force)
    if fmt == "knowledge":
        from .knowledge import export_knowledge

        return export_knowledge(project, out.resolve(), force=force)
    if fmt == "checkpoint":
        checkpoint = outputs.current_checkpoint(project)
        if not checkpoint:
            raise UsageError("there is no checkpoint to export yet", "run `proda build` (its compile stage) first")
        out = out.resolve()
        formats.export_checkpoint(outputs.checkpoint_dir(project, checkpoint), out)
        guard.record(project, out, fmt)
        return out
    samples, items = outputs.samples(project), outputs.items(project)
    if not samples and not items:
        raise UsageError("nothing to export yet", "run `proda build` first")
    out = out.resolve()
    if fmt == "chat-jsonl":
        formats.export_chat_jsonl(samples, out)
    elif fmt == "hf":
        formats.export_hf(samples, items, out)
    elif fmt == "lm-eval":
        formats.export_lm_eval(items, out, task_name="proda")
        checkpoint = outputs.current_checkpoint(project)
        if checkpoint:
            _run_script(out / "run.sh", outputs.checkpoint_dir(project, checkpoint))
    else:  # click restricts the choice; the library guards too
        raise UsageError(f"unknown export format {fmt!r}", "use chat-jsonl, hf, lm-eval, knowledge or checkpoint")
    guard.record(project, out, fmt)
    return out


def _run_script(script: Path, checkpoint: Path) -> None:
    """``run.sh`` evaluates the checkpoint on the exported tasks; every path is relative to the
    script's folder (the checkpoint's as it was at export time; ``PRODA_CHECKPOINT`` overrides it)."""
    import os

    relative = Path(os.path.relpath(checkpoint, script.parent)).as_posix()
    script.write_text(
        "#!/bin/sh\n# evaluate the exported proda checkpoint on the exported benchmark (lm-evaluation-harness)\n"
        'here="$(cd "$(dirname "$0")" && pwd)"\n'
        f'checkpoint="${{PRODA_CHECKPOINT:-$here/{relative}}}"\n'
        'HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 exec lm_eval --model hf --model_args "pretrained=$checkpoint" '
        '--include_path "$here" --tasks proda --device cpu "$@"\n')
    script.chmod(0o755)
