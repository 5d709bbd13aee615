"""The command-line surface every command shares (../shared/CONTRACT.md): a --help with an
example, and -C/--project DIR like make -C — for init and demo too, whose folder argument is
taken relative to it."""

from __future__ import annotations

from click.testing import CliRunner

from proda.cli import main


def test_every_command_help_has_an_example():
    runner = CliRunner()
    missing = []
    for name in sorted(main.commands):
        result = runner.invoke(main, [name, "--help"])
        assert result.exit_code == 0, (name, result.output)
        if "Example" not in result.output:
            missing.append(name)
    assert not missing, f"--help without an example: {missing}"


def test_every_command_takes_dash_c():
    for name, command in sorted(main.commands.items()):
        assert any("-C" in p.opts for p in command.params), f"proda {name} has no -C/--project"


def test_init_is_relative_to_dash_c(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    base = tmp_path / "base"
    base.mkdir()
    runner = CliRunner()
    assert runner.invoke(main, ["-C", str(base), "init", "a"]).exit_code == 0
    assert runner.invoke(main, ["init", "-C", str(base), "b"]).exit_code == 0
    assert runner.invoke(main, ["init", "-C", str(base)]).exit_code == 0
    assert runner.invoke(main, ["init", str(tmp_path / "c")]).exit_code == 0  # an absolute DIR stays put
    for project in (base / "a", base / "b", base, tmp_path / "c"):
        assert (project / "specs" / "proda.toml").is_file(), project
    assert not (tmp_path / "specs").exists() and not (tmp_path / "a").exists()  # nothing in the current folder


def test_an_error_under_json_is_one_json_object_on_stdout(tmp_path):
    import json

    runner = CliRunner()
    result = runner.invoke(main, ["-C", str(tmp_path / "nowhere"), "stats", "--json"])
    assert result.exit_code == 2
    error = json.loads(result.stdout)
    assert error["exit_code"] == 2 and "not a proda project" in error["error"] and error["hint"]
    plain = runner.invoke(main, ["-C", str(tmp_path / "nowhere"), "stats"])
    assert plain.exit_code == 2 and plain.stdout == ""  # without --json: the message on stderr only


def test_a_bad_option_under_json_is_one_json_object_too(tmp_path):
    import json

    result = CliRunner().invoke(main, ["-C", str(tmp_path), "build", "-j", "0", "--json"])
    assert result.exit_code == 2
    assert "-j" in json.loads(result.stdout)["error"]


def test_a_tag_name_log_cannot_print_or_diff_cannot_resolve_is_refused(tmp_path):
    """`tag "bad name/x"` was accepted, and `proda log` then printed a line no script can split;
    a hex name would shadow version ids and HEAD the current version."""
    from proda.engine.versions import tag_problem

    runner = CliRunner()
    assert runner.invoke(main, ["init", str(tmp_path / "p")]).exit_code == 0
    for bad in ("bad name/x", "a/b", "", "HEAD", "beef", ".x", "x" * 65):
        result = runner.invoke(main, ["-C", str(tmp_path / "p"), "tag", bad])
        assert result.exit_code == 2 and "cannot tag" in result.output, (bad, result.output)
    for good in ("v1", "v2.1", "before-patch", "run_7", "Z"):
        assert tag_problem(good) is None, good


def test_address_with_another_executor_is_refused(tmp_path):
    """`--address` names a Ray cluster; with `--executor processes` it was silently ignored."""
    runner = CliRunner()
    assert runner.invoke(main, ["init", str(tmp_path / "p")]).exit_code == 0
    result = runner.invoke(main, ["-C", str(tmp_path / "p"), "build", "--executor", "processes",
                                  "--address", "ray://head:10001"])
    assert result.exit_code == 2
    assert "--address" in result.output and "--executor ray" in result.output
    assert not (tmp_path / "p" / "build" / "ingest").exists()  # refused before anything ran
