"""The tasks module: every rule of each generator, its baseline on a large sample,
seeding, and bad arguments."""

import numpy as np
import pytest

from vanishgrad import tasks


def marked(x):
    """Positions (t, b) of the markers equal to 1."""
    return np.nonzero(x[:, :, 1] == 1.0)


# --------------------------------------------------------------------------- adding, modern form


@pytest.mark.parametrize("T, B", [(2, 1), (3, 5), (10, 7), (101, 3)])
def test_adding_marks_one_step_in_each_half_and_sums_them(T, B):
    x, y = tasks.adding(T, B, rng=T)
    assert x.shape == (T, B, 2) and y.shape == (B, 1)
    assert x.dtype == y.dtype == np.float64
    values, markers = x[:, :, 0], x[:, :, 1]
    assert np.all((values >= 0) & (values < 1))
    assert set(np.unique(markers)) <= {0.0, 1.0}
    assert np.all(markers.sum(axis=0) == 2)
    half = T // 2
    assert np.all(markers[:half].sum(axis=0) == 1) and np.all(markers[half:].sum(axis=0) == 1)
    np.testing.assert_allclose(y[:, 0], (values * markers).sum(axis=0), rtol=1e-15)


def test_adding_markers_are_uniform_within_each_half():
    T, B = 10, 50_000
    x, _ = tasks.adding(T, B, rng=0)
    t, _ = marked(x)
    freq = np.bincount(t, minlength=T) / B
    # each position of a half carries the half's marker with probability 1/5; standard error 0.0018
    np.testing.assert_allclose(freq, np.full(T, 1 / 5), atol=0.01)


def test_predicting_one_scores_the_baseline_mse_of_one_sixth():
    # 200,000 sequences. (y − 1)² has standard deviation √(7/180) ≈ 0.197, so the sample mean
    # has standard error 4.4e-4; the tolerance 2.5e-3 is more than five of them.
    assert tasks.ADDING_BASELINE_MSE == pytest.approx(1 / 6)
    _, y = tasks.adding(4, 200_000, rng=2024)
    mse = float(np.mean((1.0 - y) ** 2))
    assert abs(mse - tasks.ADDING_BASELINE_MSE) < 2.5e-3, mse
    assert abs(float(y.mean()) - 1.0) < 3e-3  # the constant 1 is the best constant: E[y] = 1


# --------------------------------------------------------------------------- adding, Hochreiter & Schmidhuber


@pytest.mark.parametrize("T", [11, 20, 100, 101])
def test_hochreiter_rules_hold_in_every_sequence(T):
    rng = np.random.default_rng(T)
    lengths = set()
    for _ in range(40):
        x, y = tasks.adding_hochreiter(T, 64, rng=rng)
        L = x.shape[0]
        lengths.add(L)
        assert x.shape == (L, 64, 2) and y.shape == (64, 1)
        assert T <= L <= T + T // 10
        values, markers = x[:, :, 0], x[:, :, 1]
        assert np.all(np.abs(values) <= 1)
        assert set(np.unique(markers)) <= {-1.0, 0.0, 1.0}
        assert np.all(markers[0] == -1) and np.all(markers[-1] == -1)
        assert np.all(markers[1:-1] >= 0)
        ones = markers == 1
        n_marked = ones.sum(axis=0)
        # Two pairs marked with 1; one when a marked pair is the first pair, whose value is then 0.
        first_marked = n_marked == 1
        assert np.all((n_marked == 2) | first_marked)
        assert np.all(values[0, first_marked] == 0)
        # of the two marked pairs p1 < p2 (the first pair, when marked, counts as position 0),
        # one (X1) is among the first ten pairs, the other (X2) among the first ⌊T/2⌋ pairs
        p2 = L - 1 - ones[::-1].argmax(axis=0)
        p1 = np.where(first_marked, 0, ones.argmax(axis=0))
        assert np.all(p1 < p2)
        assert np.all(p1 <= min(9, T // 2 - 1)) and np.all(p2 <= max(9, T // 2 - 1))
        if T >= 20:  # then both lie among the first T/2 pairs: the lag is at least ⌈T/2⌉
            assert np.all(L - 1 - p2 >= T - T // 2)
        np.testing.assert_allclose(y[:, 0], 0.5 + (values * ones).sum(axis=0) / 4, rtol=1e-15)
    assert lengths == set(range(T, T + T // 10 + 1))  # every length occurs in 40 draws


def test_hochreiter_marker_positions_have_the_stated_distribution():
    T, B = 20, 100_000
    x, _ = tasks.adding_hochreiter(T, B, rng=7)
    values, markers = x[:, :, 0], x[:, :, 1]
    first_is_marked = (markers == 1).sum(axis=0) == 1
    # X1 is uniform over the first ten pairs (1/10 on the first pair) and X2, when X1 is
    # elsewhere, uniform over the other T/2 − 1 = 9 candidates (1/9 on the first pair):
    # the first pair is marked in 0.1 + 0.9/9 = 0.2 of sequences. Standard error 0.0013.
    assert abs(first_is_marked.mean() - 0.2) < 0.008
    t, _ = marked(x)
    # the latest possible position of X2 is T/2 − 1 (the minimal lag T/2 of the paper's Table 7)
    assert t.max() == T // 2 - 1 and 0 not in t


def test_predicting_one_half_scores_the_documented_baseline():
    # Predicting 0.5 leaves (X1 + X2)/4; its mean square is (0.9 + 1 − 0.9/(T/2 − 1))/48
    # (0.0375 at T = 20) and 15.5 % of sequences meet the 0.04 criterion (0.8 · 0.1536 + 0.2 · 0.16).
    T, B = 20, 100_000
    _, y = tasks.adding_hochreiter(T, B, rng=11)
    mse = float(np.mean((y - 0.5) ** 2))
    assert abs(mse - (1.9 - 0.9 / (T // 2 - 1)) / 48) < 1e-3, mse   # standard error ≈ 1.5e-4
    correct = tasks.hochreiter_correct(np.full((B, 1), 0.5), y).mean()
    assert abs(correct - 0.15488) < 0.006, correct                  # standard error ≈ 1.1e-3


def test_hochreiter_correct_applies_the_0_04_criterion():
    y = np.array([[0.5], [0.5], [0.5], [0.2]])
    prediction = np.array([[0.5], [0.539], [0.5401], [0.161]])
    np.testing.assert_array_equal(tasks.hochreiter_correct(prediction, y), [True, True, False, True])
    assert tasks.HOCHREITER_TOLERANCE == 0.04
    with pytest.raises(ValueError, match="one number per sequence"):
        tasks.hochreiter_correct(np.zeros(3), np.zeros(4))


# --------------------------------------------------------------------------- copy task


@pytest.mark.parametrize("T, n, alphabet", [(1, 10, 8), (5, 10, 8), (30, 10, 8), (4, 1, 2), (7, 3, 5)])
def test_copy_task_layout(T, n, alphabet):
    B = 6
    x, y = tasks.copy_task(T, B, rng=3, n_symbols=n, alphabet=alphabet)
    length = T + 2 * n
    assert x.shape == (length, B, alphabet + 2) and y.shape == (length, B)
    assert np.issubdtype(y.dtype, np.integer) and x.dtype == np.float64
    assert np.all(x.sum(axis=2) == 1) and set(np.unique(x)) == {0.0, 1.0}  # one-hot
    inputs = x.argmax(axis=2)
    blank, delimiter = alphabet, alphabet + 1
    symbols = inputs[:n]
    assert np.all(symbols < alphabet)
    assert np.all(inputs[n:n + T - 1] == blank)
    assert np.all(inputs[n + T - 1] == delimiter)
    assert np.all(inputs[n + T:] == blank)
    assert np.all(y[:T + n] == blank)
    np.testing.assert_array_equal(y[T + n:], symbols)
    assert y.max() <= alphabet  # the delimiter is never a target


def test_the_memoryless_strategy_scores_the_copy_baseline():
    T, B = 10, 20_000
    _, y = tasks.copy_task(T, B, rng=5, dtype=np.float32)
    length = T + 20
    assert tasks.copy_baseline(T) == pytest.approx(10 * np.log(8) / (T + 20))
    # The strategy: blank with certainty for T + 10 steps, uniform over the 8 symbols after.
    p = np.zeros((length, 9))
    p[:T + 10, 8] = 1.0
    p[T + 10:, :8] = 1 / 8
    p_target = np.take_along_axis(p, y, axis=1)
    assert np.all(p_target > 0)  # a symbol where a blank was certain would be an infinite loss
    assert float(np.mean(-np.log(p_target))) == pytest.approx(tasks.copy_baseline(T), rel=1e-12)
    # The best predictor that knows only the position uses each step's class frequencies;
    # its cross-entropy is their mean entropy, which matches the baseline (plug-in bias ≈ 6e-5).
    freq = np.stack([np.bincount(row, minlength=9) for row in y]) / B
    with np.errstate(divide="ignore", invalid="ignore"):
        entropy = -np.nansum(np.where(freq > 0, freq * np.log(freq), 0.0), axis=1)
    assert abs(entropy.mean() - tasks.copy_baseline(T)) < 5e-4, entropy.mean()


def test_copy_baseline_general_form():
    assert tasks.copy_baseline(100, n_symbols=3, alphabet=5) == pytest.approx(3 * np.log(5) / 106)


# --------------------------------------------------------------------------- spirals


def notebook_spirals(n_per_class=100, classes=3, noise=0.2, rng=None):
    # Copied verbatim from chapters/01_saturating_sigmoids.ipynb, the code cell that defines
    # the spirals data (cell index 3), as of commit 15d837641342ef3bb320477ea152630f32060206.
    # n_per_class points on each of `classes` spiral arms in the plane: x (N, 2), labels y (N,)
    rng = np.random.default_rng(rng)
    radius = np.linspace(0.05, 1.0, n_per_class)
    xs, ys = [], []
    for k in range(classes):
        angle = 2 * np.pi * k / classes + 1.75 * np.pi * radius + rng.normal(0, noise, n_per_class)
        xs.append(np.column_stack([radius * np.sin(angle), radius * np.cos(angle)]))
        ys.append(np.full(n_per_class, k))
    return np.concatenate(xs), np.concatenate(ys)


@pytest.mark.parametrize("n, classes, noise, seed", [(100, 3, 0.2, 0), (100, 3, 0.2, 12345),
                                                     (7, 2, 0.0, 1), (50, 5, 1.0, 2)])
def test_spirals_reproduce_chapter_one_exactly(n, classes, noise, seed):
    x, y = tasks.spirals(n, n_classes=classes, noise=noise, rng=seed)
    x_ref, y_ref = notebook_spirals(n, classes=classes, noise=noise, rng=seed)
    np.testing.assert_array_equal(x, x_ref)
    np.testing.assert_array_equal(y, y_ref)
    assert x.shape == (n * classes, 2) and y.dtype == y_ref.dtype


def test_spirals_draw_from_a_shared_generator_as_the_chapter_does():
    ours, theirs = np.random.default_rng(2024), np.random.default_rng(2024)
    x, y = tasks.spirals(rng=ours)
    x_ref, y_ref = notebook_spirals(rng=theirs)
    np.testing.assert_array_equal(x, x_ref)
    assert ours.random() == theirs.random()  # the generator advanced by the same draws


# --------------------------------------------------------------------------- seeding and dtype


@pytest.mark.parametrize("make", [
    lambda rng: tasks.adding(12, 3, rng=rng),
    lambda rng: tasks.adding_hochreiter(30, 3, rng=rng),
    lambda rng: tasks.copy_task(6, 3, rng=rng),
    lambda rng: tasks.spirals(20, rng=rng),
])
def test_the_same_seed_gives_the_same_arrays(make):
    a, b, c = make(42), make(42), make(43)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    assert any(u.shape != v.shape or not np.array_equal(u, v) for u, v in zip(a, c))
    gen = np.random.default_rng(42)
    for u, v in zip(make(gen), a):  # a generator seeded alike gives the same first batch
        np.testing.assert_array_equal(u, v)


def test_float64_by_default_and_float32_on_request():
    assert tasks.adding(5, 2, rng=0, dtype=None)[0].dtype == np.float64
    for x, y in (tasks.adding(5, 2, rng=0, dtype=np.float32),
                 tasks.adding_hochreiter(20, 2, rng=0, dtype=np.float32)):
        assert x.dtype == y.dtype == np.float32
    x, y = tasks.copy_task(3, 2, rng=0, dtype=np.float32)
    assert x.dtype == np.float32 and np.issubdtype(y.dtype, np.integer)


# --------------------------------------------------------------------------- bad arguments


@pytest.mark.parametrize("call, message", [
    (lambda: tasks.adding(1, 4, rng=0), r"T must be an integer >= 2; got 1 \(a marked step in each half\)"),
    (lambda: tasks.adding(10.0, 4, rng=0), r"T must be an integer >= 2.*got 10\.0"),
    (lambda: tasks.adding(True, 4, rng=0), r"T must be an integer"),
    (lambda: tasks.adding(10, 0, rng=0), r"B must be a positive integer; got 0"),
    (lambda: tasks.adding(10, "4", rng=0), r"B must be a positive integer; got '4'"),
    (lambda: tasks.adding_hochreiter(10, 4, rng=0), r"T must be an integer >= 11; got 10 \(the ten pairs"),
    (lambda: tasks.copy_task(0, 4, rng=0), r"T must be a positive integer; got 0"),
    (lambda: tasks.copy_task(5, 4, rng=0, n_symbols=0), r"n_symbols must be a positive integer"),
    (lambda: tasks.copy_task(5, 4, rng=0, alphabet=1), r"alphabet must be an integer >= 2"),
    (lambda: tasks.copy_baseline(5, alphabet=1.5), r"alphabet must be an integer >= 2"),
    (lambda: tasks.spirals(0), r"n_per_class must be a positive integer"),
    (lambda: tasks.spirals(10, n_classes=1), r"n_classes must be an integer >= 2"),
    (lambda: tasks.spirals(10, noise=-0.1), r"noise must be a finite number >= 0; got -0\.1"),
    (lambda: tasks.spirals(10, noise=np.nan), r"noise must be a finite number >= 0"),
    (lambda: tasks.spirals(10, noise="0.2"), r"noise must be a finite number >= 0"),
])
def test_bad_arguments_are_refused_with_a_clear_message(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize("rng", [-1, 1.5, "seed", True, [1, 2]])
def test_bad_rng_is_refused(rng):
    with pytest.raises(ValueError, match="rng must be None, an integer seed.* or a np.random.Generator"):
        tasks.adding(10, 2, rng=rng)


@pytest.mark.parametrize("dtype", [np.int64, np.complex128, "no such dtype", np.float16])
def test_bad_dtype_is_refused(dtype):
    with pytest.raises(ValueError, match="dtype must be float32 or float64"):
        tasks.adding(10, 2, rng=0, dtype=dtype)
    with pytest.raises(ValueError, match="dtype must be float32 or float64"):
        tasks.copy_task(10, 2, rng=0, dtype=dtype)
