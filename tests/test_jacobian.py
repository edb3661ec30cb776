"""Tests of vanishgrad.jacobian: finite differences, closed forms, and bad input."""

import numpy as np
import pytest

from vanishgrad import activations, gradcheck, jacobian, rnn


def make_cache(activation="tanh", T=12, B=3, D=3, H=6, K=2, scale=1.3, seed=0):
    rng = np.random.default_rng(seed)
    params = rnn.init_params(D, H, K, scale=scale, rng=rng)
    params["b"] = 0.3 * rng.standard_normal(H)
    x = rng.standard_normal((T, B, D))
    h0 = 0.5 * rng.standard_normal((B, H))
    _, cache = rnn.forward(x, h0, **params, activation=activation)
    return cache


def jordan_norm(lam, a, k):
    """‖[[λ, a], [0, λ]]^k‖₂ in closed form: W^k = [[λ^k, k a λ^(k−1)], [0, λ^k]],
    and [[p, q], [0, p]] has σ_max = (|q| + √(q² + 4p²)) / 2."""
    p = lam**k
    q = k * a * lam ** (k - 1) if k > 0 else 0.0
    return (abs(q) + np.sqrt(q * q + 4 * p * p)) / 2


# --- step Jacobians against finite differences -------------------------------------------

@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "identity"])
@pytest.mark.parametrize("kind", ["net", "h"])
def test_step_jacobian_matches_finite_differences(activation, kind):
    cache = make_cache(activation)
    for seq in range(3):
        J = jacobian.step_jacobians(cache, seq=seq, kind=kind)
        for s in (0, 5, 10):
            step = jacobian.unrolled_map(cache, s, 1, seq=seq, kind=kind)
            state = cache[kind][s, seq]
            numeric = gradcheck.numerical_jacobian(step, state)
            assert np.max(np.abs(J[s] - numeric)) / np.max(np.abs(J[s])) < 1e-8


@pytest.mark.parametrize("kind", ["net", "h"])
def test_product_matches_finite_differences_of_unrolled_map(kind):
    cache = make_cache("tanh", T=15)
    J = jacobian.step_jacobians(cache, seq=2, kind=kind)
    for start, lag in ((0, 14), (3, 7), (6, 1), (4, 0)):
        unrolled = jacobian.unrolled_map(cache, start, lag, seq=2, kind=kind)
        state = cache[kind][start, 2]
        assert np.allclose(unrolled(state), cache[kind][start + lag, 2], atol=1e-12)
        numeric = gradcheck.numerical_jacobian(unrolled, state)
        product = jacobian.chain(J[start:start + lag])
        # central differences carry a rounding error near 1e-16 / eps = 1e-10, whatever
        # the size of the product, which over 14 steps has shrunk to about 1e-4
        error = np.max(np.abs(product - numeric))
        assert error < 1e-8 and error / np.max(np.abs(product)) < 1e-4


def test_step_jacobian_is_eq_10_8_column_scaling():
    cache = make_cache("sigmoid")
    W, net = cache["W"], cache["net"]
    J = jacobian.step_jacobians(cache, seq=1)
    fp = activations.get("sigmoid").df(net[4, 1])
    assert np.allclose(J[4], W @ np.diag(fp))                      # ∂net_t/∂net_(t-1) = W diag f'(net_(t-1))
    Jh = jacobian.step_jacobians(cache, seq=1, kind="h")
    assert np.allclose(Jh[3], np.diag(fp) @ W)                     # ∂h_t/∂h_(t-1) = diag f'(net_t) W
    assert np.allclose(np.sort_complex(np.linalg.eigvals(J[4])),
                       np.sort_complex(np.linalg.eigvals(Jh[3])))  # AB and BA: same eigenvalues


def test_batched_step_jacobians_stack_the_sequences():
    cache = make_cache()
    J = jacobian.step_jacobians(cache)
    assert J.shape == (11, 3, 6, 6)
    for seq in range(3):
        assert np.array_equal(J[:, seq], jacobian.step_jacobians(cache, seq=seq))
    one_step = make_cache(T=1)
    assert jacobian.step_jacobians(one_step, seq=0).shape == (0, 6, 6)


def test_product_reproduces_bptt_gradient_norms():
    cache = make_cache("tanh", B=1, T=20)
    rng = np.random.default_rng(5)
    do = np.zeros((20, 1, 2))
    do[-1] = rng.standard_normal((1, 2))
    grads = rnn.backward(do, cache)
    J = jacobian.step_jacobians(cache, seq=0, kind="h")
    g = cache["V"].T @ do[-1, 0]
    norms = [np.linalg.norm(g)]
    for k in range(1, 20):
        norms.append(np.linalg.norm(jacobian.chain(J[20 - 1 - k:]).T @ g))
    assert np.allclose(norms[::-1], grads["dh_norms"], rtol=1e-10)


# --- products and norms --------------------------------------------------------------------

def test_product_norms_against_explicit_products():
    cache = make_cache()
    J = jacobian.step_jacobians(cache, seq=0)
    norms = jacobian.product_norms(J)
    assert norms.shape == (12,) and norms[0] == pytest.approx(1.0)
    for k in (1, 4, 11):
        assert norms[k] == pytest.approx(np.linalg.norm(jacobian.chain(J[11 - k:]), 2), rel=1e-12)
    fro = jacobian.product_norms(J, ord="fro")
    assert fro[0] == pytest.approx(np.sqrt(6))
    assert fro[5] == pytest.approx(np.linalg.norm(jacobian.chain(J[6:]), "fro"))
    batched = jacobian.product_norms(jacobian.step_jacobians(cache))
    assert batched.shape == (12, 3) and np.allclose(batched[:, 0], norms)


def test_chain_of_nothing_is_identity():
    assert np.array_equal(jacobian.chain(np.zeros((0, 3, 3))), np.eye(3))


def test_diagonal_closed_forms():
    d = np.array([0.5, -0.9, 0.3, 0.7])
    W = np.diag(d)
    assert jacobian.spectral_radius(W) == pytest.approx(0.9)
    assert jacobian.sigma_max(W) == pytest.approx(0.9)
    k = np.arange(31)
    assert np.allclose(jacobian.power_norms(W, 30), 0.9**k, rtol=1e-12)
    assert np.allclose(jacobian.power_norms(W, 30, ord="fro"),
                       np.sqrt((d[:, None] ** (2 * k)).sum(axis=0)), rtol=1e-12)
    J = np.broadcast_to(W, (400, 4, 4))
    lam = jacobian.lyapunov_exponents(J, discard=100)
    assert lam.shape == (1,) and lam[0] == pytest.approx(np.log(0.9), abs=1e-12)
    full = jacobian.lyapunov_exponents(J, 4, discard=200)
    assert np.allclose(full, np.sort(np.log(np.abs(d)))[::-1], atol=1e-10)
    back = jacobian.lyapunov_exponents(J, 4, backward=True, discard=200)
    assert np.allclose(back, full, atol=1e-10)


def test_jordan_like_closed_form_and_transient_growth():
    lam, a = 0.9, 3.0
    W = np.array([[lam, a], [0.0, lam]])
    norms = jacobian.power_norms(W, 200)
    closed = np.array([jordan_norm(lam, a, k) for k in range(201)])
    assert np.allclose(norms, closed, rtol=1e-12)
    assert jacobian.spectral_radius(W) == pytest.approx(lam)
    assert jacobian.sigma_max(W) == pytest.approx(jordan_norm(lam, a, 1))
    assert norms.max() > 10 and norms[-1] < 1e-3   # ρ < 1, yet growth before decay
    # the Lyapunov exponent of the constant product is still log ρ (slowly: the k λ^k factor)
    lyap = jacobian.lyapunov_exponents(np.broadcast_to(W, (20000, 2, 2)), discard=1000)
    assert lyap[0] == pytest.approx(np.log(lam), abs=1e-3)


def test_gelfand_limit_for_random_matrix():
    rng = np.random.default_rng(3)
    W = rng.standard_normal((10, 10)) / np.sqrt(10)
    rho = jacobian.spectral_radius(W)
    norms = jacobian.power_norms(W, 400)
    assert abs(norms[400] ** (1 / 400) / rho - 1) < 0.02
    assert np.all(norms[1:] ** (1 / np.arange(1, 401)) >= rho * (1 - 1e-9))  # ρ^k ≤ ‖W^k‖


# --- Pascanu's bound and the Lyapunov exponent -------------------------------------------

@pytest.mark.parametrize("activation,gamma", [("sigmoid", 0.25), ("tanh", 1.0), ("relu", 1.0)])
def test_pascanu_bound_holds_on_trajectories(activation, gamma):
    for seed in range(5):
        cache = make_cache(activation, T=25, scale=0.5 + seed, seed=seed)
        bound = jacobian.pascanu_bound(cache["W"], activation)
        assert bound.gamma == gamma
        assert bound.eta == pytest.approx(gamma * np.linalg.norm(cache["W"], 2))
        assert bound.vanishing_guaranteed == (bound.eta < 1)
        assert bound.explosion_possible == (bound.eta > 1)
        norms = jacobian.product_norms(jacobian.step_jacobians(cache))
        k = np.arange(norms.shape[0])[:, None]
        assert np.all(norms <= bound.eta**k * (1 + 1e-10))
        lam = jacobian.lyapunov_exponents(jacobian.step_jacobians(cache))
        assert np.all(lam <= np.log(bound.eta) + 1e-12)


def test_lyapunov_batched_and_singular_steps():
    cache = make_cache("tanh", T=40)
    J = jacobian.step_jacobians(cache)
    lam = jacobian.lyapunov_exponents(J, 2)
    assert lam.shape == (3, 2) and np.all(lam[:, 0] >= lam[:, 1])
    assert np.allclose(lam[1], jacobian.lyapunov_exponents(J[:, 1], 2))
    zero = jacobian.lyapunov_exponents(np.zeros((5, 3, 3)))
    assert zero[0] == -np.inf


def test_nonnormal_matrix_has_the_asked_spectrum():
    for H in (5, 8):
        W = jacobian.nonnormal_matrix(H, 0.8, 4.0, rng=1)
        assert np.allclose(np.abs(np.linalg.eigvals(W)), 0.8)
        assert jacobian.sigma_max(W) > 1.5
        normal = jacobian.nonnormal_matrix(H, 0.8, 0.0, rng=1)
        assert np.allclose(normal @ normal.T, normal.T @ normal)
        assert jacobian.sigma_max(normal) == pytest.approx(0.8)


# --- bad input -----------------------------------------------------------------------------

def test_bad_input_raises_clear_errors():
    cache = make_cache()
    with pytest.raises(ValueError, match="seq must be an integer index"):
        jacobian.step_jacobians(cache, seq=3)
    with pytest.raises(ValueError, match="kind must be"):
        jacobian.step_jacobians(cache, kind="hidden")
    with pytest.raises(ValueError, match="cache lacks"):
        jacobian.step_jacobians({"W": cache["W"]})
    with pytest.raises(ValueError, match="cache must be the dict"):
        jacobian.step_jacobians([1, 2])
    with pytest.raises(ValueError, match="start \\+ lag"):
        jacobian.unrolled_map(cache, 10, 5)
    with pytest.raises(ValueError, match="shape \\(H,\\)"):
        jacobian.unrolled_map(cache, 0, 1)(np.zeros(4))
    with pytest.raises(ValueError, match="square"):
        jacobian.spectral_radius(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="non-finite"):
        jacobian.sigma_max(np.array([[np.nan, 0.0], [0.0, 1.0]]))
    with pytest.raises(ValueError, match="numeric array"):
        jacobian.sigma_max("W")
    with pytest.raises(ValueError, match="unknown activation"):
        jacobian.pascanu_bound(np.eye(2), "softsign")
    with pytest.raises(ValueError, match="\\(n, H, H\\)"):
        jacobian.product_norms(np.eye(3))
    with pytest.raises(ValueError, match="ord must be"):
        jacobian.product_norms(np.zeros((2, 3, 3)), ord=1)
    with pytest.raises(ValueError, match="k_max"):
        jacobian.power_norms(np.eye(2), -1)
    with pytest.raises(ValueError, match="n_exponents"):
        jacobian.lyapunov_exponents(np.zeros((4, 3, 3)), 4)
    with pytest.raises(ValueError, match="discard"):
        jacobian.lyapunov_exponents(np.zeros((4, 3, 3)), discard=4)
    with pytest.raises(ValueError, match="at least one step"):
        jacobian.lyapunov_exponents(np.zeros((0, 3, 3)))
    with pytest.raises(ValueError, match="eps"):
        gradcheck.numerical_jacobian(lambda v: v, np.zeros(2), eps=0)
    with pytest.raises(ValueError, match="rho"):
        jacobian.nonnormal_matrix(4, -1.0, 1.0)
    with pytest.raises(ValueError, match="H >= 3"):
        jacobian.nonnormal_matrix(2, 0.5, 1.0)


# --- dtype and complex matrices ------------------------------------------------------------

def test_float32_cache_gives_float32_results_close_to_float64():
    cache64 = make_cache("tanh", T=20)
    x, h0 = cache64["x"].astype(np.float32), cache64["h0"].astype(np.float32)
    params = {k: cache64[k].astype(np.float32) for k in rnn.PARAMS}
    _, cache32 = rnn.forward(x, h0, **params, activation="tanh")
    J32, J64 = jacobian.step_jacobians(cache32), jacobian.step_jacobians(cache64)
    assert J32.dtype == np.float32 and J64.dtype == np.float64
    np.testing.assert_allclose(J32, J64, atol=1e-5)
    for fn in (jacobian.chain, jacobian.product_norms, jacobian.lyapunov_exponents):
        r32, r64 = fn(J32[:, 0]), fn(J64[:, 0])
        assert r32.dtype == np.float32 and r64.dtype == np.float64, fn.__name__
        np.testing.assert_allclose(r32, r64, rtol=1e-3, atol=1e-5, err_msg=fn.__name__)
    W32 = params["W"]
    assert jacobian.power_norms(W32, 3).dtype == np.float32
    assert jacobian.spectral_radius(W32).dtype == np.float32
    assert jacobian.sigma_max(W32).dtype == np.float32
    step = jacobian.unrolled_map(cache32, 0, 2, seq=1)
    assert step(cache32["net"][0, 1]).dtype == np.float32


def test_spectral_radius_and_sigma_max_of_complex_matrices():
    assert jacobian.spectral_radius(2j * np.eye(3)) == pytest.approx(2.0)
    assert jacobian.sigma_max(2j * np.eye(3)) == pytest.approx(2.0)
    rotation_like = np.array([[0.0, -1.0], [1.0, 0.0]]) * (1 + 1j)
    assert jacobian.spectral_radius(rotation_like) == pytest.approx(np.sqrt(2))
    assert jacobian.sigma_max(rotation_like) == pytest.approx(np.sqrt(2))
    with pytest.raises(ValueError, match="A holds 1 non-finite"):
        jacobian.sigma_max(np.array([[complex(np.nan, 1), 0], [0, 1]]))


@pytest.mark.parametrize("call", [
    lambda: jacobian.chain(np.ones((2, 3, 3)) * 1j),
    lambda: jacobian.product_norms(np.ones((2, 3, 3)) * 1j),
    lambda: jacobian.power_norms(np.eye(3) * 1j, 2),
    lambda: jacobian.lyapunov_exponents(np.ones((2, 3, 3)) * 1j),
    lambda: jacobian.pascanu_bound(np.eye(3) * 1j, "tanh"),
], ids=["chain", "product_norms", "power_norms", "lyapunov_exponents", "pascanu_bound"])
def test_complex_jacobians_are_refused_where_the_book_means_real_ones(call):
    with pytest.raises(ValueError, match="must be real; got a complex array"):
        call()


def test_a_cache_with_complex_entries_is_refused():
    cache = dict(make_cache(), W=make_cache()["W"] * (1 + 1j))
    with pytest.raises(ValueError, match=r"cache\['W'\] must be real"):
        jacobian.step_jacobians(cache)
