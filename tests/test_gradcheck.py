import numpy as np
import pytest

from vanishgrad import gradcheck


def test_numerical_gradient_of_a_quadratic():
    A = np.array([[2.0, 1.0], [1.0, 3.0]])
    x = np.array([0.5, -1.5])
    numeric = gradcheck.numerical_gradient(lambda: 0.5 * x @ A @ x, x)
    assert gradcheck.rel_error(numeric, A @ x) < 1e-9


def test_numerical_gradient_leaves_its_input_unchanged():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4))
    before = x.copy()
    gradcheck.numerical_gradient(lambda: float(np.sum(np.sin(x))), x)
    np.testing.assert_array_equal(x, before)


def test_numerical_gradient_restores_its_input_when_f_raises():
    x = np.array([1.0, 2.0])

    def boom():
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        gradcheck.numerical_gradient(boom, x)
    np.testing.assert_array_equal(x, [1.0, 2.0])


def test_numerical_gradient_refuses_arrays_it_cannot_perturb():
    with pytest.raises(ValueError, match="floating-point"):
        gradcheck.numerical_gradient(lambda: 0.0, np.array([1, 2]))
    with pytest.raises(ValueError, match="contiguous"):
        gradcheck.numerical_gradient(lambda: 0.0, np.ones((4, 4))[::2, :3])
    with pytest.raises(ValueError, match="eps"):
        gradcheck.numerical_gradient(lambda: 0.0, np.ones(2), eps=0.0)


def test_rel_error_definition():
    assert gradcheck.rel_error([1.0, 2.0], [1.0, 2.0]) == 0.0
    # max|a-b| / max(|a|+|b|) = 0.5 / 4.0
    assert gradcheck.rel_error([1.0, 2.0], [1.5, 2.0]) == pytest.approx(0.125)
    # tiny arrays are measured against the 1e-8 floor, not against themselves
    assert gradcheck.rel_error([1e-12], [2e-12]) == pytest.approx(1e-4)
    with pytest.raises(ValueError, match="same shape"):
        gradcheck.rel_error(np.zeros(2), np.zeros(3))


def affine_forward(x, w):
    return x @ w, (x, w)


def affine_backward(dout, cache):
    x, w = cache
    return {"x": dout @ w.T, "w": x.T @ dout}


def test_check_forward_backward_passes_a_correct_backward():
    rng = np.random.default_rng(1)
    inputs = {"x": rng.standard_normal((3, 4)), "w": rng.standard_normal((4, 2))}
    errors = gradcheck.check_forward_backward(affine_forward, affine_backward, inputs)
    assert set(errors) == {"x", "w"}
    assert max(errors.values()) < 1e-9


def test_check_forward_backward_flags_a_wrong_gradient_and_names_it():
    def wrong_backward(dout, cache):
        grads = affine_backward(dout, cache)
        grads["w"] = grads["w"] * 1.01  # 1 % off
        return grads

    rng = np.random.default_rng(2)
    inputs = {"x": rng.standard_normal((3, 4)), "w": rng.standard_normal((4, 2))}
    before = {k: v.copy() for k, v in inputs.items()}
    errors = gradcheck.check_forward_backward(affine_forward, wrong_backward, inputs)
    assert errors["x"] < 1e-9
    assert errors["w"] > 1e-3
    for k in inputs:
        np.testing.assert_array_equal(inputs[k], before[k])


# --- bad input ---------------------------------------------------------------------------

def test_numerical_gradient_refuses_what_f_returns_if_it_is_not_one_finite_number():
    x = np.array([1.0, 2.0])
    with pytest.raises(ValueError, match=r"f must return a finite number; at x.flat\[0\] \+ eps it returned nan"):
        gradcheck.numerical_gradient(lambda: float("nan"), x)
    with pytest.raises(ValueError, match=r"f must return a scalar .* shape \(2,\)"):
        gradcheck.numerical_gradient(lambda: x * 2, x)
    with pytest.raises(TypeError, match="f must return a real number"):
        gradcheck.numerical_gradient(lambda: "1.0", x)
    with pytest.raises(TypeError, match="f must be a callable"):
        gradcheck.numerical_gradient(3.0, x)
    np.testing.assert_array_equal(x, [1.0, 2.0])
    # a one-element array is one number
    assert gradcheck.numerical_gradient(lambda: np.array([np.sum(x)]), x) == pytest.approx([1.0, 1.0])


def test_numerical_jacobian_refuses_empty_points_and_bad_outputs():
    with pytest.raises(ValueError, match=r"v must hold at least one entry"):
        gradcheck.numerical_jacobian(lambda v: v, np.zeros(0))
    with pytest.raises(ValueError, match=r"func must return a vector of shape \(m,\); got \(2, 2\)"):
        gradcheck.numerical_jacobian(lambda v: np.outer(v, v), np.ones(2))
    with pytest.raises(ValueError, match=r"func's output at v\[0\] \+ eps holds 1 non-finite"):
        gradcheck.numerical_jacobian(lambda v: np.array([np.nan, v[0]]), np.ones(2))
    with pytest.raises(ValueError, match="v must be real"):
        gradcheck.numerical_jacobian(lambda v: v, np.ones(2) * 1j)
    with pytest.raises(TypeError, match="func must be a callable"):
        gradcheck.numerical_jacobian(None, np.ones(2))


def test_numerical_jacobian_of_a_linear_map_keeps_the_dtype():
    A = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    J = gradcheck.numerical_jacobian(lambda v: A @ v, np.array([0.3, -0.2]))
    assert J.shape == (3, 2) and J.dtype == np.float64
    assert gradcheck.rel_error(J, A) < 1e-9
    assert gradcheck.numerical_jacobian(lambda v: v, np.ones(2, dtype=np.float32), eps=1e-2).dtype == np.float32


def test_rel_error_refuses_nan_and_complex():
    with pytest.raises(ValueError, match="a holds 1 non-finite"):
        gradcheck.rel_error([np.nan, 1.0], [1.0, 1.0])
    with pytest.raises(ValueError, match="b holds 1 non-finite"):
        gradcheck.rel_error([1.0], [np.inf])
    with pytest.raises(ValueError, match="b must be real"):
        gradcheck.rel_error([1.0], [1.0 + 1e-3j])


def test_check_forward_backward_says_what_forward_and_backward_must_return():
    inputs = {"x": np.ones(2)}
    with pytest.raises(ValueError, match=r"forward must return a pair \(out, cache\).*got ndarray"):
        gradcheck.check_forward_backward(lambda x: 2 * x, lambda d, c: {"x": 2 * d}, inputs)
    with pytest.raises(ValueError, match=r"forward must return a pair \(out, cache\).*got a tuple of 3"):
        gradcheck.check_forward_backward(lambda x: (x, x, x), lambda d, c: {"x": d}, inputs)
    with pytest.raises(ValueError, match="backward must return a dict.*got list"):
        gradcheck.check_forward_backward(lambda x: (2 * x, None), lambda d, c: [2 * d], inputs)
    with pytest.raises(ValueError, match="inputs must be a dict"):
        gradcheck.check_forward_backward(affine_forward, affine_backward, [np.ones((2, 2))])
