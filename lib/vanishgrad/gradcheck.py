"""Gradient checking: central differences against analytic backward passes.

The relative error of the book is scale-aware::

    rel_error(a, b) = max |a − b| / max(1e-8, max(|a| + |b|))

measured against the largest entry of the pair rather than entry by entry. Where a
true gradient is tiny (a saturated sigmoid has σ'(30) ≈ 1e-13), the central difference
itself carries a rounding error near 1e-11, so an entry-by-entry ratio would flag a
correct gradient; against the array's own scale it does not.
"""

import numpy as np

from .validation import as_float_array, check_finite, check_positive


def numerical_gradient(f, x, eps=1e-5):
    """Central-difference gradient of the scalar function ``f`` at the array ``x``.

    f:   callable taking no arguments, reading ``x`` (which is perturbed in place and
         restored), returning a float.
    x:   float ndarray of any shape; it is unchanged on return, even if ``f`` raises.
    eps: step size. Returns an array of ``x``'s shape: (f(x + eps e_i) − f(x − eps e_i)) / 2eps.
    """
    if not isinstance(x, np.ndarray) or not np.issubdtype(x.dtype, np.floating):
        raise ValueError("x must be a floating-point numpy array, perturbed in place")
    check_positive("eps", eps)
    grad = np.zeros_like(x)
    flat_x, flat_grad = x.reshape(-1), grad.reshape(-1)
    if not np.shares_memory(flat_x, x):
        raise ValueError("x must be contiguous, so that it can be perturbed in place")
    for i in range(flat_x.size):
        old = flat_x[i]
        try:
            flat_x[i] = old + eps
            f_plus = float(f())
            flat_x[i] = old - eps
            f_minus = float(f())
        finally:
            flat_x[i] = old
        flat_grad[i] = (f_plus - f_minus) / (2.0 * eps)
    return grad


def numerical_jacobian(func, v, eps=1e-6):
    """Central-difference Jacobian of a vector function.

    func: callable mapping an array of shape (n,) to an array of shape (m,).
    v:    the point, (n,); it is not modified.
    eps:  step size.
    Returns (m, n): column j is (func(v + eps e_j) − func(v − eps e_j)) / 2eps.
    """
    check_positive("eps", eps)
    v = as_float_array("v", v)
    if v.ndim != 1:
        raise ValueError(f"v must have shape (n,); got {v.shape}")
    check_finite("v", v)
    columns = []
    for j in range(v.size):
        step = np.zeros_like(v)
        step[j] = eps
        plus = np.asarray(func(v + step), dtype=float)
        minus = np.asarray(func(v - step), dtype=float)
        if plus.ndim != 1:
            raise ValueError(f"func must return a vector of shape (m,); got {plus.shape}")
        columns.append((plus - minus) / (2.0 * eps))
    return np.stack(columns, axis=1)


def rel_error(a, b):
    """max |a − b| / max(1e-8, max(|a| + |b|)) for arrays of equal shape (see module doc)."""
    a = as_float_array("a", a)
    b = as_float_array("b", b)
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape; got {a.shape} and {b.shape}")
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b)) / max(1e-8, float(np.max(np.abs(a) + np.abs(b)))))


def check_forward_backward(forward, backward, inputs, seed=0, eps=1e-5):
    """Check a forward/backward pair against central differences; worst error per input.

    forward(**inputs) -> (out, cache)           out: array of any shape
    backward(dout, cache) -> dict name -> grad  grads shaped like the inputs

    A random upstream gradient ``dout`` (shape of ``out``) defines the scalar
    L = Σ out · dout, whose gradient with respect to each input is what ``backward``
    returns. Every input named in both ``inputs`` and the returned dict is checked.
    Returns {name: rel_error(analytic, numerical)}. ``inputs`` is left unchanged.
    """
    rng = np.random.default_rng(seed)
    out, cache = forward(**inputs)
    dout = rng.standard_normal(np.shape(out))
    grads = backward(dout, cache)
    if not isinstance(grads, dict):
        raise ValueError("backward must return a dict mapping input names to gradients")
    errors = {}
    for name, value in inputs.items():
        if name not in grads or not isinstance(value, np.ndarray):
            continue

        def loss():
            return float(np.sum(forward(**inputs)[0] * dout))

        numeric = numerical_gradient(loss, value, eps=eps)
        errors[name] = rel_error(grads[name], numeric)
    return errors
