"""Gradient clipping: three ways to bound a step, over a dict of named gradients.

A gradient here is a dict ``{name: array}``, the parameters' part of what a backward pass
returns (``{"U": (H, D), "W": (H, H), "b": (H,), "V": (K, H), "c": (K,)}`` for
:mod:`vanishgrad.rnn`). Write g for all its entries laid end to end as one vector and
‖g‖ for that vector's Euclidean norm, the *global norm*; θ > 0 is the threshold.

- :func:`by_global_norm`: every entry times the same factor min(1, θ / (‖g‖ + 1e-6)).
  This is Pascanu, Mikolov & Bengio's Algorithm 1 (2013), with PyTorch's semantics
  (``torch.nn.utils.clip_grad_norm_``): one norm over all tensors, and the 1e-6 that
  PyTorch adds. The clipped gradient points exactly where g points (cosine 1) and has
  norm at most θ (up to rounding in float32). Because of the 1e-6, a gradient whose norm is exactly θ is shrunk by
  the factor θ / (θ + 1e-6), as in PyTorch; a zero gradient is left as it is.
- :func:`by_tensor_norm`: each tensor g_i on its own, times θ / max(‖g_i‖, θ) (Keras's
  ``clipnorm``, which adds no 1e-6: a tensor of norm exactly θ is unchanged). Each
  tensor keeps its direction, but their sizes relative to each other change, so the
  whole gradient turns.
- :func:`by_value`: each entry clipped to [−θ, θ] (Mikolov's original recipe,
  ``torch.nn.utils.clip_grad_value_``, Keras's ``clipvalue``). This turns the gradient.

Each returns ``(clipped, norm)``: a new dict of new arrays (the input is never modified;
write ``grads.update(clipped)`` to replace the entries) and the global norm ‖g‖ *before*
clipping, as a float, as PyTorch's ``clip_grad_norm_`` returns it. float32 gradients stay
float32; integer and bool gradients become float64.

Which entries are clipped. Every entry of the dict, unless ``keys`` names the ones to
clip; the result then holds exactly those. Backward passes also return things that are
not parameter gradients: ∂L/∂x and ∂L/∂h_0 (``"x"``, ``"h0"``), which must not enter the
norm of a training step, and diagnostics such as rnn's ``"dh_norms"`` (‖∂L/∂h_t‖ for each
t), which are not gradients at all. Pass ``keys=rnn.PARAMS`` (or a dict of parameter
gradients only). A dict holding an entry whose name ends in ``"_norms"`` is refused
unless ``keys`` is given, so a diagnostic cannot slip into the norm unnoticed.

Non-finite gradients. If ‖g‖ is NaN or inf (some entry is), the functions raise a
``ValueError`` naming the tensors and how many NaN and inf each holds. With
``error_if_nonfinite=False`` they compute the formulas anyway, as PyTorch does by
default (PyTorch's default is False, this library's is True): global-norm clipping
then turns every entry into NaN (a NaN norm) or zeroes the finite entries and turns
the infinite ones into NaN (an infinite norm); per-tensor clipping does the same to each
non-finite tensor alone; value clipping maps ±inf to ±θ and keeps NaN.

Overflow. The norm is accumulated in float64 and rescaled when the sum of squares
overflows (or underflows), so a finite gradient always has a finite norm, and a nonzero
one a nonzero norm (PyTorch's float32 norm of [1e20, 1e20] is inf, and clip_grad_norm_
then zeroes that gradient).
"""

import math
from collections.abc import Iterable, Mapping

import numpy as np

from .validation import check_positive

#: What PyTorch adds to the norm before dividing: θ / (‖g‖ + EPS).
EPS = 1e-6


# --------------------------------------------------------------------------- the gradients


def _as_gradient(label, value):
    """One gradient as a float array: float arrays as they are, integers and bools as float64."""
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{label} must be an array of real numbers; got {type(value).__name__}") from exc
    if array.dtype.kind == "f":
        return array
    if array.dtype.kind in "biu":
        return array.astype(np.float64)
    raise ValueError(f"{label} must be an array of real numbers; got dtype {array.dtype}")


def _gradients(grads, keys, what="grads"):
    """The entries of ``grads`` to clip, as a new dict of float arrays (see the module doc).

    what: the argument's name, for the messages.
    """
    if not isinstance(grads, Mapping):
        raise ValueError(
            f"{what} must be a dict of named gradients, e.g. {{'W': ..., 'b': ...}}; got {type(grads).__name__}"
        )
    if keys is None:
        diagnostics = [k for k in grads if isinstance(k, str) and k.endswith("_norms")]
        if diagnostics:
            raise ValueError(
                f"{what}[{diagnostics[0]!r}] is not a gradient but a diagnostic a backward pass returns; "
                f"pass keys= naming the gradients to clip, e.g. keys=rnn.PARAMS"
            )
        keys = list(grads)
    else:
        if isinstance(keys, str) or not isinstance(keys, Iterable):
            raise ValueError(f"keys must be a list of gradient names, e.g. ['W', 'b']; got {keys!r}")
        keys = list(keys)
        missing = [k for k in keys if k not in grads]
        if missing:
            raise ValueError(
                f"keys names {', '.join(map(repr, missing))}, which {what} does not hold; "
                f"{what} holds {', '.join(map(repr, grads)) or 'nothing'}"
            )
    return {k: _as_gradient(f"{what}[{k!r}]", grads[k]) for k in keys}


def _norm(array):
    """‖array‖ (all entries as one vector) in float64: NaN if it holds a NaN, else inf if it
    holds an inf, else the finite norm. Where the sum of squares overflows or is tiny
    enough to have underflowed, the entries are first divided by the largest |entry|.
    Call it under ``np.errstate(over="ignore")``, since that sum may overflow."""
    x = np.asarray(array, dtype=np.float64).reshape(-1)
    squares = float(np.dot(x, x))
    if math.isfinite(squares) and squares >= 1e-250:
        return math.sqrt(squares)
    largest = float(np.max(np.abs(x), initial=0.0))  # NaN if x holds a NaN, inf if it holds an inf
    if largest == 0.0 or not math.isfinite(largest):
        return largest
    x = x / largest
    return largest * math.sqrt(float(np.dot(x, x)))


def _nonfinite_report(grads):
    """'grads['W'] holds 2 NaN and 1 inf; grads['b'] holds 1 inf' for the bad tensors."""
    parts = []
    for name, g in grads.items():
        nan = int(np.count_nonzero(np.isnan(g)))
        inf = int(np.count_nonzero(np.isinf(g)))
        counts = [f"{n} {what}" for n, what in ((nan, "NaN"), (inf, "inf")) if n]
        if counts:
            parts.append(f"grads[{name!r}] holds {' and '.join(counts)}")
    return "; ".join(parts)


def _check_theta(theta):
    check_positive("theta", theta)
    return float(theta)


def _check_flag(error_if_nonfinite):
    if not isinstance(error_if_nonfinite, (bool, np.bool_)):
        raise ValueError(f"error_if_nonfinite must be True or False; got {error_if_nonfinite!r}")


def _tensor_norms(grads):
    """{name: ‖g_name‖} for a checked dict."""
    with np.errstate(over="ignore"):  # _norm rescales a sum of squares that overflows
        return {k: _norm(g) for k, g in grads.items()}


def _combined(norms):
    """‖(n_1, n_2, …)‖ of the tensors' norms: NaN if one is NaN, else inf if one is inf.
    math.hypot neither overflows nor underflows; it alone would give inf for (inf, NaN)."""
    norms = list(norms)
    if any(math.isnan(n) for n in norms):
        return math.nan
    return math.hypot(*norms)


def _total_norm(grads, error_if_nonfinite, norms=None):
    """The global norm of a checked dict (from its tensors' ``norms`` if given), raising on
    a non-finite one if asked to."""
    norms = _tensor_norms(grads) if norms is None else norms
    norm = _combined(norms.values())
    if error_if_nonfinite and not math.isfinite(norm):
        raise ValueError(
            f"the gradient norm is {norm}, so the gradient cannot be clipped: {_nonfinite_report(grads)}. "
            f"Find where the gradient blew up, or pass error_if_nonfinite=False to clip it anyway"
        )
    return norm


def _scaled(g, factor):
    """g · factor, computed in float64 and returned in g's dtype (a new array)."""
    return (g * np.float64(factor)).astype(g.dtype, copy=False)


# --------------------------------------------------------------------------- norms


def global_norm(grads, keys=None):
    """‖g‖: the Euclidean norm of all the gradients laid end to end, as a float.

    grads: a dict {name: array}; keys: the names to include (None: all; see the module doc).
    NaN if an entry is NaN, otherwise inf if an entry is infinite. Never overflows for
    finite gradients. An empty dict has norm 0.
    """
    return _total_norm(_gradients(grads, keys), error_if_nonfinite=False)


def tensor_norms(grads, keys=None):
    """{name: ‖g_name‖}: the norm of each gradient on its own, as floats."""
    return _tensor_norms(_gradients(grads, keys))


def cosine(a, b, keys=None):
    """The cosine between two gradients, each laid end to end as one vector.

    a, b: dicts with the same names and shapes (only ``keys`` if given). Returns a float in
    [−1, 1]; 1 means the same direction. Raises ValueError if either gradient is zero
    (it has no direction) or non-finite.
    """
    a, b = _gradients(a, keys, "a"), _gradients(b, keys, "b")
    if set(a) != set(b):
        raise ValueError(f"a and b must hold the same gradients; got {sorted(a)} and {sorted(b)}")
    for name in a:
        if a[name].shape != b[name].shape:
            raise ValueError(
                f"a[{name!r}] and b[{name!r}] must have the same shape; got {a[name].shape} and {b[name].shape}"
            )
    norm_a, norm_b = _total_norm(a, True), _total_norm(b, True)
    if norm_a == 0 or norm_b == 0:
        raise ValueError("the cosine of a zero gradient is undefined; both gradients must be nonzero")
    # the dot product of the unit vectors, which cannot overflow
    dot = sum(float(np.dot(np.ravel(a[k] / norm_a), np.ravel(b[k] / norm_b))) for k in a)
    return max(-1.0, min(1.0, dot))


# --------------------------------------------------------------------------- the three clippings


def by_global_norm(grads, theta, *, keys=None, error_if_nonfinite=True):
    """Clip the global norm: every entry times min(1, θ / (‖g‖ + 1e-6)).

    grads: a dict {name: array of any shape}; theta: the threshold θ, a finite number > 0.
    keys:  the names to clip (None: every entry; see the module doc).
    error_if_nonfinite: raise ValueError if ‖g‖ is NaN or inf (True, the default), or
           apply the formula anyway (False, PyTorch's default).
    Returns (clipped, norm): a new dict of new arrays, each of its input's shape and dtype,
    with ‖clipped‖ ≤ θ (up to rounding in float32), and ‖g‖ before clipping, a float.
    """
    theta = _check_theta(theta)
    _check_flag(error_if_nonfinite)
    grads = _gradients(grads, keys)
    norm = _total_norm(grads, error_if_nonfinite)
    factor = float(np.minimum(1.0, theta / (norm + EPS)))  # np.minimum keeps a NaN
    with np.errstate(invalid="ignore"):  # inf · 0 = NaN, the documented result for an inf norm
        return {k: _scaled(g, factor) for k, g in grads.items()}, norm


def by_tensor_norm(grads, theta, *, keys=None, error_if_nonfinite=True):
    """Clip each tensor's norm on its own: g_i times θ / max(‖g_i‖, θ).

    Arguments as for :func:`by_global_norm`. Returns (clipped, norm): a new dict in which
    every tensor has norm ≤ θ (tensors already within θ are unchanged), and the global
    norm ‖g‖ before clipping.
    """
    theta = _check_theta(theta)
    _check_flag(error_if_nonfinite)
    grads = _gradients(grads, keys)
    norms = _tensor_norms(grads)
    norm = _total_norm(grads, error_if_nonfinite, norms)
    clipped = {}
    with np.errstate(invalid="ignore"):  # inf · 0 = NaN, as for by_global_norm
        for k, g in grads.items():
            factor = float(theta / np.maximum(norms[k], theta))  # np.maximum keeps a NaN
            clipped[k] = _scaled(g, factor)
    return clipped, norm


def by_value(grads, theta, *, keys=None, error_if_nonfinite=True):
    """Clip every entry to [−θ, θ].

    Arguments as for :func:`by_global_norm`. Returns (clipped, norm): a new dict of new
    arrays (same shapes and dtypes), and the global norm ‖g‖ before clipping. With
    ``error_if_nonfinite=False``, ±inf becomes ±θ and NaN stays NaN.
    """
    theta = _check_theta(theta)
    _check_flag(error_if_nonfinite)
    grads = _gradients(grads, keys)
    norm = _total_norm(grads, error_if_nonfinite)
    return {k: np.clip(g, -theta, theta) for k, g in grads.items()}, norm


#: The clippings by name, as :func:`vanishgrad.train.run` accepts them: ``clip=("global_norm", 1.0)``.
VARIANTS = {"global_norm": by_global_norm, "tensor_norm": by_tensor_norm, "value": by_value}
