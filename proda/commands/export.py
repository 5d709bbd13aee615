"""``proda export``."""

from __future__ import annotations

from pathlib import Path

import click

from .options import project, project_option


@click.command()
@project_option
@click.option("--format", "fmt", type=click.Choice(["chat-jsonl", "hf", "lm-eval"]), required=True)
@click.argument("out", type=click.Path())
def export(project_dir, fmt, out):
    """Hand training data, the benchmark and checkpoints to other tools.

    \b
    chat-jsonl  OpenAI messages, one sample per line (TRL, LLaMA-Factory, axolotl)
    hf          Hugging Face datasets layout (Parquet): train = samples, test = items
    lm-eval     an lm-evaluation-harness task folder (YAML + data) for `lm_eval --tasks proda`
    \b
    Example:  proda export --format lm-eval tasks/ && lm_eval --include_path tasks --tasks proda ...
    """
    from ..export import export_project

    path = export_project(project(project_dir), fmt, Path(out))
    click.echo(f"wrote {path}", err=True)
