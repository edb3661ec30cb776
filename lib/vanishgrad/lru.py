"""The linear recurrent unit (LRU): a diagonal complex recurrence inside the unit disk.

Orvieto, Smith, Gu, Fernando, Gulcehre, Pascanu & De (2023), "Resurrecting recurrent
neural networks for long sequences" (ICML), §3 and the reference code of its appendix A.
The letters are the paper's: the input is u, the state x, the output y. (Elsewhere in
the book x is the input and h the state; here u_k plays x_t's role and x_k plays h_t's.)
Time-major and batched, with N complex state channels::

    λ_n  = exp(−exp(ν^log_n) + i·exp(θ^log_n))   the diagonal of the state matrix, (N,)
    γ_n  = exp(γ^log_n)                            the input normalisation, (N,)
    x_k  = λ ⊙ x_{k−1} + γ ⊙ (B u_k)               u: (T, B, D_in)   x: (T, B, N) complex
    y_k  = Re(C x_k) + D u_k                       y: (T, B, D_out)

so |λ_n| = exp(−ν_n) with ν_n = exp(ν^log_n) > 0, and θ_n = exp(θ^log_n) is its phase.

with B = B_re + i·B_im (N, D_in), C = C_re + i·C_im (D_out, N) and D (D_out, D_in) real.
Every parameter is real: ν^log, θ^log, γ^log (N,), B_re, B_im, C_re, C_im, D. The state
is complex and is stored as a numpy complex array (complex128 for float64 parameters,
complex64 for float32); the initial state x_0 is zero unless given.

Why each piece (paper §3):

- **|λ| < 1 by construction.** |λ_n| = exp(−exp(ν^log_n)) lies in (0, 1) for every real
  ν^log, so no gradient step can push an eigenvalue out of the unit disk; the exponential
  gives fine resolution near |λ| = 1 (reached only as ν^log → −∞).
- **γ.** With white-noise input, E|x_∞|² = γ² E|Bu|² / (1 − |λ|²); starting γ at
  √(1 − |λ|²) keeps the state's scale that of Bu however close |λ| is to 1. In the paper
  γ^log is a trained parameter, initialised to log √(1 − |λ|²), and so it is here.
- **The ring.** :func:`init_params` draws λ uniformly in the area of the ring
  r_min ≤ |λ| ≤ r_max, phases in (0, max_phase] (Lemma 3.2; the appendix code).
- **Linear inside, nonlinear outside.** The recurrence has no nonlinearity; a model puts
  one before or after it (see :func:`init_model`).

The gradient through k steps is diagonal and exact: ∂x_{k+j}/∂x_j = diag(λ^j), so the
backward signal of channel n is multiplied by conj(λ_n) once per step and its size by
|λ_n|^j: chapter 3's product of Jacobians, in closed form.

Complex gradients. For a real loss L and a complex array z the gradient is the complex
array ∂L/∂z := ∂L/∂Re z + i·∂L/∂Im z (the steepest-ascent direction in the complex
plane). Through z ↦ w = a·z (a complex) it maps back as ∂L/∂z = conj(a)·∂L/∂w, which
is why conj(λ) appears in the backward recursion below. Gradients of the real
parameters are real.

Cost: forward and backward each take O(T·B·N·(D_in + D_out)) time; only the recurrence
is a Python loop, every projection is one matrix product over all T·B rows. The cache
holds the states, one (T, B, N) complex array.
"""

import math

import numpy as np

from . import losses
from .validation import (as_generator, as_real_array, as_real_arrays, check_cache, check_dtype,
                         check_finite, check_integer, check_nonempty, check_shape)

PARAMS = ("nu_log", "theta_log", "gamma_log", "B_re", "B_im", "C_re", "C_im", "D")


# --------------------------------------------------------------------------- checks


def _check_number(name, value):
    is_number = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    if not (is_number and np.isfinite(value)):
        raise ValueError(f"{name} must be a finite number; got {value!r}")
    return float(value)


def _params_as_arrays(params, named_first, dtype):
    """The arrays of ``named_first`` ({name: value}) and the eight LRU parameters, all of one
    real dtype (the library's convention: None gives float32 only if every one is float32)."""
    if not isinstance(params, dict):
        raise ValueError(f"params must be a dict with keys {', '.join(PARAMS)}; got {type(params).__name__}")
    missing = [k for k in PARAMS if k not in params]
    if missing:
        raise ValueError(f"params is missing {', '.join(missing)}; lru.init_params makes all of {', '.join(PARAMS)}")
    arrays = as_real_arrays({**named_first, **{k: params[k] for k in PARAMS}}, dtype)
    n = len(named_first)
    return arrays[:n], dict(zip(PARAMS, arrays[n:]))


def _check_params(p, D_in):
    """Shapes and finiteness of the eight parameters; returns (N, D_out)."""
    if p["nu_log"].ndim != 1 or p["nu_log"].shape[0] < 1:
        raise ValueError(f"nu_log must have shape (N,) with N >= 1; got {p['nu_log'].shape}")
    N = p["nu_log"].shape[0]
    if p["D"].ndim != 2 or p["D"].shape[0] < 1:
        raise ValueError(f"D must have shape (D_out, D_in) with D_out >= 1; got {p['D'].shape}")
    D_out = p["D"].shape[0]
    for name, shape, dims in (("theta_log", (N,), ("N",)), ("gamma_log", (N,), ("N",)),
                              ("B_re", (N, D_in), ("N", "D_in")), ("B_im", (N, D_in), ("N", "D_in")),
                              ("C_re", (D_out, N), ("D_out", "N")), ("C_im", (D_out, N), ("D_out", "N")),
                              ("D", (D_out, D_in), ("D_out", "D_in"))):
        check_shape(name, p[name], shape, dims)
    for name in PARAMS:
        check_finite(name, p[name])
    return N, D_out


def _complex_array(name, value, complex_dtype, shape, dims):
    """A real or complex array as ``complex_dtype``, shape and finiteness checked."""
    kind = np.asarray(value).dtype
    if kind.kind not in "biufc":
        raise ValueError(f"{name} must be a numeric (real or complex) array; got dtype {kind}")
    a = np.asarray(value, dtype=complex_dtype)
    check_shape(name, a, shape, dims)
    check_finite(name, a)
    return a


# --------------------------------------------------------------------------- parameters


def eigenvalues(params):
    """λ = exp(−exp(ν^log) + i·exp(θ^log)), the N diagonal entries of the state matrix.

    params: a dict holding "nu_log" and "theta_log", each (N,). Returns λ (N,) complex.
    """
    nu_log, theta_log = as_real_arrays({"nu_log": params["nu_log"], "theta_log": params["theta_log"]})
    return np.exp(-np.exp(nu_log)) * np.exp(1j * np.exp(theta_log))


def init_params(D_in, N, D_out, r_min=0.0, r_max=0.99, max_phase=2 * np.pi, rng=None, *,
                dtype=np.float64):
    """LRU parameters with the paper's initialisation (Lemma 3.2 and appendix A).

    D_in, N, D_out: input size, number of complex state channels, output size.
    r_min, r_max:   the ring, 0 ≤ r_min ≤ r_max < 1, r_max > 0. λ is uniform in its *area*: |λ|² is
                    uniform on (r_min², r_max²], so ν = −½ log|λ|² and ν^log = log ν.
    max_phase:      0 < max_phase ≤ 2π; the phase θ = exp(θ^log) is uniform on (0, max_phase].
    rng:            a seed or a ``np.random.Generator``.

    γ^log = log √(1 − |λ|²); B_re, B_im ~ N(0, 1/(2 D_in)) and C_re, C_im ~ N(0, 1/N)
    entrywise, as in the paper's code (B's variance is halved because Re(·) of the
    output keeps half of the state's variance). The paper's inputs and outputs have the
    same size and its D is a vector multiplying u elementwise; here D_out may differ
    from D_in, so D is a (D_out, D_in) matrix, drawn N(0, 1/D_in) (for D_in = D_out a
    diagonal D recovers the paper's). The uniform draws are taken in (0, 1], so every
    logarithm is finite even for r_min = 0.

    Returns {"nu_log": (N,), "theta_log": (N,), "gamma_log": (N,), "B_re": (N, D_in),
    "B_im": (N, D_in), "C_re": (D_out, N), "C_im": (D_out, N), "D": (D_out, D_in)}.
    Raises ValueError on sizes that are not positive integers, or r_min, r_max or
    max_phase outside the ranges above.
    """
    D_in, N, D_out = (check_integer(name, n, 1) for name, n in (("D_in", D_in), ("N", N), ("D_out", D_out)))
    r_min, r_max = _check_number("r_min", r_min), _check_number("r_max", r_max)
    max_phase = _check_number("max_phase", max_phase)
    if not (0.0 <= r_min <= r_max < 1.0 and r_max > 0.0):
        raise ValueError(f"the ring needs 0 <= r_min <= r_max < 1 and r_max > 0; got r_min={r_min}, r_max={r_max}")
    if not 0.0 < max_phase <= 2 * np.pi:
        raise ValueError(f"max_phase must be in (0, 2π]; got {max_phase}")
    dtype = check_dtype(dtype) or np.dtype(np.float64)
    rng = as_generator(rng)
    u1 = 1.0 - rng.random(N)  # uniform on (0, 1]
    u2 = 1.0 - rng.random(N)
    modulus_sq = r_min**2 + u1 * (r_max**2 - r_min**2)  # |λ|², uniform: λ uniform in the ring's area
    nu = -0.5 * np.log(modulus_sq)
    params = {
        "nu_log": np.log(nu),
        "theta_log": np.log(max_phase * u2),
        "gamma_log": 0.5 * np.log1p(-modulus_sq),  # log √(1 − |λ|²)
        "B_re": rng.standard_normal((N, D_in)) / np.sqrt(2 * D_in),
        "B_im": rng.standard_normal((N, D_in)) / np.sqrt(2 * D_in),
        "C_re": rng.standard_normal((D_out, N)) / np.sqrt(N),
        "C_im": rng.standard_normal((D_out, N)) / np.sqrt(N),
        "D": rng.standard_normal((D_out, D_in)) / np.sqrt(D_in),
    }
    return {k: v.astype(dtype) for k, v in params.items()}


# --------------------------------------------------------------------------- forward and backward


def forward(u, params, x0=None, dtype=None):
    """Run the LRU over whole sequences.

    u:      (T, B, D_in) real input, time-major.
    params: the dict of :func:`init_params` (shapes there).
    x0:     the state before u_1, (B, N), real or complex; None for zero.
    dtype:  None (float32 if u and every parameter are float32, else float64), float32
            or float64. The state is complex64 or complex128 accordingly.
    Returns y (T, B, D_out) and a cache for :func:`backward`, a dict holding "u", "x0",
    "params" (as the working dtype), "lam" (N,), "gamma" (N,) and the states "x"
    (T, B, N) complex.
    Raises ValueError on a wrong shape (naming the expected and the given shape), a NaN
    or inf anywhere, a missing parameter, or complex input (other than x0).
    """
    (u,), p = _params_as_arrays(params, {"u": u}, dtype)
    if u.ndim != 3:
        raise ValueError(f"u must have shape (T, B, D_in) (time-major); got {u.shape}")
    check_nonempty("u", u, ("T", "B", "D_in"))
    check_finite("u", u)
    T, B, D_in = u.shape
    N, D_out = _check_params(p, D_in)
    complex_dtype = np.result_type(u.dtype, np.complex64)
    if x0 is None:
        x0 = np.zeros((B, N), dtype=complex_dtype)
    else:
        x0 = _complex_array("x0", x0, complex_dtype, (B, N), ("B", "N"))

    lam = np.exp(-np.exp(p["nu_log"])) * np.exp(1j * np.exp(p["theta_log"]))
    gamma = np.exp(p["gamma_log"])
    B_c = p["B_re"] + 1j * p["B_im"]
    C_c = p["C_re"] + 1j * p["C_im"]
    u_rows = u.reshape(T * B, D_in)
    x = (u_rows @ (B_c * gamma[:, None]).T).reshape(T, B, N)  # γ ⊙ (B u_k) for all k at once
    x_prev = x0
    for x_k in x:  # the recurrence: the only loop over time
        x_k += lam * x_prev
        x_prev = x_k
    y = (x.reshape(T * B, N) @ C_c.T).real + u_rows @ p["D"].T
    cache = {"u": u, "x0": x0, "params": p, "lam": lam, "gamma": gamma, "x": x}
    return y.reshape(T, B, D_out), cache


def backward(dy, cache, dx_last=None):
    """Backpropagation through time for the LRU.

    dy:      ∂L/∂y, (T, B, D_out), real.
    cache:   the cache :func:`forward` returned.
    dx_last: optional extra gradient ∂L/∂x_T (B, N), complex (∂L/∂Re + i·∂L/∂Im), flowing
             into the last state.

    With g_k = ∂L/∂x_k (complex, (B, N)) the recursion is diagonal::

        g_k = ∂L/∂y_k · conj(C) + conj(λ) ⊙ g_{k+1}

    so a gradient arriving at x_{k+j} reaches x_k multiplied by conj(λ)^j, its modulus by
    |λ|^j, channel by channel. The parameter gradients are sums over all steps::

        ∂L/∂λ = Σ_k conj(x_{k−1}) ⊙ g_k   →  ν^log, θ^log through λ = exp(−e^{ν^log} + i e^{θ^log})
        ∂L/∂B = Σ_k (γ ⊙ g_k)ᵀ u_k        (its real and imaginary parts are ∂L/∂B_re, ∂L/∂B_im)
        ∂L/∂γ^log_n = Re Σ_d conj(B_nd) ∂L/∂B_nd    (γ_n scales row n of B)
        ∂L/∂C = Σ_k ∂L/∂y_kᵀ x_k          (∂L/∂C_re is its real part, ∂L/∂C_im minus its imaginary part)
        ∂L/∂D = Σ_k ∂L/∂y_kᵀ u_k

    Returns a dict with the real gradients "nu_log", "theta_log", "gamma_log", "B_re",
    "B_im", "C_re", "C_im", "D" and "u" (each shaped like its input), the complex "x0"
    (B, N), and "dx_norms" (T,): ‖∂L/∂x_k‖ over the batch and channels, for k = 1..T.
    Raises ValueError on a wrong shape or a NaN or inf in ``dy`` or ``dx_last``.
    """
    keys = ("u", "x0", "params", "lam", "gamma", "x")
    check_cache(cache, keys, "lru.forward")
    u, x0, p, lam, gamma, x = (cache[k] for k in keys)
    T, B, D_in = u.shape
    N, D_out = lam.shape[0], p["D"].shape[0]
    dtype = u.dtype
    dy = as_real_array("dy", dy, dtype)
    check_shape("dy", dy, (T, B, D_out), ("T", "B", "D_out"))
    check_finite("dy", dy)
    if dx_last is not None:
        dx_last = _complex_array("dx_last", dx_last, x.dtype, (B, N), ("B", "N"))

    dy_rows = dy.reshape(T * B, D_out)
    C_c = p["C_re"] + 1j * p["C_im"]
    g = (dy_rows @ C_c.conj()).reshape(T, B, N)  # the part of ∂L/∂x_k that comes from y_k
    if dx_last is not None:
        g[-1] += dx_last
    lam_conj = lam.conj()
    sq_norms = np.empty(T, dtype=dtype)
    sq_norms[-1] = np.vdot(g[-1], g[-1]).real
    for k in range(T - 2, -1, -1):  # the recurrence, backwards: the only loop over time
        g[k] += lam_conj * g[k + 1]
        sq_norms[k] = np.vdot(g[k], g[k]).real
    dx_norms = np.sqrt(sq_norms)

    x_prev_conj = np.empty_like(x)  # conj(x_{k−1}) for k = 1..T, then times g_k
    np.conjugate(x0, out=x_prev_conj[0])
    np.conjugate(x[:-1], out=x_prev_conj[1:])
    x_prev_conj *= g
    d_lam = x_prev_conj.sum(axis=(0, 1))
    d_mu = lam_conj * d_lam                      # λ = exp(μ), μ = −e^{ν^log} + i e^{θ^log}
    u_rows = u.reshape(T * B, D_in)
    q_rows = (g * gamma).reshape(T * B, N)       # ∂L/∂(B u_k), one row per (k, sequence)
    B_c = p["B_re"] + 1j * p["B_im"]
    d_B = q_rows.T @ u_rows
    d_C = dy_rows.T @ x.reshape(T * B, N)
    d_u = (q_rows @ B_c.conj()).real + dy_rows @ p["D"]
    grads = {
        "nu_log": d_mu.real * -np.exp(p["nu_log"]),
        "theta_log": d_mu.imag * np.exp(p["theta_log"]),
        "gamma_log": np.sum((B_c.conj() * d_B).real, axis=1),
        "B_re": d_B.real,
        "B_im": d_B.imag,
        "C_re": d_C.real,
        "C_im": -d_C.imag,
        "D": dy_rows.T @ u_rows,
        "u": d_u.reshape(T, B, D_in),
        "x0": lam_conj * g[0],
        "dx_norms": dx_norms,
    }
    for name in grads:
        if name != "x0":
            grads[name] = grads[name].astype(dtype, copy=False)
    return grads


# --------------------------------------------------------------------------- a model for the adding problem


def init_model(D, N, K, *, hidden=8, r_min=0.0, r_max=0.99, max_phase=2 * np.pi, rng=None,
               dtype=np.float64):
    """Parameters of a small sequence model around one LRU, for a last-step regression.

    The LRU is linear in its input, so its output at the last step is a weighted sum of
    the inputs: Σ_k Re(C diag(λ^{T−k}) γ B) u_k + D u_T. The adding problem's target,
    the sum of value × marker over the two marked steps, is a product of two input
    channels and no such sum can compute it. A nonlinearity has to act on each step
    *before* the recurrence sums over time; one hidden ReLU layer applied to every step
    is enough (for value v ∈ [0, 1] and marker m ∈ {0, 1}, ReLU(v + m − 1) = v·m)::

        r_k = ReLU(W_in u_k + b_in)      W_in: (hidden, D)   b_in: (hidden,)   r: (T, B, hidden)
        y   = LRU(r)                     D_in = hidden, D_out = K; the prediction is y_T

    In the paper's deep LRU the nonlinearity (an MLP or GLU on every step) sits between
    LRU layers; this model is the smallest instance of it. ``hidden=None`` leaves the
    ReLU layer out (y = LRU(u)): the purely linear model, which cannot fit the product.

    D, K: input and output sizes; N: LRU state channels; the ring and phase arguments
    are those of :func:`init_params`. W_in is He-initialised, N(0, 2/D); b_in is zero.
    Returns the LRU's parameters (:data:`PARAMS`) and, unless ``hidden`` is None,
    "W_in" (hidden, D) and "b_in" (hidden,).
    """
    rng = as_generator(rng)
    D = check_integer("D", D, 1)
    D_in = D if hidden is None else check_integer("hidden", hidden, 1)
    params = init_params(D_in, N, K, r_min, r_max, max_phase, rng=rng, dtype=dtype)
    if hidden is not None:
        params["W_in"] = (rng.standard_normal((hidden, D)) * np.sqrt(2.0 / D)).astype(dtype)
        params["b_in"] = np.zeros(hidden, dtype=dtype)
    return params


def _model_forward(params, x):
    """The model of :func:`init_model` on x (T, B, D): (y (T, B, K), cache)."""
    if not isinstance(params, dict):
        raise ValueError(f"params must be a dict as made by lru.init_model; got {type(params).__name__}")
    if ("W_in" in params) != ("b_in" in params):
        raise ValueError("params must hold both W_in and b_in (the ReLU layer) or neither")
    lru_params = {k: params[k] for k in PARAMS if k in params}
    if "W_in" not in params:
        y, cache = forward(x, lru_params)
        return y, {"lru": cache}
    (x, W_in, b_in), lru_params = _params_as_arrays(
        params, {"x": x, "W_in": params["W_in"], "b_in": params["b_in"]}, None)
    if x.ndim != 3:
        raise ValueError(f"x must have shape (T, B, D) (time-major); got {x.shape}")
    check_nonempty("x", x, ("T", "B", "D"))
    check_finite("x", x)
    T, B, D = x.shape
    if W_in.ndim != 2:
        raise ValueError(f"W_in must have shape (hidden, D) = (?, {D}); got {W_in.shape}")
    check_shape("W_in", W_in, (None, D), ("hidden", "D"))
    check_shape("b_in", b_in, (W_in.shape[0],), ("hidden",))
    check_finite("W_in", W_in)
    check_finite("b_in", b_in)
    net = (x.reshape(T * B, D) @ W_in.T + b_in).reshape(T, B, -1)
    r = np.maximum(net, 0.0)
    y, cache = forward(r, lru_params)
    return y, {"lru": cache, "x": x, "W_in": W_in, "net": net}


def _model_backward(dy, cache):
    grads = backward(dy, cache["lru"])
    out = {k: grads[k] for k in PARAMS}
    if "W_in" in cache:
        x, W_in, net = cache["x"], cache["W_in"], cache["net"]
        T, B, D = x.shape
        dnet = (grads["u"] * (net > 0)).reshape(T * B, -1)
        out["W_in"] = dnet.T @ x.reshape(T * B, D)
        out["b_in"] = dnet.sum(axis=0)
    return out


def predict(params, x):
    """The model's prediction at the last step, y_T (B, K), for x (T, B, D)."""
    y, _ = _model_forward(params, x)
    return y[-1]


def loss_and_grads(params, batch):
    """Half the squared error at the last step, and its gradient for every parameter.

    params: as from :func:`init_model` (with or without the ReLU layer).
    batch:  (x, y) with x (T, B, D) the inputs and y (B, K) the targets for the last step.
    Returns (loss, grads): L = (1/2B) Σ_b ‖y_T − y‖² (as :func:`vanishgrad.losses.mse_last`)
    and a dict of real gradients with exactly the keys of ``params``; this is the form
    :func:`vanishgrad.train.run` calls. If the outputs overflow to inf or NaN it returns
    that as the loss (inf, or NaN if any output is NaN) and None as the gradients, which
    the trainer reports as divergence.
    """
    if not (isinstance(batch, (tuple, list)) and len(batch) == 2):
        raise ValueError(f"batch must be a pair (x, y) with x (T, B, D) and y (B, K); got {type(batch).__name__}")
    x, y = batch
    out, cache = _model_forward(params, x)
    if not np.all(np.isfinite(out)):
        return (math.nan if np.isnan(out).any() else math.inf), None
    loss, dout = losses.mse_last(out, y)
    return loss, _model_backward(dout, cache)
