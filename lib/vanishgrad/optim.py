"""Optimisers: stochastic gradient descent (with momentum) and Adam, with their state in view.

An optimiser holds the parameter dict it was given (``{name: array}``, e.g. what
:func:`vanishgrad.rnn.init_params` returns) and updates its arrays **in place** at each
:meth:`step`, so every reference to them sees the new values. Its state is plain
attributes, one array per parameter, of the parameter's shape and dtype. For each parameter
p and its gradient g:

- :class:`SGD`: the velocity v; with momentum μ (0 ≤ μ < 1) and learning rate η::

      v ← μ v + g          p ← p − η v          (v = g when μ = 0)

  This is PyTorch's ``torch.optim.SGD`` with ``dampening=0`` and ``nesterov=False``.
- :class:`Adam` (Kingma & Ba 2015, Algorithm 1): the step count t and the moment
  estimates m and v, starting at zero; with β₁, β₂ in [0, 1) and ε > 0::

      t ← t + 1
      m ← β₁ m + (1 − β₁) g          v ← β₂ v + (1 − β₂) g ⊙ g
      m̂ = m / (1 − β₁ᵗ)              v̂ = v / (1 − β₂ᵗ)
      p ← p − η m̂ / (√v̂ + ε)

  This is PyTorch's ``torch.optim.Adam`` with its defaults (η = 1e-3, β = (0.9, 0.999),
  ε = 1e-8, no weight decay, no AMSGrad); ε is added after the bias-corrected square root.

Neither has weight decay. ``grads`` passed to :meth:`step` must hold exactly the
parameters' names, each of its parameter's shape, and finite numbers; anything else is a
``ValueError`` naming the entry. The arithmetic is in each parameter's dtype, so float32
parameters and their state stay float32. The learning rate can be changed between steps
(``opt.lr = 1e-4``) and is checked when it is.
"""

from collections.abc import Mapping

import numpy as np

from .validation import check_finite, check_positive, check_shape


def _check_params(params):
    """The dict itself, after checking that each value is a finite float ndarray to update in place."""
    if not isinstance(params, dict) or not params:
        raise ValueError(
            f"params must be a non-empty dict {{name: array}} of the parameters to train; got {params!r:.80}"
        )
    for name, p in params.items():
        if not (isinstance(p, np.ndarray) and p.dtype.kind == "f"):
            got = f"array of dtype {p.dtype}" if isinstance(p, np.ndarray) else type(p).__name__
            raise ValueError(
                f"params[{name!r}] must be a numpy array of floats (float32 or float64), which the "
                f"optimiser updates in place; got {got}"
            )
        if not p.flags.writeable:
            raise ValueError(f"params[{name!r}] is read-only; pass a writeable array (e.g. a copy)")
        check_finite(f"params[{name!r}]", p)
    return params


def _check_fraction(name, value):
    """A number in [0, 1), as a float."""
    is_number = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    if not (is_number and 0 <= value < 1):
        raise ValueError(f"{name} must be a number in [0, 1); got {value!r}")
    return float(value)


class _Optimizer:
    """What SGD and Adam share: the parameters, the learning rate and the check of grads."""

    def __init__(self, params, lr):
        self.params = _check_params(params)
        self.lr = lr
        self.t = 0  # the number of steps taken

    @property
    def lr(self):
        """The learning rate η, a finite number > 0."""
        return self._lr

    @lr.setter
    def lr(self, value):
        check_positive("lr", value)
        self._lr = float(value)

    def _zeros(self):
        return {name: np.zeros_like(p) for name, p in self.params.items()}

    def _checked(self, grads):
        """grads as arrays in the parameters' dtypes, after checking names, shapes and finiteness."""
        if not isinstance(grads, Mapping):
            raise ValueError(f"grads must be a dict {{name: array}} like params; got {type(grads).__name__}")
        missing = [k for k in self.params if k not in grads]
        if missing:
            raise ValueError(f"grads has no entry for the parameter(s) {', '.join(map(repr, missing))}")
        extra = [k for k in grads if k not in self.params]
        if extra:
            raise ValueError(
                f"grads[{extra[0]!r}] is not a parameter (the parameters are "
                f"{', '.join(map(repr, self.params))}); pass only the parameters' gradients"
            )
        out = {}
        for name, p in self.params.items():
            label = f"grads[{name!r}]"
            g = np.asarray(grads[name])
            if g.dtype.kind not in "biuf":
                raise ValueError(f"{label} must be an array of real numbers; got dtype {g.dtype}")
            check_shape(label, g, p.shape)
            if not np.isfinite(g).all():
                check_finite(label, g)  # raises, counting the NaN and inf
            out[name] = g.astype(p.dtype, copy=False)
        return out


class SGD(_Optimizer):
    """Gradient descent with optional momentum: v ← μ v + g, p ← p − η v.

    params:   a dict {name: float ndarray}, updated in place by :meth:`step`.
    lr:       the learning rate η, a finite number > 0.
    momentum: μ in [0, 1); 0 (the default) is plain gradient descent.
    State: ``velocity`` {name: array of the parameter's shape}, zero at first; ``t``, the
    number of steps taken.
    """

    def __init__(self, params, lr, momentum=0.0):
        super().__init__(params, lr)
        self.momentum = _check_fraction("momentum", momentum)
        self.velocity = self._zeros()

    def step(self, grads):
        """One update of every parameter, in place, from grads {name: array like params[name]}."""
        grads = self._checked(grads)
        for name, p in self.params.items():
            v = self.velocity[name]
            v *= self.momentum
            v += grads[name]
            p -= self.lr * v
        self.t += 1

    def __repr__(self):
        return f"SGD(lr={self.lr:g}, momentum={self.momentum:g}, steps taken={self.t})"


class Adam(_Optimizer):
    """Adam (Kingma & Ba 2015) with bias correction, as PyTorch's default.

    params: a dict {name: float ndarray}, updated in place by :meth:`step`.
    lr:     the learning rate η, a finite number > 0 (default 1e-3).
    betas:  (β₁, β₂), each in [0, 1) (default (0.9, 0.999)).
    eps:    ε, a finite number > 0 (default 1e-8), added to √v̂.
    State: ``t``, the number of steps taken; ``m`` and ``v`` {name: array of the
    parameter's shape}, the running means of g and g ⊙ g, zero at first.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        super().__init__(params, lr)
        if not (isinstance(betas, (tuple, list)) and len(betas) == 2):
            raise ValueError(f"betas must be a pair (beta1, beta2), each in [0, 1); got {betas!r}")
        self.beta1 = _check_fraction("beta1", betas[0])
        self.beta2 = _check_fraction("beta2", betas[1])
        check_positive("eps", eps)
        self.eps = float(eps)
        self.m = self._zeros()
        self.v = self._zeros()

    def step(self, grads):
        """One update of every parameter, in place, from grads {name: array like params[name]}."""
        grads = self._checked(grads)
        self.t += 1
        correction1 = 1.0 - self.beta1 ** self.t
        correction2 = 1.0 - self.beta2 ** self.t
        for name, p in self.params.items():
            g, m, v = grads[name], self.m[name], self.v[name]
            m *= self.beta1
            m += (1.0 - self.beta1) * g
            v *= self.beta2
            v += (1.0 - self.beta2) * (g * g)
            m_hat = m / correction1
            v_hat = v / correction2
            p -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)

    def __repr__(self):
        return (f"Adam(lr={self.lr:g}, betas=({self.beta1:g}, {self.beta2:g}), eps={self.eps:g}, "
                f"steps taken={self.t})")
