"""Hand training data and the benchmark to other tools.

- :func:`export_chat_jsonl`: OpenAI chat fine-tuning format, one ``{"messages": [...]}`` per line
  (accepted by the OpenAI API, TRL's SFTTrainer, axolotl, LLaMA-Factory, ...).
- :func:`export_hf`: a Hugging Face datasets folder — ``train.parquet`` (samples), ``test.parquet``
  (items) and a ``README.md`` dataset card whose ``configs:`` header lets ``load_dataset(out_dir)``
  find both splits. Written with pyarrow when installed, else with duckdb (``COPY ... TO``).
- :func:`export_lm_eval`: an lm-evaluation-harness task folder (``<task>.yaml`` + items as JSONL;
  ``<task>_dev`` / ``<task>_holdout`` tasks for the two benchmark splits). Its context and
  continuations are exactly :func:`proda.text.format.item_context` and
  :func:`proda.text.format.option_continuation`, so lm-eval scores what ``proda test`` scores.

Every file is written to a temporary name and renamed, so a reader never sees half a file.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import msgspec

from ..text.format import item_context, option_continuation
from ..records import Item, Sample
from ..umask import readable_mode

# column -> type, shared by both parquet writers: "str" | "int" | "list" (of strings). One schema for
# both splits (``datasets`` wants one per config): a test row's prompt is the item stem and its response
# the correct choice; columns that do not apply are empty ("" / [] / -1).
COLUMNS = {"key": "str", "discipline": "str", "prompt": "str", "response": "str", "format": "str",
           "origin": "str", "source": "str", "split": "str", "variant": "str", "chain": "str", "doc": "str",
           "choices": "list", "answer": "int", "operators": "list", "reasons": "list",
           "statements": "list", "concepts": "list"}


@contextmanager
def _atomic(path: Path, mode: str = "wb") -> Iterator[Any]:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, mode, **({} if "b" in mode else {"encoding": "utf-8"})) as fh:
            yield fh
        os.chmod(tmp, readable_mode())  # mkstemp makes 0600; exports are for others: the user's umask
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _jsonl(rows: Sequence[Any], out: Path) -> Path:
    encoder = msgspec.json.Encoder()
    with _atomic(out) as fh:
        for row in rows:
            fh.write(encoder.encode(row) + b"\n")
    return out


def chat_messages(sample: Sample) -> list[dict[str, str]]:
    return [{"role": "user", "content": sample.prompt}, {"role": "assistant", "content": sample.response}]


def export_chat_jsonl(samples: Sequence[Sample], out: Path) -> Path:
    """One ``{"messages": [user prompt, assistant response]}`` object per line, each sample once: a
    patch's replay samples are copies of samples already in the set (same key), there to be
    trained again on top of the parent checkpoint; a file for one fine-tuning run would hold them
    twice."""
    seen: set[str] = set()
    unique = [s for s in samples if not (s.key in seen or seen.add(s.key))]  # the first of each key, in order
    return _jsonl([{"messages": chat_messages(s)} for s in unique], Path(out))


def sample_row(sample: Sample) -> dict[str, Any]:
    return {"key": sample.key, "discipline": sample.discipline, "prompt": sample.prompt,
            "response": sample.response, "format": sample.format, "origin": sample.origin,
            "source": sample.source, "split": "", "variant": "", "chain": "", "doc": "", "choices": [],
            "answer": -1, "operators": [], "reasons": [], "statements": list(sample.statements),
            "concepts": list(sample.concepts)}


def item_row(item: Item) -> dict[str, Any]:
    return {"key": item.key, "discipline": item.discipline, "prompt": item.stem,
            "response": item.options[item.answer].text, "format": "mcq", "origin": "bench", "source": "",
            "split": item.split, "variant": item.variant, "chain": item.chain, "doc": item.doc,
            "choices": [o.text for o in item.options], "answer": item.answer,
            "operators": [o.operator for o in item.options], "reasons": [o.reason for o in item.options],
            "statements": list(item.statements), "concepts": list(item.concepts)}


def lm_eval_row(item: Item) -> dict[str, Any]:
    return {"key": item.key, "discipline": item.discipline, "split": item.split, "variant": item.variant,
            "stem": item.stem, "choices": [o.text for o in item.options], "answer": item.answer,
            "operators": [o.operator for o in item.options]}


def _parquet_pyarrow(rows: list[dict[str, Any]], columns: dict[str, str], out: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    kinds = {"str": pa.string(), "int": pa.int64(), "list": pa.list_(pa.string())}
    schema = pa.schema([(name, kinds[kind]) for name, kind in columns.items()])
    table = pa.Table.from_pylist(rows, schema=schema)
    with _atomic(out) as fh:
        pq.write_table(table, fh)


def _parquet_duckdb(rows: list[dict[str, Any]], columns: dict[str, str], out: Path) -> None:
    import duckdb

    kinds = {"str": "VARCHAR", "int": "BIGINT", "list": "VARCHAR[]"}
    spec = "{" + ", ".join(f"'{name}': '{kinds[kind]}'" for name, kind in columns.items()) + "}"
    with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        source, target = Path(tmp) / "rows.jsonl", Path(tmp) / "out.parquet"
        _jsonl(rows, source)
        con = duckdb.connect()
        try:
            select = ", ".join(f'"{name}"' for name in columns)
            con.execute(f"COPY (SELECT {select} FROM read_json({_sql(source)}, format='newline_delimited', "
                        f"columns={spec})) TO {_sql(target)} (FORMAT PARQUET)")
        finally:
            con.close()
        os.replace(target, out)


def _sql(path: Path) -> str:
    return "'" + path.as_posix().replace("'", "''") + "'"


def _dataset_card(samples: int, items: int) -> str:
    return f"""---
configs:
- config_name: default
  data_files:
  - split: train
    path: train.parquet
  - split: test
    path: test.parquet
---
# proda dataset

Exported by proda: training samples synthesized from the corpus' knowledge structure and the
multiple-choice benchmark built from the same structure before training.

Both splits share one schema (`datasets` wants one per config):

- `train` ({samples} rows): training samples — `prompt`, `response` (the answer, then its explanation),
  `format` (open | mcq | tf), `origin` (synth | patch | replay), `source` (patch file, if any).
- `test` ({items} rows): benchmark items — `prompt` is the stem and `response` the correct choice;
  `choices`, `answer` (index into choices), `split` (dev | holdout: report repair gains on holdout),
  `variant` (conclusion | middle), `operators` / `reasons` (how and why each distractor is wrong),
  `chain` and `doc`.
- Both: `key` (content hash), `discipline`, and the keys of the `statements` and `concepts` involved.
  Columns that do not apply to a row are empty (`""`, `[]`, or `-1` for `answer`).

Scoring format: the context is `Q: <stem>\\nA:` and each choice is scored as ` <choice>`.
"""


def export_hf(samples: Sequence[Sample], items: Sequence[Item], out_dir: Path, engine: str = "auto") -> Path:
    """``train.parquet`` + ``test.parquet`` + ``README.md``; ``engine``: auto | pyarrow | duckdb."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if engine == "auto":
        try:
            import pyarrow.parquet  # noqa: F401

            engine = "pyarrow"
        except ImportError:
            engine = "duckdb"
    write = {"pyarrow": _parquet_pyarrow, "duckdb": _parquet_duckdb}[engine]
    write([sample_row(s) for s in samples], COLUMNS, out_dir / "train.parquet")
    write([item_row(i) for i in items], COLUMNS, out_dir / "test.parquet")
    with _atomic(out_dir / "README.md", "w") as fh:
        fh.write(_dataset_card(len(samples), len(items)))
    return out_dir


def _q(text: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(text, ensure_ascii=False)


LOADER = "proda_task"  # the module next to the YAML files that reads the items (lm-eval's custom_dataset)

LOADER_SOURCE = '''"""Reads this task folder's items for lm-eval, relative to this file, so the folder can move.

lm-eval calls ``load(**dataset_kwargs)`` for the task YAMLs beside it (``custom_dataset``).
"""

from pathlib import Path


def load(data_files=None, **_):
    import datasets

    here = Path(__file__).resolve().parent
    return datasets.load_dataset("json", data_files={split: str(here / name)
                                                     for split, name in (data_files or {}).items()})
'''


def lm_eval_yaml(task: str, data_file: Path | str) -> str:
    """The task config: context ``item_context(stem)``, continuation ``option_continuation(choice)``.

    Paths are relative to the task folder: the items file is named, and ``custom_dataset`` points at
    the folder's loader module (lm-eval resolves ``!function`` next to the YAML file)."""
    delimiter = option_continuation("")  # lm-eval puts target_delimiter between context and choice
    return "\n".join([
        f"task: {task}",
        "dataset_path: json",
        f"custom_dataset: !function {LOADER}.load",
        "dataset_kwargs:",
        "  data_files:",
        f"    test: {_q(Path(data_file).name)}",
        "output_type: multiple_choice",
        "test_split: test",
        f"doc_to_text: {_q(item_context('{{stem}}'))}",
        f"doc_to_choice: {_q('{{choices}}')}",
        f"doc_to_target: {_q('{{answer}}')}",
        f"target_delimiter: {_q(delimiter)}",
        "metric_list:",
        "  - metric: acc",
        "    aggregation: mean",
        "    higher_is_better: true",
        "  - metric: acc_norm",
        "    aggregation: mean",
        "    higher_is_better: true",
        "metadata:",
        "  version: 1.0",
        "",
    ])


def export_lm_eval(items: Sequence[Item], out_dir: Path, task_name: str = "proda") -> Path:
    """``<task>.yaml`` over every item, plus ``<task>_dev`` / ``<task>_holdout`` for the non-empty splits.

    Run: ``lm_eval --model hf --model_args pretrained=DIR --tasks proda --include_path OUT_DIR``.
    """
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    groups = {task_name: list(items)}
    for split in ("dev", "holdout"):
        chosen = [i for i in items if i.split == split]
        if chosen:
            groups[f"{task_name}_{split}"] = chosen
    with _atomic(out_dir / f"{LOADER}.py", "w") as fh:
        fh.write(LOADER_SOURCE)
    for task, chosen in groups.items():
        data = _jsonl([lm_eval_row(i) for i in chosen], out_dir / f"{task}.jsonl")
        with _atomic(out_dir / f"{task}.yaml", "w") as fh:
            fh.write(lm_eval_yaml(task, data))
    return out_dir / f"{task_name}.yaml"


def export_checkpoint(checkpoint: Path, out_dir: Path) -> None:
    """The checkpoint's files, as they are (weights, config, tokenizer, proda.json), into ``out_dir``:
    each written to a temporary name and renamed, so a reader never sees half a weights file."""
    import shutil

    from .guard import MARKER
    from ..engine.storage import try_read_json

    previous = (try_read_json(out_dir / MARKER) or {}) if out_dir.is_dir() else {}
    out_dir.mkdir(parents=True, exist_ok=True)
    names = set()
    for src in sorted(checkpoint.iterdir()):
        if not src.is_file() or src.name.startswith("."):
            continue  # the trainer's resumable state and temporary files are not the checkpoint
        names.add(src.name)
        tmp = out_dir / f".{src.name}.tmp"
        shutil.copyfile(src, tmp)
        os.replace(tmp, out_dir / src.name)
    if isinstance(previous, dict) and previous.get("format") == "checkpoint":
        # an earlier checkpoint export: its files this checkpoint does not have would be loaded
        # with it (a tiny model's weights beside a LoRA adapter), so they go
        for old in out_dir.iterdir():
            if old.is_file() and not old.name.startswith(".") and old.name not in names:
                old.unlink()
