"""The lstm module: gradients checked against central differences, the forward pass against
a plain reference loop, ‖∂L/∂h_t‖ and ‖∂L/∂c_t‖ against finite differences, the in-place
sigmoid against vanishgrad.activations, dtypes, initialisation, and bad input."""

import math

import numpy as np
import pytest

from vanishgrad import activations, gradcheck, lstm

# (T, B, D, H, K): single step, single sequence, single unit, D ≠ H, D = H, K > H
SHAPES = [
    (1, 1, 1, 1, 1),
    (1, 3, 2, 4, 2),
    (5, 1, 3, 1, 2),
    (4, 2, 3, 5, 1),
    (6, 3, 4, 4, 3),
    (3, 2, 5, 2, 4),
]
GRAD_NAMES = {"U", "W", "b", "V", "b_V", "h0", "c0", "x"}


def make_inputs(T, B, D, H, K, seed=0, init="normal", scale=1.2):
    rng = np.random.default_rng(seed)
    p = lstm.init_params(D, H, K, init=init, scale=scale, rng=rng)
    p["b"] = p["b"] + 0.3 * rng.standard_normal(4 * H)
    p["b_V"] = 0.3 * rng.standard_normal(K)
    return dict(x=rng.standard_normal((T, B, D)), h0=0.5 * rng.standard_normal((B, H)),
                c0=0.5 * rng.standard_normal((B, H)), **p)


def sigmoid(v):
    return activations.sigmoid(v)


def reference_forward(x, h0, c0, U, W, b, V, b_V):
    """The LSTM written out one sequence and one step at a time, column vectors as in the math."""
    T, B, _ = x.shape
    H, K = W.shape[1], V.shape[0]
    out = np.zeros((T, B, K))
    cs = np.zeros((T, B, H))
    for n in range(B):
        h, c = h0[n], c0[n]
        for t in range(T):
            a = U @ x[t, n] + W @ h + b
            i, f, g, o = sigmoid(a[:H]), sigmoid(a[H:2 * H]), np.tanh(a[2 * H:3 * H]), sigmoid(a[3 * H:])
            c = f * c + i * g
            h = o * np.tanh(c)
            out[t, n] = V @ h + b_V
            cs[t, n] = c
    return out, cs


# --- gradients -------------------------------------------------------------------------

@pytest.mark.parametrize("init", lstm.INITS)
@pytest.mark.parametrize("shape", SHAPES, ids=[str(s) for s in SHAPES])
def test_gradient_check_every_parameter_h0_c0_and_x(shape, init):
    inputs = make_inputs(*shape, seed=sum(shape), init=init)
    errors = gradcheck.check_forward_backward(lstm.forward, lstm.backward, inputs)
    assert set(errors) == GRAD_NAMES
    assert max(errors.values()) <= 1e-7, (shape, errors)


@pytest.mark.parametrize("forget_bias", [-1.0, 0.0, 1.0, 2.0])
def test_gradient_check_across_forget_gate_biases(forget_bias):
    rng = np.random.default_rng(1)
    p = lstm.init_params(3, 4, 2, forget_bias=forget_bias, rng=rng)
    inputs = dict(x=rng.standard_normal((6, 2, 3)), h0=np.zeros((2, 4)), c0=np.zeros((2, 4)), **p)
    errors = gradcheck.check_forward_backward(lstm.forward, lstm.backward, inputs)
    assert max(errors.values()) <= 1e-7, errors


def test_gradient_check_with_gradients_into_the_last_states():
    inputs = make_inputs(4, 2, 3, 5, 2, seed=7)

    def forward(**kw):
        out, cache = lstm.forward(**kw)
        # L = Σ out·dout + Σ h_T·dh_last + Σ c_T·dc_last, as one output so gradcheck sees it
        return np.concatenate([out.ravel(), cache["h"][-1].ravel(), cache["c"][-1].ravel()]), cache

    def backward(d, cache):
        T, B, _ = cache["x"].shape
        K, H = cache["V"].shape
        n = T * B * K
        return lstm.backward(d[:n].reshape(T, B, K), cache, dh_last=d[n:n + B * H].reshape(B, H),
                             dc_last=d[n + B * H:].reshape(B, H))

    errors = gradcheck.check_forward_backward(forward, backward, inputs)
    assert set(errors) == GRAD_NAMES
    assert max(errors.values()) <= 1e-7, errors


@pytest.mark.parametrize("steps_per_chunk", [1, 2, 3])
def test_backward_in_chunks_of_time_gives_the_same_gradients(monkeypatch, steps_per_chunk):
    """A large problem is worked through in chunks of steps (see backward): with the work
    array shrunk to a few steps, every gradient and norm is what one chunk gives."""
    T, B, D, H, K = 7, 2, 3, 4, 2
    inputs = make_inputs(T, B, D, H, K, seed=9)
    dout = np.random.default_rng(10).standard_normal((T, B, K))
    dh_last, dc_last = np.ones((B, H)), -np.ones((B, H))
    _, cache = lstm.forward(**inputs)
    whole = lstm.backward(dout, cache, dh_last=dh_last, dc_last=dc_last)
    monkeypatch.setattr(lstm, "_CHUNK_BYTES", steps_per_chunk * B * 6 * H * 8)
    chunked = lstm.backward(dout, cache, dh_last=dh_last, dc_last=dc_last)
    assert set(chunked) == set(whole)
    for name in whole:
        np.testing.assert_allclose(chunked[name], whole[name], rtol=1e-13, atol=1e-15, err_msg=name)
    errors = gradcheck.check_forward_backward(lstm.forward, lstm.backward, inputs)
    assert max(errors.values()) <= 1e-7, errors


def split_loss(inputs, dout, t):
    """L as a function of (h_t, c_t): the loss of step t's output plus everything after it.

    Only forward passes: the reference for ∂L/∂h_t and ∂L/∂c_t (0-based t), by central
    differences, independent of backward's recursion.
    """
    _, cache = lstm.forward(**inputs)
    o_t = cache["o"][t]
    h_t, c_t = cache["h"][t].copy(), cache["c"][t].copy()
    rest = {**inputs, "x": inputs["x"][t + 1:]}

    def loss(h, c):
        total = float(np.sum((h @ inputs["V"].T + inputs["b_V"]) * dout[t]))
        if t + 1 < len(inputs["x"]):
            total += float(np.sum(lstm.forward(**{**rest, "h0": h, "c0": c})[0] * dout[t + 1:]))
        return total

    return loss, h_t, c_t, o_t


def test_dh_norms_and_dc_norms_are_the_norms_of_dL_dh_t_and_dL_dc_t():
    """‖∂L/∂h_t‖ and ‖∂L/∂c_t‖ from backward against central differences of the loss seen
    from (h_t, c_t); for c_t the path through h_t = o_t ⊙ tanh(c_t) counts too."""
    inputs = make_inputs(6, 2, 3, 4, 2, seed=11)
    dout = np.random.default_rng(12).standard_normal((6, 2, 2))
    _, cache = lstm.forward(**inputs)
    grads = lstm.backward(dout, cache)
    assert grads["dh_norms"].shape == grads["dc_norms"].shape == (6,)
    for t in range(6):
        loss, h_t, c_t, o_t = split_loss(inputs, dout, t)
        dh = gradcheck.numerical_gradient(lambda: loss(h_t, c_t), h_t)
        dc = gradcheck.numerical_gradient(lambda: loss(o_t * np.tanh(c_t), c_t), c_t)
        np.testing.assert_allclose(grads["dh_norms"][t], np.linalg.norm(dh), rtol=1e-8)
        np.testing.assert_allclose(grads["dc_norms"][t], np.linalg.norm(dc), rtol=1e-8)


# --- forward ---------------------------------------------------------------------------

@pytest.mark.parametrize("shape", SHAPES, ids=[str(s) for s in SHAPES])
def test_forward_matches_a_step_by_step_reference_loop(shape):
    inputs = make_inputs(*shape, seed=1 + sum(shape))
    out, cache = lstm.forward(**inputs)
    expected_out, expected_c = reference_forward(**inputs)
    np.testing.assert_allclose(out, expected_out, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(cache["c"], expected_c, rtol=1e-12, atol=1e-12)
    T, B, D, H, K = shape
    for k in ("i", "f", "g", "o", "c", "tanh_c", "h"):
        assert cache[k].shape == (T, B, H), k
    np.testing.assert_allclose(cache["tanh_c"], np.tanh(cache["c"]), rtol=1e-15, atol=0)
    np.testing.assert_allclose(cache["h"], cache["o"] * cache["tanh_c"], rtol=1e-15, atol=0)
    c_prev = np.concatenate([inputs["c0"][None], cache["c"][:-1]])
    np.testing.assert_allclose(cache["c"], cache["f"] * c_prev + cache["i"] * cache["g"], rtol=1e-15, atol=1e-15)
    # the gates against σ and tanh of the pre-activations, recomputed from the cached states
    h_prev = np.concatenate([inputs["h0"][None], cache["h"][:-1]])
    a = inputs["x"] @ inputs["U"].T + h_prev @ inputs["W"].T + inputs["b"]
    for k, name in enumerate("ifgo"):
        f = np.tanh if name == "g" else activations.sigmoid
        np.testing.assert_allclose(cache[name], f(a[..., k * H:(k + 1) * H]), rtol=1e-12, atol=1e-14, err_msg=name)


def test_cache_keys_are_the_documented_ones():
    out, cache = lstm.forward(**make_inputs(3, 2, 2, 3, 1))
    assert set(cache) == {"x", "h0", "c0", "U", "W", "b", "V", "b_V", "i", "f", "g", "o", "c", "tanh_c", "h"}


def test_forward_and_backward_leave_their_inputs_and_the_cache_unchanged():
    inputs = make_inputs(4, 2, 3, 5, 2)
    before = {k: v.copy() for k, v in inputs.items()}
    out, cache = lstm.forward(**inputs)
    cached = {k: v.copy() for k, v in cache.items()}
    dout = np.ones_like(out)
    dh_last, dc_last = np.ones((2, 5)), np.ones((2, 5))
    lstm.backward(dout, cache, dh_last=dh_last, dc_last=dc_last)
    for k in inputs:
        np.testing.assert_array_equal(inputs[k], before[k])
    for k in cache:
        np.testing.assert_array_equal(cache[k], cached[k])
    np.testing.assert_array_equal(dout, 1.0)
    np.testing.assert_array_equal(dh_last, 1.0)
    np.testing.assert_array_equal(dc_last, 1.0)


def test_with_the_forget_gate_open_and_the_input_gate_shut_the_cell_state_is_carried_unchanged():
    """f_t = 1 and i_t = 0 (biases far beyond saturation): c_t = c_0 for every t, and ∂L/∂c_0
    is the sum of what every step's output adds to ∂L/∂c_t, carried back undiminished: the
    carousel. (With the output gate's recurrent weights zero, nothing reaches h_{t-1}
    through the gates, so ∂L/∂h_t = Vᵀ ∂L/∂out_t.)"""
    inputs = make_inputs(7, 2, 3, 4, 2, seed=3)
    H = 4
    inputs["b"][:H] = -1e4     # i_t = 0
    inputs["b"][H:2 * H] = 1e4  # f_t = 1
    inputs["W"][3 * H:] = 0.0
    out, cache = lstm.forward(**inputs)
    np.testing.assert_array_equal(cache["c"], np.broadcast_to(inputs["c0"], cache["c"].shape))
    dout = np.random.default_rng(4).standard_normal(out.shape)
    grads = lstm.backward(dout, cache)
    o = cache["o"]
    through_h = np.einsum("tbk,kh->tbh", dout, inputs["V"]) * o * (1 - cache["tanh_c"] ** 2)
    np.testing.assert_allclose(grads["c0"], through_h.sum(axis=0), rtol=1e-12)


# --- dtypes ----------------------------------------------------------------------------

def test_float32_stays_float32_and_agrees_with_float64():
    inputs = make_inputs(8, 3, 2, 6, 2, seed=5)
    dout = np.random.default_rng(6).standard_normal((8, 3, 2))
    o64, c64 = lstm.forward(**inputs)
    o32, c32 = lstm.forward(**inputs, dtype=np.float32)
    g64 = lstm.backward(dout, c64, dh_last=np.ones((3, 6)), dc_last=np.ones((3, 6)))
    g32 = lstm.backward(dout, c32, dh_last=np.ones((3, 6)), dc_last=np.ones((3, 6)))
    assert o64.dtype == np.float64 and o32.dtype == np.float32
    for k in ("x", "h0", "c0", "U", "W", "b", "V", "b_V", "i", "f", "g", "o", "c", "tanh_c", "h"):
        assert c32[k].dtype == np.float32, k
    np.testing.assert_allclose(o32, o64, rtol=1e-4, atol=1e-5)
    for name in GRAD_NAMES | {"dh_norms", "dc_norms"}:
        assert g32[name].dtype == np.float32, name
        scale = np.max(np.abs(g64[name]))
        np.testing.assert_allclose(g32[name], g64[name], atol=1e-4 * max(scale, 1.0), err_msg=name)


def test_default_dtype_is_the_inputs_own():
    inputs = make_inputs(3, 2, 2, 4, 2)
    as32 = {k: v.astype(np.float32) for k, v in inputs.items()}
    out, cache = lstm.forward(**as32)
    assert out.dtype == np.float32 and cache["f"].dtype == np.float32
    grads = lstm.backward(np.ones((3, 2, 2)), cache)  # a float64 dout follows the cache
    assert all(g.dtype == np.float32 for g in grads.values())
    out, cache = lstm.forward(**{**as32, "c0": inputs["c0"]})
    assert out.dtype == np.float64 and cache["x"].dtype == np.float64
    out, _ = lstm.forward(**{**inputs, "x": np.ones((3, 2, 2), dtype=np.int64)})
    assert out.dtype == np.float64
    out, _ = lstm.forward(**as32, dtype=np.float64)
    assert out.dtype == np.float64
    out, _ = lstm.forward(**inputs, dtype="float32")
    assert out.dtype == np.float32


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_extreme_pre_activations_give_finite_saturated_gates_without_warnings(dtype):
    inputs = make_inputs(3, 2, 2, 3, 1)
    inputs["U"] = inputs["U"] * 1e4
    with np.errstate(all="raise"):
        out, cache = lstm.forward(**inputs, dtype=dtype)
        grads = lstm.backward(np.ones_like(out), cache)
    assert np.all(np.isfinite(out))
    assert all(np.all((cache[k] >= 0) & (cache[k] <= 1)) for k in "ifo") and np.all(np.abs(cache["g"]) <= 1)
    assert all(np.all(np.isfinite(g)) for g in grads.values())


# --- the in-place sigmoid against vanishgrad.activations --------------------------------

KERNEL_EPS = 4  # elementwise relative tolerance, in units of the dtype's eps


def elementwise_rel_error(got, want):
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    zero = want == 0
    assert np.all(got[zero] == 0), got[zero]
    return float(np.max(np.abs(got[~zero] - want[~zero]) / np.abs(want[~zero]), initial=0.0))


@pytest.mark.parametrize("dtype, limit", [(np.float64, 700.0), (np.float32, 85.0)], ids=["float64", "float32"])
def test_in_place_sigmoid_matches_activations_to_a_few_ulps(dtype, limit):
    """Over the whole range where σ is a normal number, negative tail included."""
    x = np.linspace(-limit, limit, 200001).astype(dtype)
    out = np.full_like(x, np.nan)
    with np.errstate(all="raise"):
        lstm._sigmoid_into(x, out)
    want = activations.sigmoid(x)
    assert out.dtype == want.dtype == dtype
    assert elementwise_rel_error(out, want) <= KERNEL_EPS * np.finfo(dtype).eps


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
def test_in_place_sigmoid_is_right_in_the_negative_tail(dtype):
    x = np.linspace(-40, 0, 4001).astype(dtype)
    out = np.empty_like(x)
    lstm._sigmoid_into(x, out)
    exact = np.array([math.exp(v) / (1.0 + math.exp(v)) for v in x.tolist()])
    assert elementwise_rel_error(out, exact) <= KERNEL_EPS * np.finfo(dtype).eps


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
def test_in_place_sigmoid_saturates_cleanly_at_the_ends_of_the_line(dtype):
    info = np.finfo(dtype)
    x = np.array([-info.max, -1e4, -800, 800, 1e4, info.max], dtype=dtype)
    out = np.empty_like(x)
    with np.errstate(over="ignore"):
        lstm._sigmoid_into(x, out)
    np.testing.assert_array_equal(out, [0, 0, 0, 1, 1, 1])


# --- initialisation --------------------------------------------------------------------

def test_init_params_shapes_dtypes_and_forget_bias():
    p = lstm.init_params(3, 5, 2, rng=0)
    assert {k: v.shape for k, v in p.items()} == {"U": (20, 3), "W": (20, 5), "b": (20,), "V": (2, 5), "b_V": (2,)}
    assert all(v.dtype == np.float64 for v in p.values())
    np.testing.assert_array_equal(p["b"], np.r_[np.zeros(5), np.ones(5), np.zeros(10)])  # forget bias 1
    assert lstm.init_params(3, 5, 2, dtype=np.float32, rng=0)["W"].dtype == np.float32
    np.testing.assert_array_equal(lstm.init_params(3, 5, 2, forget_bias=-1.0, rng=0)["b"][5:10], -1.0)
    np.testing.assert_array_equal(lstm.init_params(3, 5, 2, rng=1)["W"], lstm.init_params(3, 5, 2, rng=1)["W"])


def test_pytorch_init_draws_everything_within_one_over_root_H():
    H = 16
    p = lstm.init_params(3, H, 2, init="pytorch", rng=0)
    k = 1 / np.sqrt(H)
    for name in ("U", "W", "V", "b_V"):
        assert np.all(np.abs(p[name]) <= k), name
    # b = bias_ih + bias_hh: the sum of two uniform draws, and no +1 on the forget gate
    assert np.all(np.abs(p["b"]) <= 2 * k) and np.max(np.abs(p["b"])) > k
    assert abs(np.mean(p["b"][H:2 * H])) < 0.5
    assert np.all(lstm.init_params(3, H, 2, init="pytorch", forget_bias=1.0, rng=0)["b"][H:2 * H] >= 1 - 2 * k)


def test_init_params_refuses_bad_arguments():
    for bad in ((0, 5, 2), (3, 2.0, 2), (3, 5, True)):
        with pytest.raises(ValueError, match="must be a positive integer"):
            lstm.init_params(*bad)
    with pytest.raises(ValueError, match="unknown init 'xavier'; choose one of normal, pytorch"):
        lstm.init_params(3, 5, 2, init="xavier")
    for fb in (np.nan, "1", True):
        with pytest.raises(ValueError, match="forget_bias must be a finite number"):
            lstm.init_params(3, 5, 2, forget_bias=fb)
    for scale in (np.inf, None):
        with pytest.raises(ValueError, match="scale must be a finite number"):
            lstm.init_params(3, 5, 2, scale=scale)
    with pytest.raises(ValueError, match="dtype must be float32 or float64"):
        lstm.init_params(3, 5, 2, dtype=np.int32)


# --- bad input -------------------------------------------------------------------------

def good():
    return make_inputs(4, 2, 3, 5, 2)


@pytest.mark.parametrize("name, shape, message", [
    ("U", (20, 2), r"U must have shape \(4H, D\) = \(20, 3\); got \(20, 2\)"),
    ("U", (5, 3), r"U must have shape \(4H, D\) = \(20, 3\); got \(5, 3\)"),
    ("W", (5, 5), r"W must have shape \(4H, H\) = \(20, 5\); got \(5, 5\)"),
    ("W", (20,), r"W must have shape \(4H, H\).*got \(20,\)"),
    ("b", (5,), r"b must have shape \(4H,\) = \(20,\); got \(5,\)"),
    ("V", (2, 4), r"V must have shape \(K, H\) = \(2, 5\); got \(2, 4\)"),
    ("b_V", (3,), r"b_V must have shape \(K,\) = \(2,\); got \(3,\)"),
    ("h0", (3, 5), r"h0 must have shape \(B, H\) = \(2, 5\); got \(3, 5\)"),
    ("c0", (5,), r"c0 must have shape \(B, H\) = \(2, 5\); got \(5,\)"),
    ("x", (4, 3), r"x must have shape \(T, B, D\).*got \(4, 3\)"),
])
def test_mismatched_shapes_name_the_expected_and_the_given_shape(name, shape, message):
    inputs = good()
    inputs[name] = np.zeros(shape)
    with pytest.raises(ValueError, match=message):
        lstm.forward(**inputs)


def test_empty_sequences_are_refused():
    inputs = good()
    inputs["x"] = np.zeros((0, 2, 3))
    with pytest.raises(ValueError, match="at least one time step"):
        lstm.forward(**inputs)


@pytest.mark.parametrize("name", sorted(GRAD_NAMES))
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_inputs_are_refused(name, bad):
    inputs = good()
    inputs[name] = inputs[name].copy()
    inputs[name].flat[0] = bad
    with pytest.raises(ValueError, match=rf"{name} holds 1 non-finite value"):
        lstm.forward(**inputs)


def test_complex_and_non_numeric_inputs_and_bad_dtypes_are_refused():
    with pytest.raises(ValueError, match="x must be real"):
        lstm.forward(**{**good(), "x": np.zeros((4, 2, 3), dtype=complex)})
    with pytest.raises(ValueError, match="W must be .*real numbers"):
        lstm.forward(**{**good(), "W": "weights"})
    for dtype in (np.int64, "no such dtype", np.complex128):
        with pytest.raises(ValueError, match="dtype must be float32 or float64"):
            lstm.forward(**good(), dtype=dtype)


def test_backward_refuses_bad_upstream_gradients_and_foreign_caches():
    out, cache = lstm.forward(**good())
    with pytest.raises(ValueError, match=r"dout must have shape \(T, B, K\) = \(4, 2, 2\); got \(4, 2, 3\)"):
        lstm.backward(np.zeros((4, 2, 3)), cache)
    bad = np.zeros_like(out)
    bad[1, 0, 0] = np.nan
    with pytest.raises(ValueError, match="dout holds 1 non-finite"):
        lstm.backward(bad, cache)
    with pytest.raises(ValueError, match=r"dh_last must have shape \(B, H\) = \(2, 5\); got \(5,\)"):
        lstm.backward(np.zeros_like(out), cache, dh_last=np.zeros(5))
    with pytest.raises(ValueError, match=r"dc_last must have shape \(B, H\) = \(2, 5\); got \(2, 4\)"):
        lstm.backward(np.zeros_like(out), cache, dc_last=np.zeros((2, 4)))
    one_inf = np.zeros((2, 5))
    one_inf[0, 0] = np.inf
    with pytest.raises(ValueError, match="dc_last holds 1 non-finite"):
        lstm.backward(np.zeros_like(out), cache, dc_last=one_inf)
    with pytest.raises(ValueError, match="cache lacks 'f'.*lstm.forward"):
        lstm.backward(np.zeros_like(out), {k: v for k, v in cache.items() if k != "f"})
    with pytest.raises(ValueError, match="cache must be the dict returned by lstm.forward"):
        lstm.backward(np.zeros_like(out), None)
