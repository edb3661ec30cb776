"""Losses on the outputs of a sequence model, returning the loss and ∂L/∂o together.

Both take the outputs o (T, B, K) of :func:`vanishgrad.rnn.forward` (with g the
identity, y_t = o_t) and targets, and return ``(loss, do)`` where ``do`` (T, B, K) is
what :func:`vanishgrad.rnn.backward` expects:

- :func:`mse_last`: a loss on the last step only, L = (1/2B) Σ_b ‖o_T − y‖²; ``do`` is
  zero at every step but the last.
- :func:`mse_every_step`: a loss at every step, L = (1/2B) Σ_t Σ_b ‖o_t − y_t‖²
  (summed over time, averaged over the batch).

dtype: ``o`` keeps its own dtype (float32 stays float32; integer becomes float64, as
everywhere in the library) and the targets ``y`` are converted to it, so ``do`` has the
dtype of ``o``. Both raise ValueError on a wrong shape, an empty batch (T, B or K = 0),
complex input, or a NaN or inf in ``o`` or ``y``.
"""

import numpy as np

from .validation import as_real_array, check_finite, check_nonempty, check_shape


def _outputs(o):
    """``o`` as a real array (float32 stays float32), checked to be (T, B, K), non-empty and finite."""
    o = as_real_array("o", o)
    if o.ndim != 3:
        raise ValueError(f"o must have shape (T, B, K) (time-major); got {o.shape}")
    check_nonempty("o", o, ("T", "B", "K"))
    check_finite("o", o)
    return o


def _targets(y, o, expected, dims):
    """``y`` in o's dtype, checked against its expected shape and to be finite."""
    y = as_real_array("y", y, dtype=o.dtype)
    check_shape("y", y, expected, dims)
    check_finite("y", y)
    return y


def mse_last(o, y):
    """Half the squared error at the last step, averaged over the batch.

    o: (T, B, K) outputs; y: (B, K) targets for the last step.
    Returns (loss, do): a float and ∂L/∂o (T, B, K), zero for t < T.
    """
    o = _outputs(o)
    T, B, K = o.shape
    y = _targets(y, o, (B, K), ("B", "K"))
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
    y = _targets(y, o, (T, B, K), ("T", "B", "K"))
    diff = o - y
    return float(0.5 * np.sum(diff * diff) / B), diff / B
