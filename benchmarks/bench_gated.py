"""Time vanishgrad's LSTM and GRU forward + backward against PyTorch's CPU torch.nn.LSTM and
torch.nn.GRU.

Both sides compute the same thing from the same numbers: the gated network over x
(T, B, D) from h_0 (and c_0 for the LSTM), an output layer V h_t + bias with K = D outputs,
and the backward pass for a given ∂L/∂(outputs), producing the gradients of every
parameter, the initial state(s) and x. Before any timing the two are checked to agree
(outputs and every gradient).

The method is benchmarks/bench_rnn.py's, at its five shapes: the same dtype and shapes,
one thread for numpy's BLAS (threadpoolctl) and for torch (torch.set_num_threads), both
timed in one process, alternating ours/torch within each round (the order flips every
round), each figure the median of ``--repeats`` rounds after ``--warmup`` untimed rounds.

``--clock cpu`` times with the process's CPU clock instead of the wall clock. With one
thread on each side, CPU time is the work each call does, and it is what to use on a
machine that other jobs share: a wall clock there also counts the time the process
waited for a core. On an idle machine the two agree.

    python benchmarks/bench_gated.py                       # LSTM and GRU, five shapes, float32 and float64
    python benchmarks/bench_gated.py --models gru --dtypes float64 --clock cpu

Needs benchmarks/requirements.txt (torch, threadpoolctl), ideally in its own venv.
Targets: torch-time / our-time at least 1.0 at every shape, at least 1.5 at the three
smallest. The script prints the table and whether each target is met; it exits 0 either
way (it measures, it does not judge). ``--profile`` adds, for every case that misses
its target, where our time goes: forward and backward against the kernels they are made
of, timed alone (see profile_ours).
"""

import argparse
import os
import platform
import statistics
import sys
import time

import numpy as np

from bench_rnn import SHAPES, blas_info

SMALL = SHAPES[:3]  # the shapes with the stricter 1.5 target
MODELS = ("lstm", "gru")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    p.add_argument("--dtypes", nargs="+", default=["float32", "float64"], choices=["float32", "float64"])
    p.add_argument("--shapes", nargs="+", type=int, default=list(range(len(SHAPES))),
                   help=f"indices into the shapes {SHAPES} (default: all)")
    p.add_argument("--threads", type=int, default=1,
                   help="threads for numpy's BLAS and for torch alike (default: 1)")
    p.add_argument("--repeats", type=int, default=7, help="timed rounds per case (>= 5)")
    p.add_argument("--warmup", type=int, default=2, help="untimed rounds first")
    p.add_argument("--clock", choices=["wall", "cpu"], default="wall",
                   help="wall: time.perf_counter; cpu: time.process_time (for a shared machine)")
    p.add_argument("--profile", action="store_true", help="profile our side of every missed case")
    p.add_argument("--torch-onednn", choices=["on", "off"], default="on",
                   help="off: torch without oneDNN (mkldnn), whose fused LSTM torch uses for float32 "
                        "by default; for context only, the targets are against torch as it comes")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    if args.repeats < 5:
        p.error("--repeats must be at least 5: the table reports a median of at least 5 runs")
    if args.threads < 1 or args.warmup < 0:
        p.error("--threads must be >= 1 and --warmup >= 0")
    if any(not 0 <= i < len(SHAPES) for i in args.shapes):
        p.error(f"--shapes takes indices 0 … {len(SHAPES) - 1}")
    return args


def make_case(model, shape, dtype, rng):
    """Our inputs and parameters, and torch modules and tensors holding the same numbers."""
    import torch

    from vanishgrad import gru, lstm

    T, B, D, H = shape
    K = D
    tdtype = {np.float32: torch.float32, np.float64: torch.float64}[np.dtype(dtype).type]
    x = rng.standard_normal((T, B, D)).astype(dtype)
    h0 = (0.1 * rng.standard_normal((B, H))).astype(dtype)
    do = rng.standard_normal((T, B, K)).astype(dtype)
    if model == "lstm":
        p = lstm.init_params(D, H, K, init="pytorch", rng=rng, dtype=dtype)
        c0 = (0.1 * rng.standard_normal((B, H))).astype(dtype)
        ours = dict(model=model, x=x, h0=h0, c0=c0, do=do, **p)
        net = torch.nn.LSTM(D, H).to(tdtype)
        bias_ih, bias_hh, head_bias = p["b"], np.zeros_like(p["b"]), p["b_V"]
    else:
        p = gru.init_params(D, H, K, init="pytorch", rng=rng, dtype=dtype)
        ours = dict(model=model, x=x, h0=h0, do=do, **p)
        net = torch.nn.GRU(D, H).to(tdtype)
        bias_ih, bias_hh = p["b"], np.concatenate([np.zeros(2 * H, dtype), p["b_hn"]])
        head_bias = p["c"]
    head = torch.nn.Linear(H, K).to(tdtype)
    with torch.no_grad():
        net.weight_ih_l0.copy_(torch.from_numpy(p["U"]))
        net.weight_hh_l0.copy_(torch.from_numpy(p["W"]))
        net.bias_ih_l0.copy_(torch.from_numpy(bias_ih))
        net.bias_hh_l0.copy_(torch.from_numpy(bias_hh))
        head.weight.copy_(torch.from_numpy(p["V"]))
        head.bias.copy_(torch.from_numpy(head_bias))
    theirs = dict(model=model, net=net, head=head, x=torch.from_numpy(x.copy()).requires_grad_(True),
                  h0=torch.from_numpy(h0.copy()[None]).requires_grad_(True),
                  do=torch.from_numpy(do.copy()))
    if model == "lstm":
        theirs["c0"] = torch.from_numpy(ours["c0"].copy()[None]).requires_grad_(True)
    return ours, theirs


def run_ours(case):
    from vanishgrad import gru, lstm

    if case["model"] == "lstm":
        o, cache = lstm.forward(case["x"], case["h0"], case["c0"], case["U"], case["W"], case["b"],
                                case["V"], case["b_V"])
        return o, lstm.backward(case["do"], cache)
    o, cache = gru.forward(case["x"], case["h0"], case["U"], case["W"], case["b"], case["b_hn"],
                           case["V"], case["c"])
    return o, gru.backward(case["do"], cache)


def run_torch(case):
    net, head = case["net"], case["head"]
    states = [case["h0"], case["c0"]] if case["model"] == "lstm" else [case["h0"]]
    for t in [*net.parameters(), *head.parameters(), case["x"], *states]:
        t.grad = None
    out, _ = net(case["x"], tuple(states) if case["model"] == "lstm" else states[0])
    o = head(out)
    o.backward(case["do"])
    return o


def agree(ours, theirs):
    """Largest relative difference between our results and torch's, over the output and every gradient."""
    o, g = run_ours(ours)
    ot = run_torch(theirs)
    net, head = theirs["net"], theirs["head"]
    H = ours["W"].shape[1]
    pairs = [
        (o, ot),
        (g["U"], net.weight_ih_l0.grad),
        (g["W"], net.weight_hh_l0.grad),
        (g["b"], net.bias_ih_l0.grad),
        (g["V"], head.weight.grad),
        (g["b_V" if ours["model"] == "lstm" else "c"], head.bias.grad),
        (g["x"], theirs["x"].grad),
        (g["h0"], theirs["h0"].grad[0]),
    ]
    if ours["model"] == "lstm":
        pairs += [(g["b"], net.bias_hh_l0.grad), (g["c0"], theirs["c0"].grad[0])]
    else:
        pairs += [(g["b"][:2 * H], net.bias_hh_l0.grad[:2 * H]), (g["b_hn"], net.bias_hh_l0.grad[2 * H:])]
    worst = 0.0
    for a, b in pairs:
        b = b.detach().numpy()
        worst = max(worst, float(np.max(np.abs(a - b)) / max(1e-12, float(np.max(np.abs(b))))))
    return worst


def _median_time(fn, clock, rounds=3):
    times = []
    for _ in range(rounds):
        start = clock()
        fn()
        times.append(clock() - start)
    return statistics.median(times)


def profile_ours(model, shape, dtype, ours, clock, torch_time):
    """Where our forward + backward time goes, against the same kernels run alone.

    The kernels: the T recurrent matrix products of each pass, the exp of the sigmoid
    gates and the tanh calls of the forward loop (σ and tanh in numpy, at the shapes the
    loop uses), and the weight-gradient products over all T·B rows; "the rest" is every
    other elementwise pass and the Python overhead. The same σ and tanh in torch show
    what the elementwise functions cost there.

    The kernels' sum is a floor: any numpy version of the network makes these calls (the
    recurrence is sequential, so its products are T calls in each pass), and if all else
    were free, torch_time over that sum is the ratio it would reach. A target clearly
    above that ratio (by more than the run-to-run noise) is out of reach for numpy on
    this machine, whatever the rest of the code does.
    """
    import torch

    from vanishgrad import gru, lstm

    T, B, D, H = shape
    G, S, n_tanh = (4, 3, 2) if model == "lstm" else (3, 2, 1)  # gate rows, sigmoid gates, tanh calls
    rng = np.random.default_rng(0)
    h = rng.standard_normal((B, H)).astype(dtype)
    W = rng.standard_normal((G * H, H)).astype(dtype)
    gates = rng.standard_normal((B, G * H)).astype(dtype)
    out = np.empty((B, G * H), dtype=dtype)
    sig = np.empty((B, S * H), dtype=dtype)
    tanh_in = rng.standard_normal((B, H)).astype(dtype)
    tanh_out = np.empty((B, H), dtype=dtype)
    carry = np.empty((B, H), dtype=dtype)
    rows = rng.standard_normal((T * B, G * H)).astype(dtype)
    h_rows = rng.standard_normal((T * B, H)).astype(dtype)
    x_rows = rng.standard_normal((T * B, D)).astype(dtype)
    U = rng.standard_normal((G * H, D)).astype(dtype)
    t_sig, t_tanh = torch.from_numpy(gates[:, :S * H].copy()), torch.from_numpy(tanh_in)
    t_sig_out, t_tanh_out = torch.empty_like(t_sig), torch.empty_like(t_tanh)

    mod = lstm if model == "lstm" else gru
    args = [ours[k] for k in (["x", "h0", "c0", "U", "W", "b", "V", "b_V"] if model == "lstm"
                              else ["x", "h0", "U", "W", "b", "b_hn", "V", "c"])]
    fwd = _median_time(lambda: mod.forward(*args), clock)
    _, cache = mod.forward(*args)
    bwd = _median_time(lambda: mod.backward(ours["do"], cache), clock)

    # one product a step, from a contiguous Wᵀ: the cheapest form, so the floor is not overstated
    WT = np.ascontiguousarray(W.T)

    def recurrent_forward():
        for _ in range(T):
            np.matmul(h, WT, out=out)

    def exp_gates():
        with np.errstate(over="ignore"):
            for _ in range(T):
                np.exp(gates[:, :S * H], out=sig)

    def tanh_calls():
        for _ in range(n_tanh * T):
            np.tanh(tanh_in, out=tanh_out)

    def recurrent_backward():
        for _ in range(T):
            np.matmul(gates, W, out=carry)

    def weight_gradients():
        np.matmul(rows.T, h_rows)
        np.matmul(rows.T, x_rows)
        np.matmul(rows, U)

    def torch_elementwise():
        for _ in range(T):
            torch.sigmoid(t_sig, out=t_sig_out)
        for _ in range(n_tanh * T):
            torch.tanh(t_tanh, out=t_tanh_out)

    k = {name: _median_time(fn, clock) for name, fn in (
        ("recurrent products", recurrent_forward), ("exp of the sigmoid gates", exp_gates),
        ("tanh", tanh_calls), ("recurrent products (backward)", recurrent_backward),
        ("weight-gradient products", weight_gradients), ("torch σ and tanh", torch_elementwise))}
    floor = sum(v for name, v in k.items() if not name.startswith("torch"))
    fwd_rest = fwd - k["recurrent products"] - k["exp of the sigmoid gates"] - k["tanh"]
    bwd_rest = bwd - k["recurrent products (backward)"] - k["weight-gradient products"]
    lines = [
        f"  forward  {fwd * 1e3:9.3f} ms: recurrent products {k['recurrent products'] * 1e3:.3f}, "
        f"exp of the sigmoid gates {k['exp of the sigmoid gates'] * 1e3:.3f}, tanh {k['tanh'] * 1e3:.3f}, "
        f"the rest {fwd_rest * 1e3:.3f}",
        f"  backward {bwd * 1e3:9.3f} ms: recurrent products {k['recurrent products (backward)'] * 1e3:.3f}, "
        f"weight-gradient products {k['weight-gradient products'] * 1e3:.3f}, the rest {bwd_rest * 1e3:.3f}",
        f"  the forward's σ and tanh in torch instead: {k['torch σ and tanh'] * 1e3:.3f} ms "
        f"(numpy: {(k['exp of the sigmoid gates'] + k['tanh']) * 1e3:.3f} ms for the exp and tanh alone)",
        f"  these five numpy kernels alone: {floor * 1e3:.3f} ms; torch / that = {torch_time / floor:.2f}, "
        f"about the most any numpy version that calls them could reach",
    ]
    return "\n".join(lines)


def main(argv=None):
    args = parse_args(argv)
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(args.threads)
    torch.backends.mkldnn.enabled = args.torch_onednn == "on"
    clock = time.perf_counter if args.clock == "wall" else time.process_time
    rng = np.random.default_rng(args.seed)
    print(f"python {platform.python_version()}, numpy {np.__version__}, torch {torch.__version__}, "
          f"{os.cpu_count()} cores, {platform.processor() or platform.machine()}")
    print(f"numpy BLAS: {blas_info()}")
    print(f"torch BLAS: {torch.__config__.show().split('BLAS_INFO=')[-1].split(',')[0]}; oneDNN (mkldnn) "
          f"{'on' if torch.backends.mkldnn.enabled else 'off'} (torch runs float32 LSTMs through oneDNN's "
          f"fused RNN when it is on)")
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        if var in os.environ:
            print(f"  {var}={os.environ[var]}")
    print(f"threads: {args.threads} (numpy BLAS via threadpoolctl, torch.set_num_threads); "
          f"torch reports {torch.get_num_threads()}")
    print(f"timing: forward + backward, {args.clock} clock, median of {args.repeats} alternating rounds "
          f"after {args.warmup} warm-up\n", flush=True)

    rows, misses, profiles = [], [], []
    with threadpool_limits(limits=args.threads, user_api="blas"):
        for model in args.models:
            for dtype_name in args.dtypes:
                dtype = np.dtype(dtype_name).type
                for shape in (SHAPES[i] for i in args.shapes):
                    ours, theirs = make_case(model, shape, dtype, rng)
                    diff = agree(ours, theirs)
                    tol = 1e-3 if dtype is np.float32 else 1e-9
                    if not diff < tol:
                        sys.exit(f"results disagree: {model} {shape} {dtype_name}: relative difference {diff:.2e}")
                    for _ in range(args.warmup):
                        run_ours(ours)
                        run_torch(theirs)
                    t_ours, t_torch = [], []
                    for r in range(args.repeats):
                        order = ((run_ours, ours, t_ours), (run_torch, theirs, t_torch))
                        for fn, case, bucket in (order if r % 2 == 0 else order[::-1]):
                            start = clock()
                            fn(case)
                            bucket.append(clock() - start)
                    mo, mt = statistics.median(t_ours), statistics.median(t_torch)
                    ratio = mt / mo
                    target = 1.5 if shape in SMALL else 1.0
                    met = ratio >= target
                    if not met:
                        misses.append((model, shape, dtype_name, ratio, target))
                        if args.profile:
                            profiles.append((model, shape, dtype_name, profile_ours(model, shape, dtype, ours, clock, mt)))
                    rows.append((model, dtype_name, shape, mo, mt, ratio, target, met, diff))
                    print(f"  {model} {dtype_name} {shape}: ours {mo * 1e3:.3f} ms, torch {mt * 1e3:.3f} ms, "
                          f"ratio {ratio:.2f}", file=sys.stderr, flush=True)

    print("| model | dtype | (T, B, D, H) | ours (ms) | torch (ms) | torch / ours | target | met | max rel. diff |")
    print("|---|---|---|---:|---:|---:|---:|:-:|---:|")
    for model, dtype_name, shape, mo, mt, ratio, target, met, diff in rows:
        print(f"| {model} | {dtype_name} | {shape} | {mo * 1e3:.3f} | {mt * 1e3:.3f} | {ratio:.2f} | "
              f"≥ {target:.1f} | {'yes' if met else 'NO'} | {diff:.1e} |")
    print()
    if misses:
        print(f"targets missed at {len(misses)} of {len(rows)} cases:")
        for model, shape, dtype_name, ratio, target in misses:
            print(f"  {model} {shape} {dtype_name}: {ratio:.2f} < {target:.1f}")
    else:
        print(f"every target met ({len(rows)} cases)")
    for model, shape, dtype_name, text in profiles:
        print(f"\nwhere our time goes: {model} {shape} {dtype_name}\n{text}")


if __name__ == "__main__":
    main()
