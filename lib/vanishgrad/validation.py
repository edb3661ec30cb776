"""Argument checks shared by every module: clear errors that say what to fix."""

import numpy as np


def as_float_array(name, value, dtype=np.float64):
    """Return ``value`` as a numpy array of ``dtype``; raise if it is not numeric."""
    try:
        return np.asarray(value, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a numeric array; got {type(value).__name__}") from exc


def check_shape(name, array, expected, dims=None):
    """Raise ``ValueError`` unless ``array.shape`` matches ``expected``.

    expected: tuple of ints, with ``None`` for any size.
    dims:     optional symbolic names of the axes, e.g. ``("T", "B", "D")``,
              so the message reads ``x must have shape (T, B, D) = (?, ?, 3); got (5, 2, 4)``.
    """
    shape = np.shape(array)
    ok = len(shape) == len(expected) and all(e is None or e == s for e, s in zip(expected, shape))
    if ok:
        return
    sizes = "(" + ", ".join("?" if e is None else str(e) for e in expected) + ("," if len(expected) == 1 else "") + ")"
    if dims is not None:
        sizes = "(" + ", ".join(dims) + ("," if len(dims) == 1 else "") + ") = " + sizes
    raise ValueError(f"{name} must have shape {sizes}; got {tuple(shape)}")


def check_finite(name, array):
    """Raise ``ValueError`` if ``array`` holds NaN or inf."""
    array = np.asarray(array)
    if not np.all(np.isfinite(array)):
        bad = int(np.size(array) - np.count_nonzero(np.isfinite(array)))
        raise ValueError(
            f"{name} holds {bad} non-finite value(s) (NaN or inf); pass finite numbers"
        )


def check_positive(name, value):
    """Raise ``ValueError`` unless ``value`` is a finite number > 0."""
    is_number = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    if not (is_number and np.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a finite number > 0; got {value!r}")


def check_choice(name, value, known):
    """Raise ``ValueError`` unless ``value`` is one of ``known``, listing them."""
    if not isinstance(value, str) or value not in known:
        raise ValueError(f"unknown {name} {value!r}; choose one of {', '.join(sorted(known))}")
