"""Activation functions f and their derivatives f', looked up by name.

Each derivative is available two ways:

- ``df(net)``: f'(net) from the pre-activation;
- ``df_from_output(h)``: the same value from the output h = f(net), which backward
  passes use so they need not recompute f (σ' = h(1 − h), tanh' = 1 − h²).

``gamma`` is sup |f'|, the constant of the book's bounds: 1/4 for sigmoid, 1 for tanh.
"""

from collections import namedtuple

import numpy as np

from .validation import check_choice

Activation = namedtuple("Activation", "name f df df_from_output gamma")


def sigmoid(x):
    """σ(x) = 1 / (1 + e^{-x}), elementwise, without overflow for any finite x.

    Uses z = e^{-|x|} ≤ 1, so exp never overflows: σ(x) = 1/(1+z) for x ≥ 0 and
    z/(1+z) for x < 0. σ(1e4) is 1.0 and σ(-1e4) is 0.0, with no warning.
    """
    x = np.asarray(x, dtype=float)
    z = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z))


def sigmoid_grad(x):
    """σ'(x) = σ(x)(1 − σ(x)) = z / (1 + z)², z = e^{-|x|}; at most 1/4, at x = 0."""
    z = np.exp(-np.abs(np.asarray(x, dtype=float)))
    return z / (1.0 + z) ** 2


def sigmoid_grad_from_output(h):
    """σ' expressed through the output h = σ(net)."""
    return h * (1.0 - h)


def tanh(x):
    """tanh(x), elementwise."""
    return np.tanh(x)


def tanh_grad(x):
    """tanh'(x) = 1 − tanh²(x) = 4 z / (1 + z)², z = e^{-2|x|}; at most 1, at x = 0."""
    z = np.exp(-2.0 * np.abs(np.asarray(x, dtype=float)))
    return 4.0 * z / (1.0 + z) ** 2


def tanh_grad_from_output(h):
    """tanh' expressed through the output h = tanh(net)."""
    return 1.0 - h * h


def relu(x):
    """max(0, x), elementwise."""
    return np.maximum(x, 0.0)


def relu_grad(x):
    """1 where x > 0, else 0 (the subgradient 0 is taken at x = 0)."""
    return (np.asarray(x) > 0).astype(float)


def relu_grad_from_output(h):
    """relu' expressed through the output h = relu(net)."""
    return (h > 0).astype(h.dtype)


def identity(x):
    """x itself: the linear network of the book's spectral arguments."""
    return np.asarray(x, dtype=float)


def identity_grad(x):
    """1 everywhere."""
    return np.ones_like(np.asarray(x, dtype=float))


def identity_grad_from_output(h):
    """1 everywhere."""
    return np.ones_like(h)


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
