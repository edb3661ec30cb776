"""Activation functions f and their derivatives f', looked up by name.

Each derivative is available two ways:

- ``df(net)``: f'(net) from the pre-activation;
- ``df_from_output(h)``: the same value from the output h = f(net), which backward
  passes use so they need not recompute f (σ' = h(1 − h), tanh' = 1 − h²).

``gamma`` is sup |f'|, the constant of the book's bounds: 1/4 for sigmoid, 1 for tanh.

Every function takes an array or anything numpy turns into one (a list, a number) and
follows the library's dtype convention (:mod:`vanishgrad.validation`): float32 in gives
float32 out, any other real input gives float64; complex input is a ``ValueError``.
A NaN or inf passes through elementwise, as in numpy (training code relies on it to
notice divergence), except that ``df_from_output`` refuses values f cannot produce:
outside [0, 1] for the sigmoid, outside [−1, 1] for tanh, negative for relu.

Reading f' off the output is exact in the sigmoid's negative tail, where h is tiny and
1 − h is 1, but not where h rounds towards 1 (the sigmoid's positive tail, both tails of
tanh): there 1 − h keeps only the bits h has left, and at σ(40) = 1 − 4e-18, which rounds
to 1.0, h(1 − h) is 0. ``df(net)`` is accurate in both tails.
"""

from collections import namedtuple

import numpy as np

from .validation import as_real_array, check_choice, check_range

Activation = namedtuple("Activation", "name f df df_from_output gamma")


def _exp_minus_abs(x, c):
    """e^{−c|x|} as a new array of x's shape and dtype (x: a float array, c: 1 or 2).

    The activations below build on it in place: a chapter's training loop calls them on
    every layer at every step, and each temporary array costs as much as the arithmetic.
    """
    z = np.abs(x, out=np.empty(x.shape, x.dtype))
    z *= -c
    np.exp(z, out=z)
    return z


def sigmoid(x):
    """σ(x) = 1 / (1 + e^{-x}), elementwise, without overflow for any finite x.

    Uses z = e^{-|x|} ≤ 1, so exp never overflows: σ(x) = 1/(1+z) for x ≥ 0 and
    z/(1+z) for x < 0, each accurate to a few ulps. σ(1e4) is 1.0 and σ(-1e4) is 0.0,
    with no warning.
    """
    x = as_real_array("x", x)
    z = _exp_minus_abs(x, 1.0)
    out = np.empty(x.shape, x.dtype)
    np.greater_equal(x, 0.0, out=out, casting="unsafe")  # 1 for x ≥ 0, else 0
    np.maximum(out, z, out=out)  # the numerator: 1 for x ≥ 0, z for x < 0
    z += 1.0
    out /= z
    return out


def sigmoid_grad(x):
    """σ'(x) = σ(x)(1 − σ(x)) = z / (1 + z)², z = e^{-|x|}; at most 1/4, at x = 0."""
    x = as_real_array("x", x)
    z = _exp_minus_abs(x, 1.0)
    denominator = z + 1.0
    denominator *= denominator
    z /= denominator
    return z


def sigmoid_grad_from_output(h):
    """σ' expressed through the output h = σ(net) ∈ [0, 1]: h (1 − h)."""
    h = as_real_array("h", h)
    check_range("h", h, 0.0, 1.0, "outputs of the sigmoid")
    return h * (1.0 - h)


def tanh(x):
    """tanh(x), elementwise."""
    return np.tanh(as_real_array("x", x))


def tanh_grad(x):
    """tanh'(x) = 1 − tanh²(x) = 4 z / (1 + z)², z = e^{-2|x|}; at most 1, at x = 0."""
    x = as_real_array("x", x)
    z = _exp_minus_abs(x, 2.0)
    denominator = z + 1.0
    denominator *= denominator
    z *= 4.0
    z /= denominator
    return z


def tanh_grad_from_output(h):
    """tanh' expressed through the output h = tanh(net) ∈ [−1, 1]: 1 − h²."""
    h = as_real_array("h", h)
    check_range("h", h, -1.0, 1.0, "outputs of tanh")
    return 1.0 - h * h


def relu(x):
    """max(0, x), elementwise."""
    x = as_real_array("x", x)
    return np.maximum(x, 0.0)


def relu_grad(x):
    """1 where x > 0, else 0 (the subgradient 0 is taken at x = 0)."""
    x = as_real_array("x", x)
    return (x > 0).astype(x.dtype)


def relu_grad_from_output(h):
    """relu' expressed through the output h = relu(net) ≥ 0: 1 where h > 0, else 0."""
    h = as_real_array("h", h)
    check_range("h", h, 0.0, None, "outputs of relu")
    return (h > 0).astype(h.dtype)


def identity(x):
    """x itself: the linear network of the book's spectral arguments."""
    return as_real_array("x", x)


def identity_grad(x):
    """1 everywhere."""
    return np.ones_like(as_real_array("x", x))


def identity_grad_from_output(h):
    """1 everywhere."""
    return np.ones_like(as_real_array("h", h))


ACTIVATIONS = {
    "sigmoid": Activation("sigmoid", sigmoid, sigmoid_grad, sigmoid_grad_from_output, 0.25),
    "tanh": Activation("tanh", tanh, tanh_grad, tanh_grad_from_output, 1.0),
    "relu": Activation("relu", relu, relu_grad, relu_grad_from_output, 1.0),
    "identity": Activation("identity", identity, identity_grad, identity_grad_from_output, 1.0),
}


def get(name):
    """The :class:`Activation` called ``name``; ``ValueError`` listing the known names otherwise.

    An :class:`Activation` passed in is returned as it is, so functions may accept either.
    """
    if isinstance(name, Activation):
        return name
    check_choice("activation", name, ACTIVATIONS)
    return ACTIVATIONS[name]
