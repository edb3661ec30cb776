"""Orthogonal recurrent matrices: drawn at random, and kept orthogonal while they train.

An orthogonal W (WᵀW = I) has every singular value equal to 1, so a *linear* recurrence
h_t = W h_{t-1} carries a gradient back through any number of steps without shrinking
or growing it. Training W by plain gradient steps destroys that at the first step; the
remedy is to train an unconstrained parameter S and compute W from it by a map whose
every value is orthogonal. Two such maps, both from a skew-symmetric A (Aᵀ = −A)::

    A = triu(S, 1) − triu(S, 1)ᵀ     S: (H, H); only its strictly upper triangle is used
    W = exp(A)                      the exponential map (expRNN)
    W = (I + A)⁻¹ (I − A)           the Cayley map (scoRNN, with its scaling D = I)

- **The exponential map** is the parametrisation of expRNN (Lezcano-Casado & Martínez-Rubio
  2019, "Cheap orthogonal constraints in neural networks"), whose reference code builds A
  from the strictly upper triangle of its parameter exactly as above. exp(A) is orthogonal
  because exp(A)ᵀ = exp(Aᵀ) = exp(−A) = exp(A)⁻¹. Its values are the rotations, SO(H).
- **The Cayley map** is the one of scoRNN (Helfrich, Willmott & Ye 2018, "Orthogonal
  recurrent neural networks with scaled Cayley transform"), W = (I + A)⁻¹(I − A)D, here
  with D = I; expRNN's code computes the same (I + A)⁻¹(I − A). I + A is always invertible
  (A's eigenvalues are imaginary, so I + A's are 1 + iα ≠ 0). Its values are the rotations
  with no eigenvalue −1, which is why scoRNN multiplies by a diagonal D of ±1.

Both maps are computed in numpy alone. exp(A) uses the eigendecomposition of the
Hermitian matrix iA (A is normal, so its eigenvectors are orthonormal): numpy's ``eigh``
gives iA = V diag(w) Vᴴ with V unitary, hence A = V diag(iα) Vᴴ with α = −w and
exp(A) = V diag(e^{iα}) Vᴴ. Because V is unitary to rounding error, so is W, for any S.

The gradients. A loss L(W) hands back G = ∂L/∂W; the chain rule through W(A) needs the
adjoint of the map's derivative, then the projection from A onto S:

- exp: with Ĝ = Vᴴ G V, ∂L/∂A = Re V (Φ̄ ⊙ Ĝ) Vᴴ, where Φ_jk is the divided difference
  of exp at the eigenvalues iα_j, iα_k. For eigenvalues on the imaginary axis it has a
  form that stays accurate when they coincide::

      Φ_jk = (e^{iα_j} − e^{iα_k}) / (iα_j − iα_k) = e^{i(α_j + α_k)/2} · sinc((α_j − α_k)/2)

  with sinc(x) = sin(x)/x and sinc(0) = 1. (The divided-difference form of the derivative
  is the Daleckiĭ–Kreĭn formula; see Higham, *Functions of Matrices*, 2008.)
- Cayley: W + I = 2(I + A)⁻¹, so dW = −(I + A)⁻¹ dA (W + I) = −½ (W + I) dA (W + I) and
  ∂L/∂A = −½ (W + I)ᵀ G (W + I)ᵀ.
- both: ∂L/∂S = triu(∂L/∂A − ∂L/∂Aᵀ, 1); the diagonal and lower triangle of S get zero.

Shapes: S, A, W and their gradients are all (H, H). Float64 by default; float32 in gives
float32 out. The functions at the end run :mod:`vanishgrad.rnn` with W computed from S.
"""

import math

import numpy as np

from . import losses, rnn
from .validation import (as_generator, as_real_array, check_cache, check_choice, check_dtype, check_finite,
                         check_integer)

METHODS = ("expm", "cayley")


# --------------------------------------------------------------------------- checks


def _square(name, value, dtype=None):
    """``value`` as a finite real (H, H) array (the library's dtype convention)."""
    a = as_real_array(name, value, dtype)
    if a.ndim != 2 or a.shape[0] != a.shape[1] or a.shape[0] < 1:
        raise ValueError(f"{name} must have shape (H, H) with H >= 1; got {a.shape}")
    check_finite(name, a)
    return a


# --------------------------------------------------------------------------- random orthogonal W


def random_orthogonal(H, rng=None, dtype=np.float64):
    """A random orthogonal matrix, distributed uniformly (Haar measure) on O(H).

    Draw Z with independent N(0, 1) entries and factor Z = QR. The Q of a QR factorisation
    is not Haar-distributed by itself: its columns' signs follow the convention of the QR
    routine. Multiplying column j by the sign of R_jj makes the factorisation unique
    (R with a positive diagonal), and then Q is Haar-distributed (Mezzadri 2007, "How to
    generate random matrices from the classical compact groups", §5).

    H:   size (positive integer).  rng: a seed or a ``np.random.Generator``.
    Returns W (H, H) of ``dtype`` with WᵀW = I to rounding error.
    """
    H = check_integer("H", H, 1)
    dtype = check_dtype(dtype) or np.dtype(np.float64)
    rng = as_generator(rng)
    Q, R = np.linalg.qr(rng.standard_normal((H, H)))
    signs = np.where(np.diag(R) < 0, -1.0, 1.0)  # a zero diagonal entry has probability 0
    return (Q * signs).astype(dtype)


def orthogonality_error(W):
    """‖WᵀW − I‖₂: the most W can change a unit vector's squared length (0 if orthogonal).

    W: (H, H). Returns a float; about 1e-15 for an orthogonal W in float64.
    """
    W = _square("W", W)
    return float(np.linalg.norm(W.T @ W - np.eye(W.shape[0], dtype=W.dtype), 2))


# --------------------------------------------------------------------------- S -> A


def skew(S):
    """The skew-symmetric A = triu(S, 1) − triu(S, 1)ᵀ built from S's strictly upper triangle.

    S: (H, H). Returns A (H, H), Aᵀ = −A exactly; S's diagonal and lower triangle are unused.
    """
    S = _square("S", S)
    upper = np.triu(S, 1)
    return upper - upper.T


def skew_backward(dA):
    """∂L/∂S from ∂L/∂A for A = :func:`skew` (S): triu(dA − dAᵀ, 1), (H, H)."""
    dA = _square("dA", dA)
    return np.triu(dA - dA.T, 1)


def init_S(H, rng=None, dtype=np.float64):
    """An S whose exponential is a block-diagonal rotation with uniform angles.

    The 2×2 block [[0, φ], [−φ, 0]] of A has exp equal to the rotation by φ, so putting
    angles φ_k ~ U[−π, π] at S[2k, 2k+1] gives a W = exp(A) whose eigenvalues e^{±iφ_k}
    are spread uniformly over the unit circle (with one eigenvalue 1 if H is odd). This is
    the "Henaff" initialisation (Henaff, Szlam & LeCun 2016) that expRNN uses.
    Returns S (H, H), zero except on those superdiagonal entries.
    """
    H = check_integer("H", H, 1)
    dtype = check_dtype(dtype) or np.dtype(np.float64)
    rng = as_generator(rng)
    S = np.zeros((H, H))
    k = np.arange(0, H - 1, 2)
    S[k, k + 1] = rng.uniform(-np.pi, np.pi, size=k.size)
    return S.astype(dtype)


# --------------------------------------------------------------------------- the two maps


def expm_skew(A):
    """exp(A) for a real skew-symmetric A, via the eigendecomposition of iA.

    A: (H, H), skew-symmetric (checked to rounding error). Returns W = exp(A) (H, H),
    orthogonal to rounding error, in A's float dtype.
    """
    A = _square("A", A)
    W, _ = _expm_parts(A)
    return W


def _check_skew(A):
    scale = max(1.0, float(np.max(np.abs(A))))
    if np.max(np.abs(A + A.T)) > 100 * np.finfo(A.dtype).eps * scale:
        raise ValueError("A must be skew-symmetric (Aᵀ = −A); build it from S with skew(S)")


def _expm_parts(A):
    """W = exp(A) and the eigendecomposition A = V diag(iα) Vᴴ it came from."""
    _check_skew(A)
    complex_dtype = np.result_type(A.dtype, np.complex64)
    w, V = np.linalg.eigh((1j * A).astype(complex_dtype))  # iA is Hermitian: iA = V diag(w) Vᴴ
    alpha = -w                                            # so A = V diag(iα) Vᴴ, α = −w
    W = ((V * np.exp(1j * alpha)) @ V.conj().T).real      # V diag(e^{iα}) Vᴴ is real
    return W.astype(A.dtype, copy=False), (V, alpha)


def cayley(A):
    """The Cayley map W = (I + A)⁻¹ (I − A) of a real skew-symmetric A, (H, H).

    Returns W (H, H), orthogonal to rounding error, in A's float dtype.
    """
    A = _square("A", A)
    _check_skew(A)
    eye = np.eye(A.shape[0], dtype=A.dtype)
    return np.linalg.solve(eye + A, eye - A)


def forward(S, method="expm", dtype=None):
    """W from the unconstrained parameter S: W = exp(A) or (I + A)⁻¹(I − A), A = skew(S).

    S:      (H, H); only its strictly upper triangle matters.
    method: "expm" (the exponential map of expRNN) or "cayley" (the Cayley map of scoRNN).
    dtype:  None (S's own float dtype; integers become float64), float32 or float64.
    Returns W (H, H), orthogonal to rounding error for every S, and a cache for
    :func:`backward`. Raises ValueError on a non-square or non-finite S, complex input or
    an unknown method.
    """
    check_choice("method", method, METHODS)
    S = _square("S", S, check_dtype(dtype))
    upper = np.triu(S, 1)
    A = upper - upper.T
    if method == "expm":
        W, (V, alpha) = _expm_parts(A)
        return W, {"method": method, "W": W, "V": V, "alpha": alpha}
    eye = np.eye(A.shape[0], dtype=A.dtype)
    W = np.linalg.solve(eye + A, eye - A)
    return W, {"method": method, "W": W}


def backward(dW, cache):
    """∂L/∂S from dW = ∂L/∂W (H, H) and the cache of :func:`forward`.

    Returns {"S": (H, H)}, zero on and below the diagonal (see the module docstring for
    the formulas). Raises ValueError on a wrong shape or a NaN or inf in ``dW``.
    """
    check_cache(cache, ("method", "W"), "orthogonal.forward")
    check_choice("method", cache["method"], METHODS)
    if cache["method"] == "expm":
        check_cache(cache, ("V", "alpha"), "orthogonal.forward")
    W = cache["W"]
    dW = _square("dW", dW, W.dtype)
    if dW.shape != W.shape:
        raise ValueError(f"dW must have shape (H, H) = {W.shape}; got {dW.shape}")
    if cache["method"] == "expm":
        V, alpha = cache["V"], cache["alpha"]
        half_sum = 0.5 * (alpha[:, None] + alpha[None, :])
        half_gap = 0.5 * (alpha[:, None] - alpha[None, :])
        # Φ_jk = e^{i(α_j+α_k)/2} sinc((α_j−α_k)/2); np.sinc(x) is sin(πx)/(πx)
        phi = np.exp(1j * half_sum) * np.sinc(half_gap / np.pi)
        G_hat = V.conj().T @ dW @ V
        dA = (V @ (phi.conj() * G_hat) @ V.conj().T).real
    else:
        P = W + np.eye(W.shape[0], dtype=W.dtype)  # W + I = 2 (I + A)⁻¹
        dA = -0.5 * (P.T @ dW @ P.T)
    return {"S": np.triu(dA - dA.T, 1).astype(W.dtype, copy=False)}


# --------------------------------------------------------------------------- an orthogonal RNN


def init_rnn_params(D, H, K, *, rng=None, dtype=np.float64):
    """Parameters of an RNN whose W is computed from S: {U, S, b, V, c}.

    S comes from :func:`init_S` (W = exp(A) a random block rotation); U, V, b, c are drawn
    as by :func:`vanishgrad.rnn.init_params`. Returns U (H, D), S (H, H), b (H,), V (K, H), c (K,).
    """
    rng = as_generator(rng)
    params = rnn.init_params(D, H, K, rng=rng, dtype=dtype)
    del params["W"]
    params["S"] = init_S(H, rng=rng, dtype=dtype)
    return params


def rnn_forward(x, h0, U, S, b, V, c, activation="tanh", method="expm"):
    """:func:`vanishgrad.rnn.forward` with W = :func:`forward` (S, method).

    x: (T, B, D), h0: (B, H), U: (H, D), S: (H, H), b: (H,), V: (K, H), c: (K,).
    Returns o (T, B, K) and a cache {"rnn": the rnn cache, "W": the cache of W(S)}.
    """
    W, w_cache = forward(S, method=method)
    o, r_cache = rnn.forward(x, h0, U, W, b, V, c, activation=activation, dtype=W.dtype)
    return o, {"rnn": r_cache, "W": w_cache}


def rnn_backward(do, cache, truncate=None, dh_last=None):
    """BPTT through :func:`rnn_forward`: rnn.backward gives ∂L/∂W, which is chained into ∂L/∂S.

    do: (T, B, K). Returns the dict of :func:`vanishgrad.rnn.backward` with "W" replaced
    by "S" (H, H): "U", "S", "b", "V", "c", "h0", "x" and "dh_norms".
    """
    grads = rnn.backward(do, cache["rnn"], truncate=truncate, dh_last=dh_last)
    grads["S"] = backward(grads.pop("W"), cache["W"])["S"]
    return grads


def rnn_loss_and_grads(params, batch, activation="tanh", method="expm"):
    """Half the squared error at the last step, and its gradients, for an orthogonal RNN.

    params: {"U", "S", "b", "V", "c"} as from :func:`init_rnn_params`; h0 is zero.
    batch:  (x, y) with x (T, B, D) and y (B, K) the targets for the last step.
    Returns (loss, grads): L = (1/2B) Σ_b ‖o_T − y‖² (as :func:`vanishgrad.losses.mse_last`)
    and a dict with exactly the keys of ``params``. Bind ``activation`` and ``method``
    with ``functools.partial`` to get the two-argument form :func:`vanishgrad.train.run`
    calls. If the outputs overflow to inf or NaN it returns that as the loss and None as
    the gradients, which the trainer reports as divergence.
    """
    if not (isinstance(batch, (tuple, list)) and len(batch) == 2):
        raise ValueError(f"batch must be a pair (x, y) with x (T, B, D) and y (B, K); got {type(batch).__name__}")
    x, y = batch
    x = np.asarray(x)
    if x.ndim != 3:
        raise ValueError(f"x must have shape (T, B, D) (time-major); got {x.shape}")
    S = np.asarray(params["S"])
    h0 = np.zeros((x.shape[1], S.shape[0]) if S.ndim else (x.shape[1], 1))
    o, cache = rnn_forward(x, h0, params["U"], params["S"], params["b"], params["V"], params["c"],
                           activation=activation, method=method)
    if not np.all(np.isfinite(o)):
        return (math.nan if np.isnan(o).any() else math.inf), None
    loss, do = losses.mse_last(o, y)
    grads = rnn_backward(do, cache)
    return loss, {name: grads[name] for name in params}
