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


# --- the dtype convention ------------------------------------------------------------------

@pytest.mark.parametrize("value, expected", [
    (np.zeros(2, dtype=np.float32), np.float32),
    (np.zeros(2), np.float64),
    (np.zeros(2, dtype=np.int64), np.float64),
    (np.zeros(2, dtype=np.int8), np.float64),
    (np.zeros(2, dtype=bool), np.float64),
    (np.zeros(2, dtype=np.float16), np.float64),
    ([1, 2], np.float64),
    ([1.5, 2.5], np.float64),
    (3, np.float64),
])
def test_as_real_array_keeps_float32_and_makes_everything_else_float64(value, expected):
    assert validation.as_real_array("x", value).dtype == expected


def test_as_real_array_converts_to_an_explicit_dtype_and_does_not_copy_needlessly():
    a = np.zeros(3)
    assert validation.as_real_array("x", a) is a
    assert validation.as_real_array("x", a, np.float32).dtype == np.float32
    assert validation.as_real_array("x", a.astype(np.float32), "float64").dtype == np.float64


@pytest.mark.parametrize("value, message", [
    (np.array([1 + 0j]), r"x must be real; got a complex array \(complex128\)\. Pass x.real"),
    (np.complex64(1), r"x must be real; got a complex array \(complex64\)"),
    ("1.5", r"x must be a numeric array of real numbers; got str"),
    ([1.0, None], r"x must be a numeric array of real numbers; got list of dtype object"),
    ([[1.0], [1.0, 2.0]], r"x must be a numeric array of real numbers; got list that numpy cannot turn into one"),
    ({"a": 1}, r"x must be a numeric array of real numbers; got dict"),
])
def test_as_real_array_refuses_what_is_not_real_numbers(value, message):
    with pytest.raises(ValueError, match=message):
        validation.as_real_array("x", value)


@pytest.mark.parametrize("dtype", [np.int64, int, complex, np.complex64, np.float16, "no such dtype", object, bool])
def test_an_explicit_dtype_must_be_float32_or_float64(dtype):
    with pytest.raises(ValueError, match="dtype must be float32 or float64"):
        validation.check_dtype(dtype)
    with pytest.raises(ValueError, match="dtype must be float32 or float64"):
        validation.as_real_array("x", [1.0], dtype)


def test_as_real_arrays_meet_in_the_wider_dtype():
    f32, f64, i64 = np.zeros(2, np.float32), np.zeros(2), np.zeros(2, np.int64)
    assert [a.dtype for a in validation.as_real_arrays({"a": f32, "b": f32})] == [np.float32] * 2
    assert [a.dtype for a in validation.as_real_arrays({"a": f32, "b": f64})] == [np.float64] * 2
    assert [a.dtype for a in validation.as_real_arrays({"a": f32, "b": i64})] == [np.float64] * 2
    assert [a.dtype for a in validation.as_real_arrays({"a": f64}, np.float32)] == [np.float32]
    with pytest.raises(ValueError, match="b must be real"):
        validation.as_real_arrays({"a": f32, "b": f32 * 1j})


# --- the other checks ----------------------------------------------------------------------

def test_check_finite_fast_path_and_exact_count():
    validation.check_finite("x", np.full(4, 1e308))  # the sum overflows, every entry is finite
    validation.check_finite("x", np.arange(5))       # integers are finite
    with pytest.raises(ValueError, match="x holds 1 non-finite"):
        validation.check_finite("x", np.array([1e308, 1e308, np.inf]))
    with pytest.raises(ValueError, match="x holds 2 non-finite"):
        validation.check_finite("x", np.array([np.inf, -np.inf]))  # the sum is NaN
    with pytest.raises(ValueError, match="x holds 1 non-finite"):
        validation.check_finite("x", np.array([1j, complex(np.nan, 0)]))


def test_check_nonempty_names_the_empty_axis():
    validation.check_nonempty("o", np.zeros((1, 2, 3)), ("T", "B", "K"))
    with pytest.raises(ValueError, match=r"o must have at least one entry along every axis, \(T, B, K\) = \(5, 0, 2\): B is 0"):
        validation.check_nonempty("o", np.zeros((5, 0, 2)), ("T", "B", "K"))
    with pytest.raises(ValueError, match=r"T, K are 0"):
        validation.check_nonempty("o", np.zeros((0, 3, 0)), ("T", "B", "K"))


def test_check_cache_names_the_missing_keys_and_the_forward_pass():
    validation.check_cache({"x": 1, "h": 2}, ("x", "h"), "rnn.forward")
    with pytest.raises(ValueError, match=r"cache lacks 'h': pass the cache returned by rnn.forward"):
        validation.check_cache({"x": 1}, ("x", "h"), "rnn.forward")
    with pytest.raises(ValueError, match=r"cache must be the dict returned by rnn.forward; got NoneType"):
        validation.check_cache(None, ("x",), "rnn.forward")


def test_check_range_refuses_values_outside_and_nan():
    validation.check_range("h", np.array([0.0, 0.5, 1.0]), 0.0, 1.0, "outputs of the sigmoid")
    validation.check_range("h", np.array([0.0, 1e300]), 0.0, None, "outputs of relu")
    with pytest.raises(ValueError, match=r"h must hold outputs of the sigmoid, in \[0, 1\]; got 2 value\(s\) outside it \(the first is 2\)"):
        validation.check_range("h", np.array([2.0, 0.5, -1.0]), 0.0, 1.0, "outputs of the sigmoid")
    with pytest.raises(ValueError, match=r"in \[0, inf\]"):
        validation.check_range("h", np.array([np.nan]), 0.0, None, "outputs of relu")


@pytest.mark.parametrize("value", [2.5, True, "3", None, np.float64(3.0), -1])
def test_check_integer(value):
    with pytest.raises(ValueError, match=r"^k must be an integer >= 0; got"):
        validation.check_integer("k", value, minimum=0)
    assert validation.check_integer("k", np.int64(3), minimum=0) == 3


def test_as_generator_accepts_seeds_and_generators_only():
    g = np.random.default_rng(1)
    assert validation.as_generator(g) is g
    assert validation.as_generator(5).integers(100) == np.random.default_rng(5).integers(100)
    for bad in ("seed", 1.5, -1, True, [1, "a"]):
        with pytest.raises(ValueError, match="rng must be None, an integer seed"):
            validation.as_generator(bad)


def test_check_callable_is_a_type_error():
    with pytest.raises(TypeError, match="f must be a callable"):
        validation.check_callable("f", 3)
    validation.check_callable("f", len)
