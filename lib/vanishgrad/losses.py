"""Losses on the outputs of a sequence model, returning the loss and ∂L/∂o together.

Both take the outputs o (T, B, K) of :func:`vanishgrad.rnn.forward` (with g the
identity, y_t = o_t) and targets, and return ``(loss, do)`` where ``do`` (T, B, K) is
what :func:`vanishgrad.rnn.backward` expects:

- :func:`mse_last`: a loss on the last step only, L = (1/2B) Σ_b ‖o_T − y‖²; ``do`` is
  zero at every step but the last.
- :func:`mse_every_step`: a loss at every step, L = (1/2B) Σ_t Σ_b ‖o_t − y_t‖²
  (summed over time, averaged over the batch).
"""

import numpy as np

from .validation import as_float_array, check_finite, check_shape


def _outputs(o):
    """``o`` as a float array (float32 stays float32), checked to be (T, B, K) and finite."""
    dtype = getattr(o, "dtype", None)
    o = as_float_array("o", o, dtype=dtype if dtype in (np.float32, np.float64) else np.float64)
    if o.ndim != 3:
        raise ValueError(f"o must have shape (T, B, K) (time-major); got {o.shape}")
    check_finite("o", o)
    return o


def mse_last(o, y):
    """Half the squared error at the last step, averaged over the batch.

    o: (T, B, K) outputs; y: (B, K) targets for the last step.
    Returns (loss, do): a float and ∂L/∂o (T, B, K), zero for t < T.
    """
    o = _outputs(o)
    T, B, K = o.shape
    y = as_float_array("y", y, dtype=o.dtype)
    check_shape("y", y, (B, K), ("B", "K"))
    check_finite("y", y)
    diff = o[-1] - y
    do = np.zeros_like(o)
    do[-1] = diff / B
    return float(0.5 * np.sum(diff * diff) / B), do


def mse_every_step(o, y):
    """Half the squared error summed over the steps, averaged over the batch.

    o: (T, B, K) outputs; y: (T, B, K) targets, one per step.
    Returns (loss, do): a float and ∂L/∂o (T, B, K).
    """
    o = _outputs(o)
    T, B, K = o.shape
    y = as_float_array("y", y, dtype=o.dtype)
    check_shape("y", y, (T, B, K), ("T", "B", "K"))
    check_finite("y", y)
    diff = o - y
    return float(0.5 * np.sum(diff * diff) / B), diff / B
