"""Jacobians of a recurrent network, their products, and the numbers that bound them.

Conventions (the book's column-vector mathematics)
--------------------------------------------------
A Jacobian has one row per output and one column per input: for y = g(x),
``J[i, j] = ∂y_i / ∂x_j``, so that a small change dx moves y by ``J @ dx`` and the chain
rule multiplies later Jacobians on the left.

The recurrence ``net_t = U x_t + W h_{t-1} + b``, ``h_t = f(net_t)`` has two step Jacobians:

- net-to-net, the source note's equation (10.8)::

      ∂net_t / ∂net_{t-1} = W · diag(f'(net_{t-1}))      entry (i, j) = W[i, j] f'(net_{t-1}[j])

  (f' scales the *columns* of W);
- h-to-h::

      ∂h_t / ∂h_{t-1} = diag(f'(net_t)) · W               entry (i, j) = f'(net_t[i]) W[i, j]

  (f' scales the *rows*). Both are products of the same two factors in opposite orders,
  so they have the same eigenvalues; their long products differ only in the factors at
  the two ends.

The long-range Jacobian is the product, latest step on the left::

    ∂net_t / ∂net_s = J_t J_{t-1} ··· J_{s+1},       J_r = ∂net_r / ∂net_{r-1}.

Backpropagation multiplies by the transposes, δ_s = (∂net_t/∂net_s)ᵀ δ_t, which have the
same singular values, so every norm below describes the gradient as well.

Indices in code are 0-based: ``net[s]`` is the cache's ``net`` at array index s (the
book's net_{s+1}). ``step_jacobians(cache)[s]`` is ∂net[s+1]/∂net[s], for s = 0 … T−2.

Norms are spectral (‖A‖₂ = σ_max(A)) unless ``ord="fro"`` is asked for.

dtype follows the library's convention (:mod:`vanishgrad.validation`): a float32 cache or
float32 matrices give float32 results, anything else float64. Inputs must be real, except
for :func:`spectral_radius` and :func:`sigma_max`, which also take complex matrices
(ρ(2i·I) = σ_max(2i·I) = 2).

What this module offers
-----------------------
- :func:`step_jacobians` from an :func:`vanishgrad.rnn.forward` cache, for one sequence
  of the batch or for all of them;
- :func:`unrolled_map`, to check them by finite differences with
  :func:`vanishgrad.gradcheck.numerical_jacobian`;
- :func:`chain` and :func:`product_norms`: the long-range product and its norm against lag;
- :func:`power_norms`: ‖W^k‖ for the linear network;
- :func:`spectral_radius`, :func:`sigma_max` and :func:`pascanu_bound` (Pascanu, Mikolov
  & Bengio 2013: with γ = sup|f'|, η = γ·σ_max(W) bounds every step, so η < 1 guarantees
  vanishing and η > 1 is necessary for explosion);
- :func:`lyapunov_exponents`: the average log growth rate per step of a Jacobian product,
  by repeated QR;
- :func:`nonnormal_matrix`: a real W with a prescribed spectral radius and a prescribed
  departure from normality.
"""

from collections import namedtuple

import numpy as np

from . import activations
from .validation import (as_generator, as_real_array, as_real_arrays, check_cache, check_finite,
                         check_integer)

_CACHE_KEYS = ("x", "h0", "U", "W", "b", "net", "h", "activation")

PascanuBound = namedtuple("PascanuBound", "gamma sigma_max eta vanishing_guaranteed explosion_possible")
PascanuBound.__doc__ = """The per-step bound of Pascanu et al. (2013) for one W and one activation.

gamma:                sup |f'|, 1/4 for sigmoid, 1 for tanh.
sigma_max:            the largest singular value of W, ‖W‖₂.
eta:                  gamma · sigma_max, a bound on ‖∂net_t/∂net_{t-1}‖₂ at every step.
vanishing_guaranteed: eta < 1; then ‖∂net_t/∂net_{t-k}‖₂ ≤ eta^k → 0 on every trajectory.
explosion_possible:   eta > 1, the necessary condition for explosion (not a sufficient one).
"""


# ---------------------------------------------------------------------------------------
# input checks
# ---------------------------------------------------------------------------------------

def _check_cache(cache):
    check_cache(cache, _CACHE_KEYS, "rnn.forward")
    net, W = as_real_arrays({"cache['net']": cache["net"], "cache['W']": cache["W"]})
    if net.ndim != 3:
        raise ValueError(f"cache['net'] must have shape (T, B, H); got {net.shape}")
    T, B, H = net.shape
    if W.shape != (H, H):
        raise ValueError(f"cache['W'] must have shape (H, H) = ({H}, {H}); got {W.shape}")
    return T, B, H


def _check_seq(seq, B):
    if seq is None:
        return None
    if not (isinstance(seq, (int, np.integer)) and not isinstance(seq, bool) and 0 <= seq < B):
        raise ValueError(f"seq must be an integer index into the batch, 0 <= seq < B = {B} (or None for all); "
                         f"got {seq!r}")
    return int(seq)


def _check_kind(kind):
    if kind not in ("net", "h"):
        raise ValueError(f"kind must be 'net' (∂net_t/∂net_(t-1), the default) or 'h' (∂h_t/∂h_(t-1)); got {kind!r}")


def _square_stack(name, A, min_ndim=2, allow_complex=False):
    """A float array (or, with ``allow_complex``, a complex one) of shape (..., H, H), finite, H ≥ 1."""
    if allow_complex and np.iscomplexobj(A):
        A = np.asarray(A)
        A = A.astype(np.complex64 if A.dtype == np.complex64 else np.complex128, copy=False)
    else:
        A = as_real_array(name, A)
    if A.ndim < min_ndim or A.shape[-1] != A.shape[-2] or A.shape[-1] < 1:
        want = "(H, H)" if min_ndim == 2 else "(n, H, H) or (n, B, H, H)"
        raise ValueError(f"{name} must have shape {want}, square in its last two axes; got {A.shape}")
    check_finite(name, A)
    return A


def _check_ord(ord):
    if not (ord == 2 or ord == "fro") or isinstance(ord, bool):
        raise ValueError(f"ord must be 2 (spectral norm) or 'fro' (Frobenius norm); got {ord!r}")


def _matrix_norms(A, ord):
    """Norms of the matrices in the last two axes of A: shape A.shape[:-2]."""
    if ord == "fro":
        return np.sqrt(np.einsum("...ij,...ij->...", A, A))
    return np.linalg.svd(A, compute_uv=False)[..., 0]


# ---------------------------------------------------------------------------------------
# step Jacobians and their finite-difference check
# ---------------------------------------------------------------------------------------

def step_jacobians(cache, seq=None, kind="net"):
    """The step Jacobians of a forward pass, in time order.

    cache: the dict returned by :func:`vanishgrad.rnn.forward`; reads ``W`` (H, H),
           ``net`` (T, B, H) and ``activation``.
    seq:   an index into the batch for one sequence, or None for all of them.
    kind:  ``"net"`` for ∂net_t/∂net_{t-1} = W · diag(f'(net_{t-1})) (eq. 10.8, the default),
           ``"h"`` for ∂h_t/∂h_{t-1} = diag(f'(net_t)) · W.

    Returns J of shape (T−1, H, H) if ``seq`` is given, else (T−1, B, H, H), with
    ``J[s] = ∂net[s+1] / ∂net[s]`` (or ∂h[s+1]/∂h[s]) in the row = output, column = input
    convention. T = 1 gives an empty (0, H, H) stack.
    """
    T, B, H = _check_cache(cache)
    seq = _check_seq(seq, B)
    _check_kind(kind)
    act = activations.get(cache["activation"])
    net, W = as_real_arrays({"cache['net']": cache["net"], "cache['W']": cache["W"]})
    if seq is not None:
        net = net[:, seq]  # (T, H)
    fprime = act.df(net)  # (T, H) or (T, B, H)
    if kind == "net":
        # column j of W scaled by f'(net_{t-1}[j])
        return W * fprime[:-1, ..., None, :]
    # row i of W scaled by f'(net_t[i])
    return fprime[1:, ..., :, None] * W


def unrolled_map(cache, start, lag, seq=0, kind="net"):
    """The map the product of ``lag`` step Jacobians differentiates, as a function.

    cache: an :func:`vanishgrad.rnn.forward` cache; the inputs x and the parameters are
           read from it and held fixed.
    start: array index s of the starting state, 0 ≤ s and s + lag ≤ T − 1.
    lag:   number of steps k ≥ 0 to run.
    seq:   which sequence of the batch supplies the inputs.
    kind:  ``"net"``: the returned function maps net[s] (H,) to net[s+k] (H,);
           ``"h"``:   it maps h[s] (H,) to h[s+k] (H,).

    At the cached state the function returns the cached value, and its Jacobian is
    ``chain(step_jacobians(cache, seq, kind)[s:s+k])``.
    """
    T, B, H = _check_cache(cache)
    if seq is None:
        raise ValueError(f"seq must be an integer index into the batch, 0 <= seq < B = {B}; got None")
    seq = _check_seq(seq, B)
    _check_kind(kind)
    start = check_integer("start", start, minimum=0)
    lag = check_integer("lag", lag, minimum=0)
    if start + lag > T - 1:
        raise ValueError(f"start + lag must be at most T - 1 = {T - 1}; got {start} + {lag}")
    act = activations.get(cache["activation"])
    x, U, W, b = as_real_arrays({f"cache[{k!r}]": cache[k] for k in ("x", "U", "W", "b")})
    drive = x[:, seq] @ U.T + b  # (T, H): U x_t + b

    def run(v):
        v = as_real_array("state", v)
        if v.shape != (H,):
            raise ValueError(f"the state must have shape (H,) = ({H},); got {v.shape}")
        check_finite("state", v)
        h = act.f(v) if kind == "net" else v
        net = v
        for s in range(start + 1, start + lag + 1):
            net = drive[s] + W @ h
            h = act.f(net)
        return net if kind == "net" else h

    return run


# ---------------------------------------------------------------------------------------
# products and their norms
# ---------------------------------------------------------------------------------------

def chain(jacobians):
    """The product of step Jacobians given in time order: J[n−1] ··· J[1] J[0].

    jacobians: (n, H, H) or (n, B, H, H); ``J[0]`` acts first.
    Returns (H, H) or (B, H, H): the Jacobian of the last state with respect to the state
    before the first step. n = 0 gives the identity.
    """
    J = _square_stack("jacobians", jacobians, min_ndim=3)
    product = np.broadcast_to(np.eye(J.shape[-1], dtype=J.dtype), J.shape[1:]).copy()
    for step in J:
        product = step @ product
    return product


def product_norms(jacobians, ord=2):
    """Norms of the long-range Jacobians ending at the last step, against lag.

    jacobians: (n, H, H) or (n, B, H, H), in time order, as from :func:`step_jacobians`.
    ord:       2 for the spectral norm (default), ``"fro"`` for the Frobenius norm.

    Returns (n+1,) or (n+1, B): entry k is ‖J[n−1] J[n−2] ··· J[n−k]‖, the norm of
    ∂net_last/∂net_(last−k); k = 0 is the identity (‖I‖₂ = 1, ‖I‖_F = √H). The product is
    accumulated one factor at a time, so all lags cost n matrix products.
    """
    J = _square_stack("jacobians", jacobians, min_ndim=3)
    _check_ord(ord)
    n = J.shape[0]
    products = np.empty((n + 1,) + J.shape[1:], dtype=J.dtype)
    products[0] = np.eye(J.shape[-1])
    for k in range(1, n + 1):
        products[k] = products[k - 1] @ J[n - k]
    return _matrix_norms(products, ord)


def power_norms(W, k_max, ord=2):
    """‖W^k‖ for k = 0, 1, …, k_max: the linear network's long-range Jacobians.

    W:     (H, H).
    k_max: largest power, an integer ≥ 0.
    Returns (k_max + 1,).
    """
    W = _square_stack("W", W)
    if W.ndim != 2:
        raise ValueError(f"W must have shape (H, H); got {W.shape}")
    k_max = check_integer("k_max", k_max, minimum=0)
    _check_ord(ord)
    powers = np.empty((k_max + 1,) + W.shape, dtype=W.dtype)
    powers[0] = np.eye(W.shape[0])
    for k in range(1, k_max + 1):
        powers[k] = powers[k - 1] @ W
    return _matrix_norms(powers, ord)


# ---------------------------------------------------------------------------------------
# spectral radius, largest singular value, Pascanu's bound
# ---------------------------------------------------------------------------------------

def spectral_radius(A):
    """ρ(A) = max |λ| over the eigenvalues of A; A (H, H) or a stack (..., H, H) → (...).

    A may be real or complex (ρ(2i·I) = 2).
    """
    A = _square_stack("A", A, allow_complex=True)
    return np.max(np.abs(np.linalg.eigvals(A)), axis=-1)


def sigma_max(A):
    """σ_max(A) = ‖A‖₂, the largest singular value; A (H, H) or a stack (..., H, H) → (...).

    A may be real or complex (σ_max(2i·I) = 2).
    """
    A = _square_stack("A", A, allow_complex=True)
    return np.linalg.svd(A, compute_uv=False)[..., 0]


def pascanu_bound(W, activation):
    """Pascanu et al.'s per-step bound η = γ · σ_max(W) for a recurrent matrix W.

    W:          (H, H).
    activation: a name from :mod:`vanishgrad.activations` or an Activation; γ is its
                ``gamma`` = sup|f'| (1/4 sigmoid, 1 tanh, 1 relu, 1 identity).

    Because ‖diag f'(net)‖₂ ≤ γ, every step Jacobian has ‖W diag f'‖₂ ≤ η, so the product
    of k of them has norm ≤ η^k: η < 1 is *sufficient* for vanishing; η > 1 is *necessary*
    for explosion. Returns a :class:`PascanuBound`.
    """
    W = _square_stack("W", W)
    if W.ndim != 2:
        raise ValueError(f"W must have shape (H, H); got {W.shape}")
    gamma = float(activations.get(activation).gamma)
    s = float(sigma_max(W))
    eta = gamma * s
    return PascanuBound(gamma, s, eta, eta < 1.0, eta > 1.0)


# ---------------------------------------------------------------------------------------
# Lyapunov exponents
# ---------------------------------------------------------------------------------------

def lyapunov_exponents(jacobians, n_exponents=1, *, backward=False, discard=0, rng=0):
    """Average log growth rates per step of a Jacobian product, by repeated QR.

    jacobians:   (n, H, H) or (n, B, H, H), in time order (``J[0]`` acts first).
    n_exponents: how many exponents, 1 ≤ p ≤ H (1: the largest only; H: the full spectrum).
    backward:    False follows the forward product J[n−1] ··· J[0]; True follows what
                 backpropagation applies, J[0]ᵀ ··· J[n−1]ᵀ (transposes, last step first).
    discard:     steps run before averaging starts, so the frame can align with the
                 growing directions (0 ≤ discard < n).
    rng:         seed or Generator for the random orthonormal starting frame (H, p),
                 the same for every sequence of a batch.

    The algorithm keeps an orthonormal frame Q (H, p). At each step it factorises
    J Q = Q' R and accumulates log |R_ii|: the growth of the i-th direction after the
    i − 1 faster ones are projected out. The averages over the n − discard counted steps
    are returned in descending order, shape (p,) or (B, p), in the dtype of the
    Jacobians (the sum itself is kept in float64). Because each step's growth
    of the first direction is ‖J q‖ ≤ ‖J‖₂, the largest exponent never exceeds the
    average of log ‖J‖₂, hence never log(γ σ_max(W)) for an RNN. A singular step gives −inf.
    """
    J = _square_stack("jacobians", jacobians, min_ndim=3)
    if J.ndim not in (3, 4):
        raise ValueError(f"jacobians must have shape (n, H, H) or (n, B, H, H); got {J.shape}")
    n, H = J.shape[0], J.shape[-1]
    if n < 1:
        raise ValueError(f"jacobians must hold at least one step (n >= 1); got shape {J.shape}")
    p = check_integer("n_exponents", n_exponents, minimum=1, maximum=H)
    discard = check_integer("discard", discard, minimum=0, maximum=n - 1)
    if not isinstance(backward, (bool, np.bool_)):
        raise ValueError(f"backward must be True or False; got {backward!r}")
    if backward:
        J = np.swapaxes(J[::-1], -1, -2)
    generator = as_generator(rng)
    batch = J.shape[1:-2]
    Q, _ = np.linalg.qr(generator.standard_normal((H, p)).astype(J.dtype))  # one frame, shared by the batch
    Q = np.broadcast_to(Q, batch + (H, p))
    total = np.zeros(batch + (p,))
    with np.errstate(divide="ignore"):
        for s in range(n):
            Q, R = np.linalg.qr(J[s] @ Q)
            if s >= discard:
                total += np.log(np.abs(np.diagonal(R, axis1=-2, axis2=-1)))
    exponents = (total / (n - discard)).astype(J.dtype, copy=False)
    return -np.sort(-exponents, axis=-1)


# ---------------------------------------------------------------------------------------
# a matrix with a chosen spectral radius and departure from normality
# ---------------------------------------------------------------------------------------

def nonnormal_matrix(H, rho, departure, rng=None):
    """A real (H, H) matrix W = Q (ρ R + N) Qᵀ with ρ(W) = rho exactly.

    H:         size, an integer ≥ 1.
    rho:       the spectral radius, ≥ 0. R is block diagonal with 2×2 rotations by random
               angles (and a 1×1 block ±1 if H is odd), so every eigenvalue has modulus rho.
    departure: ‖N‖_F ≥ 0, where N is strictly block-upper-triangular and random: the
               Frobenius norm of the Schur form's off-diagonal part, Henrici's departure
               from normality. 0 gives a normal matrix (ρ = σ_max); larger values keep the
               eigenvalues and grow σ_max(W) and the transient growth of ‖W^k‖.
    rng:       seed or Generator; Q is a random orthogonal matrix.
    """
    H = check_integer("H", H, minimum=1)
    for name, v in (("rho", rho), ("departure", departure)):
        is_number = isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
        if not (is_number and np.isfinite(v) and v >= 0):
            raise ValueError(f"{name} must be a finite number >= 0; got {v!r}")
    generator = as_generator(rng)
    R = np.zeros((H, H))
    block = np.zeros((H, H), dtype=bool)  # True on the diagonal blocks
    for i in range(0, H - 1, 2):
        theta = generator.uniform(0.0, np.pi)
        c, s = np.cos(theta), np.sin(theta)
        R[i:i + 2, i:i + 2] = [[c, -s], [s, c]]
        block[i:i + 2, i:i + 2] = True
    if H % 2:
        R[-1, -1] = generator.choice([-1.0, 1.0])
        block[-1, -1] = True
    N = np.triu(generator.standard_normal((H, H)), k=1)
    N[block] = 0.0
    size = np.linalg.norm(N)
    if size == 0 and departure > 0:
        raise ValueError(f"a departure from normality > 0 needs H >= 3 (H = {H} has no off-diagonal Schur part); "
                         "pass departure=0 or a larger H")
    N = N * (departure / size) if size > 0 else N
    Q, Rq = np.linalg.qr(generator.standard_normal((H, H)))
    Q = Q * np.sign(np.diag(Rq))
    return Q @ (rho * R + N) @ Q.T
