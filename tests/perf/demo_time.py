"""How long `proda demo` takes, phase by phase, on this machine — the figures the README and the
tutorial quote.

Runs the real command line (``python -m proda demo DIR --json``) in a fresh temporary folder and
prints ONE JSON line: the seconds of each phase (init, build_v1, test_v1, debug, build_v2, test_v2,
diff), the total, the CPU seconds the demo used (user + system, which other processes cannot
inflate), and the machine it ran on with its load (1-minute load average before and after, CPU
count and model), because on a shared machine the load decides the wall-clock figure.

    python tests/perf/demo_time.py                 # minutes; the load of the machine decides how many
    python tests/perf/demo_time.py --keep /tmp/d   # and keep the demo's folder
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", metavar="DIR", help="run the demo in DIR (new) and keep it, e.g. to read "
                                                      "the tutorial's figures from it")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="proda-demo-time-") as tmp:
        folder = Path(args.keep) if args.keep else Path(tmp) / "demo"
        if folder.exists():
            raise SystemExit(f"{folder} exists: give a new folder")
        load_before = os.getloadavg()[0]
        started = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "proda", "demo", str(folder), "--json"],
                              capture_output=True, text=True)
        wall = time.perf_counter() - started
        load_after = os.getloadavg()[0]
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # the demo's CPU time: what load cannot inflate
    sys.stderr.write(proc.stderr)  # the demo's story; stdout keeps the one JSON line
    if proc.returncode != 0:
        raise SystemExit(proc.returncode)
    result = json.loads(proc.stdout)
    print(json.dumps({
        "benchmark": "demo_time",
        "phases": result["phases"],
        "total_seconds": result["seconds"],
        "wall_seconds": round(wall, 1),
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 1),
        "accuracy": {"v1": result["accuracy"]["from"].get("all"), "v2": result["accuracy"]["to"].get("all")},
        "machine": {"cpus": os.cpu_count(), "cpu": cpu_model(), "python": platform.python_version()},
        "load_1min": {"before": round(load_before, 2), "after": round(load_after, 2)},
    }, sort_keys=True))


if __name__ == "__main__":
    main()
