"""Argument checks shared by every module: clear errors that say what to fix.

Every public function of the library checks its arguments with these helpers, so one
kind of mistake gets one kind of message everywhere.

The dtype convention, the same in every module
----------------------------------------------
The library computes in float32 or float64 and nothing else.

- ``dtype=None`` (the default wherever there is a ``dtype`` argument, and the rule where
  there is none) means *the inputs' own floating dtype*: float32 input stays float32;
  every other real input (integer, bool, float16, float64, ...) becomes float64; several
  inputs meet in the wider of their dtypes, so one float64 input makes the result float64.
  Float32 in gives float32 out; integer in gives float64 out. A function that creates
  arrays from nothing (``init_params``) uses float64. (The targets of a loss take the
  dtype of the outputs they are compared with.)
- An explicit ``dtype`` must be float32 or float64; anything else is a ``ValueError``.
- Complex, object and string input is a ``ValueError``: a complex array is never silently
  cut to its real part. (:func:`vanishgrad.jacobian.spectral_radius` and
  :func:`~vanishgrad.jacobian.sigma_max` accept complex matrices, where eigenvalues and
  singular values are defined and numpy computes them.)

Errors
------
Bad data raise ``ValueError`` naming the argument and saying what to pass: input that is
not real numbers (:func:`as_real_array`, :func:`as_real_arrays`), a wrong shape
(:func:`check_shape` names the expected and the given shape), a NaN or inf
(:func:`check_finite`), an empty batch (:func:`check_nonempty`), a cache that did not
come from the matching forward pass (:func:`check_cache`), a number out of its range
(:func:`check_positive`, :func:`check_integer`, :func:`check_range`), an unknown name
(:func:`check_choice`), a seed that is not one (:func:`as_generator`), a container of the
wrong kind (a list where a dict of parameters is expected). ``TypeError`` is kept for what
Python itself reports as one: something that must be called is not callable
(:func:`check_callable`), or a callable returns something that is not a number.
"""

import numpy as np

#: The dtypes the library computes in.
FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def check_dtype(dtype, name="dtype"):
    """``None`` as it is, or ``np.dtype(dtype)`` if that is float32 or float64; ``ValueError`` otherwise."""
    if dtype is None:
        return None
    try:
        resolved = np.dtype(dtype)
    except TypeError as exc:
        raise ValueError(
            f"{name} must be float32 or float64 (or None for the inputs' own dtype); got {dtype!r}"
        ) from exc
    if resolved not in FLOAT_DTYPES:
        raise ValueError(
            f"{name} must be float32 or float64 (or None for the inputs' own dtype); got {resolved}"
        )
    return resolved


def as_real_array(name, value, dtype=None):
    """``value`` as a float32 or float64 numpy array; ``ValueError`` if it is not real numbers.

    dtype: None keeps float32 as float32 and turns every other real input (integer, bool,
           float64, ...) into float64; float32 or float64 converts to that dtype.
    Complex, object and string input is refused, as is a ragged nested list. An array
    that already has the wanted dtype is returned as it is, without a copy.
    """
    dtype = check_dtype(dtype)
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"{name} must be a numeric array of real numbers; got {type(value).__name__} "
            f"that numpy cannot turn into one ({exc})"
        ) from exc
    kind = array.dtype.kind
    if kind == "c":
        raise ValueError(
            f"{name} must be real; got a complex array ({array.dtype}). "
            f"Pass {name}.real if the imaginary part is meant to be dropped"
        )
    if kind not in "biuf":
        raise ValueError(
            f"{name} must be a numeric array of real numbers; got {type(value).__name__} of dtype {array.dtype}"
        )
    if dtype is None:
        dtype = np.dtype(np.float32) if array.dtype == np.float32 else np.dtype(np.float64)
    return array.astype(dtype, copy=False)


def as_float_array(name, value, dtype=np.float64):
    """:func:`as_real_array` with float64 as the default dtype (kept for existing callers)."""
    return as_real_array(name, value, dtype)


def _common_dtype(*arrays):
    """The dtype several arrays meet in: float32 if every one is float32, float64 otherwise."""
    if arrays and all(getattr(a, "dtype", None) == np.float32 for a in arrays):
        return np.dtype(np.float32)
    return np.dtype(np.float64)


def as_real_arrays(named, dtype=None):
    """Several inputs as arrays of one dtype: ``[as_real_array(name, value) ...]`` in one go.

    named: a dict {argument name: value}, in the order the arrays are to be returned.
    dtype: None for the dtype the inputs meet in (float32 if every one is float32, float64
           otherwise), or float32 / float64.
    Returns a list of arrays, all of the same dtype.
    """
    dtype = check_dtype(dtype)
    arrays = [as_real_array(name, value) for name, value in named.items()]
    dtype = dtype if dtype is not None else _common_dtype(*arrays)
    return [a.astype(dtype, copy=False) for a in arrays]


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
    """Raise ``ValueError`` if ``array`` holds NaN or inf, saying how many.

    Fast path: any NaN or inf makes the sum NaN or inf, so a finite sum proves every
    entry finite without an elementwise pass (or a temporary boolean array). A
    non-finite sum (a bad entry, or an overflow of the sum itself) falls through to the
    exact elementwise count. Integer and boolean arrays are finite by construction.
    """
    if not isinstance(array, np.ndarray):
        array = np.asarray(array)
    kind = array.dtype.kind
    if kind in "biu":
        return
    if kind not in "fc":
        raise ValueError(f"{name} must be an array of numbers; got dtype {array.dtype}")
    with np.errstate(over="ignore", invalid="ignore"):
        total = np.add.reduce(array, axis=None)
    if np.isfinite(total):
        return
    bad = int(array.size - np.count_nonzero(np.isfinite(array)))
    if bad:
        raise ValueError(f"{name} holds {bad} non-finite value(s) (NaN or inf); pass finite numbers")


def check_nonempty(name, array, dims):
    """Raise ``ValueError`` if an axis of ``array`` has size 0, naming the axis.

    dims: the symbolic names of the axes, e.g. ``("T", "B", "K")``; the message reads
          ``o must have at least one entry along every axis, (T, B, K) = (5, 0, 2): B is 0``.
    """
    shape = np.shape(array)
    empty = [d for d, s in zip(dims, shape) if s == 0]
    if empty:
        raise ValueError(
            f"{name} must have at least one entry along every axis, ({', '.join(dims)}) = "
            f"{tuple(shape)}: {', '.join(empty)} {'is' if len(empty) == 1 else 'are'} 0; pass a non-empty batch"
        )


def check_cache(cache, keys, source, name="cache"):
    """Raise ``ValueError`` unless ``cache`` is a dict holding every one of ``keys``.

    source: the forward pass the cache must come from, e.g. ``"rnn.forward"``; the
            message names the missing keys and says to pass that function's cache.
    """
    if not isinstance(cache, dict):
        raise ValueError(
            f"{name} must be the dict returned by {source}; got {type(cache).__name__}"
        )
    missing = [k for k in keys if k not in cache]
    if missing:
        raise ValueError(
            f"{name} lacks {', '.join(repr(k) for k in missing)}: pass the cache returned by {source}, "
            "unchanged"
        )


def check_range(name, array, low, high, what):
    """Raise ``ValueError`` unless every entry of ``array`` lies in [low, high] (NaN does not).

    low, high: bounds, ``None`` for no bound on that side.
    what:      what the values must be, for the message, e.g. ``"outputs of the sigmoid"``.
    """
    array = np.asarray(array)
    ok = np.ones(array.shape, dtype=bool)
    if low is not None:
        ok &= array >= low
    if high is not None:
        ok &= array <= high
    if not np.all(ok):
        lo = -np.inf if low is None else low
        hi = np.inf if high is None else high
        bad = array[~ok]
        raise ValueError(
            f"{name} must hold {what}, in [{lo:g}, {hi:g}]; got {bad.size} value(s) outside it "
            f"(the first is {bad.flat[0]:g})"
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


def check_callable(name, value):
    """Raise ``TypeError`` unless ``value`` can be called."""
    if not callable(value):
        raise TypeError(f"{name} must be a callable (a function); got {type(value).__name__}")


def check_integer(name, value, minimum=None, maximum=None):
    """Return ``int(value)`` if it is an integer (not a bool) in [minimum, maximum]; ``ValueError`` otherwise."""
    is_int = isinstance(value, (int, np.integer)) and not isinstance(value, bool)
    if is_int and (minimum is None or value >= minimum) and (maximum is None or value <= maximum):
        return int(value)
    if minimum is not None and maximum is not None:
        want = f"an integer with {minimum} <= {name} <= {maximum}"
    elif minimum == 1:
        want = "a positive integer"
    elif minimum is not None:
        want = f"an integer >= {minimum}"
    else:
        want = "an integer"
    raise ValueError(f"{name} must be {want}; got {value!r}")


def as_generator(rng, name="rng"):
    """``np.random.default_rng(rng)`` for None, an integer seed or a Generator; ``ValueError`` otherwise."""
    if isinstance(rng, bool) or not (
        rng is None or isinstance(rng, (int, np.integer, np.random.Generator, np.random.SeedSequence,
                                        np.random.BitGenerator))
    ):
        raise ValueError(f"{name} must be None, an integer seed or a np.random.Generator; got {rng!r}")
    if isinstance(rng, (int, np.integer)) and rng < 0:
        raise ValueError(f"{name} must be None, an integer seed >= 0 or a np.random.Generator; got {rng!r}")
    return np.random.default_rng(rng)
