"""Time vanishgrad.mlp.train at the shapes chapter 1 trains.

Full-batch gradient descent on the spirals of chapter 1 (300 points, 3 classes), width
32, 400 steps, three cases:

- a 10-layer sigmoid net, Xavier initialisation, lr 1.0;
- the same 10-layer net with tanh, lr 0.3;
- a 20-layer tanh net, "naive" initialisation, lr 0.3.

The cases alternate within each round, so a burst of load on the machine falls on all of
them alike; the table gives the median, minimum and maximum over ``--repeats`` rounds and
the machine's load average before and after. Set ``OPENBLAS_NUM_THREADS=1`` to time what
the chapter's tests time.

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_mlp_train.py
    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_mlp_train.py --repeats 9 --steps 800

It measures; it does not judge (no targets, exit status 0).
"""

import argparse
import os
import statistics
import time

import numpy as np

from vanishgrad import mlp, tasks

SEED = 0
WIDTH = 32
CASES = [  # (label, depth L, init, activation, lr)
    ("sigmoid, 10 layers, xavier", 10, "xavier", "sigmoid", 1.0),
    ("tanh, 10 layers, xavier", 10, "xavier", "tanh", 0.3),
    ("tanh, 20 layers, naive", 20, "naive", "tanh", 0.3),
]


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=5, help="timed rounds (>= 5)")
    p.add_argument("--steps", type=int, default=400, help="training steps per run (default 400)")
    args = p.parse_args(argv)
    if args.repeats < 5:
        p.error("--repeats must be at least 5: the table reports a median of at least 5 runs")
    if args.steps < 1:
        p.error("--steps must be at least 1")
    return args


def main(argv=None):
    args = parse_args(argv)
    x, y = tasks.spirals(n_per_class=100, n_classes=3, rng=np.random.default_rng(SEED))
    runs = []
    for label, depth, init, activation, lr in CASES:
        params = mlp.init_params([2] + [WIDTH] * (depth - 1) + [3], init, rng=SEED)
        runs.append((label, params, activation, lr))

    load_before = os.getloadavg()
    times = {label: [] for label, *_ in runs}
    for _ in range(args.repeats):
        for label, params, activation, lr in runs:
            start = time.perf_counter()
            mlp.train(params, x, y, activation=activation, lr=lr, steps=args.steps)
            times[label].append(time.perf_counter() - start)
    load_after = os.getloadavg()

    print(f"mlp.train, {x.shape[0]} points, width {WIDTH}, {args.steps} full-batch steps, "
          f"{args.repeats} rounds")
    print(f"cores: {os.cpu_count()}   OPENBLAS_NUM_THREADS="
          f"{os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}")
    print(f"load average (1 min) before: {load_before[0]:.2f}   after: {load_after[0]:.2f}")
    print(f"{'case':30s} {'median':>8s} {'min':>8s} {'max':>8s}")
    for label, ts in times.items():
        print(f"{label:30s} {statistics.median(ts):7.3f}s {min(ts):7.3f}s {max(ts):7.3f}s")
    total = sum(statistics.median(ts) for ts in times.values())
    print(f"{'sum of the medians':30s} {total:7.3f}s")


if __name__ == "__main__":
    main()
