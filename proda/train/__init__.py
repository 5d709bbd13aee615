"""Trainers (the "compiler"): plain functions from rendered training texts to a checkpoint directory.

A trainer knows nothing of the build engine. It is called as::

    stats = get_trainer(cfg.trainer)(texts, out_dir, cfg, corpus=..., init_from=None,
                                     epochs=cfg.epochs, learning_rate=cfg.learning_rate,
                                     state_dir=..., on_step=None)

and writes a Hugging Face ``save_pretrained`` layout into ``out_dir`` (the caller passes a temporary
directory and renames it when the call returns). ``state_dir`` holds resumable trainer state: a killed
run called again with the same arguments continues where it stopped and ends with the same weights
as an uninterrupted run. Importing this package is cheap: torch, transformers, peft and tokenizers
are imported inside the trainer functions only.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from ..errors import UsageError

if TYPE_CHECKING:
    from ..config import CompileConfig

StepCallback = Callable[[int, float, float], None]  # (step, loss, learning rate), once per optimizer step


class Trainer(Protocol):
    def __call__(
        self,
        texts: list[str],
        out_dir: Path,
        cfg: CompileConfig,
        *,
        corpus: list[str],
        init_from: Path | None = None,
        epochs: float,
        learning_rate: float,
        state_dir: Path,
        on_step: StepCallback | None = None,
    ) -> dict:
        """Train, write the checkpoint into ``out_dir`` and return stats.

        Stats: ``steps`` (optimizer steps of the whole schedule), ``tokens`` (tokens trained on in this
        call), ``seconds`` (wall time of this call), ``tokens_per_s``, ``first_loss``, ``final_loss``
        (mean loss of the last steps), ``resumed_from`` (the step a saved state was resumed at, 0 if
        none) and trainer-specific extras.
        """
        ...


# name -> (module, the import names it needs, the pip command that installs them)
TRAINERS: dict[str, tuple[str, tuple[str, ...], str]] = {
    "tiny": ("proda.train.tiny", ("torch", "transformers", "tokenizers"),
             "pip install torch transformers tokenizers"),
    "lora": ("proda.train.lora", ("torch", "transformers", "peft"),
             "pip install torch transformers peft"),
}


def require(packages: tuple[str, ...], pip: str, what: str) -> None:
    """Raise a UsageError naming the pip command when one of ``packages`` is not importable."""
    missing = [name for name in packages if importlib.util.find_spec(name) is None]
    if missing:
        raise UsageError(f"{what} needs {', '.join(missing)}, which is not installed", pip)


def get_trainer(name: str) -> Trainer:
    """The ``train`` function of trainer ``name`` (imported on first use)."""
    if name not in TRAINERS:
        raise UsageError(f"unknown trainer {name!r}",
                         f"set compile.trainer to one of: {', '.join(sorted(TRAINERS))}")
    module, packages, pip = TRAINERS[name]
    require(packages, pip, f"the {name!r} trainer")
    return importlib.import_module(module).train


def trainer_version(name: str) -> int:
    """A trainer's output-semantics version (bump it when its checkpoints change), for recipe keys.

    Read without importing the trainer's heavy dependencies.
    """
    from . import lora, tiny  # both import nothing heavy at module level

    return {"tiny": tiny.VERSION, "lora": lora.VERSION}[name]
