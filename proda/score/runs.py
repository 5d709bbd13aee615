"""``proda test``: score a selection of the benchmark against the current checkpoint.

Results are per (checkpoint, item): what the build's ``test`` stage or an earlier call already
scored is reused (``reused``), the rest is scored now (``ran``). Every call is recorded as a test
run; ``--failed`` selects the items that failed in the last recorded run (like ``pytest --lf``) and
scores them against the *current* checkpoint — after a patch: did it fix them? With no earlier
run, ``--failed`` selects every item.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import UsageError

if TYPE_CHECKING:
    from ..project import Project


def run_tests(project: "Project", failed: bool = False, split: str = "all", discipline: str | None = None) -> dict[str, Any]:
    from ..engine.catalog import open_catalog
    from .results import results_for
    from ..engine.outputs import current_checkpoint
    from ..engine.outputs import items as all_items

    checkpoint = current_checkpoint(project)
    if checkpoint is None:
        raise UsageError("there is no checkpoint to test yet", "run `proda build` first")
    items = all_items(project)
    if discipline:
        known = sorted({i.discipline for i in items})
        if discipline not in known:
            raise UsageError(f"no discipline {discipline!r} in the benchmark", f"choose one of: {', '.join(known)}")
        items = [i for i in items if i.discipline == discipline]
    if split != "all":
        items = [i for i in items if i.split == split]
    if not items:  # 0/0 is no accuracy: a CI gate on it would fail (or pass) on nothing
        where = " ".join(x for x in (f"of discipline {discipline!r}" if discipline else "",
                                     f"in the {split} split" if split != "all" else "") if x)
        raise UsageError(f"no benchmark item {where or 'at all'}: nothing to test",
                         "`proda stats` counts the items per discipline and split; choose a selection that has some")
    from ..engine.lock import held_elsewhere

    reading = held_elsewhere(project.build)  # a build is running: read what is scored, record nothing
    with open_catalog(project, read_only=reading) as cat:
        previous = last_run(cat)
        if failed and previous is not None:
            wanted = {row[0] for row in cat.query(
                "SELECT item FROM test_run_items WHERE run = ? AND NOT correct", [previous])}
            items = [i for i in items if i.key in wanted]
            if not items and wanted:  # failures there were, but none is in this selection (or the benchmark)
                raise UsageError(f"none of the {len(wanted)} items that failed in the last test run ({previous}) "
                                 "is in this selection", "drop --split/--discipline, or run `proda test` (a "
                                 "benchmark rebuilt since has other items)")
            if not items:  # nothing to rerun: not a run of its own (the last run stays the one that passed)
                return {**_result(checkpoint, [], [], 0, 0, None), "nothing_failed": previous}
        if reading:
            _check_scored(project, cat, checkpoint, items)
        results, ran, reused = results_for(project, cat, checkpoint, items)
        if reading:
            return _result(checkpoint, items, results, ran, reused, None)
        passed = sum(r.correct for r in results)
        run_id = cat.query("SELECT nextval('test_run_ids')")[0][0]
        cat.execute("INSERT INTO test_runs (id, checkpoint, origin, ran, reused, passed, failed) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [run_id, checkpoint, "failed" if failed else "test", ran, reused, passed,
                     len(results) - passed])
        if results:
            cat.con.executemany("INSERT INTO test_run_items VALUES (?, ?, ?)",
                                [[run_id, r.item, r.correct] for r in results])
    return _result(checkpoint, items, results, ran, reused, run_id)


def _result(checkpoint: str, items, results, ran: int, reused: int, run: int | None) -> dict[str, Any]:
    """What ``proda test`` reports of a selection and its results (``run``: None when not recorded)."""
    from .results import accuracy, question

    passed = sum(r.correct for r in results)
    return {"checkpoint": checkpoint, "ran": ran, "reused": reused, "passed": passed,
            "failed": len(results) - passed, "selected": len(items), "run": run,
            # per split: 0 there means that split's accuracy is no figure
            "items": {"all": len(items), "dev": sum(i.split == "dev" for i in items),
                      "holdout": sum(i.split == "holdout" for i in items)},
            "failed_items": sorted(r.item for r in results if not r.correct),  # for `proda show KEY`
            "accuracy": accuracy(items, results), "question": question(items, results)}


def _check_scored(project: "Project", cat, checkpoint: str, items) -> None:
    """While a build runs, ``proda test`` can only read results that exist: say so if some do not."""
    from ..errors import LockError
    from .results import scorer_id

    scored = {row[0] for row in cat.query("SELECT item FROM results WHERE checkpoint = ? AND scorer = ?",
                                          [checkpoint, scorer_id(project)])}
    missing = sum(1 for i in items if i.key not in scored)
    if missing:
        raise LockError(f"a build is running and {missing} of the selected items have no result for checkpoint "
                        f"{checkpoint[:12]} yet", "run `proda test` again when the build has finished")


def last_run(cat) -> int | None:
    row = cat.query("SELECT max(id) FROM test_runs")
    return row[0][0] if row and row[0][0] is not None else None
