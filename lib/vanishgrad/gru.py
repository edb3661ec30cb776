"""The gated recurrent unit (GRU) and backpropagation through time.

PyTorch's convention (``torch.nn.GRU``), so that the two can be compared number for
number. Time-major and batched; the three gates are stacked in the order r, z, n::

    a_t = U x_t + b                   the input side     x: (T, B, D)  U: (3H, D)  b: (3H,)
    m_t = W h_{t-1}                   the recurrent side               W: (3H, H)
    r_t = σ(a_t[0:H] + m_t[0:H])       the reset gate
    z_t = σ(a_t[H:2H] + m_t[H:2H])     the update gate
    n_t = tanh(a_t[2H:3H] + r_t ⊙ (m_t[2H:3H] + b_hn))   the candidate      b_hn: (H,)
    h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{t-1}                h: (T, B, H)   h_0: (B, H)
    o_t = V h_t + c                                      o: (T, B, K)   V: (K, H)   c: (K,)

Rows 0:H of U, W and b belong to r, H:2H to z, 2H:3H to n (PyTorch's ``weight_ih_l0``,
``weight_hh_l0``). h_t is a convex combination of h_{t-1} and n_t, entry by entry, so it
stays between them, and inside [−1, 1] when h_0 does.

Which way round z goes. Here, as in PyTorch and in Cho et al. (2014), z_t = 1 keeps the
old state: h_t = (1 − z_t) n_t + z_t h_{t-1}. Some texts (Chung et al. 2014, for one)
write h_t = (1 − z_t) h_{t-1} + z_t n_t, where z_t = 1 takes the candidate; the two are
the same network with z replaced by 1 − z.

Where the reset acts (``reset=``):

- ``"after"`` (the default; PyTorch, cuDNN, Keras's ``reset_after=True``): r_t multiplies
  the recurrent product W_n h_{t-1} + b_hn, as above. The bias b_hn sits inside the reset,
  so it cannot be merged into b[2H:3H]: the candidate has two biases.
- ``"before"`` (Cho et al. 2014, Keras's ``reset_after=False``): r_t multiplies h_{t-1}
  before the product, n_t = tanh(a_t[2H:3H] + W_n (r_t ⊙ h_{t-1}) + b_hn). Here b_hn only
  adds to b[2H:3H]; set it to zero for the paper's single bias.

The two give different numbers from the same weights; the chapter on gates measures how
different.

Biases. PyTorch keeps two bias vectors, ``bias_ih`` and ``bias_hh`` (3H each). For r and
z only their sum matters, so this module keeps one bias per gate, b (3H,), as the book's
net_t = U x_t + W h_{t-1} + b does, plus the one bias that is not redundant, b_hn (H,):
b[0:2H] = bias_ih[0:2H] + bias_hh[0:2H], b[2H:3H] = bias_ih[2H:3H], b_hn = bias_hh[2H:3H].

The output o_t = V h_t + c feeds the loss, which hands :func:`backward` ``do = ∂L/∂o``
(T, B, K), as in :mod:`vanishgrad.rnn`.

Only the recurrence is a Python loop: the input projections for all t are one matrix
product per gate, the outputs one product, and every weight gradient one product per
gate over all T·B rows; a long problem's backward pass takes its steps in chunks that
fit in cache, one product per chunk. The loops work in place in preallocated arrays,
which hold each gate's numbers as one block (gate-major), so that every elementwise
operation runs over whole (B, H) blocks.

Cost: O(T·B·H·(3H + 3D + K)) time for each pass; the cache holds O(T·B·H) numbers.

dtype: the library's convention (:mod:`vanishgrad.validation`): with ``dtype=None``
float32 inputs give float32 outputs, cache and gradients, and any other real input makes
everything float64; an explicit float32 or float64 converts every input.

Accuracy: the gate derivatives are read off the cached gates (σ' = σ(1 − σ),
tanh' = 1 − tanh²), as PyTorch does: exact where a gate is near 0, less accurate in
relative terms as a gate rounds towards 1.
"""

import numpy as np

from .validation import (as_generator, as_real_array, as_real_arrays, check_cache, check_choice,
                         check_dtype, check_finite, check_integer, check_shape)

PARAMS = ("U", "W", "b", "b_hn", "V", "c")

#: The initialisations :func:`init_params` knows.
INITS = ("normal", "pytorch")

#: Where the reset gate acts: see the module's docstring.
RESETS = ("after", "before")

# The backward pass's work array holds at most this many bytes (see backward): about a
# core's L2 cache, so that a chunk's factors stay in cache from the moment they are
# computed, through the loop, to the weight-gradient products (measured fastest, against
# 256 KiB to 64 MiB, on the benchmark's shapes).
_CHUNK_BYTES = 2**20

# What backward reads from the cache, which only forward builds.
_CACHE_KEYS = ("x", "h0", "U", "W", "V", "r", "z", "n", "h", "reset")


def init_params(D, H, K, *, init="normal", scale=1.0, rng=None, dtype=np.float64):
    """Random parameters {U, W, b, b_hn, V, c} of the shapes above.

    D, H, K: input, hidden and output sizes (positive integers).
    init:  ``"normal"``: U Gaussian with standard deviation 1/√D, W with scale/√H (each
           gate's block then has a spectral radius near ``scale``), V with 1/√H, every
           bias zero;
           ``"pytorch"``: PyTorch's default, every entry of U, W, b_hn, V and c uniform
           on [−1/√H, 1/√H] (``scale`` multiplies W); b[0:2H] is the sum of two such
           draws, as PyTorch's bias_ih + bias_hh is, and b[2H:3H] one draw.
    rng:   a seed or a ``np.random.Generator``.
    dtype: float64 (default) or float32.
    Returns {"U": (3H, D), "W": (3H, H), "b": (3H,), "b_hn": (H,), "V": (K, H), "c": (K,)}.
    """
    for name, n in (("D", D), ("H", H), ("K", K)):
        check_integer(name, n, minimum=1)
    check_choice("init", init, INITS)
    is_number = isinstance(scale, (int, float, np.integer, np.floating)) and not isinstance(scale, bool)
    if not (is_number and np.isfinite(scale)):
        raise ValueError(f"scale must be a finite number; got {scale!r}")
    dtype = check_dtype(dtype) or np.dtype(np.float64)
    rng = as_generator(rng)
    if init == "normal":
        p = {
            "U": rng.standard_normal((3 * H, D)) / np.sqrt(D),
            "W": scale * rng.standard_normal((3 * H, H)) / np.sqrt(H),
            "b": np.zeros(3 * H),
            "b_hn": np.zeros(H),
            "V": rng.standard_normal((K, H)) / np.sqrt(H),
            "c": np.zeros(K),
        }
    else:
        k = 1.0 / np.sqrt(H)
        b = rng.uniform(-k, k, 3 * H)
        b[:2 * H] += rng.uniform(-k, k, 2 * H)
        p = {
            "U": rng.uniform(-k, k, (3 * H, D)),
            "W": scale * rng.uniform(-k, k, (3 * H, H)),
            "b": b,
            "b_hn": rng.uniform(-k, k, H),
            "V": rng.uniform(-k, k, (K, H)),
            "c": rng.uniform(-k, k, K),
        }
    return {name: a.astype(dtype) for name, a in p.items()}


def _checked(x, h0, U, W, b, b_hn, V, c, dtype):
    """Arrays of one dtype, with shapes and finiteness checked; returns them and (T, B, D, H, K)."""
    names = ("x", "h0", "U", "W", "b", "b_hn", "V", "c")
    arrays = as_real_arrays(dict(zip(names, (x, h0, U, W, b, b_hn, V, c))), dtype)
    x, h0, U, W, b, b_hn, V, c = arrays
    if x.ndim != 3:
        raise ValueError(f"x must have shape (T, B, D) (time-major); got {x.shape}")
    T, B, D = x.shape
    if T < 1 or B < 1 or D < 1:
        raise ValueError(f"x needs at least one time step, sequence and input unit; got shape {x.shape}")
    if W.ndim != 2 or W.shape[1] < 1:
        raise ValueError(f"W must have shape (3H, H) with H >= 1 (the gates r, z, n stacked); got {W.shape}")
    H = W.shape[1]
    check_shape("W", W, (3 * H, H), ("3H", "H"))
    check_shape("U", U, (3 * H, D), ("3H", "D"))
    check_shape("b", b, (3 * H,), ("3H",))
    check_shape("b_hn", b_hn, (H,), ("H",))
    check_shape("h0", h0, (B, H), ("B", "H"))
    if V.ndim != 2 or V.shape[0] < 1:
        raise ValueError(f"V must have shape (K, H) with K >= 1; got {V.shape}")
    K = V.shape[0]
    check_shape("V", V, (K, H), ("K", "H"))
    check_shape("c", c, (K,), ("K",))
    _check_all_finite(names, arrays)
    return (x, h0, U, W, b, b_hn, V, c), (T, B, D, H, K)


def _check_all_finite(names, arrays):
    """check_finite on every array, with one shared fast path: the sum of all their sums
    is finite only if every entry is (a NaN or inf, or an overflow, makes it NaN or inf),
    and then no array needs a pass of its own."""
    with np.errstate(over="ignore", invalid="ignore"):
        total = sum(float(np.add.reduce(a, axis=None)) for a in arrays)
    if not np.isfinite(total):
        for name, a in zip(names, arrays):
            check_finite(name, a)


def _sigmoid_into(a, out):
    """σ(a) = 1 / (1 + e^{−a}), written into ``out`` (which may be ``a``).

    Accurate to a few ulps wherever σ(a) is a normal number, the same values as
    :func:`vanishgrad.activations.sigmoid`; nothing cancels (unlike (1 + tanh(a/2))/2).
    Below a ≈ −709 (float64) or −88 (float32) e^{−a} overflows to inf and the result is
    0, where σ(a) is below the smallest normal number; above a ≈ 709 it underflows to 0
    and the result is 1. Run it under ``np.errstate(over="ignore", under="ignore")``.
    """
    np.negative(a, out=out)
    _sigmoid_of_negated_into(out, out)


def _sigmoid_of_negated_into(minus_a, out):
    """σ(a) = 1 / (1 + e^{−a}) from −a, written into ``out``; ``minus_a`` is overwritten
    (with 1 + e^{−a}) and may be ``out`` itself."""
    np.exp(minus_a, out=minus_a)
    minus_a += 1.0
    np.reciprocal(minus_a, out=out)


def forward(x, h0, U, W, b, b_hn, V, c, reset="after", dtype=None):
    """Run the GRU over whole sequences.

    x: (T, B, D), h0: (B, H), U: (3H, D), W: (3H, H), b: (3H,), b_hn: (H,), V: (K, H),
    c: (K,).
    reset: ``"after"`` (PyTorch's form, the default) or ``"before"`` (Cho et al. 2014):
           where the reset gate acts, see the module's docstring.
    dtype: None (the default) for the inputs' own dtype (float32 if every input is
           float32, float64 otherwise), or float32 / float64 to convert every input to it.
    Returns ``o`` (T, B, K) and a cache, a dict holding the inputs (as the dtype computed
    in) under their names, "reset", and, each (T, B, H) with one entry per step t = 1..T:
    "r", "z", "n" (the gates, after σ and tanh), "h" (h_1 … h_T), and, for reset="after",
    "hn": W_n h_{t-1} + b_hn, or, for reset="before", "rh": r_t ⊙ h_{t-1}.
    Raises ValueError on a wrong shape (naming the expected and the given shape), a NaN
    or inf in any input, complex or non-numeric input, an unknown ``reset`` or an
    unsupported dtype.
    """
    check_choice("reset", reset, RESETS)
    (x, h0, U, W, b, b_hn, V, c), (T, B, D, H, K) = _checked(x, h0, U, W, b, b_hn, V, c, dtype)
    # The gates are kept gate-major, gates[k] (T, B, H) holding one gate for every step,
    # so that each elementwise operation in the loops runs over whole (B, H) blocks rather
    # than rows of H numbers. The weights of r and z are negated inside the loops: the
    # matrix products then give −a for them, so that σ(a) = 1 / (1 + e^{−a}) takes one
    # exp, one add and one reciprocal.
    sign = np.array([-1, -1, 1], dtype=x.dtype)[:, None, None]
    U3 = U.reshape(3, H, D) * sign                     # (3, H, D): one U_k per gate
    W3 = W.reshape(3, H, H) * sign                     # (3, H, H): one W_k per gate
    gates = np.matmul(x.reshape(T * B, D), U3.transpose(0, 2, 1))  # U_k x_t for all k and t at once
    gates += b.reshape(3, 1, H) * sign
    gates = gates.reshape(3, T, B, H)
    h = np.empty((T, B, H), dtype=x.dtype)
    cache = {"x": x, "h0": h0, "U": U, "W": W, "b": b, "b_hn": b_hn, "V": V, "c": c,
             "reset": reset, "r": gates[0], "z": gates[1], "n": gates[2], "h": h}
    if reset == "after":
        cache["hn"] = _forward_reset_after(gates, h0, W3, b_hn, h)
    else:
        cache["rh"] = _forward_reset_before(gates, h0, W3, b_hn, h)
    o = np.matmul(h.reshape(T * B, H), V.T).reshape(T, B, K)
    o += c
    return o, cache


def _forward_reset_after(gates, h0, W3, b_hn, h):
    """The recurrence of PyTorch's form, in place: gates (3, T, B, H) turns from the input
    side (−a_t for r and z, a_t for n) into r, z, n, and h[t] is filled; W3 (3, H, H) has
    the weights of r and z negated. Returns hn (T, B, H), the W_n h_{t-1} + b_hn backward
    needs."""
    T, B, H = h.shape
    hn = np.empty_like(h)
    m = np.empty((3, B, H), dtype=h.dtype)            # W_k h_{t-1} for each gate
    rhn = np.empty((B, H), dtype=h.dtype)
    WT3 = W3.transpose(0, 2, 1).copy()
    h_prev = h0
    r, z, n = gates
    steps = zip(gates[:2].transpose(1, 0, 2, 3), r, z, n, hn, h)
    with np.errstate(over="ignore", under="ignore"):  # e^{-a} may overflow or underflow in σ
        for rz_t, r_t, z_t, n_t, hn_t, h_t in steps:  # the only loop over time
            np.matmul(h_prev, WT3, out=m)           # m_t = W h_{t-1} (negated for r, z)
            m[:2] += rz_t
            _sigmoid_of_negated_into(m[:2], rz_t)   # r_t, z_t
            np.add(m[2], b_hn, out=hn_t)
            np.multiply(r_t, hn_t, out=rhn)
            n_t += rhn
            np.tanh(n_t, out=n_t)                   # n_t
            np.subtract(h_prev, n_t, out=h_t)
            h_t *= z_t
            h_t += n_t                              # h_t = n_t + z_t (h_{t-1} − n_t)
            h_prev = h_t
    return hn


def _forward_reset_before(gates, h0, W3, b_hn, h):
    """The recurrence of Cho et al.'s form, in place, as :func:`_forward_reset_after`.
    Returns rh (T, B, H), the r_t ⊙ h_{t-1} backward needs."""
    T, B, H = h.shape
    r, z, n = gates
    n += b_hn                                       # b_hn only adds to b_n here
    rh = np.empty_like(h)
    m_rz = np.empty((2, B, H), dtype=h.dtype)
    m_n = np.empty((B, H), dtype=h.dtype)
    W_rzT, W_nT = W3[:2].transpose(0, 2, 1).copy(), W3[2].T.copy()
    h_prev = h0
    steps = zip(gates[:2].transpose(1, 0, 2, 3), r, z, n, rh, h)
    with np.errstate(over="ignore", under="ignore"):  # e^{-a} may overflow or underflow in σ
        for rz_t, r_t, z_t, n_t, rh_t, h_t in steps:  # the only loop over time
            np.matmul(h_prev, W_rzT, out=m_rz)      # negated, as in _forward_reset_after
            m_rz += rz_t
            _sigmoid_of_negated_into(m_rz, rz_t)    # r_t, z_t
            np.multiply(r_t, h_prev, out=rh_t)
            np.matmul(rh_t, W_nT, out=m_n)          # W_n (r_t ⊙ h_{t-1})
            n_t += m_n
            np.tanh(n_t, out=n_t)                   # n_t
            np.subtract(h_prev, n_t, out=h_t)
            h_t *= z_t
            h_t += n_t                              # h_t = n_t + z_t (h_{t-1} − n_t)
            h_prev = h_t
    return rh


def _checked_upstream(name, value, shape, dims, dtype):
    value = as_real_array(name, value, dtype)
    check_shape(name, value, shape, dims)
    check_finite(name, value)
    return value


def backward(do, cache, dh_last=None):
    """Backpropagation through time, for either form of the reset.

    do:      ∂L/∂o, (T, B, K).
    cache:   the cache :func:`forward` returned.
    dh_last: optional extra gradient ∂L/∂h_T, (B, H), flowing into the last state.

    With ∂L/∂h_t in full (everything after step t included), PyTorch's form gives::

        ∂L/∂h_t = Vᵀ ∂L/∂o_t + [δ^r, δ^z, δ^hn]_{t+1} W + z_{t+1} ⊙ ∂L/∂h_{t+1}
        δ^n_t  = ∂L/∂h_t ⊙ (1 − z_t) ⊙ (1 − n_t²)       (∂L/∂ of n's argument)
        δ^z_t  = ∂L/∂h_t ⊙ (h_{t-1} − n_t) ⊙ z_t (1 − z_t)
        δ^hn_t = δ^n_t ⊙ r_t                              (∂L/∂(W_n h_{t-1} + b_hn))
        δ^r_t  = δ^n_t ⊙ (W_n h_{t-1} + b_hn) ⊙ r_t (1 − r_t)

    and the weight gradients as sums over time, each one matrix product over T·B rows::

        dU = Σ_t [δ^r, δ^z, δ^n]_t x_tᵀ    dW = Σ_t [δ^r, δ^z, δ^hn]_t h_{t-1}ᵀ
        db = Σ_t [δ^r, δ^z, δ^n]_t         db_hn = Σ_t δ^hn_t

    The term z_{t+1} ⊙ ∂L/∂h_{t+1} is the GRU's direct path, ∂h_{t+1}/∂h_t ⊇ diag(z_{t+1}).
    For reset="before", the product moves: δ^rh_t = W_nᵀ δ^n_t, δ^r_t = δ^rh_t ⊙ h_{t-1} ⊙
    r_t (1 − r_t), r_t ⊙ δ^rh_t joins ∂L/∂h_{t-1}, dW_n = Σ_t δ^n_t (r_t ⊙ h_{t-1})ᵀ, and
    db_hn = Σ_t δ^n_t.

    Returns a dict with the gradients "U", "W", "b", "b_hn", "V", "c", "h0", "x" (each
    shaped like its input, in the cache's dtype) and "dh_norms" (T,): ‖∂L/∂h_t‖
    (Frobenius norm over the batch) for t = 1..T.
    Raises ValueError on a cache that is not forward's (naming what it lacks), a wrong
    shape, complex input, or a NaN or inf in ``do`` or ``dh_last``.
    """
    check_cache(cache, _CACHE_KEYS, "gru.forward")
    after = cache["reset"] == "after"
    check_cache(cache, ("hn",) if after else ("rh",), "gru.forward")
    x, h0, U, W, V, h = (cache[k] for k in ("x", "h0", "U", "W", "V", "h"))
    T, B, D = x.shape
    H, K = W.shape[1], V.shape[0]
    dtype = h.dtype
    do = _checked_upstream("do", do, (T, B, K), ("T", "B", "K"), dtype)
    if dh_last is not None:
        dh_last = _checked_upstream("dh_last", dh_last, (B, H), ("B", "H"), dtype)

    dh = np.matmul(do.reshape(T * B, K), V).reshape(T, B, H)  # Vᵀ ∂L/∂o_t for all t
    if dh_last is not None:
        dh[-1] += dh_last
    # C-ordered whatever the inputs' layout, so that the per-gate views below are views
    grads = {"U": np.zeros((3 * H, D), dtype=dtype), "W": np.zeros((3 * H, H), dtype=dtype),
             "b": np.zeros(3 * H, dtype=dtype), "b_hn": np.zeros(H, dtype=dtype),
             "x": np.empty((T, B, D), dtype=dtype)}
    W3 = W.reshape(3, H, H)                            # one W_k per gate, r, z, n
    carry = np.zeros((B, H), dtype=dtype)  # the gradient reaching h_t from step t + 1

    # Every δ of step t is ∂L/∂h_t times a factor the forward pass already knows (for
    # reset="before", δ^r times δ^rh_t). The factors, one block each, in the order the
    # loop wants them (_factors_after, _factors_before):
    #
    #   reset="after":   [δ^r, δ^z, δ^hn | δ^n, z_t] / ∂L/∂h_t      (5 blocks)
    #   reset="before":  [δ^r / δ^rh_t, (δ^z, δ^n, z_t) / ∂L/∂h_t]   (4 blocks)
    #
    # so that after the multiplication the first blocks are the δ whose product with W
    # goes to h_{t-1}, and the last is the direct path z_t ⊙ ∂L/∂h_t.
    #
    # Time is worked through backwards in chunks of steps whose factors fit in a small
    # work array (_CHUNK_BYTES; one chunk, all of T, for small problems): the weight
    # gradients are sums over time, so each chunk adds its part with one matrix product
    # per gate over its rows.
    blocks = 5 if after else 4
    n = max(1, min(T, _CHUNK_BYTES // (B * blocks * H * dtype.itemsize)))
    work = np.empty((blocks, n, B, H), dtype=dtype)
    from_gates = np.empty((3 if after else 2, B, H), dtype=dtype)  # W_kᵀ δ^k_t for each gate k
    drh = np.empty((B, H), dtype=dtype)
    for end in range(T, 0, -n):
        start = max(0, end - n)
        d = work[:, :end - start]                      # block k of step start + 1 + s is d[k, s], (B, H)
        h_prev = _previous(h0, h, start, end)
        per_step = d.transpose(1, 0, 2, 3)[::-1]       # the steps' blocks, t = end, …, start + 1
        if after:
            _factors_after(d, cache, h_prev, start, end)
            # per step: ∂L/∂h_t, the blocks, δ^rec = [δ^r, δ^z, δ^hn], the direct path
            steps = zip(dh[start:end][::-1], per_step, per_step[:, :3], per_step[:, 4])
            for dh_t, d_t, rec_t, direct_t in steps:  # t = end, …, start + 1
                dh_t += carry                              # ∂L/∂h_t in full
                d_t *= dh_t
                np.matmul(rec_t, W3, out=from_gates)
                np.add.reduce(from_gates, axis=0, out=carry)
                carry += direct_t
            delta_rz, delta_n, delta_rec = d[:2], d[3], d[:3]
            grads["b_hn"] += d[2].sum(axis=(0, 1))
        else:
            _factors_before(d, cache, h_prev, start, end)
            W_rz, W_n = W3[:2], W3[2]
            steps = zip(dh[start:end][::-1], per_step, cache["r"][start:end][::-1])
            for dh_t, d_t, r_t in steps:                # t = end, …, start + 1
                dh_t += carry
                d_t[1:] *= dh_t                            # δ^z, δ^n, z_t ⊙ ∂L/∂h_t
                np.matmul(d_t[2], W_n, out=drh)            # δ^rh = W_nᵀ δ^n
                d_t[0] *= drh                              # δ^r
                np.matmul(d_t[:2], W_rz, out=from_gates)
                np.add.reduce(from_gates, axis=0, out=carry)
                carry += d_t[3]
                drh *= r_t
                carry += drh                               # r_t ⊙ δ^rh into h_{t-1}
            delta_rz, delta_n, delta_rec = d[:2], d[2], d[:2]
            d_n = d[2].reshape(-1, H)
            grads["W"][2 * H:] += np.matmul(d_n.T, cache["rh"][start:end].reshape(-1, H))
            grads["b_hn"] += d_n.sum(axis=0)
        _add_weight_grads(grads, delta_rz, delta_n, delta_rec, x[start:end], h_prev, U,
                          grads["x"][start:end])

    do_rows = do.reshape(T * B, K)
    grads["V"] = np.matmul(do_rows.T, h.reshape(T * B, H))
    grads["c"] = do_rows.sum(axis=0)
    grads["h0"] = carry
    grads["dh_norms"] = np.sqrt(np.einsum("tbh,tbh->t", dh, dh))
    return grads


def _previous(first, states, start, end):
    """The states s_{t-1} for the steps start+1 … end: (end − start, B, H), a view of
    ``states`` (which holds s_1 … s_T), with ``first`` (s_0) in front when start is 0."""
    if start > 0:
        return states[start - 1:end - 1]
    return np.concatenate([first[None], states[:end - 1]])


def _factors_after(d, cache, h_prev, start, end):
    """Fill d (5, end − start, B, H) with the factors of PyTorch's form (see backward)."""
    r, z, n = (cache[k][start:end] for k in ("r", "z", "n"))
    np.multiply(n, n, out=d[3])
    np.subtract(1.0, d[3], out=d[3])
    np.subtract(1.0, z, out=d[4])                    # scratch
    d[3] *= d[4]                                     # δ^n: (1 − z)(1 − n²)
    np.multiply(d[3], r, out=d[2])                   # δ^hn: δ^n r
    np.multiply(d[2], cache["hn"][start:end], out=d[0])
    np.subtract(1.0, r, out=d[4])
    d[0] *= d[4]                                     # δ^r: δ^n hn r (1 − r)
    np.subtract(h_prev, n, out=d[1])
    np.subtract(1.0, z, out=d[4])
    d[4] *= z
    d[1] *= d[4]                                     # δ^z: (h_{t-1} − n) z (1 − z)
    np.copyto(d[4], z)                               # the direct path


def _factors_before(d, cache, h_prev, start, end):
    """Fill d (4, end − start, B, H) with the factors of Cho et al.'s form (see backward)."""
    r, z, n = (cache[k][start:end] for k in ("r", "z", "n"))
    np.subtract(1.0, r, out=d[0])
    d[0] *= r
    d[0] *= h_prev                                   # δ^r / δ^rh: h_{t-1} r (1 − r)
    np.subtract(h_prev, n, out=d[1])
    np.subtract(1.0, z, out=d[3])                    # scratch
    d[3] *= z
    d[1] *= d[3]                                     # δ^z: (h_{t-1} − n) z (1 − z)
    np.multiply(n, n, out=d[2])
    np.subtract(1.0, d[2], out=d[2])
    np.subtract(1.0, z, out=d[3])
    d[2] *= d[3]                                     # δ^n: (1 − z)(1 − n²)
    np.copyto(d[3], z)                               # the direct path


def _add_weight_grads(grads, delta_rz, delta_n, delta_rec, x, h_prev, U, dx):
    """Add one chunk's part of dU, db and dW, and write its dx, each one matrix product
    per gate over the chunk's rows. delta_rz (2, m, B, H): δ^r and δ^z; delta_n (m, B, H):
    the input side's δ^n; delta_rec (k, m, B, H): the recurrent side's δ, paired with
    h_{t-1} (for reset="before", only [δ^r, δ^z])."""
    H, D = h_prev.shape[2], x.shape[2]
    x_rows, h_rows, dx_rows = x.reshape(-1, D), h_prev.reshape(-1, H), dx.reshape(-1, D)
    rz, n = delta_rz.reshape(2, -1, H), delta_n.reshape(-1, H)
    rec = delta_rec.reshape(len(delta_rec), -1, H)
    dU3, dW3, db3 = grads["U"].reshape(3, H, D), grads["W"].reshape(3, H, H), grads["b"].reshape(3, H)
    U3 = U.reshape(3, H, D)
    dU3[:2] += np.matmul(rz.transpose(0, 2, 1), x_rows)
    dU3[2] += np.matmul(n.T, x_rows)
    db3[:2] += rz.sum(axis=1)
    db3[2] += n.sum(axis=0)
    dW3[:len(rec)] += np.matmul(rec.transpose(0, 2, 1), h_rows)
    np.add.reduce(np.matmul(rz, U3[:2]), axis=0, out=dx_rows)
    dx_rows += np.matmul(n, U3[2])
