"""Time every chapter's execution, the way the tests run it.

Each chapter is executed start to finish in a fresh kernel with nbclient, N
times, alternating chapters so that a burst of load on the machine falls on
all of them alike. Prints the median and the spread per chapter, and the
machine's load average before and after, so a reader can tell whether the
figures were taken on a quiet machine.

Two times are kept per run: the wall time, and the time the kernel spent in
the cells (from each cell's execute_input to its execute_reply, both stamped
by the kernel). They differ by the kernel's start and by the client's waits.
nbclient sometimes waits out a cell's whole timeout for a reply that has
already arrived, after a cell that displays ipywidgets (jupyter/nbclient#312);
such a run is marked, and its wall time says nothing about the chapter.

    python benchmarks/time_chapters.py            # every chapter, 3 runs
    python benchmarks/time_chapters.py -n 5 02 04 # chapters 02 and 04, 5 runs
"""
import argparse
import datetime
import os
import pathlib
import statistics
import time

import nbformat
from nbclient import NotebookClient

ROOT = pathlib.Path(__file__).resolve().parent.parent
CHAPTERS = ROOT / "chapters"


#: A cell's timeout, as in the website's build: no cell of a chapter needs a
#: minute, and a client stuck on nbclient#312 is released after this long.
CELL_TIMEOUT = 120
#: Wall time beyond the kernel's start and the cells that marks a stuck client.
STUCK_SECONDS = 30


def stamp(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def run_once(path):
    """Execute one notebook in a fresh kernel: (wall seconds, seconds in cells)."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    client.execute()
    wall = time.perf_counter() - start
    in_cells = sum((stamp(e["shell.execute_reply"]) - stamp(e["iopub.execute_input"])).total_seconds()
                   for cell in nb.cells if cell.cell_type == "code"
                   for e in [cell.metadata.get("execution", {})]
                   if "iopub.execute_input" in e and "shell.execute_reply" in e)
    return wall, in_cells


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
    cells = {p.name: [] for p in paths}
    stuck = 0
    for run in range(args.runs):
        for p in paths:
            wall, in_cells = run_once(p)
            times[p.name].append(wall)
            cells[p.name].append(in_cells)
            mark = ""
            if wall - in_cells > STUCK_SECONDS:
                stuck += 1
                mark = "  (client stuck: nbclient#312)"
            print(f"run {run + 1}/{args.runs}  {p.name:32s} {wall:7.1f} s   "
                  f"in cells {in_cells:6.1f} s{mark}", flush=True)
    load_after = os.getloadavg()
    print()
    print(f"cores: {os.cpu_count()}   OPENBLAS_NUM_THREADS="
          f"{os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}")
    print(f"load average (1 min) before: {load_before[0]:.2f}   after: {load_after[0]:.2f}")
    print(f"{'chapter':32s} {'median':>8s} {'min':>8s} {'max':>8s}   {'in cells':>8s}")
    for name, ts in times.items():
        print(f"{name:32s} {statistics.median(ts):7.1f}s {min(ts):7.1f}s {max(ts):7.1f}s   "
              f"{statistics.median(cells[name]):7.1f}s")
    if stuck:
        print(f"{stuck} run(s) waited on a stuck client (nbclient#312): their wall times "
              f"are not the chapter's; rerun, or read the time in cells")


if __name__ == "__main__":
    main()
