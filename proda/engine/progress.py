"""Progress bars on a terminal: one live rich display per process, shared by the build reporter
(one bar over the build's tasks) and the runner (a bar over the units of a long task).

Nothing is drawn when stderr is not a terminal (pipes, logs, ``--json`` consumers, tests), and
rich loads only when a bar is drawn. Lines printed with :func:`say` while a bar is live appear
above it.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from typing import Any, Callable, Iterator

_live: Any = None  # the rich Progress currently drawn, if any
_guard = threading.Lock()
DRAW = True  # False on a worker process: only the build process draws


def on_terminal() -> bool:
    if not DRAW:
        return False
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def start(description: str, total: int) -> Callable[..., None] | None:
    """Start the process's bar (if stderr is a terminal); returns ``update(advance=, description=)``."""
    global _live
    if not on_terminal():
        return None
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with _guard:
        if _live is not None:
            return None
        _live = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                         TimeElapsedColumn(), transient=True, console=Console(stderr=True))
        _live.start()
        task = _live.add_task(description, total=total)
        bar = _live

    def update(advance: int = 0, description: str | None = None) -> None:
        kwargs = {"advance": advance}
        if description is not None:
            kwargs["description"] = description
        bar.update(task, **kwargs)

    return update


def stop() -> None:
    global _live
    with _guard:
        bar, _live = _live, None
    if bar is not None:
        bar.stop()


def say(text: str) -> None:
    """Print a line on stderr (above the bar, if one is drawn)."""
    bar = _live
    if bar is not None:
        bar.console.print(text, highlight=False, markup=False, soft_wrap=True)
    else:
        print(text, file=sys.stderr, flush=True)


@contextlib.contextmanager
def units(description: str, total: int, minimum: int = 200) -> Iterator[Callable[..., None]]:
    """A bar over ``total`` units of one task (only for long lists, only on a terminal): a second
    row under the build's bar when there is one, else a bar of its own. ``advance(n=1)``."""
    if total < minimum or not on_terminal():
        yield lambda n=1: None
        return
    bar = _live
    if bar is not None:
        task = bar.add_task(f"  {description}", total=total)
        try:
            yield lambda n=1: bar.advance(task, n)
        finally:
            bar.remove_task(task)
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(transient=True, console=Console(stderr=True)) as own:
        task = own.add_task(description, total=total)
        yield lambda n=1: own.advance(task, n)
