"""Throughput of the tiny trainer and of the log-likelihood scorer on CPU, with synthetic data.

Trains the default ``tiny`` model (``[compile]`` defaults: hidden 128, 4 layers, vocab 2048, batch 32)
on N synthetic samples of ~60 tokens each, then scores M 4-option items against the checkpoint.
Target (2 idle cores): 3000 samples x 6 epochs in <= ~90 s, i.e. >= ~12k train tokens/s. Prints one
JSON line::

    {"train_tokens_per_s", "score_items_per_s", "train_seconds", "train_tokens", "samples",
     "epochs", "tokens_per_sample", "threads", "precision", "final_loss", "score_seconds",
     "load_seconds", "items", "options", "probe_accuracy"}

    python tests/perf/train_score.py [--samples 3000] [--epochs 1] [--items 1000] [--threads N]

(``--epochs 6`` times the full target; the default of one epoch gives the same tokens/s sooner.)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # runnable from a checkout, installed or not

from proda.config import CompileConfig, TestConfig  # noqa: E402
from proda.text.format import sample_text  # noqa: E402
from synthetic import fact_corpus, fact_probe, fact_prompt, facts  # noqa: E402


def long_texts(pairs: list[tuple[str, str]]) -> list[str]:
    """~60-token samples: the answer plus an explanation that mentions two other facts."""
    n = len(pairs)
    out = []
    for i, (country, city) in enumerate(pairs):
        (c2, y2), (c3, y3) = pairs[(i + 1) % n], pairs[(i + 7) % n]
        response = (f"{city}. The capital of {country} is {city}; it is not {y2}, which is the capital "
                    f"of {c2}, nor {y3}, the capital of {c3}. So the answer is {city}.")
        out.append(sample_text(fact_prompt(country), response))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=3000)
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: the idle cores)")
    args = parser.parse_args()
    if args.threads:
        os.environ["PRODA_THREADS"] = str(args.threads)

    from proda.score.loglik import load, score_model
    from proda.train import get_trainer
    from proda.train._loop import set_threads

    pairs = facts(args.samples, seed=0)
    texts = long_texts(pairs)
    cfg = CompileConfig()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        stats = get_trainer("tiny")(texts, root / "ckpt", cfg, corpus=fact_corpus(pairs), epochs=args.epochs,
                                    learning_rate=cfg.learning_rate, state_dir=root / "state")
        set_threads()
        probe = fact_probe(pairs[:args.items], options=4, seed=1)
        requests = [(context, options) for context, options, _ in probe]
        started = time.perf_counter()
        model, tokenizer = load(root / "ckpt")
        loaded = time.perf_counter()
        scores = score_model(model, tokenizer, requests, batch_size=TestConfig().batch_size)
        scored = time.perf_counter()
    correct = sum(max(range(4), key=lambda i: row[i]) == answer for row, (_, _, answer) in zip(scores, probe))
    print(json.dumps({
        "train_tokens_per_s": stats["tokens_per_s"],
        "score_items_per_s": round(len(probe) / (scored - loaded), 1),
        "train_seconds": stats["seconds"],
        "train_tokens": stats["tokens"],
        "samples": len(texts),
        "epochs": args.epochs,
        "tokens_per_sample": round(stats["tokens"] / (len(texts) * args.epochs), 1),
        "threads": stats["threads"],
        "precision": stats["precision"],
        "final_loss": round(stats["final_loss"], 4),
        "score_seconds": round(scored - loaded, 3),
        "load_seconds": round(loaded - started, 3),
        "items": len(probe),
        "options": 4,
        "probe_accuracy": round(correct / len(probe), 4),
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
