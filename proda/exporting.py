"""``proda export``: the current build's training data, benchmark and checkpoint for other tools.

chat-jsonl -> OUT (a file): OpenAI chat messages, one training sample per line.
hf         -> OUT/ : Hugging Face datasets layout (train = samples, test = items, Parquet).
lm-eval    -> OUT/ : an lm-evaluation-harness task folder; ``OUT/run.sh`` evaluates the current
              checkpoint with ``lm_eval --include_path OUT --tasks proda``.
"""

from __future__ import annotations

from pathlib import Path

from . import export as formats
from .engine import load_shard
from .errors import UsageError
from .records import Item, Sample


def _samples(project) -> list[Sample]:
    from .stages import get

    return [s for shard in get("synth").shards(project) for s in load_shard(project.build, "synth", shard)
            if isinstance(s, Sample)]


def _items(project) -> list[Item]:
    from .stages.test import all_items

    return all_items(project)


def export_project(project, fmt: str, out: Path) -> Path:
    samples, items = _samples(project), _items(project)
    if not samples and not items:
        raise UsageError("nothing to export yet", "run `proda build` first")
    out = out.resolve()
    if fmt == "chat-jsonl":
        formats.export_chat_jsonl(samples, out)
    elif fmt == "hf":
        formats.export_hf(samples, items, out)
    elif fmt == "lm-eval":
        formats.export_lm_eval(items, out, task_name="proda")
        from .stages.compile import checkpoint_dir, current_checkpoint

        checkpoint = current_checkpoint(project)
        if checkpoint:
            script = out / "run.sh"
            script.write_text(
                "#!/bin/sh\n# evaluate the current proda checkpoint on the exported benchmark\n"
                f"HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 lm_eval --model hf --model_args "
                f"pretrained={checkpoint_dir(project, checkpoint)} --include_path {out} --tasks proda "
                "--device cpu \"$@\"\n")
            script.chmod(0o755)
    else:  # click restricts the choice; the library guards too
        raise UsageError(f"unknown export format {fmt!r}", "use chat-jsonl, hf or lm-eval")
    return out
