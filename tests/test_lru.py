"""The lru module: every gradient against central differences, the forward pass against
a loop in explicit real arithmetic, the exact λ^k gradient through k steps, the paper's
initialisation (ring, phases, γ), the adding-problem model, and bad input."""

import numpy as np
import pytest

from vanishgrad import gradcheck, lru

# (T, B, D_in, N, D_out): single step, single sequence, single channel, D_in ≠ D_out
SHAPES = [
    (1, 1, 1, 1, 1),
    (1, 3, 2, 4, 3),
    (5, 1, 3, 1, 2),
    (4, 2, 1, 5, 3),
    (6, 3, 4, 3, 4),
    (3, 2, 5, 2, 1),
]
REAL_GRADS = set(lru.PARAMS) | {"u"}


def make_inputs(T, B, D_in, N, D_out, seed=0, r_min=0.3, r_max=0.95):
    rng = np.random.default_rng(seed)
    p = lru.init_params(D_in, N, D_out, r_min, r_max, rng=rng)
    p["gamma_log"] = p["gamma_log"] + 0.2 * rng.standard_normal(N)  # γ trained away from its init
    return dict(u=rng.standard_normal((T, B, D_in)), **p), rng.standard_normal((B, N)) + 1j * rng.standard_normal((B, N))


def forward_with_real_x0(u, x0_re, x0_im, **params):
    return lru.forward(u, params, x0_re + 1j * x0_im)


def backward_with_real_x0(dy, cache):
    grads = lru.backward(dy, cache)
    grads["x0_re"], grads["x0_im"] = grads["x0"].real, grads["x0"].imag
    return grads


def reference_forward(u, x0, p):
    """The LRU one sequence and one step at a time, in real arithmetic (real and imaginary
    parts as separate real numbers), column vectors as in the paper."""
    T, B, _ = u.shape
    r = np.exp(-np.exp(p["nu_log"]))
    phase = np.exp(p["theta_log"])
    lam_re, lam_im = r * np.cos(phase), r * np.sin(phase)
    gamma = np.exp(p["gamma_log"])
    y = np.zeros((T, B, p["D"].shape[0]))
    for n in range(B):
        x_re, x_im = x0[n].real.copy(), x0[n].imag.copy()
        for k in range(T):
            bu_re, bu_im = gamma * (p["B_re"] @ u[k, n]), gamma * (p["B_im"] @ u[k, n])
            x_re, x_im = lam_re * x_re - lam_im * x_im + bu_re, lam_re * x_im + lam_im * x_re + bu_im
            y[k, n] = p["C_re"] @ x_re - p["C_im"] @ x_im + p["D"] @ u[k, n]
    return y


# --- gradients -------------------------------------------------------------------------

@pytest.mark.parametrize("shape", SHAPES, ids=[str(s) for s in SHAPES])
def test_gradient_check_every_parameter_the_input_and_x0(shape):
    inputs, x0 = make_inputs(*shape, seed=sum(shape))
    inputs["x0_re"], inputs["x0_im"] = x0.real.copy(), x0.imag.copy()
    errors = gradcheck.check_forward_backward(forward_with_real_x0, backward_with_real_x0, inputs)
    assert set(errors) == REAL_GRADS | {"x0_re", "x0_im"}
    assert max(errors.values()) <= 1e-7, (shape, errors)


@pytest.mark.parametrize("r_min, r_max", [(0.0, 0.5), (0.9, 0.999), (0.999, 0.999)])
def test_gradient_check_across_the_ring(r_min, r_max):
    inputs, x0 = make_inputs(8, 2, 2, 4, 2, seed=3, r_min=r_min, r_max=r_max)
    errors = gradcheck.check_forward_backward(lambda u, **p: lru.forward(u, p, x0), lru.backward, inputs)
    assert set(errors) == REAL_GRADS
    assert max(errors.values()) <= 1e-7, errors


def test_gradient_check_with_a_gradient_into_the_last_state():
    inputs, x0 = make_inputs(4, 2, 3, 5, 2, seed=7)
    dx_last = np.random.default_rng(8).standard_normal((2, 5, 2)) @ np.array([1, 1j])

    def forward(**kw):
        y, cache = lru.forward(kw.pop("u"), kw, x0)
        # L = Σ y·dy + Re Σ conj(dx_last)·x_T, one real output vector for gradcheck
        return np.concatenate([y.ravel(), [np.sum((dx_last.conj() * cache["x"][-1]).real)]]), cache

    def backward(dout, cache):
        n = dout.size - 1
        return lru.backward(dout[:n].reshape(cache["u"].shape[:2] + (-1,)), cache, dx_last=dout[n] * dx_last)

    errors = gradcheck.check_forward_backward(forward, backward, inputs)
    assert max(errors.values()) <= 1e-7, errors


def test_the_gradient_through_k_steps_is_lambda_to_the_k():
    """∂x_{t+k}/∂x_t = diag(λ^k), exactly: in the forward pass a change δ of x_0 changes
    x_k by λ^k ⊙ δ; in the backward pass a gradient e at x_T reaches x_0 as conj(λ)^T ⊙ e,
    and its norm at step k is |λ|^{T−k} ‖e‖ channel by channel."""
    T, B, D_in, N, D_out = 40, 2, 3, 4, 2
    inputs, x0 = make_inputs(T, B, D_in, N, D_out, seed=1, r_min=0.5, r_max=0.99)
    u = inputs.pop("u")
    lam = lru.eigenvalues(inputs)
    delta = np.random.default_rng(2).standard_normal((B, N)) + 0.5j
    _, c0 = lru.forward(u, inputs, x0)
    _, c1 = lru.forward(u, inputs, x0 + delta)
    k = np.arange(1, T + 1)[:, None, None]
    np.testing.assert_allclose(c1["x"] - c0["x"], lam**k * delta, rtol=0, atol=1e-12)

    e = np.random.default_rng(3).standard_normal((B, N)) + 1j
    grads = lru.backward(np.zeros((T, B, D_out)), c0, dx_last=e)
    np.testing.assert_allclose(grads["x0"], lam.conj() ** T * e, rtol=1e-12)
    expected = np.sqrt(np.sum(np.abs(lam) ** (2 * (T - k)) * np.abs(e) ** 2, axis=(1, 2)))
    np.testing.assert_allclose(grads["dx_norms"], expected, rtol=1e-12)
    one = {**inputs, **{name: inputs[name][:1] for name in ("nu_log", "theta_log", "gamma_log")},
           "B_re": inputs["B_re"][:1], "B_im": inputs["B_im"][:1],
           "C_re": inputs["C_re"][:, :1], "C_im": inputs["C_im"][:, :1]}
    _, c = lru.forward(u, one)
    norms = lru.backward(np.zeros((T, B, D_out)), c, dx_last=np.ones((B, 1)))["dx_norms"]
    np.testing.assert_allclose(norms[:-1] / norms[1:], np.abs(lam[0]), rtol=1e-12)  # one channel: |λ| per step


def test_dx_norms_are_the_norms_of_dL_dx_k():
    """‖∂L/∂x_k‖ from backward equals an independent ∂L/∂x_k: the loss from step k+1 on,
    seen from x_k (a second run started at x_k), plus the direct term from y_k."""
    inputs, x0 = make_inputs(6, 2, 3, 4, 2, seed=11)
    u = inputs.pop("u")
    dy = np.random.default_rng(12).standard_normal((6, 2, 2))
    _, cache = lru.forward(u, inputs, x0)
    norms = lru.backward(dy, cache)["dx_norms"]
    C = inputs["C_re"] + 1j * inputs["C_im"]
    assert norms.shape == (6,)
    for k in range(6):
        g = dy[k] @ C.conj()
        if k + 1 < 6:
            _, c2 = lru.forward(u[k + 1:], inputs, cache["x"][k])
            g = g + lru.backward(dy[k + 1:], c2)["x0"]
        np.testing.assert_allclose(norms[k], np.linalg.norm(g), rtol=1e-12)


# --- forward ---------------------------------------------------------------------------

@pytest.mark.parametrize("shape", SHAPES, ids=[str(s) for s in SHAPES])
def test_forward_matches_a_loop_in_real_arithmetic(shape):
    inputs, x0 = make_inputs(*shape, seed=1 + sum(shape))
    u = inputs.pop("u")
    y, cache = lru.forward(u, inputs, x0)
    np.testing.assert_allclose(y, reference_forward(u, x0, inputs), rtol=1e-12, atol=1e-12)
    T, B, D_in, N, D_out = shape
    assert y.shape == (T, B, D_out) and y.dtype == np.float64
    assert cache["x"].shape == (T, B, N) and cache["x"].dtype == np.complex128
    y0, _ = lru.forward(u, inputs)  # x0 = None is the zero state
    np.testing.assert_allclose(y0, reference_forward(u, np.zeros((B, N)), inputs), rtol=1e-12, atol=1e-12)


def test_eigenvalues_lie_inside_the_unit_disk_for_any_parameters():
    nu_log = np.linspace(-30, 6, 200)
    lam = lru.eigenvalues({"nu_log": nu_log, "theta_log": np.linspace(-5, 3, 200)})
    assert np.all(np.abs(lam) < 1) and np.all(np.abs(lam) > 0)
    np.testing.assert_allclose(np.abs(lam), np.exp(-np.exp(nu_log)), rtol=1e-15)


def test_the_linear_lru_obeys_superposition():
    """Without a nonlinearity, y(u + v) = y(u) + y(v) from a zero state: the last output
    is a weighted sum of the inputs, so no product of two input channels can come out."""
    inputs, _ = make_inputs(7, 3, 2, 5, 1, seed=4)
    u = inputs.pop("u")
    v = np.random.default_rng(5).standard_normal(u.shape)
    y_uv, _ = lru.forward(u + v, inputs)
    np.testing.assert_allclose(y_uv, lru.forward(u, inputs)[0] + lru.forward(v, inputs)[0], atol=1e-12)


def test_gamma_keeps_the_state_variance_for_white_noise_input():
    """x_k = λ x_{k−1} + γ ξ_k with E|ξ|² = 1 has E|x_∞|² = γ²/(1 − |λ|²), which γ's
    initial value √(1 − |λ|²) makes 1 for every |λ|; without γ it would be 1/(1 − |λ|²)."""
    N = 3
    p = lru.init_params(1, N, 1, 0.5, 0.95, rng=0)
    p["B_re"], p["B_im"] = np.ones((N, 1)), np.zeros((N, 1))
    u = np.random.default_rng(1).standard_normal((400, 3000, 1))
    _, cache = lru.forward(u, p)
    variance = np.mean(np.abs(cache["x"][-1]) ** 2, axis=0)
    np.testing.assert_allclose(variance, 1.0, rtol=0.1)
    assert np.max(1 / (1 - np.abs(lru.eigenvalues(p)) ** 2)) > 3  # what it would be without γ


def test_forward_and_backward_leave_their_inputs_and_the_cache_unchanged():
    inputs, x0 = make_inputs(4, 2, 3, 5, 2)
    u = inputs.pop("u")
    before = {k: v.copy() for k, v in inputs.items()}
    u_before, x0_before = u.copy(), x0.copy()
    y, cache = lru.forward(u, inputs, x0)
    x = cache["x"].copy()
    dy = np.ones_like(y)
    lru.backward(dy, cache)
    lru.backward(dy, cache, dx_last=np.ones((2, 5)))
    for k in inputs:
        np.testing.assert_array_equal(inputs[k], before[k])
    np.testing.assert_array_equal(u, u_before)
    np.testing.assert_array_equal(x0, x0_before)
    np.testing.assert_array_equal(cache["x"], x)
    np.testing.assert_array_equal(dy, np.ones_like(y))


def test_float32_stays_float32_and_agrees_with_float64():
    inputs, x0 = make_inputs(8, 3, 2, 6, 2, seed=5)
    u = inputs.pop("u")
    dy = np.random.default_rng(6).standard_normal((8, 3, 2))
    y64, c64 = lru.forward(u, inputs, x0)
    p32 = {k: v.astype(np.float32) for k, v in inputs.items()}
    y32, c32 = lru.forward(u.astype(np.float32), p32, x0)
    assert y32.dtype == np.float32 and c32["x"].dtype == np.complex64
    np.testing.assert_allclose(y32, y64, rtol=1e-4, atol=1e-5)
    g64, g32 = lru.backward(dy, c64), lru.backward(dy, c32)
    for name in REAL_GRADS | {"dx_norms"}:
        assert g32[name].dtype == np.float32, name
        scale = max(np.max(np.abs(g64[name])), 1.0)
        np.testing.assert_allclose(g32[name], g64[name], atol=1e-4 * scale, err_msg=name)
    assert g32["x0"].dtype == np.complex64
    assert lru.forward(u, inputs, dtype=np.float32)[0].dtype == np.float32
    assert lru.forward(u.astype(np.float32), inputs)[0].dtype == np.float64  # mixed: float64


# --- initialisation --------------------------------------------------------------------

def test_init_params_shapes_dtypes_and_seed():
    p = lru.init_params(3, 5, 2, 0.4, 0.9, rng=0)
    assert {k: v.shape for k, v in p.items()} == {
        "nu_log": (5,), "theta_log": (5,), "gamma_log": (5,), "B_re": (5, 3), "B_im": (5, 3),
        "C_re": (2, 5), "C_im": (2, 5), "D": (2, 3)}
    assert all(v.dtype == np.float64 for v in p.values())
    assert all(v.dtype == np.float32 for v in lru.init_params(3, 5, 2, rng=0, dtype=np.float32).values())
    q = lru.init_params(3, 5, 2, 0.4, 0.9, rng=0)
    for k in p:
        np.testing.assert_array_equal(p[k], q[k])


@pytest.mark.parametrize("r_min, r_max, max_phase", [(0.0, 0.99, 2 * np.pi), (0.9, 0.999, np.pi / 10), (0.5, 0.5, 1.0)])
def test_eigenvalues_are_uniform_on_the_ring_and_gamma_is_their_normaliser(r_min, r_max, max_phase):
    """Lemma 3.2: |λ|² uniform on [r_min², r_max²] (uniform in the ring's area, not in the
    radius), the phase uniform on (0, max_phase]; γ = √(1 − |λ|²)."""
    p = lru.init_params(1, 20000, 1, r_min, r_max, max_phase, rng=1)
    lam = lru.eigenvalues(p)
    r2 = np.abs(lam) ** 2
    phase = np.exp(p["theta_log"])
    assert np.all(r2 >= r_min**2 - 1e-12) and np.all(r2 <= r_max**2 + 1e-12)
    assert np.all(phase > 0) and np.all(phase <= max_phase * (1 + 1e-12))
    np.testing.assert_allclose(np.exp(p["gamma_log"]), np.sqrt(1 - r2), rtol=1e-12)
    np.testing.assert_allclose(np.angle(lam) % (2 * np.pi), phase % (2 * np.pi), atol=1e-9)
    if r_max > r_min:  # Kolmogorov–Smirnov distance to the uniform law; 0.015 is about 2× its 1 % critical value
        grid = np.sort((r2 - r_min**2) / (r_max**2 - r_min**2))
        assert np.max(np.abs(grid - np.arange(1, grid.size + 1) / grid.size)) < 0.015
    if r_min == 0:  # on the disk the radius itself is far from uniform: its CDF is ρ², at distance 1/4
        radius = np.sort(np.sqrt(r2) / r_max)
        assert np.max(np.abs(radius - np.arange(1, radius.size + 1) / radius.size)) > 0.2
    grid = np.sort(phase / max_phase)
    assert np.max(np.abs(grid - np.arange(1, grid.size + 1) / grid.size)) < 0.015


def test_initial_scales_follow_the_reference_code():
    p = lru.init_params(50, 400, 30, rng=2)
    assert np.std(p["B_re"]) == pytest.approx(1 / np.sqrt(100), rel=0.03)
    assert np.std(p["B_im"]) == pytest.approx(1 / np.sqrt(100), rel=0.03)
    assert np.std(p["C_re"]) == pytest.approx(1 / np.sqrt(400), rel=0.03)
    assert np.std(p["D"]) == pytest.approx(1 / np.sqrt(50), rel=0.05)


# --- the adding-problem model ----------------------------------------------------------

def adding_batch(T, B, rng):
    """The adding problem (values in U[0, 1], one marker in each half), (x (T, B, 2), y (B, 1))."""
    values = rng.random((T, B))
    markers = np.zeros((T, B))
    markers[rng.integers(0, T // 2, B), np.arange(B)] = 1.0
    markers[rng.integers(T // 2, T, B), np.arange(B)] = 1.0
    return np.stack([values, markers], axis=-1), np.sum(values * markers, axis=0)[:, None]


@pytest.mark.parametrize("hidden", [None, 1, 6])
def test_loss_and_grads_match_central_differences(hidden):
    rng = np.random.default_rng(hidden or 0)
    params = lru.init_model(2, 4, 1, hidden=hidden, r_min=0.5, r_max=0.95, rng=rng)
    if hidden:
        params["b_in"] = 0.3 * rng.standard_normal(hidden)
    batch = adding_batch(6, 3, rng)
    loss, grads = lru.loss_and_grads(params, batch)
    assert set(grads) == set(params) and isinstance(loss, float)
    assert set(params) == set(lru.PARAMS) | ({"W_in", "b_in"} if hidden else set())
    y = lru.predict(params, batch[0])
    assert y.shape == (3, 1) and loss == pytest.approx(0.5 * np.mean(np.sum((y - batch[1]) ** 2, axis=1)))
    for name in params:
        numeric = gradcheck.numerical_gradient(lambda: lru.loss_and_grads(params, batch)[0], params[name])
        assert gradcheck.rel_error(grads[name], numeric) <= 1e-7, name


def test_a_relu_on_each_step_computes_value_times_marker():
    """ReLU(v + m − 1) = v·m for v ∈ [0, 1], m ∈ {0, 1}: the per-step layer can form the
    products, and an LRU with λ → 1 then sums them (checked here with the weights set by hand)."""
    T, B = 30, 50
    x, y = adding_batch(T, B, np.random.default_rng(0))
    params = lru.init_model(2, 1, 1, hidden=1, r_min=0.5, r_max=0.5, rng=0)
    params.update(W_in=np.array([[1.0, 1.0]]), b_in=np.array([-1.0]),
                  nu_log=np.array([-40.0]), theta_log=np.array([-40.0]), gamma_log=np.array([0.0]),
                  B_re=np.ones((1, 1)), B_im=np.zeros((1, 1)), C_re=np.ones((1, 1)), C_im=np.zeros((1, 1)),
                  D=np.zeros((1, 1)))
    np.testing.assert_allclose(lru.predict(params, x), y, atol=1e-12)


def test_training_on_the_adding_problem_beats_the_baseline_only_with_the_relu_layer():
    """A short Adam run at T = 10: the model with the ReLU layer gets far below the
    baseline MSE (predicting 1 always: Var = 1/6), the purely linear LRU does not."""
    def train(hidden):
        rng = np.random.default_rng(0)
        params = lru.init_model(2, 16, 1, hidden=hidden, r_min=0.9, r_max=0.999, max_phase=np.pi / 10, rng=1)
        m = {k: np.zeros_like(v) for k, v in params.items()}
        v = {k: np.zeros_like(v) for k, v in params.items()}
        for step in range(1, 301):
            _, grads = lru.loss_and_grads(params, adding_batch(10, 32, rng))
            for k in params:
                m[k] = 0.9 * m[k] + 0.1 * grads[k]
                v[k] = 0.999 * v[k] + 0.001 * grads[k] ** 2
                params[k] -= 1e-2 * (m[k] / (1 - 0.9**step)) / (np.sqrt(v[k] / (1 - 0.999**step)) + 1e-8)
        x, y = adding_batch(10, 2000, np.random.default_rng(99))
        return np.mean((lru.predict(params, x) - y) ** 2)

    baseline = 1 / 6
    assert train(hidden=8) < 0.1 * baseline
    assert train(hidden=None) > 0.5 * baseline


# --- bad input -------------------------------------------------------------------------

def good():
    inputs, _ = make_inputs(4, 2, 3, 5, 2)
    return inputs.pop("u"), inputs


@pytest.mark.parametrize("name, shape, message", [
    ("nu_log", (5, 1), r"nu_log must have shape \(N,\) with N >= 1; got \(5, 1\)"),
    ("theta_log", (4,), r"theta_log must have shape \(N,\) = \(5,\); got \(4,\)"),
    ("gamma_log", (6,), r"gamma_log must have shape \(N,\) = \(5,\); got \(6,\)"),
    ("B_re", (5, 2), r"B_re must have shape \(N, D_in\) = \(5, 3\); got \(5, 2\)"),
    ("B_im", (3, 5), r"B_im must have shape \(N, D_in\) = \(5, 3\); got \(3, 5\)"),
    ("C_re", (2, 4), r"C_re must have shape \(D_out, N\) = \(2, 5\); got \(2, 4\)"),
    ("C_im", (5, 2), r"C_im must have shape \(D_out, N\) = \(2, 5\); got \(5, 2\)"),
    ("D", (2, 2), r"D must have shape \(D_out, D_in\) = \(2, 3\); got \(2, 2\)"),
    ("D", (3,), r"D must have shape \(D_out, D_in\) with D_out >= 1; got \(3,\)"),
])
def test_mismatched_parameter_shapes_name_the_expected_and_the_given_shape(name, shape, message):
    u, p = good()
    p[name] = np.zeros(shape)
    with pytest.raises(ValueError, match=message):
        lru.forward(u, p)


def test_bad_inputs_and_states_are_refused():
    u, p = good()
    with pytest.raises(ValueError, match=r"u must have shape \(T, B, D_in\).*got \(4, 3\)"):
        lru.forward(np.zeros((4, 3)), p)
    with pytest.raises(ValueError, match=r"u must have at least one entry along every axis.*T is 0"):
        lru.forward(np.zeros((0, 2, 3)), p)
    with pytest.raises(ValueError, match=r"x0 must have shape \(B, N\) = \(2, 5\); got \(5,\)"):
        lru.forward(u, p, x0=np.zeros(5))
    with pytest.raises(ValueError, match="u must be real; got a complex array"):
        lru.forward(u + 0j, p)
    with pytest.raises(ValueError, match="B_re must be real; got a complex array"):
        lru.forward(u, {**p, "B_re": p["B_re"] * 1j})
    with pytest.raises(ValueError, match="x0 must be a numeric"):
        lru.forward(u, p, x0=np.full((2, 5), "a"))
    with pytest.raises(ValueError, match="params is missing gamma_log, D"):
        lru.forward(u, {k: v for k, v in p.items() if k not in ("gamma_log", "D")})
    with pytest.raises(ValueError, match="params must be a dict"):
        lru.forward(u, list(p.values()))
    with pytest.raises(ValueError, match="dtype must be float32 or float64"):
        lru.forward(u, p, dtype=np.complex128)


@pytest.mark.parametrize("name", ["u"] + list(lru.PARAMS) + ["x0"])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_inputs_are_refused(name, bad):
    u, p = good()
    x0 = np.zeros((2, 5), dtype=complex)
    arrays = {"u": u, "x0": x0, **p}
    arrays[name] = arrays[name].copy()
    arrays[name].flat[0] = bad
    with pytest.raises(ValueError, match=rf"{name} holds 1 non-finite value"):
        lru.forward(arrays.pop("u"), {k: arrays[k] for k in lru.PARAMS}, x0=arrays["x0"])


def test_backward_refuses_bad_upstream_gradients():
    u, p = good()
    y, cache = lru.forward(u, p)
    with pytest.raises(ValueError, match=r"dy must have shape \(T, B, D_out\) = \(4, 2, 2\); got \(4, 2, 3\)"):
        lru.backward(np.zeros((4, 2, 3)), cache)
    bad = np.zeros_like(y)
    bad[1, 0, 0] = np.nan
    with pytest.raises(ValueError, match="dy holds 1 non-finite"):
        lru.backward(bad, cache)
    with pytest.raises(ValueError, match="dy must be real; got a complex array"):
        lru.backward(y + 1j, cache)
    with pytest.raises(ValueError, match=r"dx_last must have shape \(B, N\) = \(2, 5\); got \(5,\)"):
        lru.backward(np.zeros_like(y), cache, dx_last=np.zeros(5))
    with pytest.raises(ValueError, match="dx_last holds 1 non-finite"):
        lru.backward(np.zeros_like(y), cache, dx_last=np.array([[np.inf, 0, 0, 0, 0], [0] * 5]))
    with pytest.raises(ValueError, match="cache lacks 'u', 'x0', 'params', 'lam', 'gamma'.*lru.forward"):
        lru.backward(np.zeros_like(y), {"x": cache["x"]})


@pytest.mark.parametrize("kwargs, message", [
    (dict(r_min=0.9, r_max=0.5), r"0 <= r_min <= r_max < 1 and r_max > 0; got r_min=0.9, r_max=0.5"),
    (dict(r_min=-0.1, r_max=0.5), r"0 <= r_min <= r_max < 1 and r_max > 0; got r_min=-0.1"),
    (dict(r_min=0.5, r_max=1.0), r"0 <= r_min <= r_max < 1 and r_max > 0; got r_min=0.5, r_max=1.0"),
    (dict(r_min=0.5, r_max=1.5), r"0 <= r_min <= r_max < 1"),
    (dict(r_min=0.0, r_max=0.0), r"and r_max > 0; got r_min=0.0, r_max=0.0"),
    (dict(r_min=np.nan), "r_min must be a finite number"),
    (dict(r_max="0.9"), "r_max must be a finite number"),
    (dict(max_phase=0.0), r"max_phase must be in \(0, 2π\]; got 0.0"),
    (dict(max_phase=7.0), r"max_phase must be in \(0, 2π\]; got 7.0"),
    (dict(max_phase=None), "max_phase must be a finite number"),
])
def test_init_params_refuses_a_bad_ring_or_phase(kwargs, message):
    with pytest.raises(ValueError, match=message):
        lru.init_params(2, 3, 1, **kwargs)


def test_init_params_and_init_model_refuse_bad_sizes():
    for sizes in ((0, 3, 1), (2, 3.0, 1), (2, 3, True), (2, -1, 1)):
        with pytest.raises(ValueError, match="must be a positive integer"):
            lru.init_params(*sizes)
    with pytest.raises(ValueError, match="hidden must be a positive integer"):
        lru.init_model(2, 3, 1, hidden=0)
    with pytest.raises(ValueError, match="D must be a positive integer"):
        lru.init_model(0, 3, 1)


def test_loss_and_grads_refuses_bad_batches_and_params():
    params = lru.init_model(2, 3, 1, rng=0)
    x, y = adding_batch(5, 4, np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"y must have shape \(B, K\) = \(4, 1\); got \(4,\)"):
        lru.loss_and_grads(params, (x, y[:, 0]))
    with pytest.raises(ValueError, match=r"x must have shape \(T, B, D\)"):
        lru.loss_and_grads(params, (x[0], y))
    with pytest.raises(ValueError, match=r"W_in must have shape \(hidden, D\) = \(\?, 2\); got \(8, 3\)"):
        lru.loss_and_grads({**params, "W_in": np.zeros((8, 3))}, (x, y))
    with pytest.raises(ValueError, match="both W_in and b_in"):
        lru.loss_and_grads({k: v for k, v in params.items() if k != "b_in"}, (x, y))
    x_bad = x.copy()
    x_bad[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="x holds 1 non-finite"):
        lru.loss_and_grads(params, (x_bad, y))


def test_loss_and_grads_trains_through_the_shared_trainer():
    from vanishgrad import optim, tasks, train

    params = lru.init_model(2, 8, 1, hidden=4, r_min=0.9, r_max=0.999, rng=0)
    history = train.run(lru.loss_and_grads, lambda step: tasks.adding(10, 16, rng=step),
                        optim.Adam(params, lr=1e-2), steps=60, clip=("global_norm", 1.0))
    assert len(history.loss) == 60 and np.all(np.isfinite(history.grad_norm))
    assert np.mean(history.loss[-10:]) < np.mean(history.loss[:10])


def test_outputs_that_overflow_give_an_infinite_loss_and_no_gradients():
    from vanishgrad import optim, train

    params = lru.init_model(2, 3, 1, hidden=None, rng=0)
    params["D"] = np.full((1, 2), 1e308)
    x, y = adding_batch(5, 4, np.random.default_rng(0))
    x[-1] = 1.0  # D u_T = 2e308 overflows to inf
    with np.errstate(over="ignore", invalid="ignore"):
        loss, grads = lru.loss_and_grads(params, (x, y))
    assert loss == np.inf and grads is None
    history = train.run(lru.loss_and_grads, [(x, y)], optim.SGD(params, lr=0.1), steps=1, on_nonfinite="record")
    assert history.diverged_at == 0
