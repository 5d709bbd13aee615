"""The optimisation loop shared by the trainers.

* Deterministic data order: the batches of epoch ``e`` are a pure function of (seed, e, the example
  lengths) — shuffled, grouped by length to cut padding, then the batch order shuffled — so step ``s``
  always sees the same batch, whether or not the run was resumed.
* AdamW, linear warm-up then cosine decay to 10% of the peak rate (computed from the step number, so
  there is no scheduler state to lose), gradient clipping at 1.0.
* Resumable: every ``save_every`` steps (and at the end) the trainable parameters, the optimizer, the
  step, the recent losses and the RNG states are written to ``state_dir/trainer_state.pt`` through a
  temporary file and ``os.replace``. A run that finds a state with the same fingerprint continues from
  it and ends with bit-identical weights to an uninterrupted run.

torch is imported inside the functions: importing this module is cheap.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..hashing import digest

STATE_FILE = "trainer_state.pt"
STATE_FORMAT = 1
LOSS_WINDOW = 20  # final_loss = mean loss of the last steps


def choose_threads() -> int:
    """CPU threads for torch: the idle cores this process may use (``PRODA_THREADS`` overrides).

    On a shared machine OpenMP threads that wait for a busy core stall every small kernel, so a
    2-thread run next to another busy process is several times slower than a 1-thread run: count
    the cores the load average says are busy as unavailable.
    """
    forced = os.environ.get("PRODA_THREADS", "").strip()
    if forced:
        return max(1, int(forced))
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    load = _others_busy(cores)
    return max(1, min(cores, int(cores - load + 0.5)))


def _others_busy(cores: int, window: float = 0.2) -> float:
    """How many cores other processes keep busy right now: /proc/stat's busy time over a short
    window minus this process's own (the load average would count this build's earlier stages
    as someone else's load). Falls back to the 1-minute load average off Linux."""
    import time

    def sample() -> tuple[float, float]:
        with open("/proc/stat") as fh:
            fields = [float(x) for x in fh.readline().split()[1:]]
        busy = sum(fields) - fields[3] - (fields[4] if len(fields) > 4 else 0.0)  # minus idle, iowait
        with open("/proc/self/stat") as fh:
            parts = fh.read().rsplit(")", 1)[1].split()
        own = float(parts[11]) + float(parts[12])  # utime + stime of every thread, in clock ticks
        return busy, own

    try:
        b0, o0 = sample()
        time.sleep(window)
        b1, o1 = sample()
        ticks = os.sysconf("SC_CLK_TCK") * window
        return max(0.0, ((b1 - b0) - (o1 - o0)) / ticks)
    except (OSError, ValueError, IndexError):
        try:
            return os.getloadavg()[0]
        except (AttributeError, OSError):
            return 0.0


def set_threads(threads: int | None = None) -> int:
    import torch

    threads = threads or choose_threads()
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    return threads


def reproducible(threads: int) -> int:
    """Fix what decides a training's arithmetic besides its inputs: the CPU thread count (the
    recipe's ``compile.threads``; 0 = the idle cores, not reproducible) and deterministic kernels
    where torch offers them. With both, one recipe gives byte-identical CPU weights however
    loaded the machine is. GPU kernels may still differ run to run; see docs/concepts.md."""
    import torch

    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # deterministic cuBLAS workspaces
    torch.use_deterministic_algorithms(True, warn_only=True)
    return set_threads(threads or None)


def cpu_bf16() -> bool:
    """Whether this CPU has native bf16 arithmetic (AVX512-BF16 or AMX), where bf16 autocast pays."""
    import torch

    try:
        return bool(torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())
    except AttributeError:
        return False


def autocast_dtype(precision: str, dev: Any) -> Any:
    """The autocast dtype for ``precision`` (auto | bf16 | fp32) on device ``dev``; None = fp32."""
    import torch

    if precision not in ("auto", "bf16", "fp32"):
        from ..errors import UsageError

        raise UsageError(f"compile.precision = {precision!r} is not one of auto, bf16, fp32",
                         "set compile.precision to auto, bf16 or fp32")
    if precision == "fp32":
        return None
    if precision == "bf16":
        return torch.bfloat16
    if dev.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else None
    return torch.bfloat16 if cpu_bf16() else None


def device() -> Any:
    import torch

    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def fingerprint(**parts: Any) -> str:
    """Identity of a training run: a saved state is resumed only by a run with the same fingerprint."""
    return digest({name: value for name, value in parts.items()})


def dir_fingerprint(path: Path | None) -> list[Any]:
    """A cheap identity of a checkpoint directory (names, sizes, mtimes of its files)."""
    if path is None:
        return []
    path = Path(path)
    return [str(path)] + sorted(
        [str(p.relative_to(path)), p.stat().st_size, p.stat().st_mtime_ns]
        for p in path.rglob("*") if p.is_file()
    )


def save_tokenizer(tokenizer: Any, out_dir: Path) -> None:
    """``save_pretrained`` of a tokenizer, loadable by transformers 4.x too (e.g. next to vLLM).

    transformers 5 names a plain ``tokenizer.json`` tokenizer ``TokenizersBackend``, a class 4.x does
    not know; ``PreTrainedTokenizerFast`` loads the same file under both.
    """
    import json

    tokenizer.save_pretrained(out_dir)
    path = Path(out_dir) / "tokenizer_config.json"
    if path.exists():
        config = json.loads(path.read_text(encoding="utf-8"))
        if config.get("tokenizer_class") == "TokenizersBackend":
            config["tokenizer_class"] = "PreTrainedTokenizerFast"
            path.write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def lr_at(step: int, total: int, peak: float) -> float:
    """Learning rate of (0-based) optimizer step ``step``: linear warm-up, cosine decay to 10%."""
    warmup = min(100, max(1, total // 20))
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return peak * (0.1 + 0.9 * 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress))))


def epoch_batches(lengths: Sequence[int], batch_size: int, seed: int, epoch: int) -> list[list[int]]:
    """The batches (lists of example indices) of one epoch, deterministic in (seed, epoch)."""
    import torch

    gen = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
    order = torch.randperm(len(lengths), generator=gen).tolist()
    mega = batch_size * 16  # sort by length inside windows of 16 batches, as length-grouped samplers do
    batches: list[list[int]] = []
    for start in range(0, len(order), mega):
        window = sorted(order[start:start + mega], key=lambda i: (-lengths[i], i))
        batches.extend(window[k:k + batch_size] for k in range(0, len(window), batch_size))
    shuffle = torch.randperm(len(batches), generator=gen).tolist()
    return [batches[i] for i in shuffle]


def _collate(examples: Sequence[tuple[list[int], list[int]]], pad_id: int) -> tuple[Any, Any]:
    """Right-pad a batch; padded label positions are -100 (ignored by the loss)."""
    import torch

    width = max(len(ids) for ids, _ in examples)
    ids = torch.full((len(examples), width), pad_id, dtype=torch.long)
    labels = torch.full((len(examples), width), -100, dtype=torch.long)
    for row, (tokens, targets) in enumerate(examples):
        ids[row, :len(tokens)] = torch.tensor(tokens, dtype=torch.long)
        labels[row, :len(targets)] = torch.tensor(targets, dtype=torch.long)
    return ids, labels


_STATE_HEADER = b"proda-trainer-state xxh3="


def _save_state(state_dir: Path, state: dict[str, Any]) -> None:
    """Write the state with the xxh3 of its bytes in a first line, in one atomic rename: a state is
    resumed only when its bytes still hash to what was written, never half-trusted."""
    import io

    import torch
    import xxhash

    state_dir.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    torch.save(state, buffer)
    data = buffer.getvalue()
    tmp = state_dir / f".{STATE_FILE}.{os.getpid()}.tmp"
    with open(tmp, "wb") as handle:
        handle.write(_STATE_HEADER + xxhash.xxh3_128_hexdigest(data).encode() + b"\n")
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, state_dir / STATE_FILE)


def load_state(state_dir: Path, fp: str) -> dict[str, Any] | None:
    """The saved state of the run with fingerprint ``fp``, or None (absent, damaged — its bytes do
    not hash to the hash in its first line —, unreadable or another run's): then training starts over."""
    import io

    import torch
    import xxhash

    try:
        raw = (state_dir / STATE_FILE).read_bytes()
    except OSError:
        return None
    header, _, data = raw.partition(b"\n")
    if not header.startswith(_STATE_HEADER) or xxhash.xxh3_128_hexdigest(data).encode() != header[len(_STATE_HEADER):]:
        return None
    try:
        state = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception:  # noqa: BLE001 — a damaged state is not fatal: train from the start
        return None
    if state.get("format") != STATE_FORMAT or state.get("fingerprint") != fp:
        return None
    return state


def train_loop(
    model: Any,
    examples: Sequence[tuple[list[int], list[int]]],
    *,
    batch_size: int,
    epochs: float,
    learning_rate: float,
    seed: int,
    save_every: int,
    state_dir: Path,
    fp: str,
    pad_id: int,
    on_step: Callable[[int, float, float], None] | None = None,
    state: dict[str, Any] | None = None,
    extra_state: dict[str, Any] | None = None,
    autocast_dtype: Any = None,
    weight_decay: float = 0.0,
) -> dict[str, Any]:
    """Optimise the trainable parameters of ``model`` (already on its device) on ``examples``.

    ``examples`` are (input ids, labels) pairs, labels -100 where no loss is taken. ``state`` is a
    state from :func:`load_state` to resume from; ``extra_state`` is stored in every saved state (the
    trainer's own data, e.g. its tokenizer). Returns the loop's stats.
    """
    import torch

    if not examples:
        raise ValueError("no training examples")
    import torch.distributed as dist

    # under torchrun (proda/train/distributed.py): each rank trains on its slice of every batch and
    # DDP averages the gradients; rank 0 alone saves. One process: rank 0 of 1, no wrapper.
    ddp = dist.is_available() and dist.is_initialized()
    rank, world = (dist.get_rank(), dist.get_world_size()) if ddp else (0, 1)
    dev = next(model.parameters()).device
    named = [(name, p) for name, p in model.named_parameters() if p.requires_grad]
    params = [p for _, p in named]
    fused = all(p.dtype in (torch.float32, torch.float16, torch.bfloat16) for p in params) and \
        dev.type in ("cpu", "cuda")
    optimizer = torch.optim.AdamW(params, lr=learning_rate, betas=(0.9, 0.95), eps=1e-8,
                                  weight_decay=weight_decay, fused=fused or None)
    lengths = [len(ids) for ids, _ in examples]
    # tokens that carry a loss, per example: a batch's loss is their mean over the whole batch,
    # whichever rank holds which example
    counted = [sum(1 for t in labels[1:] if t != -100) for _, labels in examples]
    per_epoch = math.ceil(len(examples) / batch_size)
    total = max(1, math.ceil(epochs * per_epoch))

    step = 0
    losses: list[float] = []
    first_loss: float | None = None
    if state is not None:
        with torch.no_grad():
            saved = state["params"]
            for name, p in named:
                p.copy_(saved[name].to(p.device, p.dtype))
        optimizer.load_state_dict(state["optimizer"])
        torch.set_rng_state(state["rng"])
        if torch.cuda.is_available() and state.get("cuda_rng") is not None:
            torch.cuda.set_rng_state_all(list(state["cuda_rng"]))
        set_threads(int(state["threads"]))  # the same kernels as the run that saved it
        step = int(state["step"])
        losses = list(state["losses"])
        first_loss = state["first_loss"]
    resumed_from = step

    def save() -> None:
        if rank != 0:
            return
        _save_state(state_dir, {
            "format": STATE_FORMAT,
            "fingerprint": fp,
            "step": step,
            "params": {name: p.detach().to("cpu", copy=True) for name, p in named},
            "optimizer": optimizer.state_dict(),
            "rng": torch.get_rng_state(),
            "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None,
            "losses": losses[-LOSS_WINDOW:],
            "first_loss": first_loss,
            "threads": torch.get_num_threads(),
            **(extra_state or {}),
        })

    wrapped = model
    if ddp:
        wrapped = torch.nn.parallel.DistributedDataParallel(model, device_ids=[dev.index] if dev.type == "cuda" else None)
    model.train()
    tokens = 0
    started = time.perf_counter()
    plan_epoch, plan = -1, []
    while step < total:
        epoch, index = divmod(step, per_epoch)
        if epoch != plan_epoch:
            plan_epoch, plan = epoch, epoch_batches(lengths, batch_size, seed, epoch)
        batch = plan[index]
        mine = batch[rank::world] or batch[:1]  # a rank without examples still joins the all-reduce
        weight = 1.0 if batch[rank::world] else 0.0
        ids, labels = _collate([examples[i] for i in mine], pad_id)
        ids, labels = ids.to(dev), labels.to(dev)
        batch_tokens = max(1, sum(counted[i] for i in batch))
        lr = lr_at(step, total, learning_rate)
        for group in optimizer.param_groups:
            group["lr"] = lr
        # Right padding needs no attention mask in a causal model: real tokens never see later pads.
        with torch.autocast(dev.type, dtype=autocast_dtype, enabled=autocast_dtype is not None):
            logits = wrapped(input_ids=ids).logits
        targets = labels[:, 1:].reshape(-1)
        loss_sum = torch.nn.functional.cross_entropy(
            logits[:, :-1].float().reshape(-1, logits.shape[-1]), targets, ignore_index=-100,
            reduction="sum")
        if weight != 1.0:
            loss_sum = loss_sum * weight
        # DDP averages gradients over ranks: scaling by the world size makes the step the one a
        # single process takes on the whole batch (up to the order of float additions)
        loss = loss_sum / batch_tokens * world if ddp else loss_sum / batch_tokens
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        step += 1
        if ddp:
            reduced = loss_sum.detach().clone()
            dist.all_reduce(reduced)
            value = float(reduced) / batch_tokens
        else:
            value = float(loss.detach())
        if first_loss is None:
            first_loss = value
        losses = (losses + [value])[-LOSS_WINDOW:]
        tokens += sum(lengths[i] for i in batch)
        if (save_every > 0 and step % save_every == 0) or step == total:
            save()
        if on_step is not None:
            on_step(step, value, lr)
    seconds = time.perf_counter() - started
    model.eval()
    return {
        "steps": total,
        "steps_run": total - resumed_from,
        "resumed_from": resumed_from,
        "epochs": epochs,
        "tokens": tokens,
        "seconds": round(seconds, 3),
        "tokens_per_s": round(tokens / seconds, 1) if seconds > 0 else 0.0,
        "first_loss": first_loss,
        "final_loss": sum(losses) / len(losses) if losses else None,
        "threads": torch.get_num_threads(),
        "precision": str(autocast_dtype).replace("torch.", "") if autocast_dtype is not None else "fp32",
        "processes": world,
    }
