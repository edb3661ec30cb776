"""Time every chapter's execution, the way the tests run it.

Each chapter is executed start to finish in a fresh kernel with nbclient, N
times, alternating chapters so that a burst of load on the machine falls on
all of them alike. Prints the median and the spread per chapter, and the
machine's load average before and after, so a reader can tell whether the
figures were taken on a quiet machine.

    python benchmarks/time_chapters.py            # every chapter, 3 runs
    python benchmarks/time_chapters.py -n 5 02 04 # chapters 02 and 04, 5 runs
"""
import argparse
import os
import pathlib
import statistics
import time

import nbformat
from nbclient import NotebookClient

ROOT = pathlib.Path(__file__).resolve().parent.parent
CHAPTERS = ROOT / "chapters"


def run_once(path):
    """Execute one notebook in a fresh kernel; return the wall time in seconds."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    client.execute()
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("chapters", nargs="*",
                        help="chapter number prefixes such as 01 (default: all)")
    parser.add_argument("-n", "--runs", type=int, default=3,
                        help="runs per chapter (default 3)")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    paths = sorted(CHAPTERS.glob("[0-9][0-9]_*.ipynb"))
    if args.chapters:
        paths = [p for p in paths if p.name[:2] in args.chapters]
        if not paths:
            parser.error(f"no chapter matches {args.chapters}")
    load_before = os.getloadavg()
    times = {p.name: [] for p in paths}
    for run in range(args.runs):
        for p in paths:
            seconds = run_once(p)
            times[p.name].append(seconds)
            print(f"run {run + 1}/{args.runs}  {p.name:32s} {seconds:7.1f} s", flush=True)
    load_after = os.getloadavg()
    print()
    print(f"cores: {os.cpu_count()}   OPENBLAS_NUM_THREADS="
          f"{os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}")
    print(f"load average (1 min) before: {load_before[0]:.2f}   after: {load_after[0]:.2f}")
    print(f"{'chapter':32s} {'median':>8s} {'min':>8s} {'max':>8s}")
    for name, ts in times.items():
        print(f"{name:32s} {statistics.median(ts):7.1f}s {min(ts):7.1f}s {max(ts):7.1f}s")


if __name__ == "__main__":
    main()
