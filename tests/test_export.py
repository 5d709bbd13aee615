"""Exports: chat JSONL round trip, parquet via pyarrow and duckdb, an lm-eval task that scores the
same strings as proda.text.format (and really runs under lm_eval when it is installed)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from proda.export.formats import export_chat_jsonl, export_hf, export_lm_eval, lm_eval_yaml
from proda.text.format import item_context, option_continuation
from proda.records import Item, Option, Sample, make

OFFLINE = {"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


def _item(i: int, split: str) -> Item:
    texts = [f"The pH of buffer {i} decreases only slightly.", f"The pH of buffer {i} increases sharply.",
             "A strong acid is added to the solution.", "Tricky: quotes ' \" {{ braces }} and ünïcödé — ok."]
    options = [Option(text=t, operator=op, reason=r) for t, op, r in
               zip(texts, ["", "inversion", "truncation", "adjacency"], ["", "reversed", "intermediate", "other"])]
    return make(Item, discipline="chemistry" if i % 2 else "physics", chain=f"chain{i}", doc=f"doc{i}",
                statements=[f"s{i}"], concepts=[f"c{i}", "c0"], variant="conclusion", split=split,
                stem=f"Consider process {i}: a strong acid is added.\nStep 1: ions react. What follows? \"q\" {{x}}",
                options=options, answer=i % 4)


def _fix_answers(item: Item) -> Item:
    # put the correct option (operator "") where ``answer`` points, keeping the others in order
    right = next(o for o in item.options if o.operator == "")
    others = [o for o in item.options if o.operator]
    options = others[:item.answer] + [right] + others[item.answer:]
    return make(Item, **{f: getattr(item, f) for f in Item.__struct_fields__ if f not in ("key", "options")},
                options=options)


ITEMS = [_fix_answers(_item(i, "dev" if i % 3 else "holdout")) for i in range(6)]
SAMPLES = [make(Sample, discipline="chemistry", format=fmt, prompt=f"What does a buffer {i} prevent? ünï",
                response=f"Large pH changes. Explanation: line one\nline two \"quoted\" {i}.", statements=["s1"],
                concepts=[], origin="synth", source="") for i, fmt in enumerate(["open", "mcq", "tf"])]


def test_chat_jsonl_round_trip(tmp_path):
    out = export_chat_jsonl(SAMPLES, tmp_path / "sub" / "train.jsonl")
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(SAMPLES)
    for line, s in zip(lines, SAMPLES):
        assert json.loads(line) == {"messages": [{"role": "user", "content": s.prompt},
                                                 {"role": "assistant", "content": s.response}]}
    assert not list(out.parent.glob(".*tmp"))  # nothing half-written left behind


def test_chat_jsonl_holds_a_replayed_sample_once(tmp_path):
    """A patch's replay samples repeat samples of the set (same key): a fine-tuning file holds each
    once, in first-seen order."""
    import msgspec

    replay = msgspec.structs.replace(SAMPLES[1], origin="replay", source="0001-debug.jsonl")
    assert replay.key == SAMPLES[1].key
    out = export_chat_jsonl(SAMPLES + [replay], tmp_path / "train.jsonl")
    prompts = [json.loads(line)["messages"][0]["content"] for line in out.read_text(encoding="utf-8").splitlines()]
    assert prompts == [s.prompt for s in SAMPLES]


@pytest.mark.parametrize("engine", ["duckdb", "pyarrow"])
def test_parquet_readable_by_duckdb(tmp_path, engine):
    if engine == "pyarrow":
        pytest.importorskip("pyarrow")
    out = export_hf(SAMPLES, ITEMS, tmp_path / "hf", engine=engine)
    train, test = (out / "train.parquet").as_posix(), (out / "test.parquet").as_posix()
    con = duckdb.connect()
    rows = con.execute(f"SELECT prompt, response, format FROM '{train}' ORDER BY prompt").fetchall()
    assert rows == sorted((s.prompt, s.response, s.format) for s in SAMPLES)
    got = con.execute(f"SELECT key, prompt, choices, answer, split, operators FROM '{test}' ORDER BY key").fetchall()
    for key, stem, choices, answer, split, operators in got:
        it = next(i for i in ITEMS if i.key == key)
        assert (stem, choices, answer, split) == (it.stem, [o.text for o in it.options], it.answer, it.split)
        assert operators[answer] == ""
    assert len(got) == len(ITEMS)
    card = (out / "README.md").read_text()
    assert card.startswith("---\nconfigs:") and "path: train.parquet" in card and "path: test.parquet" in card


def test_hf_folder_loads_with_datasets(tmp_path, monkeypatch):
    for k, v in OFFLINE.items():
        monkeypatch.setenv(k, v)
    datasets = pytest.importorskip("datasets")
    out = export_hf(SAMPLES, ITEMS, tmp_path / "hf", engine="duckdb")
    ds = datasets.load_dataset(str(out))
    assert ds["train"].num_rows == len(SAMPLES) and ds["test"].num_rows == len(ITEMS)
    assert ds["test"][0]["choices"] == [o.text for o in next(i for i in ITEMS if i.key == ds["test"][0]["key"]).options]


def test_lm_eval_yaml_parses_and_renders_the_prompting_strings(tmp_path):
    yaml = pytest.importorskip("yaml")
    jinja2 = pytest.importorskip("jinja2")
    path = export_lm_eval(ITEMS, tmp_path / "tasks")
    assert sorted(p.name for p in path.parent.glob("*.yaml")) == ["proda.yaml", "proda_dev.yaml", "proda_holdout.yaml"]

    class Loader(yaml.SafeLoader):  # lm-eval's `!function module.name`, kept as its text
        pass

    Loader.add_constructor("!function", lambda loader, node: "!function " + loader.construct_scalar(node))
    config = yaml.load(path.read_text(), Loader=Loader)
    assert config["dataset_path"] == "json" and config["output_type"] == "multiple_choice"
    # portable: no absolute path anywhere; the loader module beside the YAML reads the items
    assert str(tmp_path) not in path.read_text() and config["custom_dataset"] == "!function proda_task.load"
    assert (path.parent / "proda_task.py").exists()
    assert config["test_split"] == "test" and config["doc_to_text"] == "Q: {{stem}}\nA:"
    assert [m["metric"] for m in config["metric_list"]] == ["acc", "acc_norm"]
    data = path.parent / config["dataset_kwargs"]["data_files"]["test"]
    docs = [json.loads(line) for line in data.read_text(encoding="utf-8").splitlines()]
    assert len(docs) == len(ITEMS)
    # the same Jinja setup lm-eval uses; then its own post-processing (literal_eval of the choice list)
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    import ast

    for doc, it in zip(docs, ITEMS):
        context = env.from_string(config["doc_to_text"]).render(**doc)
        choices = ast.literal_eval(env.from_string(config["doc_to_choice"]).render(**doc))
        target = ast.literal_eval(env.from_string(config["doc_to_target"]).render(**doc))
        assert context == item_context(it.stem)
        assert [config["target_delimiter"] + c for c in choices] == [option_continuation(o.text) for o in it.options]
        assert target == it.answer
    holdout = yaml.load((path.parent / "proda_holdout.yaml").read_text(), Loader=Loader)
    held = (path.parent / holdout["dataset_kwargs"]["data_files"]["test"]).read_text().splitlines()
    assert len(held) == sum(i.split == "holdout" for i in ITEMS)
    assert "task: other" in lm_eval_yaml("other", Path("/x/y.jsonl"))


def _tiny_model(out: Path) -> Path:
    tokenizers = pytest.importorskip("tokenizers")
    transformers = pytest.importorskip("transformers")
    torch = pytest.importorskip("torch")
    tok = tokenizers.Tokenizer(tokenizers.models.BPE())
    tok.pre_tokenizer = tokenizers.pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = tokenizers.decoders.ByteLevel()
    trainer = tokenizers.trainers.BpeTrainer(vocab_size=320, special_tokens=["<s>", "</s>", "<pad>"],
                                             initial_alphabet=tokenizers.pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator([it.stem + " " + o.text for it in ITEMS for o in it.options], trainer)
    fast = transformers.PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>",
                                                pad_token="<pad>")
    fast.save_pretrained(out)
    torch.manual_seed(0)
    config = transformers.LlamaConfig(vocab_size=len(fast), hidden_size=32, intermediate_size=64,
                                      num_hidden_layers=2, num_attention_heads=2, num_key_value_heads=2,
                                      max_position_embeddings=512, bos_token_id=0, eos_token_id=1, pad_token_id=2)
    transformers.LlamaForCausalLM(config).save_pretrained(out)
    return out


@pytest.mark.slow
def test_lm_eval_runs_the_exported_task(tmp_path):
    pytest.importorskip("lm_eval")
    model = _tiny_model(tmp_path / "model")
    exported = export_lm_eval(ITEMS, tmp_path / "tasks").parent
    tasks = exported.rename(tmp_path / "moved")  # paths in the task folder are relative: it still works
    cli = Path(sys.executable).with_name("lm_eval")
    command = [str(cli)] if cli.exists() else [sys.executable, "-m", "lm_eval"]
    run = subprocess.run(
        [*command, "--model", "hf", "--model_args", f"pretrained={model}", "--tasks", "proda",
         "--include_path", str(tasks), "--device", "cpu", "--log_samples", "--output_path", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=600, env={**os.environ, **OFFLINE}, cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    logged = [json.loads(line) for f in (tmp_path / "out").rglob("samples_proda_*.jsonl")
              for line in f.read_text().splitlines()]
    assert len(logged) == len(ITEMS)
    by_key = {i.key: i for i in ITEMS}
    for record in logged:
        it = by_key[record["doc"]["key"]]
        requests = sorted(record["arguments"].items(), key=lambda kv: int(kv[0].rsplit("_", 1)[1]))
        assert [(a["arg_0"], a["arg_1"]) for _, a in requests] == \
            [(item_context(it.stem), option_continuation(o.text)) for o in it.options]
        assert int(record["target"]) == it.answer
    results = json.loads(next((tmp_path / "out").rglob("results_*.json")).read_text())["results"]["proda"]
    assert 0.0 <= results["acc,none"] <= 1.0 and "acc_norm,none" in results


def test_checkpoint_export_is_a_folder_transformers_loads(tmp_path):
    from proda.export.formats import export_checkpoint

    transformers = pytest.importorskip("transformers")
    checkpoint = _tiny_model(tmp_path / "checkpoint")
    (checkpoint / "proda.json").write_text('{"key": "abc"}')
    (checkpoint / "state").mkdir()  # the trainer's resumable state: not part of the checkpoint
    (checkpoint / "state" / "optimizer.pt").write_bytes(b"x")
    out = tmp_path / "out"
    export_checkpoint(checkpoint, out)
    assert (out / "proda.json").read_text() == '{"key": "abc"}' and not (out / "state").exists()
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]
    model = transformers.AutoModelForCausalLM.from_pretrained(out)
    assert model.num_parameters() > 0 and transformers.AutoTokenizer.from_pretrained(out)("heat")["input_ids"]
    export_checkpoint(checkpoint, out)  # again, over its own files
    from proda.export.guard import MARKER

    (out / MARKER).write_text('{"format": "checkpoint"}')  # as `proda export` records it
    (out / "adapter_model.safetensors").write_bytes(b"x")  # a file of an earlier, other checkpoint
    export_checkpoint(checkpoint, out)
    assert not (out / "adapter_model.safetensors").exists() and (out / "model.safetensors").exists()
