"""The long short-term memory (LSTM) network and backpropagation through time.

PyTorch's convention (``torch.nn.LSTM``), so that the two can be compared number for
number. Time-major and batched; the four gates are stacked in the order i, f, g, o::

    a_t = U x_t + W h_{t-1} + b      x: (T, B, D)  U: (4H, D)  W: (4H, H)  b: (4H,)
    i_t = σ(a_t[0:H])                the input gate
    f_t = σ(a_t[H:2H])               the forget gate
    g_t = tanh(a_t[2H:3H])           the candidate
    o_t = σ(a_t[3H:4H])              the output gate
    c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t    the cell state        c: (T, B, H)   c_0: (B, H)
    h_t = o_t ⊙ tanh(c_t)              the hidden state      h: (T, B, H)   h_0: (B, H)
    out_t = V h_t + b_V                the network's output  out: (T, B, K) V: (K, H)  b_V: (K,)

U, W and b are the book's U, W and b with the four gates' rows stacked: rows 0:H belong
to i, H:2H to f, 2H:3H to g, 3H:4H to o (PyTorch's ``weight_ih_l0``, ``weight_hh_l0``).

Names. The letter c is the cell state, as in the literature and in PyTorch: ``c0`` is
c_0, ``cache["c"]`` holds c_1 … c_T, ``dc_norms`` are the norms of ∂L/∂c_t. The output
layer's bias, which :mod:`vanishgrad.rnn` calls c, is therefore called ``b_V`` here (the
bias that goes with V). Likewise o_t is the output gate, so the output V h_t + b_V is
``out`` and its gradient ``dout``.

One bias per gate. PyTorch keeps two, ``bias_ih`` and ``bias_hh``, but only their sum
enters a_t, so they are one parameter: b = bias_ih + bias_hh, and ∂L/∂b is the gradient
of each of them.

The output V h_t + b_V feeds the loss, which hands :func:`backward` ``dout = ∂L/∂out``
(T, B, K), as in :mod:`vanishgrad.rnn`.

Only the recurrence is a Python loop. The input projections U x_t + b for all t are one
matrix product per gate, the outputs one product, and every weight gradient one product
per gate over all T·B rows (dW = Σ_t δ_t h_{t-1}ᵀ, with δ_t = ∂L/∂a_t); a long problem's
backward pass takes its steps in chunks that fit in cache, one product per chunk. The
loops work in place in preallocated arrays, which hold each gate's numbers as one block
(gate-major), so that every elementwise operation runs over whole (B, H) blocks.

Cost: O(T·B·H·(4H + 4D + K)) time for each pass; the cache holds O(T·B·H) numbers
(the gates, c, tanh c and h).

dtype: the library's convention (:mod:`vanishgrad.validation`): with ``dtype=None``
float32 inputs give float32 outputs, cache and gradients, and any other real input makes
everything float64; an explicit float32 or float64 converts every input.

Accuracy: the gate derivatives are read off the cached gates (σ' = σ(1 − σ),
tanh' = 1 − tanh²), as PyTorch does: exact where a gate is near 0, but with a relative
error that grows as a gate rounds towards 1 (a forget gate at σ(20) = 1 − 2e-9 keeps
about half its bits in 1 − f).
"""

import numpy as np

from .validation import (as_generator, as_real_array, as_real_arrays, check_cache, check_choice,
                         check_dtype, check_finite, check_integer, check_shape)

PARAMS = ("U", "W", "b", "V", "b_V")

#: The initialisations :func:`init_params` knows.
INITS = ("normal", "pytorch")

# The backward pass's work array holds at most this many bytes (see backward): about a
# core's L2 cache, so that a chunk's factors stay in cache from the moment they are
# computed, through the loop, to the weight-gradient products (measured fastest, against
# 256 KiB to 64 MiB, on the benchmark's shapes).
_CHUNK_BYTES = 2**20

# What backward reads from the cache, which only forward builds.
_CACHE_KEYS = ("x", "h0", "c0", "U", "W", "V", "i", "f", "g", "o", "c", "tanh_c", "h")


def init_params(D, H, K, *, init="normal", forget_bias=None, scale=1.0, rng=None, dtype=np.float64):
    """Random parameters {U, W, b, V, b_V} of the shapes above.

    D, H, K: input, hidden and output sizes (positive integers).
    init:  ``"normal"``: U Gaussian with standard deviation 1/√D, W with scale/√H (each
           gate's block then has a spectral radius near ``scale``), V with 1/√H, the
           biases zero except the forget gate's;
           ``"pytorch"``: PyTorch's default, every entry of U, W, V and b_V uniform on
           [−1/√H, 1/√H] (``scale`` multiplies W), and b the sum of two such draws, as
           PyTorch's b_ih + b_hh is.
    forget_bias: added to the forget gate's bias b[H:2H]. ``None`` means the init's
           own default: 1.0 for "normal" (Gers et al. 2000; Jozefowicz et al. 2015;
           Keras's ``unit_forget_bias``), 0.0 for "pytorch" (PyTorch adds nothing).
    rng:   a seed or a ``np.random.Generator``.
    dtype: float64 (default) or float32.
    Returns {"U": (4H, D), "W": (4H, H), "b": (4H,), "V": (K, H), "b_V": (K,)}.
    """
    for name, n in (("D", D), ("H", H), ("K", K)):
        check_integer(name, n, minimum=1)
    check_choice("init", init, INITS)
    is_number = isinstance(scale, (int, float, np.integer, np.floating)) and not isinstance(scale, bool)
    if not (is_number and np.isfinite(scale)):
        raise ValueError(f"scale must be a finite number; got {scale!r}")
    if forget_bias is None:
        forget_bias = 1.0 if init == "normal" else 0.0
    is_number = isinstance(forget_bias, (int, float, np.integer, np.floating)) and not isinstance(forget_bias, bool)
    if not (is_number and np.isfinite(forget_bias)):
        raise ValueError(f"forget_bias must be a finite number (or None for the init's default); got {forget_bias!r}")
    dtype = check_dtype(dtype) or np.dtype(np.float64)
    rng = as_generator(rng)
    if init == "normal":
        p = {
            "U": rng.standard_normal((4 * H, D)) / np.sqrt(D),
            "W": scale * rng.standard_normal((4 * H, H)) / np.sqrt(H),
            "b": np.zeros(4 * H),
            "V": rng.standard_normal((K, H)) / np.sqrt(H),
            "b_V": np.zeros(K),
        }
    else:
        k = 1.0 / np.sqrt(H)
        p = {
            "U": rng.uniform(-k, k, (4 * H, D)),
            "W": scale * rng.uniform(-k, k, (4 * H, H)),
            "b": rng.uniform(-k, k, 4 * H) + rng.uniform(-k, k, 4 * H),
            "V": rng.uniform(-k, k, (K, H)),
            "b_V": rng.uniform(-k, k, K),
        }
    p["b"][H:2 * H] += forget_bias
    return {name: a.astype(dtype) for name, a in p.items()}


def _checked(x, h0, c0, U, W, b, V, b_V, dtype):
    """Arrays of one dtype, with shapes and finiteness checked; returns them and (T, B, D, H, K)."""
    names = ("x", "h0", "c0", "U", "W", "b", "V", "b_V")
    arrays = as_real_arrays(dict(zip(names, (x, h0, c0, U, W, b, V, b_V))), dtype)
    x, h0, c0, U, W, b, V, b_V = arrays
    if x.ndim != 3:
        raise ValueError(f"x must have shape (T, B, D) (time-major); got {x.shape}")
    T, B, D = x.shape
    if T < 1 or B < 1 or D < 1:
        raise ValueError(f"x needs at least one time step, sequence and input unit; got shape {x.shape}")
    if W.ndim != 2 or W.shape[1] < 1:
        raise ValueError(f"W must have shape (4H, H) with H >= 1 (the gates i, f, g, o stacked); got {W.shape}")
    H = W.shape[1]
    check_shape("W", W, (4 * H, H), ("4H", "H"))
    check_shape("U", U, (4 * H, D), ("4H", "D"))
    check_shape("b", b, (4 * H,), ("4H",))
    check_shape("h0", h0, (B, H), ("B", "H"))
    check_shape("c0", c0, (B, H), ("B", "H"))
    if V.ndim != 2 or V.shape[0] < 1:
        raise ValueError(f"V must have shape (K, H) with K >= 1; got {V.shape}")
    K = V.shape[0]
    check_shape("V", V, (K, H), ("K", "H"))
    check_shape("b_V", b_V, (K,), ("K",))
    _check_all_finite(names, arrays)
    return (x, h0, c0, U, W, b, V, b_V), (T, B, D, H, K)


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


def forward(x, h0, c0, U, W, b, V, b_V, dtype=None):
    """Run the LSTM over whole sequences.

    x: (T, B, D), h0: (B, H), c0: (B, H), U: (4H, D), W: (4H, H), b: (4H,), V: (K, H),
    b_V: (K,).
    dtype: None (the default) for the inputs' own dtype (float32 if every input is
           float32, float64 otherwise), or float32 / float64 to convert every input to it.
    Returns ``out`` (T, B, K) and a cache, a dict holding the inputs (as the dtype computed
    in) under their names, and, each (T, B, H) with one entry per step t = 1..T:
    "i", "f", "g", "o" (the gates, after σ and tanh), "c" (the cell state c_t),
    "tanh_c" (tanh c_t) and "h" (the hidden state h_t).
    Raises ValueError on a wrong shape (naming the expected and the given shape), a NaN
    or inf in any input, complex or non-numeric input, or an unsupported dtype.
    """
    (x, h0, c0, U, W, b, V, b_V), (T, B, D, H, K) = _checked(x, h0, c0, U, W, b, V, b_V, dtype)
    # The gates are kept gate-major, gates[k] (T, B, H) holding one gate for every step,
    # so that each elementwise operation below runs over whole (B, H) blocks rather than
    # rows of H numbers. Their order is i, f, o, g, the three sigmoid gates side by side,
    # and the sigmoid gates' weights are negated: the products then give −a_t for i, f, o
    # (and a_t for g), so that σ(a) = 1 / (1 + e^{−a}) takes one exp, one add and one
    # reciprocal on one block per step, and tanh one call on g.
    order = [0, 1, 3, 2]                               # PyTorch's blocks i, f, g, o as i, f, o, g
    sign = np.array([-1, -1, -1, 1], dtype=x.dtype)[:, None, None]
    U4 = U.reshape(4, H, D)[order] * sign              # (4, H, D): one U_k per gate
    WT4 = (W.reshape(4, H, H)[order] * sign).transpose(0, 2, 1).copy()  # (4, H, H): W_kᵀ
    gates = np.matmul(x.reshape(T * B, D), U4.transpose(0, 2, 1))  # U_k x_t for all k and t at once
    gates += b.reshape(4, 1, H)[order] * sign
    gates = gates.reshape(4, T, B, H)
    i, f, o, g = gates
    c = np.empty((T, B, H), dtype=x.dtype)
    tanh_c = np.empty_like(c)
    h = np.empty_like(c)
    pre = np.empty((4, B, H), dtype=x.dtype)           # the step's pre-activations
    ig = np.empty((B, H), dtype=x.dtype)
    h_prev, c_prev = h0, c0
    steps = zip(gates.transpose(1, 0, 2, 3), i, f, o, g, c, tanh_c, h)
    with np.errstate(over="ignore", under="ignore"):  # e^{-a} may overflow or underflow in σ
        for gates_t, i_t, f_t, o_t, g_t, c_t, tanh_c_t, h_t in steps:  # the only loop over time
            np.matmul(h_prev, WT4, out=pre)
            pre += gates_t                     # [−a_t for i, f, o; a_t for g], a_t = U x_t + W h_{t-1} + b
            _sigmoid_of_negated_into(pre[:3], gates_t[:3])  # i_t, f_t, o_t
            np.tanh(pre[3], out=g_t)           # g_t
            np.multiply(f_t, c_prev, out=c_t)
            np.multiply(i_t, g_t, out=ig)
            c_t += ig                          # c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t
            np.tanh(c_t, out=tanh_c_t)
            np.multiply(o_t, tanh_c_t, out=h_t)  # h_t = o_t ⊙ tanh(c_t)
            h_prev, c_prev = h_t, c_t
    out = np.matmul(h.reshape(T * B, H), V.T).reshape(T, B, K)
    out += b_V
    cache = {"x": x, "h0": h0, "c0": c0, "U": U, "W": W, "b": b, "V": V, "b_V": b_V,
             "i": i, "f": f, "g": g, "o": o, "c": c, "tanh_c": tanh_c, "h": h}
    return out, cache


def _checked_upstream(name, value, shape, dims, dtype):
    value = as_real_array(name, value, dtype)
    check_shape(name, value, shape, dims)
    check_finite(name, value)
    return value


def backward(dout, cache, dh_last=None, dc_last=None):
    """Backpropagation through time.

    dout:    ∂L/∂out, (T, B, K).
    cache:   the cache :func:`forward` returned.
    dh_last: optional extra gradient ∂L/∂h_T, (B, H), flowing into the last hidden state.
    dc_last: optional extra gradient ∂L/∂c_T, (B, H), flowing into the last cell state.

    The recursion, with ∂L/∂h_t and ∂L/∂c_t in full (everything after step t included)::

        ∂L/∂h_t = Vᵀ ∂L/∂out_t + Wᵀ δ_{t+1}
        ∂L/∂c_t = f_{t+1} ⊙ ∂L/∂c_{t+1} + o_t ⊙ (1 − tanh² c_t) ⊙ ∂L/∂h_t
        δ_t = ∂L/∂a_t = [∂L/∂c_t ⊙ g_t ⊙ σ'_i,  ∂L/∂c_t ⊙ c_{t-1} ⊙ σ'_f,
                         ∂L/∂c_t ⊙ i_t ⊙ (1 − g_t²),  ∂L/∂h_t ⊙ tanh c_t ⊙ σ'_o]

    (σ'_i = i_t(1 − i_t), and so on), and the weight gradients as sums over time, each one
    matrix product over T·B rows::

        dU = Σ_t δ_t x_tᵀ   dW = Σ_t δ_t h_{t-1}ᵀ   db = Σ_t δ_t   dV = Σ_t ∂L/∂out_t h_tᵀ

    The cell's own path, ∂c_t/∂c_{t-1} = diag(f_t), is the first term of ∂L/∂c_{t-1}; the
    indirect paths through h_{t-1} and the gates run through Wᵀ δ_t.

    Returns a dict with the gradients "U", "W", "b", "V", "b_V", "h0", "c0", "x" (each
    shaped like its input, in the cache's dtype), "dh_norms" (T,): ‖∂L/∂h_t‖ and
    "dc_norms" (T,): ‖∂L/∂c_t‖ (Frobenius norms over the batch) for t = 1..T.
    Raises ValueError on a cache that is not forward's (naming what it lacks), a wrong
    shape, complex input, or a NaN or inf in ``dout``, ``dh_last`` or ``dc_last``.
    """
    check_cache(cache, _CACHE_KEYS, "lstm.forward")
    x, h0, c0, U, W, V, h = (cache[k] for k in ("x", "h0", "c0", "U", "W", "V", "h"))
    T, B, D = x.shape
    H, K = W.shape[1], V.shape[0]
    dtype = h.dtype
    dout = _checked_upstream("dout", dout, (T, B, K), ("T", "B", "K"), dtype)
    if dh_last is not None:
        dh_last = _checked_upstream("dh_last", dh_last, (B, H), ("B", "H"), dtype)
    if dc_last is not None:
        dc_last = _checked_upstream("dc_last", dc_last, (B, H), ("B", "H"), dtype)

    dh = np.matmul(dout.reshape(T * B, K), V).reshape(T, B, H)  # Vᵀ ∂L/∂out_t for all t
    if dh_last is not None:
        dh[-1] += dh_last
    # C-ordered whatever the inputs' layout, so that the per-gate views below are views
    grads = {"U": np.zeros((4 * H, D), dtype=dtype), "W": np.zeros((4 * H, H), dtype=dtype),
             "b": np.zeros(4 * H, dtype=dtype), "x": np.empty((T, B, D), dtype=dtype),
             "dc_norms": np.empty(T, dtype=dtype)}
    # per gate, in PyTorch's order i, f, g, o: W_k (4, H, H), U_k (4, H, D) and their gradients
    W4, U4 = W.reshape(4, H, H), U.reshape(4, H, D)
    dW4, dU4, db4 = grads["W"].reshape(4, H, H), grads["U"].reshape(4, H, D), grads["b"].reshape(4, H)
    carry = np.zeros((B, H), dtype=dtype)  # Wᵀ δ_{t+1}: the gradient reaching h_t from step t + 1
    from_gates = np.empty((4, B, H), dtype=dtype)  # W_kᵀ δ_{k,t} for each gate k
    # f_{t+1} ⊙ ∂L/∂c_{t+1}: the gradient reaching c_t along the cell
    along_cell = np.zeros((B, H), dtype=dtype) if dc_last is None else dc_last.copy()

    # Every δ of step t is ∂L/∂c_t or ∂L/∂h_t times a factor the forward pass already
    # knows. The factors, one block each, in the order the loop wants them (_factors):
    #
    #   block   0             1         2              3            4              5
    #   factor  f_t           g σ'_i    c_{t-1} σ'_f   i (1 − g²)   tanh(c) σ'_o   o (1 − tanh² c)
    #   times   ∂L/∂c_t       ∂L/∂c_t   ∂L/∂c_t        ∂L/∂c_t      ∂L/∂h_t        ∂L/∂h_t
    #   gives   into c_{t-1}  δ_i       δ_f            δ_g          δ_o            ∂L/∂c_t via h_t
    #
    # so that blocks 1–4 become δ_t in the stacked order i, f, g, o (its product with W
    # goes to h_{t-1}), block 0 the gradient along the cell into c_{t-1}, and block 5,
    # once the cell's own path is added, ∂L/∂c_t itself.
    #
    # Time is worked through backwards in chunks of steps whose factors fit in a small
    # work array (_CHUNK_BYTES; one chunk, all of T, for small problems): the weight
    # gradients are sums over time, so each chunk adds its part with one matrix product
    # per gate over its rows.
    n = max(1, min(T, _CHUNK_BYTES // (B * 6 * H * dtype.itemsize)))
    work = np.empty((6, n, B, H), dtype=dtype)
    for end in range(T, 0, -n):
        start = max(0, end - n)
        d = work[:, :end - start]              # block k of step start + 1 + s is d[k, s], (B, H)
        _factors(d, cache, start, end)
        per_step = d.transpose(1, 0, 2, 3)[::-1]  # the steps' blocks, t = end, …, start + 1
        # the views each step works on: ∂L/∂h_t, blocks 4–5, block 5, blocks 0–3, δ_t, block 0
        steps = zip(dh[start:end][::-1], per_step[:, 4:6], per_step[:, 5], per_step[:, :4], per_step[:, 1:5],
                    per_step[:, 0])
        for dh_t, from_h, dc_t, from_c, delta_t, into_c in steps:  # t = end, …, start + 1
            dh_t += carry                      # ∂L/∂h_t in full
            from_h *= dh_t                     # δ_o, and ∂L/∂c_t through h_t
            dc_t += along_cell                 # ∂L/∂c_t in full
            from_c *= dc_t                     # into c_{t-1}; δ_i, δ_f, δ_g
            np.matmul(delta_t, W4, out=from_gates)
            np.add.reduce(from_gates, axis=0, out=carry)  # Σ_k W_kᵀ δ_{k,t}: into h_{t-1}, through the gates
            along_cell = into_c
        along_cell = along_cell.copy()  # the work array is refilled for the next chunk

        delta = d[1:5].reshape(4, -1, H)       # δ of each gate, one row per (t, b)
        delta_T = delta.transpose(0, 2, 1)
        dU4 += np.matmul(delta_T, x[start:end].reshape(-1, D))
        dW4 += np.matmul(delta_T, _previous(h0, h, start, end).reshape(-1, H))
        db4 += delta.sum(axis=1)
        np.add.reduce(np.matmul(delta, U4), axis=0, out=grads["x"][start:end].reshape(-1, D))
        grads["dc_norms"][start:end] = np.einsum("tbh,tbh->t", d[5], d[5])

    dout_rows = dout.reshape(T * B, K)
    grads["V"] = np.matmul(dout_rows.T, h.reshape(T * B, H))
    grads["b_V"] = dout_rows.sum(axis=0)
    grads["h0"] = carry
    grads["c0"] = along_cell
    grads["dh_norms"] = np.sqrt(np.einsum("tbh,tbh->t", dh, dh))
    np.sqrt(grads["dc_norms"], out=grads["dc_norms"])
    return grads


def _previous(first, states, start, end):
    """The states s_{t-1} for the steps start+1 … end: (end − start, B, H), a view of
    ``states`` (which holds s_1 … s_T), with ``first`` (s_0) in front when start is 0."""
    if start > 0:
        return states[start - 1:end - 1]
    return np.concatenate([first[None], states[:end - 1]])


def _factors(d, cache, start, end):
    """Fill d (6, end − start, B, H) with the factors of the steps start+1 … end (see backward)."""
    i, f, g, o, tanh_c = (cache[k][start:end] for k in ("i", "f", "g", "o", "tanh_c"))
    blk = d
    np.copyto(blk[0], f)
    for k, gate, other in ((1, i, g), (2, f, _previous(cache["c0"], cache["c"], start, end)), (4, o, tanh_c)):
        np.subtract(1.0, gate, out=blk[k])
        blk[k] *= gate                         # σ' = σ (1 − σ)
        blk[k] *= other
    np.multiply(g, g, out=blk[3])
    np.subtract(1.0, blk[3], out=blk[3])
    blk[3] *= i                                # i (1 − g²)
    np.multiply(tanh_c, tanh_c, out=blk[5])
    np.subtract(1.0, blk[5], out=blk[5])
    blk[5] *= o                                # o (1 − tanh² c)
