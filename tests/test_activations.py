import warnings

import numpy as np
import pytest

from vanishgrad import activations
from vanishgrad.gradcheck import rel_error

NAMES = sorted(activations.ACTIVATIONS)
# A grid through the saturated tails (|x| up to 30); relu's kink at 0 is avoided
# because central differences straddling it are not its derivative.
GRID = np.concatenate([np.linspace(-30, -1e-3, 301), np.linspace(1e-3, 30, 301)])


def central_difference(f, x, eps=1e-6):
    return (f(x + eps) - f(x - eps)) / (2 * eps)


@pytest.mark.parametrize("name", NAMES)
def test_derivative_matches_central_differences(name):
    act = activations.get(name)
    assert rel_error(act.df(GRID), central_difference(act.f, GRID)) <= 1e-7


@pytest.mark.parametrize("name", NAMES)
def test_derivative_from_output_agrees(name):
    act = activations.get(name)
    assert rel_error(act.df_from_output(act.f(GRID)), act.df(GRID)) <= 1e-12


@pytest.mark.parametrize("name", ["sigmoid", "tanh"])
def test_saturated_tails_follow_the_closed_form(name):
    # σ'(x) → e^{-|x|}, tanh'(x) → 4 e^{-2|x|}: the tails are small but not zero, and right.
    x = np.array([-30.0, -20.0, 20.0, 30.0])
    expected = np.exp(-np.abs(x)) if name == "sigmoid" else 4 * np.exp(-2 * np.abs(x))
    np.testing.assert_allclose(activations.get(name).df(x), expected, rtol=1e-8)


@pytest.mark.parametrize("name", NAMES)
def test_gamma_is_the_supremum_of_the_derivative(name):
    act = activations.get(name)
    x = np.linspace(-10, 10, 20001)
    assert np.max(act.df(x)) == pytest.approx(act.gamma, rel=1e-9)


def test_sigmoid_is_stable_at_huge_inputs():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = activations.sigmoid(np.array([-1e4, 1e4]))
        grad = activations.sigmoid_grad(np.array([-1e4, 1e4]))
    assert out[0] == 0.0 and out[1] == 1.0
    assert np.all(grad == 0.0)
    assert not np.any(np.isnan(out))


def test_sigmoid_derivative_peaks_at_zero_with_a_quarter():
    assert activations.sigmoid_grad(0.0) == 0.25
    assert activations.tanh_grad(0.0) == 1.0


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(ValueError, match="unknown activation 'softplus'.*identity, relu, sigmoid, tanh"):
        activations.get("softplus")
    with pytest.raises(ValueError, match="unknown activation"):
        activations.get(None)


def test_an_activation_object_is_accepted_as_it_is():
    tanh = activations.get("tanh")
    assert activations.get(tanh) is tanh


# --- what every function accepts, and what df_from_output refuses -------------------------

FUNCTIONS = [(name, field) for name in NAMES for field in ("f", "df", "df_from_output")]


@pytest.mark.parametrize("name, field", FUNCTIONS)
def test_dtype_follows_the_input(name, field):
    """float32 in gives float32 out; float64, integer and bool input give float64."""
    fn = getattr(activations.get(name), field)
    h = np.array([0.0, 0.25, 1.0])  # in the range of every f
    assert fn(h.astype(np.float32)).dtype == np.float32
    assert fn(h).dtype == np.float64
    assert fn(np.array([0, 1])).dtype == np.float64
    assert fn(np.array([False, True])).dtype == np.float64


@pytest.mark.parametrize("name, field", FUNCTIONS)
def test_lists_and_numbers_are_accepted_like_arrays(name, field):
    fn = getattr(activations.get(name), field)
    h = [0.0, 0.25, 1.0]
    np.testing.assert_array_equal(fn(h), fn(np.array(h)))
    assert np.shape(fn(0.5)) == ()


@pytest.mark.parametrize("name, outside", [
    ("sigmoid", [2.0]), ("sigmoid", [-0.1]), ("sigmoid", [np.nan]),
    ("tanh", [1.5]), ("tanh", [-1.0001]), ("tanh", [np.inf]),
    ("relu", [-1.0]), ("relu", [np.nan]),
])
def test_df_from_output_refuses_values_f_cannot_produce(name, outside):
    with pytest.raises(ValueError, match=r"h must hold outputs of"):
        activations.get(name).df_from_output(outside)


def test_df_from_output_accepts_the_ends_of_the_range():
    np.testing.assert_array_equal(activations.sigmoid_grad_from_output([0.0, 1.0]), [0.0, 0.0])
    np.testing.assert_array_equal(activations.tanh_grad_from_output([-1.0, 1.0]), [0.0, 0.0])
    np.testing.assert_array_equal(activations.relu_grad_from_output([0.0, 3.0]), [0.0, 1.0])


def test_f_lets_nan_and_inf_through_as_numpy_does():
    """Training notices divergence by a non-finite loss, so f must not raise on NaN or inf."""
    out = activations.sigmoid(np.array([np.nan, np.inf, -np.inf]))
    assert np.isnan(out[0]) and out[1] == 1.0 and out[2] == 0.0
    assert np.isnan(activations.identity([np.nan]))[0]


@pytest.mark.parametrize("name, field", FUNCTIONS)
@pytest.mark.parametrize("bad", [np.array([1 + 2j]), "abc", [1.0, None]], ids=["complex", "string", "object"])
def test_non_real_input_is_refused(name, field, bad):
    with pytest.raises(ValueError, match=r"^(x|h) must be"):
        getattr(activations.get(name), field)(bad)


def test_sigmoid_matches_the_closed_form_entry_by_entry_in_both_tails():
    """activations.sigmoid against math.exp in float64, one entry at a time, |x| ≤ 40."""
    import math

    x = np.linspace(-40, 40, 8001)
    exact = np.array([math.exp(v) / (1 + math.exp(v)) if v < 0 else 1 / (1 + math.exp(-v)) for v in x])
    rel = np.abs(activations.sigmoid(x) - exact) / exact
    assert rel.max() <= 4 * np.finfo(float).eps
