"""The optim module: SGD (with momentum) and Adam against hand computations, convergence on a
quadratic, in-place updates and their state, float32, and bad arguments."""

import numpy as np
import pytest

from vanishgrad import optim


def quadratic(seed=0, n=5):
    """f(x) = ½ xᵀAx − bᵀx with A symmetric positive definite: ∇f = Ax − b, minimum A⁻¹b."""
    rng = np.random.default_rng(seed)
    M = rng.standard_normal((n, n))
    A = M @ M.T + 0.5 * np.eye(n)
    b = rng.standard_normal(n)
    return A, b, np.linalg.solve(A, b)


# --- hand computations -----------------------------------------------------------------

def test_sgd_without_momentum_is_x_minus_lr_g():
    params = {"w": np.array([1.0, -2.0]), "s": np.array(0.5)}
    opt = optim.SGD(params, lr=0.1)
    opt.step({"w": np.array([10.0, 4.0]), "s": np.array(-1.0)})
    np.testing.assert_allclose(params["w"], [0.0, -2.4], rtol=0, atol=1e-15)
    assert params["s"] == pytest.approx(0.6, abs=1e-15)
    assert opt.t == 1


def test_sgd_momentum_three_steps_by_hand():
    lr, mu = 0.1, 0.9
    w = 1.0
    params = {"w": np.array([w])}
    opt = optim.SGD(params, lr=lr, momentum=mu)
    g1, g2, g3 = 2.0, -1.0, 0.5
    for g in (g1, g2, g3):
        opt.step({"w": np.array([g])})
    v1 = g1
    v2 = mu * v1 + g2
    v3 = mu * v2 + g3
    expected = w - lr * v1 - lr * v2 - lr * v3
    assert params["w"][0] == pytest.approx(expected, abs=1e-15)
    assert opt.velocity["w"][0] == pytest.approx(v3, abs=1e-15)


def test_one_adam_step_by_hand():
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-8
    x0, g = np.array([0.5, -1.0, 2.0]), np.array([0.3, -4.0, 1e-9])
    params = {"x": x0.copy()}
    opt = optim.Adam(params, lr=lr, betas=(b1, b2), eps=eps)
    opt.step({"x": g})
    m = (1 - b1) * g
    v = (1 - b2) * g * g
    m_hat, v_hat = m / (1 - b1), v / (1 - b2)
    expected = x0 - lr * m_hat / (np.sqrt(v_hat) + eps)
    np.testing.assert_allclose(params["x"], expected, rtol=1e-15, atol=1e-17)
    # the first step moves each coordinate by about lr, whatever the size of its gradient,
    # except where |g| is comparable to eps
    np.testing.assert_allclose(np.abs(params["x"] - x0)[:2], lr, rtol=1e-6)
    assert abs(params["x"][2] - x0[2]) == pytest.approx(lr * 1e-9 / (1e-9 + eps), rel=1e-12)
    np.testing.assert_allclose(opt.m["x"], m, rtol=1e-15)
    np.testing.assert_allclose(opt.v["x"], v, rtol=1e-15)


def test_three_adam_steps_by_hand_with_bias_correction():
    lr, b1, b2, eps = 0.05, 0.8, 0.95, 1e-6
    x = 1.5
    params = {"x": np.array(x)}
    opt = optim.Adam(params, lr=lr, betas=(b1, b2), eps=eps)
    m = v = 0.0
    for t, g in enumerate([0.7, -0.2, 1.3], start=1):
        opt.step({"x": np.array(g)})
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        x = x - lr * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + eps)
        assert params["x"] == pytest.approx(x, abs=1e-15), t
    assert opt.t == 3


# --- convergence -----------------------------------------------------------------------

def run_on_quadratic(opt, A, b, steps):
    x = opt.params["x"]
    for _ in range(steps):
        opt.step({"x": A @ x - b})
    return x


def test_sgd_and_momentum_converge_to_the_minimum_of_a_quadratic():
    A, b, x_star = quadratic()
    lam = np.linalg.eigvalsh(A).max()
    x = run_on_quadratic(optim.SGD({"x": np.zeros(5)}, lr=1.0 / lam), A, b, 3000)
    np.testing.assert_allclose(x, x_star, atol=1e-10)
    x = run_on_quadratic(optim.SGD({"x": np.zeros(5)}, lr=0.5 / lam, momentum=0.9), A, b, 3000)
    np.testing.assert_allclose(x, x_star, atol=1e-10)


def test_momentum_is_faster_than_plain_sgd_on_an_ill_conditioned_quadratic():
    A = np.diag([1.0, 100.0])
    b = np.array([1.0, 1.0])
    x_star = np.linalg.solve(A, b)
    plain = run_on_quadratic(optim.SGD({"x": np.zeros(2)}, lr=0.01), A, b, 200)
    heavy = run_on_quadratic(optim.SGD({"x": np.zeros(2)}, lr=0.01, momentum=0.8), A, b, 200)
    assert np.linalg.norm(heavy - x_star) < 1e-3 * np.linalg.norm(plain - x_star)


def test_adam_converges_to_the_minimum_of_a_quadratic():
    A, b, x_star = quadratic(seed=1)
    x = run_on_quadratic(optim.Adam({"x": np.zeros(5)}, lr=1e-2), A, b, 3000)
    np.testing.assert_allclose(x, x_star, atol=1e-8)


def test_a_new_learning_rate_applies_from_the_next_step():
    params = {"w": np.array([1.0])}
    opt = optim.SGD(params, lr=0.1)
    opt.step({"w": np.array([1.0])})
    opt.lr = 0.01
    opt.step({"w": np.array([1.0])})
    assert params["w"][0] == pytest.approx(1.0 - 0.1 - 0.01, abs=1e-15)


# --- in place, state, dtypes -----------------------------------------------------------

@pytest.mark.parametrize("make", [lambda p: optim.SGD(p, lr=0.1, momentum=0.5), lambda p: optim.Adam(p)])
def test_updates_are_in_place_and_leave_grads_alone(make):
    params = {"W": np.ones((2, 3)), "b": np.zeros(2)}
    W, b = params["W"], params["b"]
    opt = make(params)
    assert opt.params is params
    grads = {"W": np.full((2, 3), 0.5), "b": np.array([1.0, -1.0])}
    copy = {k: v.copy() for k, v in grads.items()}
    opt.step(grads)
    assert params["W"] is W and params["b"] is b
    assert not np.array_equal(W, np.ones((2, 3)))
    for k in grads:
        np.testing.assert_array_equal(grads[k], copy[k])


def test_state_arrays_have_the_parameters_shapes_and_start_at_zero():
    params = {"W": np.ones((2, 3)), "b": np.zeros(2)}
    sgd = optim.SGD(params, lr=0.1, momentum=0.9)
    adam = optim.Adam({k: v.copy() for k, v in params.items()})
    for state in (sgd.velocity, adam.m, adam.v):
        assert {k: v.shape for k, v in state.items()} == {"W": (2, 3), "b": (2,)}
        assert all(not np.any(v) for v in state.values())
    assert sgd.t == adam.t == 0
    assert "lr=0.1" in repr(sgd) and "betas=(0.9, 0.999)" in repr(adam)


@pytest.mark.parametrize("make", [lambda p: optim.SGD(p, lr=0.1, momentum=0.9), lambda p: optim.Adam(p, lr=0.01)])
def test_float32_parameters_and_state_stay_float32_and_agree_with_float64(make):
    rng = np.random.default_rng(2)
    p64 = {"W": rng.standard_normal((3, 3)), "b": rng.standard_normal(3)}
    p32 = {k: v.astype(np.float32) for k, v in p64.items()}
    o64, o32 = make(p64), make(p32)
    for _ in range(5):
        g = {"W": rng.standard_normal((3, 3)), "b": rng.standard_normal(3)}  # float64 grads
        o64.step(g)
        o32.step(g)
    for k in p32:
        assert p32[k].dtype == np.float32
        np.testing.assert_allclose(p32[k], p64[k], rtol=1e-5, atol=1e-6)
    state = o32.velocity if isinstance(o32, optim.SGD) else {**o32.m, **o32.v}
    assert all(v.dtype == np.float32 for v in state.values())


def test_integer_gradients_are_accepted():
    params = {"w": np.zeros(2)}
    optim.SGD(params, lr=0.5).step({"w": np.array([2, -4])})
    np.testing.assert_array_equal(params["w"], [-1.0, 2.0])


# --- bad arguments ---------------------------------------------------------------------

BAD_LR = [0, -0.1, np.nan, np.inf, "0.1", None, True]


@pytest.mark.parametrize("lr", BAD_LR)
def test_learning_rates_must_be_positive_and_finite(lr):
    with pytest.raises(ValueError, match="lr must be a finite number > 0"):
        optim.SGD({"w": np.zeros(2)}, lr=lr)
    with pytest.raises(ValueError, match="lr must be a finite number > 0"):
        optim.Adam({"w": np.zeros(2)}, lr=lr)
    opt = optim.Adam({"w": np.zeros(2)})
    with pytest.raises(ValueError, match="lr must be a finite number > 0"):
        opt.lr = lr
    assert opt.lr == 1e-3


@pytest.mark.parametrize("betas, message", [
    ((1.0, 0.999), r"beta1 must be a number in \[0, 1\); got 1.0"),
    ((0.9, 1.0), r"beta2 must be a number in \[0, 1\); got 1.0"),
    ((-0.1, 0.999), "beta1 must be a number in"),
    ((0.9, np.nan), "beta2 must be a number in"),
    ((0.9, "0.99"), "beta2 must be a number in"),
    ((0.9,), "betas must be a pair"),
    (0.9, "betas must be a pair"),
])
def test_adam_betas_must_be_in_zero_one(betas, message):
    with pytest.raises(ValueError, match=message):
        optim.Adam({"w": np.zeros(2)}, betas=betas)


def test_adam_betas_of_zero_are_allowed():
    params = {"w": np.array([1.0])}
    optim.Adam(params, lr=0.1, betas=(0.0, 0.0)).step({"w": np.array([-3.0])})
    assert params["w"][0] == pytest.approx(1.0 + 0.1 * 3.0 / (3.0 + 1e-8), abs=1e-15)


@pytest.mark.parametrize("eps", [0, -1e-8, np.nan, np.inf, None])
def test_adam_eps_must_be_positive(eps):
    with pytest.raises(ValueError, match="eps must be a finite number > 0"):
        optim.Adam({"w": np.zeros(2)}, eps=eps)


@pytest.mark.parametrize("momentum", [1.0, 1.5, -0.1, np.nan, "0.9", True])
def test_sgd_momentum_must_be_in_zero_one(momentum):
    with pytest.raises(ValueError, match=r"momentum must be a number in \[0, 1\)"):
        optim.SGD({"w": np.zeros(2)}, lr=0.1, momentum=momentum)


@pytest.mark.parametrize("params, message", [
    ({}, "params must be a non-empty dict"),
    ([np.zeros(2)], "params must be a non-empty dict"),
    ({"w": [0.0, 1.0]}, r"params\['w'\] must be a numpy array of floats.*got list"),
    ({"w": np.zeros(2, dtype=int)}, r"params\['w'\] must be a numpy array of floats.*got array of dtype int64"),
    ({"w": np.float64(1.0)}, r"params\['w'\] must be a numpy array of floats"),
    ({"w": np.array([0.0, np.nan])}, r"params\['w'\] holds 1 non-finite"),
])
def test_params_must_be_a_dict_of_finite_float_arrays(params, message):
    for make in (lambda p: optim.SGD(p, lr=0.1), lambda p: optim.Adam(p)):
        with pytest.raises(ValueError, match=message):
            make(params)


def test_read_only_parameters_are_refused():
    w = np.zeros(2)
    w.flags.writeable = False
    with pytest.raises(ValueError, match=r"params\['w'\] is read-only"):
        optim.SGD({"w": w}, lr=0.1)


@pytest.mark.parametrize("make", [lambda p: optim.SGD(p, lr=0.1, momentum=0.5), lambda p: optim.Adam(p)])
def test_grads_must_match_the_parameters_naming_the_key(make):
    params = {"W": np.zeros((2, 2)), "b": np.zeros(2)}
    opt = make(params)
    good = {"W": np.ones((2, 2)), "b": np.ones(2)}
    with pytest.raises(ValueError, match=r"grads has no entry for the parameter\(s\) 'b'"):
        opt.step({"W": good["W"]})
    with pytest.raises(ValueError, match=r"grads\['dh_norms'\] is not a parameter \(the parameters are 'W', 'b'\)"):
        opt.step({**good, "dh_norms": np.ones(3)})
    with pytest.raises(ValueError, match=r"grads\['b'\] must have shape \(2,\); got \(3,\)"):
        opt.step({**good, "b": np.ones(3)})
    with pytest.raises(ValueError, match=r"grads\['W'\] holds 1 non-finite"):
        opt.step({**good, "W": np.array([[1.0, np.inf], [0.0, 0.0]])})
    with pytest.raises(ValueError, match=r"grads\['W'\] must be an array of real numbers; got dtype complex128"):
        opt.step({**good, "W": np.ones((2, 2), dtype=complex)})
    with pytest.raises(ValueError, match="grads must be a dict"):
        opt.step([good["W"], good["b"]])
    # nothing was updated by the refused steps
    assert opt.t == 0
    np.testing.assert_array_equal(params["W"], 0)
