"""A vanilla recurrent network and backpropagation through time (BPTT).

The book's notation, time-major and batched::

    net_t = U x_t + W h_{t-1} + b        x: (T, B, D)   U: (H, D)   W: (H, H)   b: (H,)
    h_t   = f(net_t)                     h: (T, B, H)   h_0 (the state before x_1): (B, H)
    o_t   = V h_t + c                    o: (T, B, K)   V: (K, H)   c: (K,)

The output g(o_t) (identity, softmax, ...) belongs to the loss, which hands backward
``do = ∂L/∂o`` of shape (T, B, K); a loss on the last step alone has zeros elsewhere.

Only the recurrence is a Python loop. The input projections U x_t + b for all t, the
outputs V h_t + c, and every weight gradient are single matrix products over all T·B
rows, which is also how the weight gradient reads on paper: a sum over time,
dW = Σ_t δ_t h_{t-1}ᵀ.
"""

import numpy as np

from . import activations
from .validation import check_finite, check_shape

PARAMS = ("U", "W", "b", "V", "c")


def init_params(D, H, K, *, scale=1.0, rng=None, dtype=np.float64):
    """Random parameters {U, W, b, V, c} of the shapes above.

    W is Gaussian with entries of standard deviation scale/√H, so its spectral radius is
    close to ``scale`` for large H; U and V use 1/√D and 1/√H; b and c are zero.
    """
    for name, n in (("D", D), ("H", H), ("K", K)):
        if not (isinstance(n, (int, np.integer)) and n >= 1):
            raise ValueError(f"{name} must be a positive integer; got {n!r}")
    rng = np.random.default_rng(rng)
    return {
        "U": (rng.standard_normal((H, D)) / np.sqrt(D)).astype(dtype),
        "W": (scale * rng.standard_normal((H, H)) / np.sqrt(H)).astype(dtype),
        "b": np.zeros(H, dtype=dtype),
        "V": (rng.standard_normal((K, H)) / np.sqrt(H)).astype(dtype),
        "c": np.zeros(K, dtype=dtype),
    }


def _checked(x, h0, U, W, b, V, c, dtype):
    """Arrays as ``dtype``, with shapes and finiteness checked; returns them and (T, B, D, H, K)."""
    x, h0, U, W, b, V, c = (np.asarray(a, dtype=dtype) for a in (x, h0, U, W, b, V, c))
    if x.ndim != 3:
        raise ValueError(f"x must have shape (T, B, D) (time-major); got {x.shape}")
    T, B, D = x.shape
    if T < 1 or B < 1:
        raise ValueError(f"x needs at least one time step and one sequence; got shape {x.shape}")
    if W.ndim != 2:
        raise ValueError(f"W must have shape (H, H); got {W.shape}")
    H = W.shape[0]
    check_shape("W", W, (H, H), ("H", "H"))
    check_shape("U", U, (H, D), ("H", "D"))
    check_shape("b", b, (H,), ("H",))
    check_shape("h0", h0, (B, H), ("B", "H"))
    if V.ndim != 2:
        raise ValueError(f"V must have shape (K, H); got {V.shape}")
    K = V.shape[0]
    check_shape("V", V, (K, H), ("K", "H"))
    check_shape("c", c, (K,), ("K",))
    for name, a in (("x", x), ("h0", h0), ("U", U), ("W", W), ("b", b), ("V", V), ("c", c)):
        check_finite(name, a)
    return (x, h0, U, W, b, V, c), (T, B, D, H, K)


def forward(x, h0, U, W, b, V, c, activation="tanh", dtype=np.float64):
    """Run the RNN over whole sequences.

    x: (T, B, D), h0: (B, H), U: (H, D), W: (H, H), b: (H,), V: (K, H), c: (K,).
    activation: a name from :mod:`vanishgrad.activations` (or an Activation).
    Returns ``o`` (T, B, K) and a cache holding x, h0, the parameters, net and h
    (both (T, B, H)), which :func:`backward` and the chapter on Jacobians read.
    """
    act = activations.get(activation)
    (x, h0, U, W, b, V, c), (T, B, D, H, K) = _checked(x, h0, U, W, b, V, c, dtype)
    net = (x.reshape(T * B, D) @ U.T + b).reshape(T, B, H)  # U x_t + b, all t at once
    h = np.empty_like(net)
    h_prev = h0
    WT = W.T
    for t in range(T):
        net[t] += h_prev @ WT
        h[t] = act.f(net[t])
        h_prev = h[t]
    o = (h.reshape(T * B, H) @ V.T + c).reshape(T, B, K)
    cache = {"x": x, "h0": h0, "U": U, "W": W, "b": b, "V": V, "c": c,
             "net": net, "h": h, "activation": act}
    return o, cache


def backward(do, cache, truncate=None, dh_last=None):
    """Backpropagation through time.

    do:       ∂L/∂o, (T, B, K).
    truncate: None for full BPTT, or k ≥ 1 for truncated BPTT(k): the sequence is cut,
              counting back from its end, into chunks of k steps; the forward pass crosses
              the cuts but the gradient stops at them, so the last step's loss reaches back
              exactly k steps. k ≥ T gives the full gradient.
    dh_last:  optional extra gradient ∂L/∂h_T, (B, H), flowing into the last state.

    The recursion, with δ_t = ∂L/∂net_t and f' read off h::

        ∂L/∂h_t = Vᵀ ∂L/∂o_t + Wᵀ δ_{t+1}        δ_t = f'(net_t) ⊙ ∂L/∂h_t

    Returns a dict with the gradients U, W, b, V, c, h0, x (each shaped like its input)
    and ``dh_norms`` (T,): ‖∂L/∂h_t‖ over the batch, for t = 1..T.
    """
    x, h0, U, W, V, h = (cache[k] for k in ("x", "h0", "U", "W", "V", "h"))
    T, B, D = x.shape
    H, K = W.shape[0], V.shape[0]
    dtype = h.dtype
    do = np.asarray(do, dtype=dtype)
    check_shape("do", do, (T, B, K), ("T", "B", "K"))
    check_finite("do", do)
    if truncate is not None:
        if not (isinstance(truncate, (int, np.integer)) and truncate >= 1):
            raise ValueError(f"truncate must be an integer k >= 1 (or None for full BPTT); got {truncate!r}")

    dh = (do.reshape(T * B, K) @ V).reshape(T, B, H)  # Vᵀ ∂L/∂o_t, all t at once
    if dh_last is not None:
        dh_last = np.asarray(dh_last, dtype=dtype)
        check_shape("dh_last", dh_last, (B, H), ("B", "H"))
        check_finite("dh_last", dh_last)
        dh[T - 1] += dh_last
    fprime = cache["activation"].df_from_output(h)
    dnet = np.empty_like(dh)
    carry = np.zeros((B, H), dtype=dtype)  # Wᵀ δ_{t+1}, the gradient arriving from the future
    for t in range(T - 1, -1, -1):
        dh[t] += carry  # now ∂L/∂h_t in full
        np.multiply(fprime[t], dh[t], out=dnet[t])
        carry = dnet[t] @ W
        if truncate is not None and t > 0 and (T - t) % truncate == 0:
            carry[...] = 0.0
    dh_norms = np.sqrt(np.einsum("tbh,tbh->t", dh, dh))

    h_prev = np.concatenate([h0[None], h[:-1]], axis=0).reshape(T * B, H)
    dnet_rows = dnet.reshape(T * B, H)
    return {
        "U": dnet_rows.T @ x.reshape(T * B, D),
        "W": dnet_rows.T @ h_prev,
        "b": dnet_rows.sum(axis=0),
        "V": do.reshape(T * B, K).T @ h.reshape(T * B, H),
        "c": do.reshape(T * B, K).sum(axis=0),
        "h0": carry,
        "x": (dnet_rows @ U).reshape(T, B, D),
        "dh_norms": dh_norms,
    }
