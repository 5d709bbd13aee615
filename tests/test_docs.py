"""The user documentation keeps up with the code (the simonw/llm way).

- every click command registered on ``proda.cli.main`` has a heading ``## proda NAME`` in
  docs/cli.md (sub-commands of a group: ``## proda GROUP NAME``);
- every key of every section Struct of ``proda.config.Config`` appears in docs/config.md as
  ``section.key`` (top-level keys as ``key``), in a table row whose default column matches the
  code's default; every section has its ``### [section]`` heading;
- the pages docs/index.md links to exist.

Adding a command or a setting without documenting it fails here.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import click
import msgspec
import pytest

from proda import config as config_mod
from proda.cli import main

DOCS = Path(__file__).resolve().parent.parent / "docs"


def _commands(group: click.Group, prefix: str = "proda") -> list[str]:
    out = []
    for name, command in sorted(group.commands.items()):
        if command.hidden:
            continue
        full = f"{prefix} {name}"
        out.append(full)
        if isinstance(command, click.Group):
            out += _commands(command, full)
    return out


def _headings(text: str) -> set[str]:
    return {m.group(1).strip().strip("`").strip() for m in re.finditer(r"^#{2,4} +(.+?) *$", text, re.M)}


COMMANDS = _commands(main)


def test_commands_found():
    # guards the test itself: the commands are registered when proda.cli is imported
    assert {"proda build", "proda test", "proda debug", "proda demo"} <= set(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_a_heading_in_cli_md(command):
    headings = _headings((DOCS / "cli.md").read_text(encoding="utf-8"))
    assert command in headings, f"docs/cli.md has no heading '## {command}'"


def _sections() -> list[tuple[str, type]]:
    """(name, Struct) of every section of Config; top-level scalars under the name ''."""
    out = []
    for field in msgspec.structs.fields(config_mod.Config):
        if isinstance(field.type, type) and issubclass(field.type, msgspec.Struct):
            out.append((field.name, field.type))
    return out


def _default(field: msgspec.structs.FieldInfo):
    if field.default is not msgspec.NODEFAULT:
        return field.default
    if field.default_factory is not msgspec.NODEFAULT:
        return field.default_factory()
    return msgspec.NODEFAULT


def _toml(value) -> str:
    """A value as written in docs/config.md's default column (TOML syntax)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"no TOML form for {value!r}")


def _keys() -> list[tuple[str, object]]:
    """(documented name, default) of every config key."""
    out = []
    for field in msgspec.structs.fields(config_mod.Config):
        if isinstance(field.type, type) and issubclass(field.type, msgspec.Struct):
            for sub in msgspec.structs.fields(field.type):
                out.append((f"{field.name}.{sub.name}", _default(sub)))
        else:
            out.append((field.name, _default(field)))
    return out


KEYS = _keys()


def _rows(text: str) -> dict[str, list[str]]:
    """First-column key of every table row -> its cells."""
    rows = {}
    for line in text.splitlines():
        if not line.startswith("|"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        m = re.fullmatch(r"`([A-Za-z_][\w.]*)`", cells[0])
        if m:
            rows.setdefault(m.group(1), cells)
    return rows


def test_config_keys_found():
    names = {k for k, _ in KEYS}
    assert {"name", "chunk.size", "compile.trainer", "debug.samples_per_error"} <= names
    assert len(_sections()) >= 9


@pytest.mark.parametrize("section", [name for name, _ in _sections()])
def test_every_config_section_has_a_heading(section):
    headings = _headings((DOCS / "config.md").read_text(encoding="utf-8"))
    assert f"[{section}]" in headings, f"docs/config.md has no heading '### [{section}]'"


@pytest.mark.parametrize("key,default", KEYS, ids=[k for k, _ in KEYS])
def test_every_config_key_is_documented_with_its_default(key, default):
    text = (DOCS / "config.md").read_text(encoding="utf-8")
    assert f"`{key}`" in text, f"docs/config.md does not document `{key}`"
    rows = _rows(text)
    assert key in rows, f"docs/config.md has no table row starting with `{key}`"
    cells = rows[key]
    assert len(cells) >= 4, f"the row of `{key}` needs the columns key | type | default | meaning"
    if default is not msgspec.NODEFAULT:
        assert cells[2] == f"`{_toml(default)}`", (
            f"docs/config.md gives `{key}` the default {cells[2]}, the code says `{_toml(default)}`")


def _rebuild_table() -> list[tuple[str, str]]:
    """(what you change, stale stage) of every row of config.md's "What a settings change rebuilds"."""
    text = (DOCS / "config.md").read_text(encoding="utf-8")
    section = text.split("## What a settings change rebuilds", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")] if line.startswith("|") else []
        if len(cells) >= 2 and not set(cells[0]) <= set("-") and cells[0] != "you change":
            rows.append((cells[0], cells[1]))
    return rows


def test_the_rebuild_table_names_a_stage_or_nothing():
    from proda.engine.stage import ORDER

    rows = _rebuild_table()
    assert len(rows) >= 10
    for changed, stage in rows:
        assert stage in {f"`{s}`" for s in ORDER} | {"nothing"}, f"{changed}: {stage!r} is not a stage"


SINGLE = [(m.group(1), stage) for changed, stage in _rebuild_table() if (m := re.fullmatch(r"`([\w.]+)`", changed))]


@pytest.mark.parametrize("key,stage", SINGLE, ids=[k for k, _ in SINGLE])
def test_one_setting_makes_stale_what_the_rebuild_table_says(key, stage, tmp_path):
    """Changing the setting changes the recipe of the stage the table names, and of no other."""
    from proda.engine import stage as stages
    from proda.engine.runner import recipe_of
    from proda.project import Project, init_project

    init_project(tmp_path / "p")
    default = dict(KEYS)[key]
    value = (not default if isinstance(default, bool) else default + 1 if isinstance(default, int)
             else default * 2 + 1 if isinstance(default, float) else json.dumps(f"{default}x"))
    base, changed = Project.at(tmp_path / "p"), Project.at(tmp_path / "p", (f"{key}={value}",))
    assert getattr(changed.config, key.split(".")[0]) != getattr(base.config, key.split(".")[0])  # the override took
    stale = {f"`{s}`" for s in stages.ORDER if recipe_of(stages.get(s), changed) != recipe_of(stages.get(s), base)}
    assert stale == (set() if stage == "nothing" else {stage})


def test_undocumented_names_are_caught():
    # the checks above really fail for a name that is not in the docs
    assert "proda no-such-command" not in _headings((DOCS / "cli.md").read_text(encoding="utf-8"))
    assert "chunk.no_such_key" not in _rows((DOCS / "config.md").read_text(encoding="utf-8"))


def test_index_links_resolve():
    text = (DOCS / "index.md").read_text(encoding="utf-8")
    targets = set(re.findall(r"\]\(([\w.-]+\.md)(?:#[^)]*)?\)", text))
    assert {"tutorial.md", "concepts.md", "cli.md", "config.md", "example-project.md"} <= targets
    missing = [t for t in sorted(targets) if t != "tutorial.md" and not (DOCS / t).exists()]
    assert not missing, f"docs/index.md links to missing pages: {missing}"
