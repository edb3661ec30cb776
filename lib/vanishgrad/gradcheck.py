"""Gradient checking: central differences against analytic backward passes.

The relative error of the book is scale-aware::

    rel_error(a, b) = max |a − b| / max(1e-8, max(|a| + |b|))

measured against the largest entry of the pair rather than entry by entry. Where a
true gradient is tiny (a saturated sigmoid has σ'(30) ≈ 1e-13), the central difference
itself carries a rounding error near 1e-11, so an entry-by-entry ratio would flag a
correct gradient; against the array's own scale it does not.
"""

import numpy as np

from .validation import as_generator, as_real_array, check_callable, check_finite, check_positive


def _scalar(value, what):
    """``value`` (what f returned) as a finite float; TypeError or ValueError saying what is wrong."""
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"f must return a real number; {what} it returned {type(value).__name__}") from exc
    if array.dtype.kind not in "biuf":
        got = f"an array of dtype {array.dtype}" if isinstance(value, np.ndarray) else f"{value!r:.40} ({type(value).__name__})"
        raise TypeError(f"f must return a real number; {what} it returned {got}")
    if array.size != 1:
        raise ValueError(f"f must return a scalar (one number, the loss); {what} it returned an array "
                         f"of shape {array.shape}")
    number = float(array.reshape(()))
    if not np.isfinite(number):
        raise ValueError(f"f must return a finite number; {what} it returned {number}")
    return number


def numerical_gradient(f, x, eps=1e-5):
    """Central-difference gradient of the scalar function ``f`` at the array ``x``.

    f:   callable taking no arguments, reading ``x`` (which is perturbed in place and
         restored), returning a finite real number.
    x:   float ndarray of any shape; it is unchanged on return, even if ``f`` raises.
    eps: step size. Returns an array of ``x``'s shape: (f(x + eps e_i) − f(x − eps e_i)) / 2eps.
    Raises TypeError if f is not callable or returns something that is not a number, and
    ValueError if it returns an array of more than one number, NaN or inf (naming the entry).
    """
    check_callable("f", f)
    if not isinstance(x, np.ndarray) or not np.issubdtype(x.dtype, np.floating):
        raise ValueError(f"x must be a floating-point numpy array, perturbed in place; got "
                         f"{type(x).__name__}{' of dtype ' + str(x.dtype) if isinstance(x, np.ndarray) else ''}")
    check_positive("eps", eps)
    grad = np.zeros_like(x)
    flat_x, flat_grad = x.reshape(-1), grad.reshape(-1)
    if not np.shares_memory(flat_x, x):
        raise ValueError("x must be contiguous, so that it can be perturbed in place")
    for i in range(flat_x.size):
        old = flat_x[i]
        try:
            flat_x[i] = old + eps
            f_plus = _scalar(f(), f"at x.flat[{i}] + eps")
            flat_x[i] = old - eps
            f_minus = _scalar(f(), f"at x.flat[{i}] - eps")
        finally:
            flat_x[i] = old
        flat_grad[i] = (f_plus - f_minus) / (2.0 * eps)
    return grad


def numerical_jacobian(func, v, eps=1e-6):
    """Central-difference Jacobian of a vector function.

    func: callable mapping an array of shape (n,) to an array of shape (m,).
    v:    the point, (n,) with n ≥ 1; it is not modified.
    eps:  step size.
    Returns (m, n): column j is (func(v + eps e_j) − func(v − eps e_j)) / 2eps, in v's dtype
    (float32 stays float32, where central differences are coarse: check in float64).
    Raises TypeError if func is not callable, ValueError on an empty or non-finite v, or if
    func returns something other than a finite real vector of one fixed shape.
    """
    check_callable("func", func)
    check_positive("eps", eps)
    v = as_real_array("v", v)
    if v.ndim != 1:
        raise ValueError(f"v must have shape (n,); got {v.shape}")
    if v.size == 0:
        raise ValueError("v must hold at least one entry (n >= 1); got an empty array")
    check_finite("v", v)
    columns = []
    for j in range(v.size):
        step = np.zeros_like(v)
        step[j] = eps
        values = []
        for sign in ("+", "-"):
            out = as_real_array("func's output", func(v + step if sign == "+" else v - step))
            if out.ndim != 1 or (columns and out.shape != columns[0].shape):
                want = f"({columns[0].size},) as at v[0]" if columns else "(m,)"
                raise ValueError(f"func must return a vector of shape {want}; got {out.shape} at v[{j}] {sign} eps")
            check_finite(f"func's output at v[{j}] {sign} eps", out)
            values.append(out)
        columns.append((values[0] - values[1]) / (2.0 * eps))
    return np.stack(columns, axis=1).astype(v.dtype, copy=False)


def rel_error(a, b):
    """max |a − b| / max(1e-8, max(|a| + |b|)) for arrays of equal shape (see module doc).

    Raises ValueError if a and b differ in shape, are complex or hold NaN or inf.
    """
    a = as_real_array("a", a)
    b = as_real_array("b", b)
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape; got {a.shape} and {b.shape}")
    check_finite("a", a)
    check_finite("b", b)
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
    Raises TypeError if forward or backward is not callable, ValueError if inputs is not
    a dict, forward does not return a pair (out, cache), or backward does not return a dict.
    """
    check_callable("forward", forward)
    check_callable("backward", backward)
    if not isinstance(inputs, dict):
        raise ValueError(f"inputs must be a dict {{argument name: array}} for forward(**inputs); "
                         f"got {type(inputs).__name__}")
    rng = as_generator(seed, name="seed")
    result = forward(**inputs)
    if not (isinstance(result, tuple) and len(result) == 2):
        got = f"a tuple of {len(result)}" if isinstance(result, tuple) else type(result).__name__
        raise ValueError(f"forward must return a pair (out, cache), as every forward pass of the "
                         f"library does; got {got}")
    out, cache = result
    dout = rng.standard_normal(np.shape(out))
    grads = backward(dout, cache)
    if not isinstance(grads, dict):
        raise ValueError(f"backward must return a dict mapping input names to gradients; "
                         f"got {type(grads).__name__}")
    errors = {}
    for name, value in inputs.items():
        if name not in grads or not isinstance(value, np.ndarray):
            continue

        def loss():
            return float(np.sum(forward(**inputs)[0] * dout))

        numeric = numerical_gradient(loss, value, eps=eps)
        errors[name] = rel_error(grads[name], numeric)
    return errors
