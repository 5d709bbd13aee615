"""Project configuration: ``specs/proda.toml`` as frozen msgspec Structs.

Precedence is defined once, here: defaults < ``specs/proda.toml`` < command-line overrides
(``section.key=value`` strings). Unknown keys and wrong types are rejected with the file and the
key path, so a typo never silently falls back to a default. Each stage hashes its resolved section.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import msgspec

from .errors import UsageError


class Section(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    pass


class IngestConfig(Section, frozen=True, kw_only=True):
    min_words: int = 80  # shorter documents are trivial
    max_bytes: int = 20_000_000  # larger files are skipped with a reason
    min_quality: float = 0.35  # quality score threshold, see stages/ingest.py
    near_duplicate: float = 0.85  # Jaccard similarity of 5-gram shingles (MinHash estimate)


class ChunkConfig(Section, frozen=True, kw_only=True):
    size: int = 1200  # target characters per chunk
    overlap: int = 1  # paragraphs repeated at the start of the next chunk


class LLMConfig(Section, frozen=True, kw_only=True):
    backend: str = "heuristic"  # heuristic | openai | vllm | transformers
    model: str = ""  # model id (openai/vllm) or local directory (vllm/transformers)
    # openai: the server's /v1 URL, or a list of them (a fleet serving the same model and weights)
    base_url: str | list[str] = "http://127.0.0.1:8000/v1"
    api_key_env: str = "OPENAI_API_KEY"  # the key is read from this variable, never stored
    concurrency: int = 8  # requests in flight at once, per endpoint
    cooldown: float = 30.0  # seconds a failing endpoint of a fleet stays out before it is tried again
    timeout: float = 60.0
    max_retries: int = 5
    temperature: float = 0.0
    max_tokens: int = 1024
    # identity of what a remote endpoint serves (e.g. its checkpoint hash): part of the LLM cache key,
    # since an HTTP server cannot be asked for its weights hash
    revision: str = ""
    adapter: str = ""  # vllm/transformers: a local LoRA adapter directory (hashed into the cache key)
    # vllm: keyword arguments for vllm.LLM (e.g. gpu_memory_utilization = 0.3, max_model_len = 4096)
    engine_args: dict[str, Any] = msgspec.field(default_factory=dict)


class ExtractConfig(Section, frozen=True, kw_only=True):
    min_steps: int = 2
    max_steps: int = 6
    window: int = 2  # adjacent chain steps per L2 window


class BenchConfig(Section, frozen=True, kw_only=True):
    holdout: float = 0.5  # fraction of chains whose items go to the holdout split
    options: int = 4
    middle_items: bool = True  # also ask for a missing middle step


class SynthConfig(Section, frozen=True, kw_only=True):
    mix: list[int] = msgspec.field(default_factory=lambda: [6, 3, 1])  # open : mcq : tf
    budget: str = "uniform"  # uniform | error  (error-proportional to the last diagnosis)
    per_discipline: int = 0  # 0 = every window once; else samples per discipline
    window: int = 2  # relational statements per sample window
    ngram: int = 13  # contamination check n-gram length
    mcq_options: int = 4  # options per multiple-choice training sample (answer + distractors)


class CompileConfig(Section, frozen=True, kw_only=True):
    trainer: str = "tiny"  # tiny | lora
    base_model: str = ""  # lora: local HF model directory
    seed: int = 0
    epochs: float = 8.0
    learning_rate: float = 3e-3
    batch_size: int = 32
    cutoff_len: int = 192
    continued: bool = True  # V2 continues from the parent checkpoint on patches + replay
    patch_epochs: float = 1.0
    patch_learning_rate: float = 2e-3
    save_every: int = 50  # steps between resumable trainer states
    precision: str = "auto"  # auto | bf16 | fp32 (auto: bf16 autocast where the CPU/GPU has native bf16)
    # tiny trainer
    vocab_size: int = 2048
    hidden_size: int = 128
    layers: int = 4
    heads: int = 4
    # lora trainer
    lora_rank: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    target_modules: list[str] = msgspec.field(default_factory=lambda: ["q_proj", "v_proj"])
    chat_template: bool = True  # lora: render samples with the tokenizer's chat template if it has one


class TestConfig(Section, frozen=True, kw_only=True):
    scorer: str = "loglik"  # loglik | vllm
    normalise: bool = False  # length-normalised log-likelihood
    batch_size: int = 32


class DebugConfig(Section, frozen=True, kw_only=True):
    samples_per_error: int = 20
    replay_ratio: float = 0.5  # replay samples per patch sample


class RunConfig(Section, frozen=True, kw_only=True):
    """Where units run (proda/engine/executors.py). Not part of any recipe: outputs do not depend on it."""

    executor: str = "local"  # local | processes | ray
    workers: int = 0  # processes, or CPUs of a local Ray cluster; 0 = every core of this machine
    address: str = ""  # ray: "" starts a local cluster; "auto" or "ray://head:10001" joins one


class Config(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: str = "proda-project"
    ingest: IngestConfig = IngestConfig()
    chunk: ChunkConfig = ChunkConfig()
    llm: LLMConfig = LLMConfig()
    extract: ExtractConfig = ExtractConfig()
    bench: BenchConfig = BenchConfig()
    synth: SynthConfig = SynthConfig()
    compile: CompileConfig = CompileConfig()
    test: TestConfig = TestConfig()
    debug: DebugConfig = DebugConfig()
    run: RunConfig = RunConfig()


def _set_path(tree: dict[str, Any], dotted: str, raw: str) -> None:
    parts = dotted.split(".")
    node = tree
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    try:
        value: Any = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw  # a bare string
    node[parts[-1]] = value


def load(path: Path, overrides: list[str] | tuple[str, ...] = ()) -> Config:
    """Resolve defaults < ``path`` < ``overrides`` into one validated Config."""
    tree: dict[str, Any] = {}
    if path.exists():
        try:
            tree = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise UsageError(f"{path}: not valid TOML: {exc}", "fix the syntax of that line") from exc
    for item in overrides:
        if "=" not in item:
            raise UsageError(f"bad setting {item!r}", "write settings as section.key=value")
        key, raw = item.split("=", 1)
        _set_path(tree, key.strip(), raw.strip())
    try:
        return msgspec.convert(tree, Config)
    except msgspec.ValidationError as exc:
        where = str(exc).replace("$.", "")
        raise UsageError(
            f"{path}: {where}",
            "see docs/config.md for every key, its type and its default",
        ) from exc


def section_params(config: Config, *names: str) -> dict[str, Any]:
    """The resolved values of some sections, as plain data (for recipe hashing)."""
    return {name: msgspec.to_builtins(getattr(config, name)) for name in names}
