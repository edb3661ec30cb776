import numpy as np
import pytest

from vanishgrad import validation


def test_check_shape_names_expected_and_given():
    with pytest.raises(ValueError, match=r"x must have shape \(T, B, D\) = \(\?, \?, 3\); got \(5, 2, 4\)"):
        validation.check_shape("x", np.zeros((5, 2, 4)), (None, None, 3), ("T", "B", "D"))
    with pytest.raises(ValueError, match=r"b must have shape \(4,\); got \(4, 1\)"):
        validation.check_shape("b", np.zeros((4, 1)), (4,))
    validation.check_shape("x", np.zeros((5, 2, 3)), (None, None, 3))


def test_check_finite_counts_the_bad_values():
    with pytest.raises(ValueError, match="x holds 2 non-finite"):
        validation.check_finite("x", np.array([1.0, np.nan, np.inf]))
    validation.check_finite("x", np.array([1.0, 2.0]))


@pytest.mark.parametrize("bad", [0, -1.0, np.nan, np.inf, "1", None])
def test_check_positive(bad):
    with pytest.raises(ValueError, match="must be a finite number > 0"):
        validation.check_positive("threshold", bad)


def test_check_choice_lists_known_names():
    with pytest.raises(ValueError, match="unknown init 'magic'; choose one of a, b"):
        validation.check_choice("init", "magic", {"b": 1, "a": 2})


def test_as_float_array_refuses_non_numbers():
    with pytest.raises(ValueError, match="x must be a numeric array"):
        validation.as_float_array("x", "abc")
