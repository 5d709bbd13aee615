"""Project configuration: ``specs/proda.toml`` as frozen msgspec Structs.

Precedence is defined once, here: defaults < ``specs/proda.toml`` < command-line overrides
(``section.key=value`` strings from ``--set``, or ``PRODA_SET`` under plain doit). Unknown keys,
wrong types and values out of range are rejected naming the key, the value, what is allowed and
where the value came from, so a typo never silently falls back to a default and a nonsense value
never runs. Ranges and list shapes are declared on the fields (``Meta``); relations between keys
are checked in ``_relations``. Each stage hashes its resolved section.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from .errors import UsageError

# ranges, declared once on the fields (docs/config.md shows them in its type column)
Count = Annotated[int, Meta(ge=0)]  # 0 or more
Positive = Annotated[int, Meta(ge=1)]
Fraction = Annotated[float, Meta(ge=0, le=1)]
Rate = Annotated[float, Meta(gt=0, le=1)]


class Section(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    pass


class IngestConfig(Section, frozen=True, kw_only=True):
    min_words: Annotated[int, Meta(ge=0, le=100_000)] = 80  # shorter documents are trivial
    max_bytes: Annotated[int, Meta(ge=1)] = 20_000_000  # larger files are skipped with a reason
    min_quality: Fraction = 0.35  # quality score threshold, see stages/ingest.py
    near_duplicate: Rate = 0.85  # Jaccard similarity of 5-gram shingles (MinHash estimate)
    # folders besides the project that corpus links may point into (relative to the project root);
    # a link resolving anywhere else is skipped (reason ``outside``)
    roots: list[str] = msgspec.field(default_factory=list)


class ChunkConfig(Section, frozen=True, kw_only=True):
    size: Annotated[int, Meta(ge=100, le=1_000_000)] = 1200  # target characters per chunk
    overlap: Annotated[int, Meta(ge=0, le=20)] = 1  # paragraphs repeated at the start of the next chunk


class LLMConfig(Section, frozen=True, kw_only=True):
    backend: Literal["heuristic", "openai", "vllm", "transformers"] = "heuristic"
    model: str = ""  # model id (openai/vllm) or local directory (vllm/transformers)
    # openai: the server's /v1 URL, or a list of them (a fleet serving the same model and weights)
    base_url: str | Annotated[list[str], Meta(min_length=1)] = "http://127.0.0.1:8000/v1"
    api_key_env: str = "OPENAI_API_KEY"  # the key is read from this variable, never stored
    concurrency: Annotated[int, Meta(ge=1, le=4096)] = 8  # requests in flight at once, per endpoint
    # seconds a failing endpoint of a fleet stays out before it is tried again
    cooldown: Annotated[float, Meta(ge=0)] = 30.0
    timeout: Annotated[float, Meta(gt=0)] = 60.0
    max_retries: Annotated[int, Meta(ge=0, le=100)] = 5
    temperature: Annotated[float, Meta(ge=0, le=2)] = 0.0
    max_tokens: Annotated[int, Meta(ge=1, le=1_000_000)] = 1024
    # identity of what a remote endpoint serves (e.g. its checkpoint hash): part of the LLM cache key,
    # since an HTTP server cannot be asked for its weights hash
    revision: str = ""
    adapter: str = ""  # vllm/transformers: a local LoRA adapter directory (hashed into the cache key)
    # vllm: keyword arguments for vllm.LLM (e.g. gpu_memory_utilization = 0.3, max_model_len = 4096)
    engine_args: dict[str, Any] = msgspec.field(default_factory=dict)


class ExtractConfig(Section, frozen=True, kw_only=True):
    min_steps: Annotated[int, Meta(ge=2, le=50)] = 2
    max_steps: Annotated[int, Meta(ge=2, le=50)] = 6
    window: Annotated[int, Meta(ge=1, le=50)] = 2  # adjacent chain steps per L2 window


class BenchConfig(Section, frozen=True, kw_only=True):
    holdout: Annotated[float, Meta(gt=0, lt=1)] = 0.5  # fraction of chains whose items go to the holdout split
    options: Annotated[int, Meta(ge=2, le=26)] = 4
    middle_items: bool = True  # also ask for a missing middle step


class SynthConfig(Section, frozen=True, kw_only=True):
    mix: Annotated[list[Count], Meta(min_length=3, max_length=3)] = msgspec.field(default_factory=lambda: [6, 3, 1])  # open : mcq : tf
    budget: Literal["uniform", "error"] = "uniform"  # error: proportional to the last diagnosis
    per_discipline: Count = 0  # 0 = every window once; else samples per discipline
    window: Annotated[int, Meta(ge=1, le=50)] = 2  # relational statements per sample window
    ngram: Annotated[int, Meta(ge=3, le=100)] = 13  # contamination check n-gram length
    mcq_options: Annotated[int, Meta(ge=2, le=26)] = 4  # options per multiple-choice training sample (answer + distractors)


class CompileConfig(Section, frozen=True, kw_only=True):
    trainer: Literal["tiny", "lora"] = "tiny"
    base_model: str = ""  # lora: local HF model directory
    seed: Count = 0
    epochs: Annotated[float, Meta(gt=0, le=10_000)] = 8.0
    learning_rate: Rate = 3e-3
    batch_size: Annotated[int, Meta(ge=1, le=65_536)] = 32
    cutoff_len: Annotated[int, Meta(ge=8, le=1_000_000)] = 192
    continued: bool = True  # V2 continues from the parent checkpoint on patches + replay
    patch_epochs: Annotated[float, Meta(gt=0, le=10_000)] = 1.0
    patch_learning_rate: Rate = 2e-3
    save_every: Count = 50  # steps between resumable trainer states
    # CPU threads of the training: part of the recipe, so one recipe gives the same weights on an
    # idle and a busy machine (0 = the idle cores: faster, not reproducible)
    threads: Annotated[int, Meta(ge=0, le=1024)] = 1
    precision: Literal["auto", "bf16", "fp32"] = "auto"  # auto: bf16 autocast where the CPU/GPU has native bf16
    # > 1: train under torchrun with DDP on this many processes (gloo on CPU, NCCL on GPUs); part
    # of the checkpoint key then, since the result differs from one process's in float rounding
    processes: Annotated[int, Meta(ge=1, le=1024)] = 1
    # tiny trainer
    vocab_size: Annotated[int, Meta(ge=300, le=1_000_000)] = 2048
    hidden_size: Annotated[int, Meta(ge=8, le=65_536)] = 128
    layers: Annotated[int, Meta(ge=1, le=1024)] = 4
    heads: Annotated[int, Meta(ge=1, le=1024)] = 4
    # lora trainer
    lora_rank: Annotated[int, Meta(ge=1, le=65_536)] = 16
    lora_alpha: Annotated[int, Meta(ge=1, le=65_536)] = 32
    lora_dropout: Annotated[float, Meta(ge=0, lt=1)] = 0.05
    target_modules: Annotated[list[str], Meta(min_length=1)] = msgspec.field(default_factory=lambda: ["q_proj", "v_proj"])
    chat_template: bool = True  # lora: render samples with the tokenizer's chat template if it has one


class TestConfig(Section, frozen=True, kw_only=True):
    scorer: Literal["loglik", "vllm"] = "loglik"
    normalise: bool = False  # length-normalised log-likelihood
    batch_size: Annotated[int, Meta(ge=1, le=65_536)] = 32
    # regression suites for general ability, scored per checkpoint through lm-eval (offline):
    # lm-eval task names, or task folders (lm-eval YAML files) relative to the project
    suites: list[str] = msgspec.field(default_factory=list)
    suite_limit: Count = 0  # documents per suite task (0: all)


class DebugConfig(Section, frozen=True, kw_only=True):
    samples_per_error: Annotated[int, Meta(ge=1, le=10_000)] = 20
    replay_ratio: Annotated[float, Meta(ge=0, le=100)] = 2.0  # replay samples per patch sample (measured: docs/config.md)
    # phase 2: "error" splits samples_per_error x failures over disciplines by dev error rate;
    # "per_error" gives every failure samples_per_error
    allocation: Literal["error", "per_error"] = "error"
    diagnosis: Literal["probes", "llm"] = "probes"  # llm: the paper's LLM judge (needs llm.backend)
    # contrast: lessons may refute false claims and name the confused concept (the paper's contrastive
    # samples); positive: only true statements (a small LM trained on every token learns the rest too)
    lessons: Literal["contrast", "positive"] = "positive"
    paraphrases: Annotated[int, Meta(ge=0, le=4)] = 2  # extra wordings of each relation taught
    min_probes: Annotated[int, Meta(ge=1, le=100)] = 3  # valid probes an item needs before it can be labelled
    alpha: Rate = 0.1  # significance of "below the base rate" / "above chance"


class RunConfig(Section, frozen=True, kw_only=True):
    """Where units run (proda/engine/executors.py). Not part of any recipe: outputs do not depend on it."""

    executor: str = "local"  # local | processes | ray
    workers: Annotated[int, Meta(ge=0, le=100_000)] = 0  # processes, or CPUs of a local Ray cluster; 0 = every core of this machine
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


def _set_path(tree: dict[str, Any], dotted: str, raw: str, source: str) -> None:
    parts = dotted.split(".")
    if not all(parts):
        raise UsageError(f"bad setting {dotted!r} ({source})", "write settings as section.key=value")
    node = tree
    for depth, part in enumerate(parts[:-1]):
        where = ".".join(parts[:depth + 1])
        node = node.setdefault(part, {})
        if not isinstance(node, dict) or (depth and not _is_table(where)):
            raise UsageError(f"{where} is a setting, not a section, so {dotted}=... cannot be set ({source})",
                             f"write {where}=VALUE")
    try:
        value: Any = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw  # a bare string
    node[parts[-1]] = value


def load(path: Path, overrides: list[str] | tuple[str, ...] = (), origin: str = "--set") -> Config:
    """Resolve defaults < ``path`` < ``overrides`` into one validated Config. ``origin`` names
    where the overrides came from (``--set`` or ``PRODA_SET``) in messages."""
    tree: dict[str, Any] = {}
    sources: dict[str, str] = {}
    if path.exists():
        tree = _read_toml(path)
        _sources(tree, "", f"{path.parent.name}/{path.name}", sources)
    for item in overrides:
        if "=" not in item:
            raise UsageError(f"bad setting {item!r} ({origin})", "write settings as section.key=value"
                             + ("; separate several with ';'" if origin == "PRODA_SET" else ""))
        key, raw = item.split("=", 1)
        source = f"{origin} {item.strip()}"
        _set_path(tree, key.strip(), raw.strip(), source)
        sources[key.strip()] = source
    try:
        config = msgspec.convert(tree, Config)
    except msgspec.ValidationError as exc:
        raise _explain(str(exc), tree, sources) from None
    _relations(config, sources)
    return config


def _read_toml(path: Path) -> dict[str, Any]:
    """The settings file's table; what is wrong with it in words when it cannot be read."""
    if path.is_dir():
        raise UsageError(f"{path} is a folder, not a settings file",
                         "remove it (the defaults apply) or put the TOML settings file in its place")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"{path}: cannot read it: {exc.strerror or exc}", "fix its permissions") from None
    try:
        text = data.decode("utf-8-sig")  # a byte-order mark (Notepad's UTF-8) is not TOML's business
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path}: not UTF-8 (byte {exc.start} of {len(data)})",
                         "re-save it as UTF-8 (TOML files are UTF-8)") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path}: not valid TOML: {exc}", "fix the syntax of that line") from exc


def _sources(tree: dict[str, Any], prefix: str, source: str, out: dict[str, str]) -> None:
    for key, value in tree.items():
        dotted = f"{prefix}{key}"
        out[dotted] = source
        if isinstance(value, dict) and not prefix:
            _sources(value, f"{dotted}.", source, out)


def _explain(message: str, tree: dict[str, Any], sources: dict[str, str]) -> UsageError:
    """A msgspec validation error as: the key, its value, what is allowed, where it was set."""
    import re

    what, _, where = message.partition(" - at `$")
    where = where.rstrip("`").lstrip(".")
    key = re.sub(r"\[\d+\]", "", where)
    unknown = re.match(r"Object contains unknown field `(.+)`", what)
    if unknown:
        key = f"{key}.{unknown.group(1)}" if key else unknown.group(1)
        return UsageError(f"unknown setting {key} ({_source(key, sources)})", _did_you_mean(key))
    value = _lookup(tree, key)
    allowed = _allowed(key) or "what docs/config.md says"
    source = _source(key, sources)
    shown = f"{key} = {_toml(value)}" if key else "the settings"
    problem = "has the wrong type" if " got `" in what else "is out of range"
    choices = _field(key)
    if what.startswith("Invalid enum value") and choices is not None and hasattr(choices, "values"):
        import difflib

        problem = "is not one of the choices"
        close = difflib.get_close_matches(str(value), [str(v) for v in choices.values], n=1)
    else:
        close = []
    if where != key:
        problem += f" (at {where})"
    fix = (f"fix {source.split()[0]}" if source.startswith(("--set", "PRODA_SET"))
           else f"fix it in {source}")
    if close:
        fix = f"did you mean {close[0]!r}? {fix}"
    return UsageError(f"{shown} {problem}: it must be {allowed} (set by {source})",
                      f"{fix}; every key, its range and its default: docs/config.md")


def _source(key: str, sources: dict[str, str]) -> str:
    """Where ``key`` (or a key under it) was set; the last override wins, as in ``load``."""
    found = sources.get(key) or next((v for k, v in reversed(sources.items()) if k.startswith(key + ".")), None)
    return found or sources.get(key.split(".")[0], "specs/proda.toml")


def _relations(config: Config, sources: dict[str, str]) -> None:
    """Checks that involve more than one key."""
    def fail(keys: tuple[str, ...], message: str, hint: str) -> None:
        where = "; ".join(f"{k} from {sources.get(k, 'the default')}" for k in keys)
        raise UsageError(f"{message} ({where})", hint)

    e, c = config.extract, config.compile
    if e.min_steps > e.max_steps:
        fail(("extract.min_steps", "extract.max_steps"),
             f"extract.min_steps = {e.min_steps} is more than extract.max_steps = {e.max_steps}",
             "make extract.min_steps at most extract.max_steps")
    if not any(config.synth.mix):
        fail(("synth.mix",), f"synth.mix = {config.synth.mix} asks for no samples at all",
             "give at least one of the three formats (open : mcq : tf) a share above 0")
    if c.hidden_size % c.heads:
        fail(("compile.hidden_size", "compile.heads"),
             f"compile.hidden_size = {c.hidden_size} is not a multiple of compile.heads = {c.heads}",
             "choose a hidden size divisible by the number of heads")


def _lookup(tree: dict[str, Any], key: str) -> Any:
    node: Any = tree
    for part in key.split(".") if key else []:
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value).replace("'", '"')
    return repr(value)


def _field(key: str):
    """msgspec's description of the type of ``section.key`` (None if there is no such key)."""
    import msgspec.inspect as mi

    node: Any = mi.type_info(Config)
    for part in key.split(".") if key else []:
        fields = {f.name: f for f in getattr(node, "fields", ())}
        if part not in fields:
            return None
        node = fields[part].type
    return node


def _is_table(key: str) -> bool:
    """Whether ``key`` holds keys of its own (a section, or a table such as llm.engine_args)."""
    import msgspec.inspect as mi

    t = _field(key)
    return t is None or isinstance(t, (mi.StructType, mi.DictType, mi.AnyType))


def _allowed(key: str) -> str:
    """What a key accepts, in words: 'an integer >= 100', 'a list of 3 integers >= 0', ..."""
    import msgspec.inspect as mi

    def bounds(t) -> str:
        parts = [f"{op} {getattr(t, name)}" for name, op in (("gt", ">"), ("ge", ">="), ("lt", "<"), ("le", "<="))
                 if getattr(t, name, None) is not None]
        return " and ".join(parts)

    def words(t, plural: bool = False) -> str:
        if isinstance(t, mi.IntType):
            noun = "integers" if plural else "an integer"
        elif isinstance(t, mi.FloatType):
            noun = "numbers" if plural else "a number"
        elif isinstance(t, mi.StrType):
            return "strings" if plural else "a string"
        elif isinstance(t, mi.BoolType):
            return "booleans" if plural else "true or false"
        elif isinstance(t, mi.ListType):
            if t.min_length is not None and t.min_length == t.max_length:
                size = f"{t.min_length} "
            elif t.min_length == 1:
                return f"a non-empty list of {words(t.item_type, True)}"
            elif t.min_length:
                size = f"at least {t.min_length} "
            else:
                size = ""
            return f"a list of {size}{words(t.item_type, True)}"
        elif isinstance(t, mi.StructType):
            return "a table of settings"
        elif isinstance(t, mi.LiteralType):
            return "one of " + ", ".join(repr(v) for v in t.values)
        else:
            return ""
        b = bounds(t)
        return f"{noun} {b}" if b else noun

    t = _field(key)
    return words(t) if t is not None else ""


def _did_you_mean(key: str) -> str:
    import difflib

    import msgspec.inspect as mi

    known = []
    for f in mi.type_info(Config).fields:
        known.append(f.name)
        known += [f"{f.name}.{g.name}" for g in getattr(f.type, "fields", ())]
    close = difflib.get_close_matches(key, known, n=1)
    return f"did you mean {close[0]}? (every key: docs/config.md)" if close else "see docs/config.md for every key"


def section_params(config: Config, *names: str) -> dict[str, Any]:
    """The resolved values of some sections, as plain data (for recipe hashing)."""
    return {name: msgspec.to_builtins(getattr(config, name)) for name in names}
