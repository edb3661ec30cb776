"""The rnn module: gradients checked against central differences, the forward pass
against a plain reference loop, the in-place kernels against vanishgrad.activations entry
by entry, a saturated network against an independent scalar loop, truncated BPTT against
its definition, dtypes, and bad input."""

import math

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
    assert o64.dtype == np.float64 and c64["h"].dtype == np.float64
    assert o32.dtype == np.float32 and c32["h"].dtype == np.float32
    np.testing.assert_allclose(o32, o64, rtol=1e-4, atol=1e-5)
    for name in GRAD_NAMES | {"dh_norms"}:
        assert g32[name].dtype == np.float32, name
        scale = np.max(np.abs(g64[name]))
        np.testing.assert_allclose(g32[name], g64[name], atol=1e-4 * max(scale, 1.0), err_msg=name)


def test_default_dtype_is_the_inputs_own():
    """dtype=None: float32 inputs stay float32, one float64 input makes everything float64,
    integer input becomes float64; an explicit dtype converts every input."""
    inputs = make_inputs(3, 2, 2, 4, 2)
    as32 = {k: v.astype(np.float32) for k, v in inputs.items()}
    o, cache = rnn.forward(**as32)
    assert o.dtype == np.float32 and all(cache[k].dtype == np.float32 for k in ("x", "h0", "W", "net", "h"))
    grads = rnn.backward(np.ones((3, 2, 2)), cache)  # a float64 do follows the cache
    assert all(g.dtype == np.float32 for g in grads.values())
    o, cache = rnn.forward(**{**as32, "W": inputs["W"]})
    assert o.dtype == np.float64 and cache["x"].dtype == np.float64
    o, _ = rnn.forward(**{**inputs, "x": np.ones((3, 2, 2), dtype=np.int64)})
    assert o.dtype == np.float64
    o, _ = rnn.forward(**as32, dtype=np.float64)
    assert o.dtype == np.float64
    o, _ = rnn.forward(**inputs, dtype="float32")
    assert o.dtype == np.float32


def test_sigmoid_is_finite_for_extreme_pre_activations():
    inputs = make_inputs(3, 2, 2, 3, 1)
    inputs["U"] = inputs["U"] * 1e4
    for dtype in (np.float32, np.float64):
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            o, cache = rnn.forward(**inputs, activation="sigmoid", dtype=dtype)
        assert np.all(np.isfinite(o)) and np.all((cache["h"] >= 0) & (cache["h"] <= 1))


# --- the in-place kernels against vanishgrad.activations, entry by entry -----------------

# Grids through both saturated tails: |x| ≤ 40 in float64 (σ(−40) = 4e-18), |x| ≤ 20 in
# float32, plus the points where the formulas switch branch.
GRIDS = {
    np.float64: np.concatenate([np.linspace(-40, 40, 80001), [0.0, -0.0, 1e-300, -1e-300, 5e-324, -5e-324]]),
    np.float32: np.concatenate([np.linspace(-20, 20, 40001), [0.0, -0.0, 1e-38, -1e-38, 1e-45, -1e-45]]).astype(np.float32),
}
KERNEL_ULPS = 4  # elementwise tolerance, in units of the dtype's eps


def elementwise_rel_error(got, want):
    """max over entries of |got − want| / |want|; an entry where want is 0 must be 0 exactly.

    Not gradcheck.rel_error, which measures against the largest entry and so would not
    see a wrong σ(−30) ≈ 9e-14 next to σ(0) = 0.5.
    """
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    assert got.shape == want.shape
    zero = want == 0
    assert np.all(got[zero] == 0), got[zero]
    return float(np.max(np.abs(got[~zero] - want[~zero]) / np.abs(want[~zero]), initial=0.0))


def run_kernel(kernel, x, *, with_scratch):
    out = np.full_like(x, np.nan)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        if with_scratch:
            kernel(x, out, np.full_like(x, np.nan))
        else:
            kernel(x, out)
    return out


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("name", ACTIVATIONS)
def test_in_place_f_matches_activations_entry_by_entry(name, dtype):
    f_into, _ = rnn._FAST[name]
    x = GRIDS[dtype]
    got = run_kernel(f_into, x, with_scratch=True)
    want = activations.get(name).f(x)
    assert got.dtype == want.dtype == dtype
    assert elementwise_rel_error(got, want) <= KERNEL_ULPS * np.finfo(dtype).eps


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("name", ACTIVATIONS)
def test_in_place_f_prime_from_output_matches_activations_entry_by_entry(name, dtype):
    _, fprime_into = rnn._FAST[name]
    act = activations.get(name)
    h = act.f(GRIDS[dtype])
    got = run_kernel(fprime_into, h, with_scratch=False)
    want = act.df_from_output(h)
    assert got.dtype == want.dtype == dtype
    assert elementwise_rel_error(got, want) <= KERNEL_ULPS * np.finfo(dtype).eps


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
def test_in_place_sigmoid_is_right_to_a_few_ulps_in_the_negative_tail(dtype):
    """σ and σ' = h(1 − h) read off h, against closed forms evaluated in float64 with
    math.exp, one entry at a time: where the old (1 + tanh(x/2))/2 lost every digit."""
    f_into, fprime_into = rnn._FAST["sigmoid"]
    x = GRIDS[dtype][GRIDS[dtype] <= 0]
    h = run_kernel(f_into, x, with_scratch=True)
    dh = run_kernel(fprime_into, h, with_scratch=False)
    exact_h = np.array([math.exp(v) / (1.0 + math.exp(v)) for v in x.tolist()])
    exact_dh = np.array([math.exp(v) / (1.0 + math.exp(v)) ** 2 for v in x.tolist()])
    tiny = np.finfo(dtype).tiny  # below it the dtype's numbers are subnormal, with fewer digits
    normal = exact_h >= tiny
    assert elementwise_rel_error(h[normal], exact_h[normal]) <= KERNEL_ULPS * np.finfo(dtype).eps
    assert elementwise_rel_error(dh[normal], exact_dh[normal]) <= 2 * KERNEL_ULPS * np.finfo(dtype).eps


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
def test_in_place_sigmoid_has_no_overflow_anywhere_on_the_line(dtype):
    info = np.finfo(dtype)
    x = np.array([-info.max, -1e4, -800, -100, -88.8, 88.8, 100, 800, 1e4, info.max], dtype=dtype)
    got = run_kernel(rnn._FAST["sigmoid"][0], x, with_scratch=True)
    np.testing.assert_array_equal(got, activations.sigmoid(x))
    assert got[0] == 0 and got[-1] == 1


# --- a saturated sigmoid network against an independent scalar loop ----------------------

def scalar_sigmoid_rnn(x, h0, U, W, b, V, c, do):
    """H = D = K = B = 1, written with Python floats and math.exp, with σ' = e^{net}/(1+e^{net})²
    from net (not h): an independent reference for the outputs and every gradient."""
    T = len(x)
    net, h = [0.0] * T, [0.0] * T
    prev = h0
    for t in range(T):
        net[t] = U * x[t] + W * prev + b
        e = math.exp(net[t])  # net < 0 here, so e ≤ 1
        h[t] = e / (1.0 + e)
        prev = h[t]
    o = [V * h[t] + c for t in range(T)]
    dnet = [0.0] * T
    carry = 0.0
    for t in range(T - 1, -1, -1):
        e = math.exp(net[t])
        dnet[t] = e / (1.0 + e) ** 2 * (V * do[t] + carry)
        carry = W * dnet[t]
    h_before = [h0] + h[:-1]
    grads = {
        "U": sum(dnet[t] * x[t] for t in range(T)),
        "W": sum(dnet[t] * h_before[t] for t in range(T)),
        "b": sum(dnet),
        "V": sum(do[t] * h[t] for t in range(T)),
        "c": sum(do),
        "h0": carry,
        "x": [U * dnet[t] for t in range(T)],
    }
    return np.array(o), np.array(net), grads


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-12), (np.float32, 1e-5)], ids=["float64", "float32"])
def test_saturated_sigmoid_network_matches_an_independent_scalar_loop(dtype, rtol):
    """Every net_t is held near −30, where σ ≈ 1e-13: outputs and gradients agree with
    the scalar reference entry by entry (the inputs are positive, so no sum cancels)."""
    T = 8
    rng = np.random.default_rng(0)
    x = rng.uniform(0.1, 0.5, T).astype(dtype)
    p = {"U": 1.5, "W": 0.7, "b": -30.0, "V": 1.3, "c": 0.2}
    h0, do = 0.4, rng.uniform(0.5, 1.5, T).astype(dtype)
    as_arrays = {k: np.full((1, 1) if k in ("U", "W", "V") else (1,), v, dtype=dtype) for k, v in p.items()}
    o, cache = rnn.forward(x.reshape(T, 1, 1), np.full((1, 1), h0, dtype=dtype), **as_arrays, activation="sigmoid")
    grads = rnn.backward(do.reshape(T, 1, 1), cache)
    # the reference runs in float64 on exactly the numbers the network was given
    q = {k: float(np.asarray(v, dtype=dtype)) for k, v in p.items()}
    o_ref, net_ref, g_ref = scalar_sigmoid_rnn(x.astype(float).tolist(), float(np.float32(h0)) if dtype == np.float32 else h0,
                                               do=do.astype(float).tolist(), **q)
    assert np.all((net_ref > -31) & (net_ref < -29)), net_ref
    assert elementwise_rel_error(cache["net"].ravel(), net_ref) <= rtol
    assert elementwise_rel_error(cache["h"].ravel(), 1 / (1 + np.exp(-net_ref))) <= rtol
    assert elementwise_rel_error(o.ravel(), o_ref) <= rtol
    for name in ("U", "W", "b", "V", "c", "h0"):
        assert elementwise_rel_error(grads[name].ravel(), [g_ref[name]]) <= rtol, name
    assert elementwise_rel_error(grads["x"].ravel(), g_ref["x"]) <= rtol


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
