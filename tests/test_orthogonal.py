"""The orthogonal module: Haar-distributed random W, the exponential and Cayley maps
against independent references, their gradients against central differences, W staying
orthogonal through training, the orthogonal RNN, and bad input."""

import functools

import numpy as np
import pytest

from vanishgrad import gradcheck, orthogonal

SIZES = [1, 2, 3, 5, 8]


def taylor_expm(A, squarings=12, terms=30):
    """exp(A) by scaling and squaring a 30-term Taylor series: an independent reference."""
    X = A / 2.0**squarings
    E = np.eye(len(A))
    term = np.eye(len(A))
    for k in range(1, terms):
        term = term @ X / k
        E = E + term
    for _ in range(squarings):
        E = E @ E
    return E


def random_S(H, seed, scale=1.0):
    return scale * np.random.default_rng(seed).standard_normal((H, H))


def orth_err(W):
    return np.linalg.norm(W.T @ W - np.eye(len(W)), 2)


# --- random_orthogonal -----------------------------------------------------------------

@pytest.mark.parametrize("H", [1, 2, 5, 32])
def test_random_orthogonal_is_orthogonal_and_seeded(H):
    W = orthogonal.random_orthogonal(H, rng=3)
    assert W.shape == (H, H) and W.dtype == np.float64
    assert orth_err(W) < 1e-14
    np.testing.assert_array_equal(W, orthogonal.random_orthogonal(H, rng=3))
    assert orthogonal.random_orthogonal(H, rng=3, dtype=np.float32).dtype == np.float32


def test_random_orthogonal_has_the_moments_of_the_haar_measure():
    """Under Haar measure on O(n), E[tr W] = 0, E[(tr W)²] = 1 and W₁₁ is symmetric about 0.
    The plain Q of numpy's QR fails all three (its W₁₁ is always negative), so the sign
    fix is what makes these hold."""
    rng = np.random.default_rng(0)
    draws = [orthogonal.random_orthogonal(4, rng) for _ in range(4000)]
    traces = np.array([np.trace(W) for W in draws])
    assert abs(traces.mean()) < 0.08, traces.mean()            # standard error ≈ 0.016
    assert abs(np.mean(traces**2) - 1.0) < 0.15, np.mean(traces**2)
    assert 0.45 < np.mean([W[0, 0] > 0 for W in draws]) < 0.55
    plain = [np.linalg.qr(rng.standard_normal((4, 4)))[0] for _ in range(500)]
    assert abs(np.mean([np.trace(Q) for Q in plain])) > 0.5      # the unfixed Q is biased


# --- skew ------------------------------------------------------------------------------

def test_skew_uses_the_strict_upper_triangle_and_its_backward_is_the_adjoint():
    S, G = random_S(5, 1), random_S(5, 2)
    A = orthogonal.skew(S)
    np.testing.assert_array_equal(A, -A.T)
    np.testing.assert_array_equal(np.triu(A, 1), np.triu(S, 1))
    S2 = S.copy()
    S2[np.tril_indices(5)] = 99.0  # the diagonal and lower triangle do not matter
    np.testing.assert_array_equal(orthogonal.skew(S2), A)
    # <skew(S), G> = <S, skew_backward(G)> for all S, G
    np.testing.assert_allclose(np.sum(A * G), np.sum(S * orthogonal.skew_backward(G)), rtol=1e-13)
    assert not np.any(np.tril(orthogonal.skew_backward(G)))


# --- the exponential and Cayley maps ---------------------------------------------------

@pytest.mark.parametrize("scale", [1e-3, 1.0, 3.0])
@pytest.mark.parametrize("H", [2, 3, 6, 10])
def test_expm_skew_matches_a_taylor_series(H, scale):
    A = orthogonal.skew(random_S(H, H, scale))
    np.testing.assert_allclose(orthogonal.expm_skew(A), taylor_expm(A), rtol=0, atol=1e-12)


def test_expm_skew_matches_scipy_when_scipy_is_installed():
    linalg = pytest.importorskip("scipy.linalg")
    for H in (2, 5, 9):
        A = orthogonal.skew(random_S(H, H, 2.0))
        np.testing.assert_allclose(orthogonal.expm_skew(A), linalg.expm(A), rtol=0, atol=1e-12)


def test_expm_of_a_2x2_block_is_the_rotation_by_its_angle():
    for phi in (0.0, 0.3, -2.0, np.pi, 7.0):
        A = np.array([[0.0, phi], [-phi, 0.0]])
        expected = np.array([[np.cos(phi), np.sin(phi)], [-np.sin(phi), np.cos(phi)]])
        np.testing.assert_allclose(orthogonal.expm_skew(A), expected, rtol=0, atol=1e-15)


def test_expm_inverse_determinant_and_the_henaff_initialisation():
    A = orthogonal.skew(random_S(7, 4, 2.0))
    W = orthogonal.expm_skew(A)
    np.testing.assert_allclose(W @ orthogonal.expm_skew(-A), np.eye(7), atol=1e-14)
    assert np.linalg.det(W) == pytest.approx(1.0, abs=1e-13)  # exp maps onto rotations only
    S = orthogonal.init_S(7, rng=5)
    angles = S[[0, 2, 4], [1, 3, 5]]
    assert np.all(np.abs(angles) <= np.pi) and np.count_nonzero(S) == 3
    W, _ = orthogonal.forward(S)
    eig = np.linalg.eigvals(W)
    expected = np.concatenate([np.exp(1j * angles), np.exp(-1j * angles), [1.0]])
    np.testing.assert_allclose(np.sort_complex(eig), np.sort_complex(expected), atol=1e-13)


@pytest.mark.parametrize("H", [1, 2, 4, 7])
def test_cayley_solves_its_defining_equation(H):
    A = orthogonal.skew(random_S(H, 10 + H, 2.0))
    W = orthogonal.cayley(A)
    np.testing.assert_allclose((np.eye(H) + A) @ W, np.eye(H) - A, atol=1e-13)
    np.testing.assert_array_equal(orthogonal.forward(np.zeros((H, H)), "cayley")[0], np.eye(H))
    np.testing.assert_array_equal(orthogonal.forward(np.zeros((H, H)), "expm")[0], np.eye(H))
    np.testing.assert_allclose(orthogonal.forward(random_S(H, 10 + H, 2.0), "cayley")[0], W, atol=1e-15)


@pytest.mark.parametrize("method", orthogonal.METHODS)
@pytest.mark.parametrize("scale", [1e-2, 1.0, 10.0])
@pytest.mark.parametrize("H", [1, 2, 16, 64])
def test_both_maps_give_orthogonal_W_to_rounding_error(method, scale, H):
    W, _ = orthogonal.forward(random_S(H, H, scale), method)
    assert orthogonal.orthogonality_error(W) < 1e-13
    assert orthogonal.orthogonality_error(W) == pytest.approx(orth_err(W), abs=1e-18)


# --- gradients -------------------------------------------------------------------------

def S_cases(H):
    return {
        "random": random_S(H, 20 + H),
        "zero (all eigenvalues equal)": np.zeros((H, H)),
        "henaff (eigenvalue pairs ±iφ)": orthogonal.init_S(H, rng=H),
        "large": random_S(H, 30 + H, 4.0),
    }


@pytest.mark.parametrize("method", orthogonal.METHODS)
@pytest.mark.parametrize("H", SIZES)
def test_gradient_check_of_S_through_both_maps(method, H):
    for case, S in S_cases(H).items():
        errors = gradcheck.check_forward_backward(
            lambda S: orthogonal.forward(S, method), orthogonal.backward, {"S": S.copy()}, seed=H)
        assert errors["S"] <= 1e-7, (method, H, case, errors)


@pytest.mark.parametrize("method", orthogonal.METHODS)
def test_gradient_lives_in_the_strict_upper_triangle(method):
    W, cache = orthogonal.forward(random_S(5, 0), method)
    dS = orthogonal.backward(random_S(5, 1), cache)["S"]
    assert dS.shape == (5, 5) and not np.any(np.tril(dS)) and np.any(np.triu(dS, 1))


def test_expm_gradient_with_repeated_eigenvalues_matches_a_taylor_reference():
    """S = 0 and the block rotations of init_S repeat eigenvalues, where a naive divided
    difference (e^a − e^b)/(a − b) divides zero by zero; compare the directional derivative
    with the Taylor reference's central difference."""
    rng = np.random.default_rng(0)
    for S in (np.zeros((4, 4)), orthogonal.init_S(6, rng=1)):
        H = len(S)
        G, E = rng.standard_normal((H, H)), np.triu(rng.standard_normal((H, H)), 1)
        _, cache = orthogonal.forward(S)
        analytic = np.sum(orthogonal.backward(G, cache)["S"] * E)
        t = 1e-6
        numeric = np.sum(G * (taylor_expm(orthogonal.skew(S + t * E)) - taylor_expm(orthogonal.skew(S - t * E)))) / (2 * t)
        assert analytic == pytest.approx(numeric, rel=1e-7, abs=1e-9)


@pytest.mark.parametrize("method", orthogonal.METHODS)
def test_W_stays_orthogonal_through_many_gradient_steps(method):
    """1000 steps of gradient descent on S pulling W towards a non-orthogonal target:
    the loss falls and W stays orthogonal to rounding error all along."""
    H = 12
    rng = np.random.default_rng(1)
    M = rng.standard_normal((H, H))
    S = 0.1 * rng.standard_normal((H, H))
    worst, losses_seen = 0.0, []
    for _ in range(1000):
        W, cache = orthogonal.forward(S, method)
        worst = max(worst, orthogonal.orthogonality_error(W))
        losses_seen.append(0.5 * np.sum((W - M) ** 2))
        S -= 0.02 * orthogonal.backward(W - M, cache)["S"]
    assert losses_seen[-1] < 0.8 * losses_seen[0]
    assert np.max(np.abs(S)) > 0.5   # S has moved far from where it started
    assert worst < 1e-13, worst


@pytest.mark.parametrize("method", orthogonal.METHODS)
def test_float32_stays_float32(method):
    S = random_S(6, 2)
    W32, c32 = orthogonal.forward(S.astype(np.float32), method)
    W64, c64 = orthogonal.forward(S, method)
    assert W32.dtype == np.float32
    np.testing.assert_allclose(W32, W64, atol=1e-5)
    dW = random_S(6, 3)
    d32 = orthogonal.backward(dW.astype(np.float32), c32)["S"]
    assert d32.dtype == np.float32
    np.testing.assert_allclose(d32, orthogonal.backward(dW, c64)["S"], atol=1e-4)
    assert orthogonal.forward(S, method, dtype=np.float32)[0].dtype == np.float32
    assert orthogonal.forward(np.arange(9).reshape(3, 3), method)[0].dtype == np.float64


# --- the orthogonal RNN ----------------------------------------------------------------

def rnn_inputs(T, B, D, H, K, seed):
    rng = np.random.default_rng(seed)
    p = orthogonal.init_rnn_params(D, H, K, rng=rng)
    p["S"] = p["S"] + 0.3 * np.triu(rng.standard_normal((H, H)), 1)
    return dict(x=rng.standard_normal((T, B, D)), h0=0.5 * rng.standard_normal((B, H)), **p)


@pytest.mark.parametrize("method", orthogonal.METHODS)
@pytest.mark.parametrize("activation", ["tanh", "identity"])
@pytest.mark.parametrize("shape", [(1, 1, 1, 1, 1), (4, 2, 3, 5, 2), (6, 1, 2, 4, 1)])
def test_gradient_check_of_the_orthogonal_rnn(method, activation, shape):
    inputs = rnn_inputs(*shape, seed=sum(shape))
    errors = gradcheck.check_forward_backward(
        lambda **kw: orthogonal.rnn_forward(**kw, activation=activation, method=method),
        orthogonal.rnn_backward, inputs)
    assert set(errors) == {"x", "h0", "U", "S", "b", "V", "c"}
    assert max(errors.values()) <= 1e-7, errors


def test_a_linear_orthogonal_recurrence_keeps_the_gradient_norm_and_tanh_does_not():
    """With f the identity and the loss at the last step only, ∂L/∂h_t = Wᵀ ∂L/∂h_{t+1}:
    its norm is the same at every t. With tanh the same W lets it decay through f'."""
    T, B, D, H, K = 60, 4, 3, 16, 2
    inputs = rnn_inputs(T, B, D, H, K, seed=1)
    do = np.zeros((T, B, K))
    do[-1] = np.random.default_rng(2).standard_normal((B, K))
    o, cache = orthogonal.rnn_forward(**inputs, activation="identity")
    norms = orthogonal.rnn_backward(do, cache)["dh_norms"]
    np.testing.assert_allclose(norms, norms[-1], rtol=1e-12)
    inputs["U"] = 3.0 * inputs["U"]  # push tanh into saturation
    o, cache = orthogonal.rnn_forward(**inputs, activation="tanh")
    norms = orthogonal.rnn_backward(do, cache)["dh_norms"]
    assert norms[0] < 1e-3 * norms[-1]


@pytest.mark.parametrize("method", orthogonal.METHODS)
def test_rnn_loss_and_grads_matches_central_differences_and_keeps_W_orthogonal(method):
    rng = np.random.default_rng(5)
    params = orthogonal.init_rnn_params(2, 6, 1, rng=rng)
    batch = (rng.standard_normal((7, 3, 2)), rng.standard_normal((3, 1)))
    f = functools.partial(orthogonal.rnn_loss_and_grads, method=method)
    loss, grads = f(params, batch)
    assert set(grads) == set(params) and isinstance(loss, float)
    for name in params:
        numeric = gradcheck.numerical_gradient(lambda: f(params, batch)[0], params[name])
        assert gradcheck.rel_error(grads[name], numeric) <= 1e-7, name
    for _ in range(200):
        _, grads = f(params, batch)
        for name in params:
            params[name] -= 0.1 * grads[name]
    assert orthogonal.orthogonality_error(orthogonal.forward(params["S"], method)[0]) < 1e-13
    assert f(params, batch)[0] < loss


def test_init_rnn_params_shapes():
    p = orthogonal.init_rnn_params(3, 5, 2, rng=0)
    assert {k: v.shape for k, v in p.items()} == {"U": (5, 3), "S": (5, 5), "b": (5,), "V": (2, 5), "c": (2,)}
    W, _ = orthogonal.forward(p["S"])
    assert orth_err(W) < 1e-14


# --- bad input -------------------------------------------------------------------------

@pytest.mark.parametrize("S, message", [
    (np.zeros((3, 4)), r"S must have shape \(H, H\) with H >= 1; got \(3, 4\)"),
    (np.zeros(3), r"S must have shape \(H, H\).*got \(3,\)"),
    (np.zeros((0, 0)), r"S must have shape \(H, H\) with H >= 1; got \(0, 0\)"),
    (np.array([[1.0, np.nan], [0.0, 1.0]]), "S holds 1 non-finite"),
    (np.array([[1.0, np.inf], [0.0, 1.0]]), "S holds 1 non-finite"),
    (np.eye(2) * 1j, r"S must be real; got a complex array \(complex128\)"),
    (np.array([["a", "b"], ["c", "d"]]), "S must be a numeric array of real numbers"),
])
@pytest.mark.parametrize("method", orthogonal.METHODS)
def test_bad_S_is_refused(S, message, method):
    with pytest.raises(ValueError, match=message):
        orthogonal.forward(S, method)


def test_other_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="unknown method 'qr'; choose one of cayley, expm"):
        orthogonal.forward(np.eye(2), "qr")
    with pytest.raises(ValueError, match=r"dtype must be float32 or float64 \(or None"):
        orthogonal.forward(np.eye(2), dtype=np.int32)
    W, cache = orthogonal.forward(np.eye(3))
    with pytest.raises(ValueError, match=r"dW must have shape \(H, H\) = \(3, 3\); got \(2, 2\)"):
        orthogonal.backward(np.eye(2), cache)
    with pytest.raises(ValueError, match="dW holds 1 non-finite"):
        orthogonal.backward(np.diag([1.0, np.nan, 1.0]), cache)
    with pytest.raises(ValueError, match="cache lacks 'method'.*orthogonal.forward"):
        orthogonal.backward(np.eye(3), {"W": W})
    with pytest.raises(ValueError, match="cache lacks 'V', 'alpha'"):
        orthogonal.backward(np.eye(3), {"W": W, "method": "expm"})
    with pytest.raises(ValueError, match="cache must be the dict returned by orthogonal.forward"):
        orthogonal.backward(np.eye(3), [W])
    with pytest.raises(ValueError, match="A must be skew-symmetric"):
        orthogonal.expm_skew(np.eye(3))
    with pytest.raises(ValueError, match="A must be skew-symmetric"):
        orthogonal.cayley(np.ones((2, 2)))
    for H in (0, -1, 2.0, True, "3"):
        with pytest.raises(ValueError, match="H must be a positive integer"):
            orthogonal.random_orthogonal(H)
        with pytest.raises(ValueError, match="H must be a positive integer"):
            orthogonal.init_S(H)
    with pytest.raises(ValueError, match="W must have shape"):
        orthogonal.orthogonality_error(np.zeros((2, 3)))


def test_rnn_loss_and_grads_trains_through_the_shared_trainer_and_W_stays_orthogonal():
    from vanishgrad import optim, tasks, train

    params = orthogonal.init_rnn_params(2, 8, 1, rng=0)
    f = functools.partial(orthogonal.rnn_loss_and_grads, activation="tanh", method="expm")
    history = train.run(f, lambda step: tasks.adding(10, 16, rng=step), optim.Adam(params, lr=1e-2), steps=60)
    assert len(history.loss) == 60 and np.all(np.isfinite(history.loss))
    assert np.max(np.abs(np.tril(params["S"]))) == 0.0  # the trainer never touched the unused triangle
    assert orthogonal.orthogonality_error(orthogonal.forward(params["S"])[0]) < 1e-13


def test_rnn_outputs_that_overflow_give_an_infinite_loss_and_no_gradients():
    params = orthogonal.init_rnn_params(2, 3, 1, rng=0)
    params["V"] = np.full((1, 3), 1e308)
    params["b"] = np.ones(3)
    x = np.ones((4, 2, 2))
    with np.errstate(over="ignore", invalid="ignore"):
        loss, grads = orthogonal.rnn_loss_and_grads(params, (x, np.zeros((2, 1))), activation="identity")
    assert not np.isfinite(loss) and grads is None
