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
