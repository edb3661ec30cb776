"""Synthetic tasks that need a long memory, and the spirals of chapter 1: seeded data generators.

Every generator takes ``rng``, a seed (a non-negative integer), a ``np.random.Generator``
or None (fresh entropy), and the same seed gives the same arrays. Sequence batches are
time-major, as everywhere in the library: x is (T, B, D).

- :func:`adding`: the adding problem in its modern form (Arjovsky, Shah & Bengio 2016):
  values in U[0, 1], two marked steps, the target their sum; predicting 1 always scores
  :data:`ADDING_BASELINE_MSE` = 1/6.
- :func:`adding_hochreiter`: the adding problem as Hochreiter & Schmidhuber (1997) posed
  it (their Experiment 4): values in U[−1, 1], markers in {−1, 0, 1}, random lengths,
  target 0.5 + (X₁ + X₂)/4, a sequence correct when its absolute error is below
  :data:`HOCHREITER_TOLERANCE` = 0.04 (:func:`hochreiter_correct`); their results are
  :data:`HOCHREITER_TABLE_7`.
- :func:`copy_task`: the copying memory task (Arjovsky, Shah & Bengio 2016): ten symbols,
  a long blank wait, a delimiter, and the ten symbols to reproduce; the memoryless
  baseline's cross-entropy is :func:`copy_baseline` = 10 log 8 / (T + 20).
- :func:`spirals`: points on interleaved spiral arms in the plane, the classification
  problem of chapter 1.
"""

import numpy as np

from .validation import as_generator, as_real_array, check_dtype, check_integer

#: MSE of always predicting 1 on :func:`adding`: the variance of a sum of two independent
#: U[0, 1] values, 2 · 1/12 = 1/6 ≈ 0.167.
ADDING_BASELINE_MSE = 1.0 / 6.0

#: Hochreiter & Schmidhuber's criterion: a sequence is processed correctly when the absolute
#: error of the output at its last step is below 0.04.
HOCHREITER_TOLERANCE = 0.04

#: Their LSTM's results on :func:`adding_hochreiter`, Table 7 of Hochreiter & Schmidhuber
#: (1997), means of 10 trials: {T: (training sequences until the stopping criterion,
#: wrongly processed sequences out of a test set of 2560)}. Training stopped once the
#: average training error was below 0.01 and the 2000 most recent sequences were
#: processed correctly (on-line, one sequence at a time; learning rate 0.5).
HOCHREITER_TABLE_7 = {100: (74_000, 1), 500: (209_000, 0), 1000: (853_000, 1)}


# --------------------------------------------------------------------------- arguments


def _check_int(name, value, minimum, why=""):
    """``check_integer``, with the reason for the minimum added to its message."""
    try:
        return check_integer(name, value, minimum)
    except ValueError as exc:
        raise ValueError(f"{exc}{why}") from None


def _dtype(dtype):
    """float64 for None (these functions make arrays from nothing), else float32 or float64."""
    dtype = check_dtype(dtype)
    return np.dtype(np.float64) if dtype is None else dtype


# --------------------------------------------------------------------------- adding problems


def adding(T, B, rng=None, dtype=None):
    """A batch of the adding problem, modern form.

    Each of the B sequences has T steps of two channels: channel 0 a value drawn from
    U[0, 1], channel 1 a marker, 1 at exactly two steps and 0 elsewhere. One marked step
    is drawn uniformly from the first half, t ∈ {0, …, ⌊T/2⌋ − 1}, the other uniformly
    from the second half, t ∈ {⌊T/2⌋, …, T − 1} (0-based). The target is the sum of the
    two marked values, read at the last step: a model's output o (T, B, 1) is compared
    with y through ``o[-1]`` (:func:`vanishgrad.losses.mse_last`).

    This is the form of Arjovsky, Shah & Bengio (2016), after Le, Jaitly & Hinton (2015).
    The sum of two independent U[0, 1] values has mean 1 and variance 2 · 1/12, so
    always predicting 1 gives a mean squared error of 1/6 ≈ 0.167
    (:data:`ADDING_BASELINE_MSE`): the baseline a model must beat.

    T: sequence length, an integer >= 2. B: batch size, an integer >= 1.
    rng: a seed, a ``np.random.Generator`` or None. dtype: None or float64 (the default), or float32.
    Returns x (T, B, 2) and y (B, 1).
    """
    T = _check_int("T", T, 2, " (a marked step in each half)")
    B = _check_int("B", B, 1)
    dtype = _dtype(dtype)
    rng = as_generator(rng)
    half = T // 2
    values = rng.uniform(0.0, 1.0, (T, B))
    first = rng.integers(0, half, B)
    second = rng.integers(half, T, B)
    seqs = np.arange(B)
    x = np.zeros((T, B, 2))
    x[:, :, 0] = values
    x[first, seqs, 1] = 1.0
    x[second, seqs, 1] = 1.0
    y = (values[first, seqs] + values[second, seqs])[:, None]
    return x.astype(dtype, copy=False), y.astype(dtype, copy=False)


def adding_hochreiter(T, B, rng=None, dtype=None):
    """A batch of the adding problem as Hochreiter & Schmidhuber (1997) posed it (Experiment 4).

    The rules, as their Section 5.4 states them (T is the minimal sequence length):

    - each step is a pair: a value drawn from U[−1, 1], and a marker in {−1, 0, 1};
    - the length is a random integer between T and T + T/10 (here T + ⌊T/10⌋, inclusive);
    - exactly two pairs are marked with 1: first one of the first ten pairs (its value is
      X₁), then one of the first T/2 − 1 *still unmarked* pairs (its value is X₂); here
      the ⌊T/2⌋ − 1 unmarked pairs counted from the start, so X₂ lies among the first
      ⌊T/2⌋ pairs and never on X₁;
    - every other marker is 0, except the first and the last pair, whose markers are −1;
    - "in the rare case where the first pair of the sequence gets marked, we set X₁ to zero";
    - the target, given at the end only, is 0.5 + (X₁ + X₂)/4; a sequence is processed
      correctly when the absolute error at its end is below 0.04 (:func:`hochreiter_correct`).

    Two points the text leaves open, and what this function does:

    - whether a marked first pair shows the marker 1 or −1. Here the first pair always
      shows −1, and a marked first pair has its value set to 0 and counts 0 in the
      target, so the input and the target agree however the model reads the marker.
      Since X₁ is uniform over the first ten pairs, this happens in 1 sequence in 10;
    - whether X₂ can fall on the first pair (the text mentions X₁ only). Here it can
      (when X₁ does not), and is then treated like X₁ above: marker −1, value 0, and it
      counts 0 in the target.

    The minimal lag, from X₂ to the end, is then ⌈T/2⌉ steps: T/2 for the even T of the
    paper, as their Table 7 states (50, 250 and 500 for T = 100, 500 and 1000). For
    T >= 20, X₁ too lies among the first T/2 pairs, so that is the lag of both.

    **One length per batch.** The length is drawn once per call, so every sequence in the
    batch has the same length L: x is (L, B, 2) with no padding, and a model reads its
    answer at the last step, ``o[-1]``, as for :func:`adding`
    (:func:`vanishgrad.losses.mse_last` applies as it is). With B = 1 this is exactly the
    paper's on-line setting; with B > 1 each sequence's length is still uniform on
    [T, T + ⌊T/10⌋], but the lengths within a batch are equal. A test set with the
    paper's spread of lengths is several batches (2560 = 20 batches of 128, say).

    **Baseline.** Always predicting 0.5 leaves an error of (X₁ + X₂)/4, with X₁ (and X₂)
    zeroed in the cases above; its mean square is (0.9 + 1 − 0.9/(⌊T/2⌋ − 1)) / 48, about
    0.039 (0.0392 at T = 100), and it meets the 0.04 criterion on about 15 % of sequences.

    T: the minimal length, an integer >= 11 (so the ten pairs that may carry X₁ all come
    before the last pair). B: batch size, an integer >= 1.
    rng: a seed, a ``np.random.Generator`` or None. dtype: None or float64 (the default), or float32.
    Returns x (L, B, 2), with L in [T, T + ⌊T/10⌋], and y (B, 1).
    """
    T = _check_int("T", T, 11, " (the ten pairs that may carry X1 must come before the last pair)")
    B = _check_int("B", B, 1)
    dtype = _dtype(dtype)
    rng = as_generator(rng)
    L = int(rng.integers(T, T + T // 10 + 1))
    values = rng.uniform(-1.0, 1.0, (L, B))
    first = rng.integers(0, 10, B)
    k = rng.integers(0, T // 2 - 1, B)        # the k-th still unmarked pair, counted from 0
    second = k + (k >= first)                  # skip over the pair that carries X1
    seqs = np.arange(B)
    markers = np.zeros((L, B))
    markers[first, seqs] = 1.0
    markers[second, seqs] = 1.0
    # The first pair always shows −1; a marked first pair counts zero.
    values[0, (first == 0) | (second == 0)] = 0.0
    markers[0] = -1.0
    markers[-1] = -1.0
    y = 0.5 + (values[first, seqs] + values[second, seqs]) / 4.0
    x = np.stack([values, markers], axis=-1)
    return x.astype(dtype, copy=False), y[:, None].astype(dtype, copy=False)


def hochreiter_correct(prediction, y):
    """Which sequences meet Hochreiter & Schmidhuber's criterion, |prediction − y| < 0.04.

    prediction, y: (B, 1) (or (B,)) outputs at the last step and targets.
    Returns a boolean array of shape (B,).
    """
    prediction = as_real_array("prediction", prediction).reshape(-1)
    y = as_real_array("y", y).reshape(-1)
    if prediction.shape != y.shape:
        raise ValueError(
            f"prediction and y must hold one number per sequence; got {prediction.size} and {y.size}"
        )
    return np.abs(prediction - y) < HOCHREITER_TOLERANCE


# --------------------------------------------------------------------------- copy task


def copy_task(T, B, rng=None, n_symbols=10, alphabet=8, dtype=None):
    """A batch of the copying memory task (Arjovsky, Shah & Bengio 2016).

    Classes: the symbols are 0 … alphabet − 1, the blank is ``alphabet`` and the
    delimiter ``alphabet + 1`` (with the defaults: symbols 0–7, blank 8, delimiter 9,
    the paper's a_0 … a_7, a_8 and a_9). Each sequence has T + 2·n_symbols steps
    (T + 20 with the defaults):

    ====================  =======================  ==============================
    steps (0-based)       input                    target
    ====================  =======================  ==============================
    0 … n−1               n symbols, uniform,      blank
                          independent
    n … n+T−2             T − 1 blanks             blank
    n+T−1                 the delimiter            blank
    n+T … 2n+T−1          n blanks                 the n symbols, in order
    ====================  =======================  ==============================

    (n = n_symbols.) The network must output the n symbols during the last n steps,
    that is, remember them for T + n steps, and a blank everywhere else.

    **The memoryless baseline.** A model that remembers nothing about the symbols can
    still know the position in the sequence. Its best strategy is to predict the blank
    with certainty at the first T + n steps (cross-entropy 0) and a uniform distribution
    over the alphabet at the last n steps (cross-entropy log(alphabet) each): a symbol
    is uniform and independent of everything such a model sees, and for any prediction
    q that does not depend on it, −Σ_s (1/alphabet) log q(s) >= log(alphabet) by Gibbs'
    inequality. The mean cross-entropy per step is therefore
    n · log(alphabet) / (T + 2n), which is 10 log 8 / (T + 20) with the defaults
    (:func:`copy_baseline`).

    T: the wait, an integer >= 1. B: batch size, an integer >= 1.
    n_symbols: symbols to copy (>= 1); alphabet: distinct symbols (>= 2).
    rng: a seed, a ``np.random.Generator`` or None. dtype of x: None or float64 (the default), or float32.
    Returns x (T + 2n, B, alphabet + 2), one-hot inputs, and y (T + 2n, B), integer
    class ids in 0 … alphabet (the delimiter never is a target), so a model's output
    has K = alphabet + 1 classes.
    """
    T = _check_int("T", T, 1)
    B = _check_int("B", B, 1)
    n = _check_int("n_symbols", n_symbols, 1)
    alphabet = _check_int("alphabet", alphabet, 2)
    dtype = _dtype(dtype)
    rng = as_generator(rng)
    blank, delimiter = alphabet, alphabet + 1
    length = T + 2 * n
    symbols = rng.integers(0, alphabet, (n, B))
    inputs = np.full((length, B), blank)
    inputs[:n] = symbols
    inputs[n + T - 1] = delimiter
    y = np.full((length, B), blank)
    y[-n:] = symbols
    x = np.zeros((length, B, alphabet + 2), dtype=dtype)
    np.put_along_axis(x, inputs[:, :, None], 1.0, axis=2)
    return x, y


def copy_baseline(T, n_symbols=10, alphabet=8):
    """The memoryless strategy's mean cross-entropy per step on :func:`copy_task`:
    n_symbols · log(alphabet) / (T + 2 n_symbols), 10 log 8 / (T + 20) with the defaults."""
    T = _check_int("T", T, 1)
    n = _check_int("n_symbols", n_symbols, 1)
    alphabet = _check_int("alphabet", alphabet, 2)
    return n * np.log(alphabet) / (T + 2 * n)


# --------------------------------------------------------------------------- spirals


def spirals(n_per_class=100, n_classes=3, noise=0.2, rng=None):
    """Points on ``n_classes`` interleaved spiral arms in the plane, one class per arm.

    Arm k holds ``n_per_class`` points at radii evenly spaced from 0.05 to 1, at angle
    2πk/n_classes + 1.75π·radius plus Gaussian noise of standard deviation ``noise``;
    the point is (radius · sin(angle), radius · cos(angle)). Arms come one after another
    (all of class 0 first). This is chapter 1's generator: the same seed gives the same
    arrays.

    n_per_class: points per arm (>= 1); n_classes: arms (>= 2); noise: the angular noise,
    a finite number >= 0. rng: a seed, a ``np.random.Generator`` or None.
    Returns x (N, 2) float64 and y (N,) integer labels 0 … n_classes − 1, N = n_per_class · n_classes.
    """
    n_per_class = _check_int("n_per_class", n_per_class, 1)
    n_classes = _check_int("n_classes", n_classes, 2)
    is_number = isinstance(noise, (int, float, np.integer, np.floating)) and not isinstance(noise, bool)
    if not (is_number and np.isfinite(noise) and noise >= 0):
        raise ValueError(f"noise must be a finite number >= 0; got {noise!r}")
    rng = as_generator(rng)
    radius = np.linspace(0.05, 1.0, n_per_class)
    xs, ys = [], []
    for k in range(n_classes):
        angle = 2 * np.pi * k / n_classes + 1.75 * np.pi * radius + rng.normal(0, noise, n_per_class)
        xs.append(np.column_stack([radius * np.sin(angle), radius * np.cos(angle)]))
        ys.append(np.full(n_per_class, k))
    return np.concatenate(xs), np.concatenate(ys)
