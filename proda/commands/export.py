"""``proda export``."""

from __future__ import annotations

from pathlib import Path

import click

from .options import project, project_option


@click.command()
@project_option
@click.option("--format", "fmt", type=click.Choice(["chat-jsonl", "hf", "lm-eval", "knowledge", "checkpoint"]), required=True)
@click.option("--force", is_flag=True, help="Replace OUT (or its files) even if proda did not write it.")
@click.argument("out", type=click.Path())
def export(project_dir, fmt, force, out):
    """Hand training data, the benchmark, the knowledge graph and checkpoints to other tools.

    \b
    chat-jsonl  OpenAI messages, one sample per line (TRL, LLaMA-Factory, axolotl)
    hf          Hugging Face datasets layout (Parquet): train = samples, test = items
    lm-eval     an lm-evaluation-harness task folder (YAML + data) for `lm_eval --tasks proda`
    knowledge   chains.jsonl, statements.jsonl, concepts.jsonl: keys, provenance, links
    checkpoint  the current checkpoint, a save_pretrained folder (transformers, peft, vllm serve)

    An existing OUT is replaced only if it is a previous export of the same format (or --force).

    \b
    Example:  proda export --format lm-eval tasks/ && lm_eval --include_path tasks --tasks proda ...
              proda export --format knowledge kg/ && head -1 kg/concepts.jsonl
    """
    from ..export import export_project

    path = export_project(project(project_dir), fmt, Path(out), force=force)
    click.echo(f"wrote {path}", err=True)
