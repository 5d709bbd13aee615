"""Where the memo map's units run: in this process, on worker processes, or on a Ray cluster.

``[run] executor`` (or ``proda build --executor``) picks one: ``local`` (this process; threads for
HTTP-bound maps), ``processes`` (a pool of ``run.workers`` processes on this machine) or ``ray``
(a local Ray cluster of ``run.workers`` CPUs, or the cluster at ``run.address``). The driver —
:meth:`proda.engine.runner.Context.map` — keeps what it owns: the recipe keys, the memo journal and the
manifest written last. It sends only the units that are not memoised, in batches, and journals each
batch's records as it comes back (one journal write per batch), so a killed driver or a lost worker
loses only the units in flight. Workers return each unit's records already encoded (the journal's bytes), so nothing is
pickled twice. Outputs are placed by unit index: the same inputs give the same records and the
same version id whatever the executor and the worker count.

A unit function must pickle (a module-level function, or a ``functools.partial`` of one) to leave
the process; one that does not runs locally, with a warning. Ray is an optional extra
(``pip install 'proda[ray]'``), imported only when chosen.
"""

from __future__ import annotations

import math
import os
import pickle
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from ..errors import StageError, UsageError

OK, SKIP = 0, 1
KINDS = ("local", "processes", "ray")
# What the workers' fork server imports first, so that no worker imports anything on its first unit
# or task of a stage (tests/test_executors.py checks it: each worker would pay that, in every build)
PRELOAD = ("proda.engine.executors", "proda.engine.storage", "proda.engine.runner", "proda.project",
           "proda.corpus.readers", "proda.corpus.quality", "proda.corpus.tokens", "proda.corpus.chunking",
           "proda.extract.heuristic", "proda.extract.backends", "proda.extract.graph", "proda.bench.units",
           "proda.bench.items", "proda.synth.samples", "proda.stages.ingest", "proda.stages.chunk",
           "proda.stages.extract", "proda.stages.bench", "proda.stages.synth")
ON_WORKER = False  # True on a pool worker (a whole stage task run there keeps its maps local)
MAX_BATCH = 64  # units per batch sent to a worker: amortises the round trip, keeps losses small
IN_FLIGHT = 3  # batches queued per worker: keeps them busy without holding every payload at once
RESTARTS = 3  # a broken process pool is rebuilt this many times before the stage fails
JOURNAL_EVERY = 0.05  # seconds: how often a map running in this process journals its finished units
TARGET_BATCH_S = 0.05  # seconds of work a Ray batch is sized to carry, once its units' cost is known

# (index, OK, records or None, encoded records) | (index, SKIP, None, reason)
Outcome = tuple[int, int, Any, Any]


def run_batch(fn: Callable[[Any], Any], payloads: Sequence[Any],
              skip: tuple[type[BaseException], ...]) -> list[tuple[int, Any]]:
    """Worker side: each payload's records, encoded, or why it was skipped."""
    from .storage import encode_records

    out: list[tuple[int, Any]] = []
    for payload in payloads:
        try:
            records = list(fn(payload))
        except skip as exc:
            out.append((SKIP, str(exc)))
            continue
        out.append((OK, encode_records(records)))
    return out


def _count_size(n: int, workers: int) -> int:
    """Units a batch holds so that ``n`` units make about four batches per worker (MAX_BATCH at most)."""
    return max(1, min(MAX_BATCH, math.ceil(n / (4 * max(1, workers)))))


def batches(n: int, workers: int) -> list[range]:
    """Unit index ranges: about four batches per worker, at most MAX_BATCH units each."""
    size = _count_size(n, workers)
    return [range(start, min(n, start + size)) for start in range(0, n, size)]


def batch_size(n: int, left: int, workers: int, unit_s: float | None) -> int:
    """Units in the next Ray batch (of ``left`` units still to send): :func:`batches`' size for
    ``n`` units, raised — once a unit's seconds are known — so that a batch carries about
    TARGET_BATCH_S of work, up to MAX_BATCH units. A Ray task's round trip costs milliseconds: on a
    big cluster the count rule alone sends a shard of cheap units one unit per task, and spreading
    work that small over more CPUs costs more than it saves."""
    size = _count_size(n, workers)
    if unit_s:
        size = max(size, min(MAX_BATCH, math.ceil(TARGET_BATCH_S / unit_s)))
    return max(1, min(size, left))


def run_timed_batch(fn: Callable[[Any], Any], payloads: Sequence[Any],
                    skip: tuple[type[BaseException], ...]) -> tuple[float, list[tuple[int, Any]]]:
    """A Ray task: :func:`run_batch`, and the seconds it took (what the next batches are sized by)."""
    started = time.perf_counter()
    out = run_batch(fn, payloads, skip)
    return time.perf_counter() - started, out


_record_encoder = None
_record_decoders: dict[type, Any] = {}


def _record(cls: type, data: bytes) -> Any:
    """Worker side of :func:`_reduce_record`: the record back from its msgpack bytes."""
    decoder = _record_decoders.get(cls)
    if decoder is None:
        import msgspec

        decoder = _record_decoders[cls] = msgspec.msgpack.Decoder(cls)
    return decoder.decode(data)


def _reduce_record(record: Any) -> tuple:
    """Records cross the pool's pipes as their msgpack bytes: a quarter of pickle's time to send
    and half to receive (pickle reduces a Struct field by field, in Python)."""
    global _record_encoder
    if _record_encoder is None:
        import msgspec

        _record_encoder = msgspec.msgpack.Encoder()
    return _record, (type(record), _record_encoder.encode(record))


def _register_reducers() -> None:
    """Unit payloads (chunks, chains, windows of statements) pickle as msgpack bytes through the
    process pool (multiprocessing's own pickler only: nothing else changes)."""
    import typing
    from multiprocessing.reduction import ForkingPickler

    from ..records import ANY_RECORD

    for cls in typing.get_args(ANY_RECORD):
        ForkingPickler.register(cls, _reduce_record)


def _noop() -> None:
    return None


def _interrupted():
    from ..errors import Interrupted

    return Interrupted("the build was interrupted; finished units are kept", "run `proda build` again to resume")


def _proc_stat(pid: int) -> list[bytes] | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rsplit(b")", 1)[1].split()
    except (OSError, IndexError):
        return None


def gone(pid: int, started: bytes | None = None) -> bool:
    """Whether process ``pid`` has ended: no such process, one of another user (its id reused),
    a zombie waiting for its parent, or (with ``started``, its start time as /proc gives it)
    another process that took its id."""
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return True
    fields = _proc_stat(pid)
    if fields is None:  # no /proc: what os.kill says
        return False
    return fields[0] == b"Z" or (started is not None and len(fields) > 19 and fields[19] != started)


def _worker_start(build: int) -> None:
    """Worker side, at its start. A whole task that runs here runs its units here, one after
    another (``ON_WORKER``), and draws no progress bar. Ctrl-C is the build process's to handle:
    it stops the workers itself (``Processes.close(now=True)``), and a worker that took the
    terminal's Ctrl-C would break the pool and have its tasks sent again. And the worker exits within a fifth of a second
    once the build process has died (killed, say): it would otherwise wait for work forever — and
    one running a whole task would go on writing its journal and manifest beside the next build.
    What it had finished is in the journal already."""
    import signal

    from . import progress

    global ON_WORKER
    ON_WORKER = True  # a whole task run here keeps its units here
    progress.DRAW = False  # the build process draws the bars
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    fields = _proc_stat(build)
    started = fields[19] if fields is not None and len(fields) > 19 else None

    def watch() -> None:
        while not gone(build, started):
            time.sleep(0.2)
        os._exit(70)

    threading.Thread(target=watch, name="proda-exit-with-build", daemon=True).start()


def portable(fn: Callable) -> bool:
    try:
        pickle.dumps(fn)
    except Exception:  # noqa: BLE001 — pickling can raise almost anything
        return False
    return True


class Local:
    """This process: one unit after another, or ``threads`` at once (HTTP-bound maps)."""

    name = "local"
    workers = 1

    @staticmethod
    def one(fn, payloads, skip, index: int) -> Outcome:
        try:
            return index, OK, list(fn(payloads[index])), None
        except skip as exc:
            return index, SKIP, None, str(exc)

    def run_batches(self, fn, payloads, skip, threads: int = 1) -> Iterator[list[Outcome]]:
        """The finished units in batches (one write of the journal each): a batch is given when a
        unit finishes JOURNAL_EVERY seconds or more after the last batch, or at MAX_BATCH units.
        So a stage of cheap units does not pay a journal write per unit, and a killed build loses
        the unit running and at most JOURNAL_EVERY seconds of units finished before it."""
        batch: list[Outcome] = []
        since = time.perf_counter()
        try:
            for outcome in self.run(fn, payloads, skip, threads):
                batch.append(outcome)
                now = time.perf_counter()
                if len(batch) >= MAX_BATCH or now - since >= JOURNAL_EVERY:
                    yield batch
                    batch, since = [], now
        except GeneratorExit:  # the map stopped taking batches (its journal write failed): nothing to give
            raise
        except BaseException:  # a unit failed (or Ctrl-C): the units finished before it are journalled first
            if batch:
                yield batch
            raise
        if batch:
            yield batch

    def run(self, fn, payloads, skip, threads: int = 1) -> Iterator[Outcome]:
        def one(index: int) -> Outcome:
            return self.one(fn, payloads, skip, index)

        if threads <= 1 or len(payloads) <= 1:
            yield from map(one, range(len(payloads)))
            return
        from concurrent.futures import ThreadPoolExecutor, as_completed

        with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="proda-unit") as pool:
            futures = [pool.submit(one, i) for i in range(len(payloads))]
            try:
                for future in as_completed(futures):
                    yield future.result()
            finally:
                for future in futures:
                    future.cancel()

    def close(self, now: bool = False) -> None:
        pass


class Processes:
    """A pool of worker processes on this machine (``forkserver``: no fork of a threaded driver)."""

    name = "processes"

    def __init__(self, workers: int):
        self.workers = workers
        self._pool = None
        self._closed = False  # closed at the end of a build: a late warm() starts nothing
        self._ready: list | None = None  # warm()'s first tasks: done once a worker is up
        self._lock = threading.Lock()  # doit's -j threads share one pool

    def _start(self):
        with self._lock:
            if self._closed:  # the build ended or was interrupted: nothing starts a pool again
                raise _interrupted()
            return self._pool or self._new_pool()

    def _new_pool(self):
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(list(PRELOAD))
        _register_reducers()
        self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=context,
                                         initializer=_worker_start, initargs=(os.getpid(),))
        return self._pool

    def warm(self, init: tuple | None = None) -> None:
        """Start the pool and its workers now (the forkserver's imports included), so the first
        stage does not wait for them; run on a thread by :func:`prewarm`. ``init``: ``(fn,
        *args)`` each worker runs first (instead of nothing)."""
        try:
            with self._lock:
                if self._closed:
                    return
                pool = self._pool or self._new_pool()
                self._ready = []  # warming: maps run here until a worker is up (a submit would wait)
            fn, *args = init or (_noop,)
            self._ready = [pool.submit(fn, *args) for _ in range(self.workers)]
        except Exception:  # noqa: BLE001 — the first map starts (or reports) the pool again
            self._ready = None

    def _warming(self) -> bool:
        """True while the pool started by warm() has no worker up yet."""
        ready = self._ready
        if ready is None:
            return False
        if ready and any(f.done() for f in ready):
            self._ready = None
            return False
        return True

    def run(self, fn, payloads, skip, threads: int = 1) -> Iterator[Outcome]:
        for batch in self.run_batches(fn, payloads, skip, threads):
            yield from batch

    def run_batches(self, fn, payloads, skip, threads: int = 1) -> Iterator[list[Outcome]]:
        """Each batch's outcomes as it comes back (in completion order; indices place them)."""
        from concurrent.futures import FIRST_COMPLETED, wait
        from concurrent.futures.process import BrokenProcessPool

        todo = batches(len(payloads), self.workers)
        todo.reverse()  # popped from the end: sent in unit order
        restarts = 0
        while todo:
            pool = self._pool or self._start()
            pending: dict[Any, range] = {}
            try:
                while todo or pending:
                    while todo and len(pending) < IN_FLIGHT * self.workers and not self._warming():
                        batch = todo[-1]  # taken off only once the pool has it: a broken pool
                        pending[pool.submit(run_batch, fn, [payloads[i] for i in batch], skip)] = batch
                        todo.pop()  # refuses it with BrokenProcessPool, and it is sent again
                    if todo and self._warming():
                        # no worker is up yet (their interpreters still import): a batch here
                        # meanwhile, as the local executor would run it
                        yield [LOCAL.one(fn, payloads, skip, index) for index in todo.pop()]
                        continue
                    done, _ = wait(pending, return_when=FIRST_COMPLETED)
                    for future in done:
                        results = future.result()  # raises BrokenProcessPool before the pop
                        batch = pending.pop(future)
                        yield [(index, kind, None, value) for index, (kind, value) in zip(batch, results)]
            except BrokenProcessPool:
                # a worker died (killed, out of memory): its batches and the others in flight are
                # sent again to a fresh pool; everything already yielded is journalled
                restarts += 1
                todo.extend(pending.values())
                self._broken(pool, restarts, "map of units", f"{len(pending)} batch(es) sent again",
                             "run with --executor local to see the error in this process")
            except BaseException:
                for future in pending:
                    future.cancel()
                raise

    def run_task(self, fn: Callable[..., Any], *args: Any) -> Any:
        """``fn(*args)`` on a worker (a whole stage task: ``proda build -j N``); waits for it. A
        worker that dies breaks the pool: a fresh pool runs the task again (the journal keeps
        the units it had finished), three times at most."""
        from concurrent.futures.process import BrokenProcessPool

        restarts = 0
        while True:
            pool = self._pool or self._start()
            try:
                return pool.submit(fn, *args).result()
            except BrokenProcessPool:
                restarts += 1
                self._broken(pool, restarts, "task", "its task is sent again",
                             "run with -j 1 or --executor local to see the error in this process")

    def _broken(self, pool, restarts: int, what: str, again: str, hint: str) -> None:
        """A worker of ``pool`` died (killed, out of memory), which broke the pool: drop it (the
        next submit starts a fresh one) and say what is sent again — unless the build was
        interrupted (``close(now=True)`` stopped the workers) or they kept dying."""
        if self._closed:
            raise _interrupted() from None
        with self._lock:
            if self._pool is pool:
                self._pool = None
        pool.shutdown(wait=False, cancel_futures=True)
        if restarts > RESTARTS:
            raise StageError(f"worker processes kept dying ({restarts} times in one {what})",
                             f"look for memory pressure or a crash in the stage; {hint}") from None
        from .damage import say  # the real stderr: doit captures what its actions print

        say(f"  a worker process died; {again}")

    def close(self, now: bool = False) -> None:
        """Shut the pool down after the work it is doing; ``now`` (an interrupted build): stop its
        workers at once — a whole task on a worker could run for minutes — losing only the units
        in flight (what they had finished is journalled)."""
        with self._lock:
            self._closed = True
            pool, self._pool = self._pool, None
        if pool is None:
            return
        if now:
            # Python 3.14 has pool.terminate_workers(); before it, the pool's own process table
            for process in list((getattr(pool, "_processes", None) or {}).values()):
                process.terminate()
        pool.shutdown(wait=True, cancel_futures=True)  # quick once the workers are gone


class Ray:
    """Ray tasks: a local cluster of ``workers`` CPUs, or an existing cluster at ``address``.

    A task whose worker dies is retried by Ray on another worker (``max_retries``); the driver
    journals each batch as it returns. Every node must have the same proda version installed.
    """

    name = "ray"

    def __init__(self, workers: int, address: str):
        try:
            import ray
        except ImportError as exc:
            raise UsageError("run.executor = 'ray' needs the ray package, which is not installed",
                             "pip install 'proda[ray]' (or choose --executor processes)") from exc
        self._ray = ray
        self._owner = False
        if not ray.is_initialized():
            options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False,
                                       "ignore_reinit_error": True}
            if address:
                options["address"] = address
            else:  # a new local cluster: "local", else Ray joins RAY_ADDRESS or the last `ray start`
                options.update(address="local", num_cpus=workers)
            try:
                ray.init(**options)
            except Exception as exc:  # noqa: BLE001 — connection and start-up errors vary
                where = f"the Ray cluster at {address}" if address else "a local Ray cluster"
                raise UsageError(f"could not start or reach {where}: {exc}",
                                 "check run.address (e.g. ray://head:10001 or auto), or use "
                                 "--executor processes") from exc
            self._owner = True
        self.workers = max(1, int(ray.cluster_resources().get("CPU", workers)))
        self._task = ray.remote(run_timed_batch).options(max_retries=3, retry_exceptions=False)
        self._unit_s: dict[str, float] = {}  # seconds a unit takes, per unit function: sizes batches

    def run(self, fn, payloads, skip, threads: int = 1) -> Iterator[Outcome]:
        for batch in self.run_batches(fn, payloads, skip, threads):
            yield from batch

    def run_batches(self, fn, payloads, skip, threads: int = 1) -> Iterator[list[Outcome]]:
        """Batches sized as they are sent (:func:`batch_size`): until a unit's cost is known — from
        an earlier map of the same function, or this map's first batch back — one batch per CPU
        is in flight, then IN_FLIGHT per CPU."""
        ray = self._ray
        fn_ref = ray.put(fn)
        name = getattr(getattr(fn, "func", fn), "__qualname__", "")
        n, sent = len(payloads), 0
        spent, counted = 0.0, 0
        pending: dict[Any, range] = {}
        try:
            while sent < n or pending:
                unit_s = self._unit_s.get(name)
                while sent < n and len(pending) < (IN_FLIGHT if unit_s else 1) * self.workers:
                    batch = range(sent, sent + batch_size(n, n - sent, self.workers, unit_s))
                    sent = batch.stop
                    pending[self._task.remote(fn_ref, [payloads[i] for i in batch], skip)] = batch
                done, _ = ray.wait(list(pending), num_returns=1)
                for ref in done:
                    batch = pending.pop(ref)
                    try:
                        seconds, results = ray.get(ref)
                        spent, counted = spent + seconds, counted + len(batch)
                        self._unit_s[name] = spent / counted
                    except ray.exceptions.RayTaskError as exc:
                        raise exc.as_instanceof_cause() from None
                    except ray.exceptions.RayError as exc:  # workers lost beyond the retries
                        raise StageError(f"Ray could not run a batch of {len(batch)} unit(s): {exc}",
                                         "look at the cluster's health (ray status), then rerun: "
                                         "finished units are kept") from exc
                    yield [(index, kind, None, value) for index, (kind, value) in zip(batch, results)]
        finally:
            for ref in pending:
                ray.cancel(ref, force=True)

    def close(self, now: bool = False) -> None:
        if self._owner and self._ray.is_initialized():
            self._ray.shutdown()


LOCAL = Local()
_open: dict[tuple, Any] = {}
_guard = threading.Lock()
_warned: set[str] = set()


def default_workers() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def for_config(run_cfg) -> Any:
    """The executor ``[run]`` asks for (one per process and setting, shared by doit's threads)."""
    kind = run_cfg.executor
    if kind not in KINDS:
        import difflib

        close = difflib.get_close_matches(kind, KINDS, n=1)
        raise UsageError(f"unknown run.executor {kind!r}",
                         f"did you mean {close[0]!r}?" if close else f"choose one of: {', '.join(KINDS)}")
    if kind == "local":
        return LOCAL
    workers = run_cfg.workers if run_cfg.workers > 0 else default_workers()
    key = (kind, workers, run_cfg.address)
    with _guard:
        if not _open:
            import atexit

            atexit.register(shutdown)  # plain `doit` runs have no build() to close them
        if key not in _open:
            _open[key] = Processes(workers) if kind == "processes" else Ray(workers, run_cfg.address)
        return _open[key]


def choose(run_cfg, fn: Callable, units: int, threads: int) -> Any:
    """The executor for one map: threads stay local (HTTP-bound work: the endpoints are the
    parallelism), as do single units and functions that cannot leave the process."""
    if run_cfg.executor == "local" or threads > 1 or units < 2 or ON_WORKER:
        return LOCAL
    if not portable(fn):
        name = getattr(fn, "__qualname__", repr(fn))
        if name not in _warned:
            _warned.add(name)
            print(f"  note: {name} cannot be sent to other processes; it runs locally", file=sys.stderr)
        return LOCAL
    return for_config(run_cfg)


def prewarm(run_cfg, init: tuple | None = None) -> None:
    """Start the worker processes of ``[run]``'s process pool in the background at the start of a
    build, while the driver plans its tasks and reads the corpus (nothing for local or Ray);
    ``init`` (``(fn, *args)``) is what each worker does first."""
    if run_cfg.executor != "processes":
        return
    executor = for_config(run_cfg)
    threading.Thread(target=executor.warm, args=(init,), name="proda-pool-warm", daemon=True).start()


def shutdown(now: bool = False) -> None:
    """Close every executor this process opened (end of a build; ``now``: an interrupted one,
    whose workers stop at once)."""
    with _guard:
        for executor in _open.values():
            executor.close(now)
        _open.clear()
