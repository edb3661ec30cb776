"""The rnn module: gradients checked against central differences, the forward pass
against a plain reference loop, truncated BPTT against its definition, and bad input."""

import numpy as np
import pytest

from vanishgrad import activations, gradcheck, losses, rnn

ACTIVATIONS = ["tanh", "sigmoid", "relu", "identity"]
# (T, B, D, H, K): single step, single sequence, single unit, D ≠ H, D = H, K > H
SHAPES = [
    (1, 1, 1, 1, 1),
    (1, 3, 2, 4, 2),
    (5, 1, 3, 1, 2),
    (4, 2, 3, 5, 1),
    (6, 3, 4, 4, 3),
    (3, 2, 5, 2, 4),
]
GRAD_NAMES = {"U", "W", "b", "V", "c", "h0", "x"}


def make_inputs(T, B, D, H, K, seed=0, scale=1.2):
    rng = np.random.default_rng(seed)
    p = rnn.init_params(D, H, K, scale=scale, rng=rng)
    p["b"] = 0.3 * rng.standard_normal(H)
    p["c"] = 0.3 * rng.standard_normal(K)
    return dict(x=rng.standard_normal((T, B, D)), h0=0.5 * rng.standard_normal((B, H)), **p)


def reference_forward(x, h0, U, W, b, V, c, f):
    """The RNN written out one sequence and one step at a time, column vectors as in the math."""
    T, B, _ = x.shape
    K = V.shape[0]
    o = np.zeros((T, B, K))
    for n in range(B):
        h = h0[n]
        for t in range(T):
            net = U @ x[t, n] + W @ h + b
            h = f(net)
            o[t, n] = V @ h + c
    return o


# --- gradients -------------------------------------------------------------------------

@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("shape", SHAPES, ids=[str(s) for s in SHAPES])
def test_gradient_check_every_parameter_and_h0(activation, shape):
    inputs = make_inputs(*shape, seed=sum(shape))
    errors = gradcheck.check_forward_backward(
        lambda **kw: rnn.forward(**kw, activation=activation), rnn.backward, inputs)
    assert set(errors) == GRAD_NAMES
    worst = max(errors, key=errors.get)
    assert errors[worst] <= 1e-7, (activation, shape, errors)


@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
def test_gradient_check_with_a_gradient_into_the_last_state(activation):
    inputs = make_inputs(4, 2, 3, 5, 2, seed=7)
    dh_last = np.random.default_rng(8).standard_normal((2, 5))

    def forward(**kw):
        o, cache = rnn.forward(**kw, activation=activation)
        # L = Σ o·do + Σ h_T·dh_last, written as one output so gradcheck sees it
        return np.concatenate([o.ravel(), cache["h"][-1].ravel()]), cache

    def backward(dout, cache):
        T, B, K = cache["x"].shape[0], cache["x"].shape[1], cache["V"].shape[0]
        n = T * B * K
        return rnn.backward(dout[:n].reshape(T, B, K), cache, dh_last=dout[n:].reshape(B, -1))

    errors = gradcheck.check_forward_backward(forward, backward, inputs)
    assert max(errors.values()) <= 1e-7, errors
    assert dh_last.shape == (2, 5)


def test_losses_at_the_last_step_and_at_every_step_give_checked_gradients():
    inputs = make_inputs(5, 3, 2, 4, 2, seed=3)
    rng = np.random.default_rng(4)
    y_last, y_all = rng.standard_normal((3, 2)), rng.standard_normal((5, 3, 2))
    for loss_fn, y in ((losses.mse_last, y_last), (losses.mse_every_step, y_all)):
        o, cache = rnn.forward(**inputs)
        _, do = loss_fn(o, y)
        grads = rnn.backward(do, cache)
        for name in ("U", "W", "h0"):
            numeric = gradcheck.numerical_gradient(
                lambda: loss_fn(rnn.forward(**inputs)[0], y)[0], inputs[name])
            assert gradcheck.rel_error(grads[name], numeric) <= 1e-7, (loss_fn.__name__, name)
    _, do = losses.mse_last(o, y_last)
    assert not np.any(do[:-1]) and np.any(do[-1])


def test_dh_norms_are_the_norms_of_dL_dh_t():
    """‖∂L/∂h_t‖ from backward equals the norm of an independently computed ∂L/∂h_t:
    the loss from step t+1 on, seen from h_t, plus Vᵀ ∂L/∂o_t."""
    inputs = make_inputs(6, 2, 3, 4, 2, seed=11)
    do = np.random.default_rng(12).standard_normal((6, 2, 2))
    o, cache = rnn.forward(**inputs)
    norms = rnn.backward(do, cache)["dh_norms"]
    assert norms.shape == (6,)
    for t in range(6):
        dh = do[t] @ inputs["V"]
        if t + 1 < 6:
            rest = {**inputs, "x": inputs["x"][t + 1:], "h0": cache["h"][t]}
            _, c2 = rnn.forward(**rest)
            dh = dh + rnn.backward(do[t + 1:], c2)["h0"]
        np.testing.assert_allclose(norms[t], np.linalg.norm(dh), rtol=1e-12)


# --- forward ---------------------------------------------------------------------------

@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("shape", SHAPES, ids=[str(s) for s in SHAPES])
def test_forward_matches_a_step_by_step_reference_loop(activation, shape):
    inputs = make_inputs(*shape, seed=1 + sum(shape))
    o, cache = rnn.forward(**inputs, activation=activation)
    expected = reference_forward(**inputs, f=activations.get(activation).f)
    np.testing.assert_allclose(o, expected, rtol=1e-12, atol=1e-12)
    T, B, D, H, K = shape
    assert cache["net"].shape == cache["h"].shape == (T, B, H)
    np.testing.assert_allclose(cache["h"], activations.get(activation).f(cache["net"]), rtol=1e-12, atol=1e-15)


def test_cache_keys_are_the_documented_ones():
    o, cache = rnn.forward(**make_inputs(3, 2, 2, 3, 1))
    assert set(cache) == {"x", "h0", "U", "W", "b", "V", "c", "net", "h", "activation"}
    assert cache["activation"] is activations.get("tanh")


def test_forward_and_backward_leave_their_inputs_and_the_cache_unchanged():
    inputs = make_inputs(4, 2, 3, 5, 2)
    before = {k: v.copy() for k, v in inputs.items()}
    o, cache = rnn.forward(**inputs, activation="sigmoid")
    net, h = cache["net"].copy(), cache["h"].copy()
    do = np.ones_like(o)
    do_before = do.copy()
    rnn.backward(do, cache)
    rnn.backward(do, cache, truncate=2)
    for k in inputs:
        np.testing.assert_array_equal(inputs[k], before[k])
    np.testing.assert_array_equal(cache["net"], net)
    np.testing.assert_array_equal(cache["h"], h)
    np.testing.assert_array_equal(do, do_before)


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_float32_stays_float32_and_agrees_with_float64(activation):
    inputs = make_inputs(8, 3, 2, 6, 2, seed=5)
    do = np.random.default_rng(6).standard_normal((8, 3, 2))
    o64, c64 = rnn.forward(**inputs, activation=activation)
    o32, c32 = rnn.forward(**inputs, activation=activation, dtype=np.float32)
    g64 = rnn.backward(do, c64)
    g32 = rnn.backward(do, c32)
    assert o32.dtype == np.float32 and c32["h"].dtype == np.float32
    np.testing.assert_allclose(o32, o64, rtol=1e-4, atol=1e-5)
    for name in GRAD_NAMES | {"dh_norms"}:
        assert g32[name].dtype == np.float32, name
        scale = np.max(np.abs(g64[name]))
        np.testing.assert_allclose(g32[name], g64[name], atol=1e-4 * max(scale, 1.0), err_msg=name)


def test_sigmoid_is_finite_for_extreme_pre_activations():
    inputs = make_inputs(3, 2, 2, 3, 1)
    inputs["U"] = inputs["U"] * 1e4
    for dtype in (np.float32, np.float64):
        o, cache = rnn.forward(**inputs, activation="sigmoid", dtype=dtype)
        assert np.all(np.isfinite(o)) and np.all((cache["h"] >= 0) & (cache["h"] <= 1))


# --- truncated BPTT --------------------------------------------------------------------

@pytest.mark.parametrize("T", [1, 2, 5, 8])
def test_truncation_with_k_at_least_T_is_the_full_gradient(T):
    inputs = make_inputs(T, 2, 3, 4, 2, seed=T)
    o, cache = rnn.forward(**inputs)
    do = np.random.default_rng(T).standard_normal(o.shape)
    full = rnn.backward(do, cache)
    for k in (T, T + 1, 10 * T, np.int64(T)):
        cut = rnn.backward(do, cache, truncate=k)
        for name in full:
            np.testing.assert_array_equal(cut[name], full[name], err_msg=f"{name}, k={k}")


@pytest.mark.parametrize("k", [1, 2, 3, 5])
def test_truncation_with_k_below_T_is_chunked_bptt(k):
    """BPTT(k) equals full BPTT run on each chunk of k steps (counted back from the end)
    with the state entering the chunk taken as a constant, the gradients summed."""
    T = 7
    inputs = make_inputs(T, 2, 3, 4, 2, seed=20 + k)
    o, cache = rnn.forward(**inputs)
    do = np.random.default_rng(k).standard_normal(o.shape)
    full = rnn.backward(do, cache)
    cut = rnn.backward(do, cache, truncate=k)
    expected = {name: 0.0 for name in rnn.PARAMS}
    for end in range(T, 0, -k):
        start = max(0, end - k)
        h_in = inputs["h0"] if start == 0 else cache["h"][start - 1]
        chunk = {**inputs, "x": inputs["x"][start:end], "h0": h_in}
        _, c = rnn.forward(**chunk)
        g = rnn.backward(do[start:end], c)
        for name in rnn.PARAMS:
            expected[name] = expected[name] + g[name]
        if start == 0:
            expected["h0"] = g["h0"]
    for name in rnn.PARAMS + ("h0",):
        np.testing.assert_allclose(cut[name], expected[name], rtol=1e-12, atol=1e-14, err_msg=name)
    # and it is not the full gradient: the recurrent weights miss the long paths
    assert not np.allclose(cut["W"], full["W"])
    # the output layer never sees the recurrence, so truncation leaves it exact
    np.testing.assert_allclose(cut["V"], full["V"], rtol=1e-12)
    np.testing.assert_allclose(cut["c"], full["c"], rtol=1e-12)


# --- bad input -------------------------------------------------------------------------

def good():
    return make_inputs(4, 2, 3, 5, 2)


@pytest.mark.parametrize("name, shape, message", [
    ("U", (5, 2), r"U must have shape \(H, D\) = \(5, 3\); got \(5, 2\)"),
    ("W", (5, 4), r"W must have shape \(H, H\) = \(5, 5\); got \(5, 4\)"),
    ("W", (5,), r"W must have shape \(H, H\).*got \(5,\)"),
    ("b", (4,), r"b must have shape \(H,\) = \(5,\); got \(4,\)"),
    ("V", (2, 4), r"V must have shape \(K, H\) = \(2, 5\); got \(2, 4\)"),
    ("c", (3,), r"c must have shape \(K,\) = \(2,\); got \(3,\)"),
    ("h0", (3, 5), r"h0 must have shape \(B, H\) = \(2, 5\); got \(3, 5\)"),
    ("h0", (5,), r"h0 must have shape \(B, H\) = \(2, 5\); got \(5,\)"),
    ("x", (4, 3), r"x must have shape \(T, B, D\).*got \(4, 3\)"),
])
def test_mismatched_shapes_name_the_expected_and_the_given_shape(name, shape, message):
    inputs = good()
    inputs[name] = np.zeros(shape)
    with pytest.raises(ValueError, match=message):
        rnn.forward(**inputs)


def test_empty_sequences_are_refused():
    inputs = good()
    inputs["x"] = np.zeros((0, 2, 3))
    with pytest.raises(ValueError, match="at least one time step"):
        rnn.forward(**inputs)


@pytest.mark.parametrize("name", ["x", "h0", "U", "W", "b", "V", "c"])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_inputs_are_refused(name, bad):
    inputs = good()
    inputs[name] = inputs[name].copy()
    inputs[name].flat[0] = bad
    with pytest.raises(ValueError, match=rf"{name} holds 1 non-finite value"):
        rnn.forward(**inputs)


def test_large_finite_inputs_whose_sum_overflows_are_accepted():
    inputs = good()
    inputs["x"] = np.full((4, 2, 3), 1e307)
    inputs["U"] = np.zeros((5, 3))
    o, _ = rnn.forward(**inputs)
    assert np.all(np.isfinite(o))


def test_backward_refuses_bad_upstream_gradients():
    o, cache = rnn.forward(**good())
    with pytest.raises(ValueError, match=r"do must have shape \(T, B, K\) = \(4, 2, 2\); got \(4, 2, 3\)"):
        rnn.backward(np.zeros((4, 2, 3)), cache)
    bad = np.zeros_like(o)
    bad[1, 0, 0] = np.nan
    with pytest.raises(ValueError, match="do holds 1 non-finite"):
        rnn.backward(bad, cache)
    with pytest.raises(ValueError, match=r"dh_last must have shape \(B, H\) = \(2, 5\); got \(5,\)"):
        rnn.backward(np.zeros_like(o), cache, dh_last=np.zeros(5))
    with pytest.raises(ValueError, match="dh_last holds 1 non-finite"):
        rnn.backward(np.zeros_like(o), cache, dh_last=np.array([[np.inf, 0, 0, 0, 0], [0] * 5]))


@pytest.mark.parametrize("k", [0, -1, -10])
def test_truncation_below_one_is_refused(k):
    o, cache = rnn.forward(**good())
    with pytest.raises(ValueError, match=r"truncate must be an integer k >= 1.*got -?\d+"):
        rnn.backward(np.zeros_like(o), cache, truncate=k)


@pytest.mark.parametrize("k", [2.0, 2.5, "3", True, np.float64(3.0)])
def test_non_integer_truncation_is_refused(k):
    o, cache = rnn.forward(**good())
    with pytest.raises(ValueError, match="truncate must be an integer k >= 1"):
        rnn.backward(np.zeros_like(o), cache, truncate=k)


def test_unknown_activation_and_dtype_are_refused():
    with pytest.raises(ValueError, match="unknown activation 'softsign'; choose one of"):
        rnn.forward(**good(), activation="softsign")
    for dtype in (np.int64, "no such dtype", np.complex128):
        with pytest.raises(ValueError, match="dtype must be float32 or float64"):
            rnn.forward(**good(), dtype=dtype)


def test_init_params_shapes_and_errors():
    p = rnn.init_params(3, 5, 2, scale=0.5, rng=0)
    assert {k: v.shape for k, v in p.items()} == {"U": (5, 3), "W": (5, 5), "b": (5,), "V": (2, 5), "c": (2,)}
    assert p["W"].dtype == np.float64
    assert rnn.init_params(3, 5, 2, dtype=np.float32, rng=0)["W"].dtype == np.float32
    np.testing.assert_array_equal(rnn.init_params(3, 5, 2, rng=1)["W"], rnn.init_params(3, 5, 2, rng=1)["W"])
    for bad in ((0, 5, 2), (3, 2.0, 2), (3, 5, True)):
        with pytest.raises(ValueError, match="must be a positive integer"):
            rnn.init_params(*bad)
    for scale in (np.nan, np.inf, "1", None, True):
        with pytest.raises(ValueError, match="scale must be a finite number"):
            rnn.init_params(3, 5, 2, scale=scale)


def test_losses_refuse_bad_targets():
    o = np.zeros((4, 2, 3))
    with pytest.raises(ValueError, match=r"y must have shape \(B, K\) = \(2, 3\); got \(4, 2, 3\)"):
        losses.mse_last(o, np.zeros((4, 2, 3)))
    with pytest.raises(ValueError, match=r"y must have shape \(T, B, K\) = \(4, 2, 3\); got \(2, 3\)"):
        losses.mse_every_step(o, np.zeros((2, 3)))
    with pytest.raises(ValueError, match="y holds 1 non-finite"):
        losses.mse_last(o, np.array([[np.nan, 0, 0], [0, 0, 0]]))
    with pytest.raises(ValueError, match=r"o must have shape \(T, B, K\)"):
        losses.mse_last(np.zeros((2, 3)), np.zeros((2, 3)))
    loss, do = losses.mse_every_step(o, np.ones_like(o))
    assert loss == pytest.approx(0.5 * 24 / 2) and do.shape == o.shape
