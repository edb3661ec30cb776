"""Time vanishgrad's RNN forward + backward against PyTorch's CPU torch.nn.RNN (tanh).

Both sides compute the same thing from the same numbers: a tanh RNN over x (T, B, D)
from h_0 (B, H), an output layer o_t = V h_t + c with K = D outputs, and the backward
pass for a given ∂L/∂o, producing the gradients of U, W, b, V, c, h_0 and x. Before any
timing the two are checked to agree (outputs and every gradient).

Fair by construction: the same shapes and dtype, the same number of threads for numpy's
BLAS (threadpoolctl) and for torch (torch.set_num_threads), both timed in one process,
alternating ours/torch within each round (the order flips every round), each timing the
median of ``--repeats`` rounds after ``--warmup`` untimed rounds.

One thread each by default. After a call, idle worker threads busy-wait for a while
(OpenBLAS's pthreads, torch's OpenMP threads); with more threads than are free, they
steal the cores from the other library's next call when the two alternate, and the
timings then measure that contention rather than either library. ``--threads N`` sets
another count for both sides, and ``--settle S`` pauses S seconds before each timed call
so that idle workers can go to sleep (the pause also lets caches cool, which slows the
smallest shapes: read multi-thread tables with that in mind).

    python benchmarks/bench_rnn.py                     # all five shapes, float32 and float64
    python benchmarks/bench_rnn.py --threads 2 --repeats 9

Needs benchmarks/requirements.txt (torch, threadpoolctl), ideally in its own venv.
Targets: torch-time / our-time at least 1.0 at every shape, at least 1.5 at the four
smaller shapes. The script prints the table and whether each target is met; it exits 0
either way (it measures, it does not judge).
"""

import argparse
import os
import platform
import statistics
import sys
import time

import numpy as np

SHAPES = [  # (T, B, D, H)
    (50, 1, 2, 16),
    (100, 32, 2, 64),
    (100, 32, 8, 128),
    (200, 64, 2, 128),
    (100, 128, 16, 256),
]
SMALL = SHAPES[:4]  # the shapes with the stricter 1.5 target


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=1,
                   help="threads for numpy's BLAS and for torch alike (default: 1)")
    p.add_argument("--repeats", type=int, default=7, help="timed rounds per case (>= 5)")
    p.add_argument("--warmup", type=int, default=2, help="untimed rounds first")
    p.add_argument("--dtypes", nargs="+", default=["float32", "float64"], choices=["float32", "float64"])
    p.add_argument("--settle", type=float, default=0.0,
                   help="seconds to pause between timed calls, so idle spinning threads sleep")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    if args.repeats < 5:
        p.error("--repeats must be at least 5: the table reports a median of at least 5 runs")
    if args.threads < 1 or args.warmup < 0 or args.settle < 0:
        p.error("--threads must be >= 1, --warmup >= 0 and --settle >= 0")
    return args


def make_case(shape, dtype, rng):
    """Our inputs and parameters, and torch modules and tensors holding the same numbers."""
    import torch

    from vanishgrad import rnn

    T, B, D, H = shape
    K = D
    p = rnn.init_params(D, H, K, rng=rng, dtype=dtype)
    p["b"] = (0.1 * rng.standard_normal(H)).astype(dtype)
    p["c"] = (0.1 * rng.standard_normal(K)).astype(dtype)
    x = rng.standard_normal((T, B, D)).astype(dtype)
    h0 = (0.1 * rng.standard_normal((B, H))).astype(dtype)
    do = rng.standard_normal((T, B, K)).astype(dtype)

    tdtype = {np.float32: torch.float32, np.float64: torch.float64}[np.dtype(dtype).type]
    net = torch.nn.RNN(D, H, num_layers=1, nonlinearity="tanh", bias=True).to(tdtype)
    head = torch.nn.Linear(H, K).to(tdtype)
    with torch.no_grad():
        net.weight_ih_l0.copy_(torch.from_numpy(p["U"]))
        net.weight_hh_l0.copy_(torch.from_numpy(p["W"]))
        net.bias_ih_l0.copy_(torch.from_numpy(p["b"]))
        net.bias_hh_l0.zero_()
        head.weight.copy_(torch.from_numpy(p["V"]))
        head.bias.copy_(torch.from_numpy(p["c"]))
    xt = torch.from_numpy(x.copy()).requires_grad_(True)
    h0t = torch.from_numpy(h0.copy()[None]).requires_grad_(True)
    dot = torch.from_numpy(do.copy())
    ours = dict(x=x, h0=h0, do=do, **p)
    theirs = dict(net=net, head=head, x=xt, h0=h0t, do=dot)
    return ours, theirs


def run_ours(case):
    from vanishgrad import rnn

    o, cache = rnn.forward(case["x"], case["h0"], case["U"], case["W"], case["b"], case["V"],
                           case["c"], activation="tanh", dtype=case["x"].dtype)
    return o, rnn.backward(case["do"], cache)


def run_torch(case):
    net, head = case["net"], case["head"]
    tensors = [*net.parameters(), *head.parameters(), case["x"], case["h0"]]
    for t in tensors:
        t.grad = None
    out, _ = net(case["x"], case["h0"])
    o = head(out)
    o.backward(case["do"])
    return o


def agree(ours, theirs, dtype):
    """Largest relative difference between our results and torch's, over o and every gradient."""
    o, g = run_ours(ours)
    ot = run_torch(theirs)
    net, head = theirs["net"], theirs["head"]
    pairs = [
        (o, ot.detach().numpy()),
        (g["U"], net.weight_ih_l0.grad.numpy()),
        (g["W"], net.weight_hh_l0.grad.numpy()),
        (g["b"], net.bias_ih_l0.grad.numpy()),
        (g["b"], net.bias_hh_l0.grad.numpy()),
        (g["V"], head.weight.grad.numpy()),
        (g["c"], head.bias.grad.numpy()),
        (g["x"], theirs["x"].grad.numpy()),
        (g["h0"], theirs["h0"].grad.numpy()[0]),
    ]
    return max(float(np.max(np.abs(a - b)) / max(1e-12, float(np.max(np.abs(b))))) for a, b in pairs)


def time_once(fn, case, settle):
    time.sleep(settle)
    start = time.perf_counter()
    fn(case)
    return time.perf_counter() - start


def blas_info():
    from threadpoolctl import threadpool_info

    for lib in threadpool_info():
        if lib.get("user_api") == "blas" and "numpy" in lib.get("filepath", ""):
            return f"{lib.get('internal_api')} {lib.get('version')} kernel={lib.get('architecture')}"
    return "unknown (threadpoolctl found no numpy BLAS)"


def main(argv=None):
    args = parse_args(argv)
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(args.seed)
    print(f"python {platform.python_version()}, numpy {np.__version__}, torch {torch.__version__}, "
          f"{os.cpu_count()} cores, {platform.processor() or platform.machine()}")
    print(f"numpy BLAS: {blas_info()}")
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        if var in os.environ:
            print(f"  {var}={os.environ[var]}")
    print(f"threads: {args.threads} (numpy BLAS via threadpoolctl, torch.set_num_threads); "
          f"torch reports {torch.get_num_threads()}")
    print(f"timing: forward + backward, median of {args.repeats} alternating rounds after {args.warmup} warm-up, "
          f"{args.settle} s pause before each timed call\n")

    rows, misses = [], []
    with threadpool_limits(limits=args.threads, user_api="blas"):
        for dtype_name in args.dtypes:
            dtype = np.dtype(dtype_name).type
            for shape in SHAPES:
                ours, theirs = make_case(shape, dtype, rng)
                diff = agree(ours, theirs, dtype)
                tol = 1e-3 if dtype is np.float32 else 1e-9
                if not diff < tol:
                    sys.exit(f"results disagree at {shape} {dtype_name}: relative difference {diff:.2e}")
                for _ in range(args.warmup):
                    run_ours(ours)
                    run_torch(theirs)
                t_ours, t_torch = [], []
                for r in range(args.repeats):
                    order = ((run_ours, ours, t_ours), (run_torch, theirs, t_torch))
                    for fn, case, bucket in (order if r % 2 == 0 else order[::-1]):
                        bucket.append(time_once(fn, case, args.settle))
                mo, mt = statistics.median(t_ours), statistics.median(t_torch)
                ratio = mt / mo
                target = 1.5 if shape in SMALL else 1.0
                met = ratio >= target
                if not met:
                    misses.append((shape, dtype_name, ratio, target))
                T, B, D, H = shape
                rows.append((dtype_name, shape, mo, mt, ratio, target, met, T * B / mo, diff))

    print("| dtype | (T, B, D, H) | ours (ms) | torch (ms) | torch / ours | target | met | our steps·seq/s | max rel. diff |")
    print("|---|---|---:|---:|---:|---:|:-:|---:|---:|")
    for dtype_name, shape, mo, mt, ratio, target, met, rate, diff in rows:
        print(f"| {dtype_name} | {shape} | {mo * 1e3:.3f} | {mt * 1e3:.3f} | {ratio:.2f} | "
              f"≥ {target:.1f} | {'yes' if met else 'NO'} | {rate:,.0f} | {diff:.1e} |")
    print()
    if misses:
        print(f"targets missed at {len(misses)} of {len(rows)} cases:")
        for shape, dtype_name, ratio, target in misses:
            print(f"  {shape} {dtype_name}: {ratio:.2f} < {target:.1f}")
    else:
        print(f"every target met ({len(rows)} cases)")


if __name__ == "__main__":
    main()
