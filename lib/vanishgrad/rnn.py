"""A vanilla recurrent network and backpropagation through time (BPTT).

The book's notation, time-major and batched::

    net_t = U x_t + W h_{t-1} + b        x: (T, B, D)   U: (H, D)   W: (H, H)   b: (H,)
    h_t   = f(net_t)                     h: (T, B, H)   h_0 (the state before x_1): (B, H)
    o_t   = V h_t + c                    o: (T, B, K)   V: (K, H)   c: (K,)

The output g(o_t) (identity, softmax, ...) belongs to the loss, which hands backward
``do = ∂L/∂o`` of shape (T, B, K); a loss on the last step alone has zeros elsewhere
(:mod:`vanishgrad.losses` builds both kinds).

Only the recurrence is a Python loop. The input projections U x_t + b for all t, the
outputs V h_t + c, and every weight gradient are single matrix products over all T·B
rows, which is also how the weight gradient reads on paper: a sum over time,
dW = Σ_t δ_t h_{t-1}ᵀ.

Cost: forward and backward each take O(T·B·H·(H + D + K)) time, O(T·B·H²) when H
dominates, and the cache holds O(T·B·H) numbers (net and h).

dtype: the library's convention (:mod:`vanishgrad.validation`). With the default
``dtype=None`` the inputs' own dtype is kept: float32 inputs give float32 outputs, cache
and gradients; any float64 input (or integer input) makes everything float64. An
explicit ``dtype=np.float32`` or ``np.float64`` converts every input to it. Backward works
in the dtype of the cache.

Accuracy: f' is read off the cached h (σ' = h(1 − h), tanh' = 1 − h²), as
:func:`vanishgrad.activations.sigmoid_grad_from_output` does. That is exact to a few ulps
where h is small (the sigmoid's negative tail, σ(−30) ≈ 9e-14, included) but loses
relative accuracy where h rounds towards ±1: σ'(+30) read off h has a relative error near
1e-3, and from net ≈ +37 on h is 1.0 and f' reads 0 (the true value is below 1e-16).
"""

import numpy as np

from . import activations
from .validation import (as_generator, as_real_array, as_real_arrays, check_cache, check_dtype,
                         check_finite, check_integer, check_shape)

PARAMS = ("U", "W", "b", "V", "c")

# What backward reads from the cache, which only forward builds.
_CACHE_KEYS = ("x", "h0", "U", "W", "V", "h", "activation")


def init_params(D, H, K, *, scale=1.0, rng=None, dtype=np.float64):
    """Random parameters {U, W, b, V, c} of the shapes above.

    D, H, K: input, hidden and output sizes (positive integers).
    W is Gaussian with entries of standard deviation scale/√H, so its spectral radius is
    close to ``scale`` for large H; U and V use 1/√D and 1/√H; b and c are zero.
    rng: a seed or a ``np.random.Generator``.
    dtype: float64 (the default; None means the same) or float32; anything else is a ValueError.
    Returns {"U": (H, D), "W": (H, H), "b": (H,), "V": (K, H), "c": (K,)} of ``dtype``.
    """
    for name, n in (("D", D), ("H", H), ("K", K)):
        check_integer(name, n, minimum=1)
    is_number = isinstance(scale, (int, float, np.integer, np.floating)) and not isinstance(scale, bool)
    if not (is_number and np.isfinite(scale)):
        raise ValueError(f"scale must be a finite number; got {scale!r}")
    dtype = check_dtype(dtype) or np.dtype(np.float64)
    rng = as_generator(rng)
    return {
        "U": (rng.standard_normal((H, D)) / np.sqrt(D)).astype(dtype),
        "W": (scale * rng.standard_normal((H, H)) / np.sqrt(H)).astype(dtype),
        "b": np.zeros(H, dtype=dtype),
        "V": (rng.standard_normal((K, H)) / np.sqrt(H)).astype(dtype),
        "c": np.zeros(K, dtype=dtype),
    }


def _checked(x, h0, U, W, b, V, c, dtype):
    """Arrays of one dtype, with shapes and finiteness checked; returns them and (T, B, D, H, K)."""
    names = ("x", "h0", "U", "W", "b", "V", "c")
    arrays = as_real_arrays(dict(zip(names, (x, h0, U, W, b, V, c))), dtype)
    x, h0, U, W, b, V, c = arrays
    if x.ndim != 3:
        raise ValueError(f"x must have shape (T, B, D) (time-major); got {x.shape}")
    T, B, D = x.shape
    if T < 1 or B < 1 or D < 1:
        raise ValueError(f"x needs at least one time step, sequence and input unit; got shape {x.shape}")
    if W.ndim != 2 or W.shape[0] < 1:
        raise ValueError(f"W must have shape (H, H) with H >= 1; got {W.shape}")
    H = W.shape[0]
    check_shape("W", W, (H, H), ("H", "H"))
    check_shape("U", U, (H, D), ("H", "D"))
    check_shape("b", b, (H,), ("H",))
    check_shape("h0", h0, (B, H), ("B", "H"))
    if V.ndim != 2 or V.shape[0] < 1:
        raise ValueError(f"V must have shape (K, H) with K >= 1; got {V.shape}")
    K = V.shape[0]
    check_shape("V", V, (K, H), ("K", "H"))
    check_shape("c", c, (K,), ("K",))
    for name, a in zip(names, arrays):
        check_finite(name, a)
    return (x, h0, U, W, b, V, c), (T, B, D, H, K)


# In-place versions of f and f' for the activations the library knows: f writes
# f(net) into ``out`` (``scratch`` is a spare array of the same shape it may overwrite);
# f' writes f'(net), read off the output h = f(net), into ``out``. They keep the dtype,
# allocate nothing, and give the same values as vanishgrad.activations, whose formulas
# they follow (the tests compare them entry by entry).
def _tanh_into(net, out, scratch):
    np.tanh(net, out=out)


def _sigmoid_into(net, out, scratch):
    # As activations.sigmoid: with z = e^{-|x|} ≤ 1 (no overflow), σ(x) = 1/(1+z) for
    # x ≥ 0 and z/(1+z) for x < 0, where nothing cancels (σ(−30) keeps every digit).
    # The numerator, 1 or z, is max(step(x), z) with step(x) = 1 for x ≥ 0, else 0.
    np.abs(net, out=scratch)
    np.negative(scratch, out=scratch)
    np.exp(scratch, out=scratch)  # z
    np.greater_equal(net, 0.0, out=out, casting="unsafe")  # step(x)
    np.maximum(out, scratch, out=out)  # 1 for x ≥ 0, z for x < 0
    scratch += 1.0
    out /= scratch


def _relu_into(net, out, scratch):
    np.maximum(net, 0.0, out=out)


def _identity_into(net, out, scratch):
    np.copyto(out, net)


def _tanh_grad_into(h, out):  # 1 − h²
    np.multiply(h, h, out=out)
    np.subtract(1.0, out, out=out)


def _sigmoid_grad_into(h, out):  # h (1 − h)
    np.subtract(1.0, h, out=out)
    out *= h


def _relu_grad_into(h, out):  # 1 where h > 0
    np.greater(h, 0.0, out=out, casting="unsafe")


def _identity_grad_into(h, out):
    out.fill(1.0)


_FAST = {
    "tanh": (_tanh_into, _tanh_grad_into),
    "sigmoid": (_sigmoid_into, _sigmoid_grad_into),
    "relu": (_relu_into, _relu_grad_into),
    "identity": (_identity_into, _identity_grad_into),
}


def _kernels(act):
    """(f_into, fprime_into) for an Activation: the fast in-place pair, or a general one."""
    if act.name in _FAST and act is activations.ACTIVATIONS.get(act.name):
        return _FAST[act.name]

    def f_into(net, out, scratch):
        out[...] = act.f(net)

    def fprime_into(h, out):
        out[...] = act.df_from_output(h)

    return f_into, fprime_into


def forward(x, h0, U, W, b, V, c, activation="tanh", dtype=None):
    """Run the RNN over whole sequences.

    x: (T, B, D), h0: (B, H), U: (H, D), W: (H, H), b: (H,), V: (K, H), c: (K,).
    activation: a name from :mod:`vanishgrad.activations` (or an Activation).
    dtype: None (the default) for the inputs' own dtype (float32 if every input is
           float32, float64 otherwise), or float32 / float64 to convert every input to it.
    Returns ``o`` (T, B, K) and a cache, a dict holding "x", "h0", "U", "W", "b", "V", "c"
    (as the dtype computed in), "net" and "h" (both (T, B, H)) and "activation" (an
    Activation), which :func:`backward` and the chapter on Jacobians read.
    Raises ValueError on a wrong shape (naming the expected and the given shape), a
    NaN or inf in any input, complex or non-numeric input, an unknown activation or an
    unsupported dtype.
    """
    act = activations.get(activation)
    (x, h0, U, W, b, V, c), (T, B, D, H, K) = _checked(x, h0, U, W, b, V, c, dtype)
    f_into, _ = _kernels(act)
    net = np.matmul(x.reshape(T * B, D), U.T).reshape(T, B, H)  # U x_t for all t at once
    net += b
    h = np.empty_like(net)
    recur = np.empty((B, H), dtype=net.dtype)
    WT = W.T
    h_prev = h0
    for net_t, h_t in zip(net, h):  # the recurrence: the only loop over time
        np.matmul(h_prev, WT, out=recur)
        net_t += recur
        f_into(net_t, h_t, recur)  # recur is free again: f may use it as scratch
        h_prev = h_t
    o = np.matmul(h.reshape(T * B, H), V.T).reshape(T, B, K)
    o += c
    cache = {"x": x, "h0": h0, "U": U, "W": W, "b": b, "V": V, "c": c,
             "net": net, "h": h, "activation": act}
    return o, cache


def _check_truncate(truncate):
    if truncate is None:
        return None
    if isinstance(truncate, bool) or not isinstance(truncate, (int, np.integer)) or truncate < 1:
        raise ValueError(
            f"truncate must be an integer k >= 1 (or None for full BPTT); got {truncate!r} "
            f"of type {type(truncate).__name__}"
        )
    return int(truncate)


def backward(do, cache, truncate=None, dh_last=None):
    """Backpropagation through time.

    do:       ∂L/∂o, (T, B, K).
    cache:    the cache :func:`forward` returned.
    truncate: None for full BPTT, or an integer k ≥ 1 for truncated BPTT(k): the sequence
              is cut, counting back from its end, into chunks of k steps; the forward pass
              crosses the cuts but the gradient stops at them, so the last step's loss
              reaches back exactly k steps. k ≥ T gives the full gradient.
    dh_last:  optional extra gradient ∂L/∂h_T, (B, H), flowing into the last state.

    The recursion, with δ_t = ∂L/∂net_t and f' read off h::

        ∂L/∂h_t = Vᵀ ∂L/∂o_t + Wᵀ δ_{t+1}        δ_t = f'(net_t) ⊙ ∂L/∂h_t

    and the weight gradients as sums over time, each one matrix product over T·B rows::

        dU = Σ_t δ_t x_tᵀ   dW = Σ_t δ_t h_{t-1}ᵀ   db = Σ_t δ_t   dV = Σ_t ∂L/∂o_t h_tᵀ   dc = Σ_t ∂L/∂o_t

    Returns a dict with the gradients "U", "W", "b", "V", "c", "h0", "x" (each shaped
    like its input, in the cache's dtype) and "dh_norms" (T,): ‖∂L/∂h_t‖ (Frobenius norm
    over the batch) for t = 1..T. Raises ValueError on a cache that is not forward's
    (naming what it lacks), a wrong shape, complex input, a NaN or inf in ``do`` or
    ``dh_last``, or a ``truncate`` that is not an integer ≥ 1.
    """
    check_cache(cache, _CACHE_KEYS, "rnn.forward")
    x, h0, U, W, V, h = (cache[k] for k in ("x", "h0", "U", "W", "V", "h"))
    T, B, D = x.shape
    H, K = W.shape[0], V.shape[0]
    dtype = h.dtype
    do = as_real_array("do", do, dtype)
    check_shape("do", do, (T, B, K), ("T", "B", "K"))
    check_finite("do", do)
    k = _check_truncate(truncate)
    if dh_last is not None:
        dh_last = as_real_array("dh_last", dh_last, dtype)
        check_shape("dh_last", dh_last, (B, H), ("B", "H"))
        check_finite("dh_last", dh_last)

    do_rows = do.reshape(T * B, K)
    _, fprime_into = _kernels(cache["activation"])
    dnet = np.empty_like(h)               # δ_t for all t, for the weight gradients below
    dh_t = np.empty((B, H), dtype=dtype)  # ∂L/∂h_t, one step at a time
    carry = np.zeros((B, H), dtype=dtype)  # Wᵀ δ_{t+1}: the gradient arriving from the future
    sq_norms = np.empty(T, dtype=dtype)
    for t in range(T - 1, -1, -1):
        dnet_t = dnet[t]
        np.matmul(do[t], V, out=dh_t)    # Vᵀ ∂L/∂o_t
        dh_t += carry                    # ∂L/∂h_t in full
        if t == T - 1 and dh_last is not None:
            dh_t += dh_last
        sq_norms[t] = np.vdot(dh_t, dh_t)
        fprime_into(h[t], dnet_t)        # f'(net_t), read off h_t
        dnet_t *= dh_t                   # δ_t = f'(net_t) ⊙ ∂L/∂h_t
        np.matmul(dnet_t, W, out=carry)  # Wᵀ δ_t, for step t − 1 (or for h_0)
        if k is not None and t > 0 and (T - t) % k == 0:
            carry.fill(0.0)              # a cut: no gradient crosses into step t − 1
    dh_norms = np.sqrt(sq_norms)

    dnet_rows = dnet.reshape(T * B, H)
    h_rows = h.reshape(T * B, H)
    dW = np.matmul(dnet_rows[B:].T, h_rows[:-B]) if T > 1 else np.zeros((H, H), dtype=dtype)
    dW += np.matmul(dnet[0].T, h0)  # the first step's δ_1 h_0ᵀ
    return {
        "U": np.matmul(dnet_rows.T, x.reshape(T * B, D)),
        "W": dW,
        "b": dnet_rows.sum(axis=0),
        "V": np.matmul(do_rows.T, h_rows),
        "c": do_rows.sum(axis=0),
        "h0": carry,
        "x": np.matmul(dnet_rows, U).reshape(T, B, D),
        "dh_norms": dh_norms,
    }
