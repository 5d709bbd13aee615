"""`proda report`'s text table: a discipline a version has no item of shows "-", not 0.000, and
the current benchmark's items per discipline and split are shown beside the accuracies."""

from __future__ import annotations

from proda.report.html import render_html, render_text


def _result():
    acc = lambda by: {"all": 0.5, "dev": 0.5, "holdout": 0.5, "by_discipline": by}  # noqa: E731
    return {"versions": [{"name": "v1", "version": "a" * 16, "accuracy": acc({"physics": 0.4, "history": 0.25})},
                         {"name": "v2", "version": "b" * 16, "accuracy": acc({"physics": 0.6})}],
            "items": {"physics": {"dev": 5, "holdout": 4}, "history": {"dev": 0, "holdout": 0},
                      "statistics": {"dev": 2, "holdout": 0}},
            "chance": 0.25, "diagnoses": [], "loss": [], "failure_types": {}, "checkpoints": {}}


def test_a_discipline_without_items_shows_a_dash_and_its_item_counts():
    text = render_text(_result())
    rows = {line.split()[0]: line.split() for line in text.splitlines() if line.strip()}
    assert rows["history"][1:] == ["0.250", "-", "0/0"]  # v2 has no history item: no accuracy
    assert rows["physics"][1:] == ["0.400", "0.600", "5/4"]
    assert rows["statistics"][1:] == ["-", "-", "2/0"]  # no version tested it: still listed
    assert "no benchmark item in a split: history (dev and holdout), statistics (holdout)" in text
    assert "0.000" not in text


def test_the_html_table_has_the_same_dashes():
    page = render_html("t", _result())
    assert "<th>statistics</th><td>-</td><td>-</td><td>2/0</td>" in page
    # the chart draws no bar at 0 for v2's history, which it has no item of: it says so
    assert 'data-series="v2" data-group="history"' in page and "v2: no items" in page
    assert 'class="bar" data-series="v2" data-group="history"' not in page


def test_what_the_question_adds_is_shown_per_split():
    """The all-items row hid that a patch raised dev from the options alone while the question
    added less there: each split has its own no-question and question-adds rows."""
    result = _result()
    q = {"with": {"all": 0.5, "dev": 0.5, "holdout": 0.5}, "without": {"all": 0.4, "dev": 0.55, "holdout": 0.25},
         "adds": {"all": 0.1, "dev": -0.05, "holdout": 0.25}, "n": {"all": 9, "dev": 5, "holdout": 4}}
    result["versions"][1]["question"] = q
    rows = {line[:22].strip(): line[22:].split() for line in render_text(result).splitlines()}
    assert rows["no question dev"] == ["-", "0.550"] and rows["question adds dev"] == ["-", "-0.050"]
    assert rows["question adds holdout"] == ["-", "+0.250"] and rows["question adds"] == ["-", "+0.100"]


def test_before_any_test_the_text_report_still_shows_the_benchmarks_validity(make_project):
    """After `proda build --until bench` the JSON and HTML reports carry `validity`; the text one
    said only "no tested versions yet"."""
    from conftest import doc
    from proda.make import build
    from proda.report.html import report

    project = make_project({"physics": {f"d{i}.md": doc(f"topic{i}", 4) for i in range(6)}})
    build(project, until="bench")
    result = report(project)
    assert result["versions"] == [] and result.get("validity")
    text = render_text(result)
    assert text.startswith("no tested versions yet") and "most_similar" in text and "chance" in text
