"""doit reporter for proda: one line per executed task on stderr, failures with their message.

stdout stays free for ``--json``. Up-to-date tasks are silent (``proda status`` explains them).
"""

from __future__ import annotations

import sys
import time

from doit.reporter import ConsoleReporter


class ProdaReporter(ConsoleReporter):
    desc = "proda: executed tasks and failures, on stderr"

    def __init__(self, outstream, options):
        super().__init__(sys.stderr, options)
        self._started: dict[str, float] = {}

    def execute_task(self, task):
        if task.actions and not task.name.startswith("_") and task.name != "version":
            self._started[task.name] = time.perf_counter()
            self.write(f"  building {task.name} ...\n")

    def add_success(self, task):
        if task.name in self._started:
            took = time.perf_counter() - self._started.pop(task.name)
            self.write(f"  built    {task.name} ({took:.1f}s)\n")

    def skip_uptodate(self, task):
        pass

    def _write_failure(self, result, write_exception=True):
        exc = result["exception"]
        self.write(f"FAILED {result['task'].name}: {exc.get_msg().strip()}\n")

    def complete_run(self):
        if self.runtime_errors:
            self.write("build aborted:\n" + "\n".join(self.runtime_errors) + "\n")
