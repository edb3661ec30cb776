"""The gru module: gradients checked against central differences for both forms of the
reset, the forward pass against a plain reference loop, ‖∂L/∂h_t‖ against finite
differences, the convex combination, the two forms against each other, dtypes,
initialisation, and bad input."""

import numpy as np
import pytest

from vanishgrad import activations, gradcheck, gru

# (T, B, D, H, K): single step, single sequence, single unit, D ≠ H, D = H, K > H
SHAPES = [
    (1, 1, 1, 1, 1),
    (1, 3, 2, 4, 2),
    (5, 1, 3, 1, 2),
    (4, 2, 3, 5, 1),
    (6, 3, 4, 4, 3),
    (3, 2, 5, 2, 4),
]
GRAD_NAMES = {"U", "W", "b", "b_hn", "V", "c", "h0", "x"}


def make_inputs(T, B, D, H, K, seed=0, init="pytorch", scale=1.2):
    rng = np.random.default_rng(seed)
    p = gru.init_params(D, H, K, init=init, scale=scale, rng=rng)
    p["b"] = p["b"] + 0.3 * rng.standard_normal(3 * H)
    p["b_hn"] = p["b_hn"] + 0.3 * rng.standard_normal(H)
    p["c"] = 0.3 * rng.standard_normal(K)
    return dict(x=rng.standard_normal((T, B, D)), h0=0.5 * rng.standard_normal((B, H)), **p)


def reference_forward(x, h0, U, W, b, b_hn, V, c, reset):
    """The GRU written out one sequence and one step at a time, column vectors as in the math.
    Returns the outputs and, per step, h_{t-1}, n_t and h_t."""
    T, B, _ = x.shape
    H, K = W.shape[1], V.shape[0]
    sigmoid = activations.sigmoid
    o = np.zeros((T, B, K))
    prev, cand, h_all = (np.zeros((T, B, H)) for _ in range(3))
    W_r, W_z, W_n = W[:H], W[H:2 * H], W[2 * H:]
    U_r, U_z, U_n = U[:H], U[H:2 * H], U[2 * H:]
    b_r, b_z, b_n = b[:H], b[H:2 * H], b[2 * H:]
    for s in range(B):
        h = h0[s]
        for t in range(T):
            r = sigmoid(U_r @ x[t, s] + W_r @ h + b_r)
            z = sigmoid(U_z @ x[t, s] + W_z @ h + b_z)
            if reset == "after":
                n = np.tanh(U_n @ x[t, s] + b_n + r * (W_n @ h + b_hn))
            else:
                n = np.tanh(U_n @ x[t, s] + b_n + W_n @ (r * h) + b_hn)
            prev[t, s] = h
            h = (1 - z) * n + z * h
            cand[t, s], h_all[t, s] = n, h
            o[t, s] = V @ h + c
    return o, prev, cand, h_all


# --- gradients -------------------------------------------------------------------------

@pytest.mark.parametrize("reset", gru.RESETS)
@pytest.mark.parametrize("init", gru.INITS)
@pytest.mark.parametrize("shape", SHAPES, ids=[str(s) for s in SHAPES])
def test_gradient_check_every_parameter_h0_and_x(shape, init, reset):
    inputs = make_inputs(*shape, seed=sum(shape), init=init)
    errors = gradcheck.check_forward_backward(
        lambda **kw: gru.forward(**kw, reset=reset), gru.backward, inputs)
    assert set(errors) == GRAD_NAMES
    assert max(errors.values()) <= 1e-7, (shape, reset, errors)


@pytest.mark.parametrize("reset", gru.RESETS)
def test_gradient_check_with_a_gradient_into_the_last_state(reset):
    inputs = make_inputs(4, 2, 3, 5, 2, seed=7)

    def forward(**kw):
        o, cache = gru.forward(**kw, reset=reset)
        return np.concatenate([o.ravel(), cache["h"][-1].ravel()]), cache

    def backward(d, cache):
        T, B, _ = cache["x"].shape
        K = cache["V"].shape[0]
        n = T * B * K
        return gru.backward(d[:n].reshape(T, B, K), cache, dh_last=d[n:].reshape(B, -1))

    errors = gradcheck.check_forward_backward(forward, backward, inputs)
    assert set(errors) == GRAD_NAMES
    assert max(errors.values()) <= 1e-7, errors


@pytest.mark.parametrize("reset", gru.RESETS)
@pytest.mark.parametrize("steps_per_chunk", [1, 2, 3])
def test_backward_in_chunks_of_time_gives_the_same_gradients(monkeypatch, steps_per_chunk, reset):
    """A large problem is worked through in chunks of steps (see backward): with the work
    array shrunk to a few steps, every gradient and norm is what one chunk gives."""
    T, B, D, H, K = 7, 2, 3, 4, 2
    inputs = make_inputs(T, B, D, H, K, seed=9)
    do = np.random.default_rng(10).standard_normal((T, B, K))
    _, cache = gru.forward(**inputs, reset=reset)
    whole = gru.backward(do, cache, dh_last=np.ones((B, H)))
    monkeypatch.setattr(gru, "_CHUNK_BYTES", steps_per_chunk * B * 5 * H * 8)
    chunked = gru.backward(do, cache, dh_last=np.ones((B, H)))
    assert set(chunked) == set(whole)
    for name in whole:
        np.testing.assert_allclose(chunked[name], whole[name], rtol=1e-13, atol=1e-15, err_msg=name)
    errors = gradcheck.check_forward_backward(lambda **kw: gru.forward(**kw, reset=reset), gru.backward, inputs)
    assert max(errors.values()) <= 1e-7, errors


@pytest.mark.parametrize("reset", gru.RESETS)
def test_dh_norms_are_the_norms_of_dL_dh_t(reset):
    """‖∂L/∂h_t‖ from backward against central differences of the loss seen from h_t
    (step t's output plus everything after it): forward passes only."""
    inputs = make_inputs(6, 2, 3, 4, 2, seed=11)
    do = np.random.default_rng(12).standard_normal((6, 2, 2))
    _, cache = gru.forward(**inputs, reset=reset)
    norms = gru.backward(do, cache)["dh_norms"]
    assert norms.shape == (6,)
    for t in range(6):
        h_t = cache["h"][t].copy()

        def loss():
            total = float(np.sum((h_t @ inputs["V"].T + inputs["c"]) * do[t]))
            if t + 1 < 6:
                rest = {**inputs, "x": inputs["x"][t + 1:], "h0": h_t}
                total += float(np.sum(gru.forward(**rest, reset=reset)[0] * do[t + 1:]))
            return total

        dh = gradcheck.numerical_gradient(loss, h_t)
        np.testing.assert_allclose(norms[t], np.linalg.norm(dh), rtol=1e-8)


# --- forward ---------------------------------------------------------------------------

@pytest.mark.parametrize("reset", gru.RESETS)
@pytest.mark.parametrize("shape", SHAPES, ids=[str(s) for s in SHAPES])
def test_forward_matches_a_step_by_step_reference_loop(shape, reset):
    inputs = make_inputs(*shape, seed=1 + sum(shape))
    o, cache = gru.forward(**inputs, reset=reset)
    expected, _, cand, h = reference_forward(**inputs, reset=reset)
    np.testing.assert_allclose(o, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(cache["h"], h, rtol=1e-12, atol=1e-12)
    H = shape[3]
    np.testing.assert_allclose(cache["n"], cand, rtol=1e-12, atol=1e-12)
    assert all(cache[k].shape == (shape[0], shape[1], H) for k in ("r", "z", "n"))


def test_cache_keys_are_the_documented_ones():
    common = {"x", "h0", "U", "W", "b", "b_hn", "V", "c", "reset", "r", "z", "n", "h"}
    _, cache = gru.forward(**make_inputs(3, 2, 2, 3, 1))
    assert set(cache) == common | {"hn"} and cache["reset"] == "after"
    _, cache = gru.forward(**make_inputs(3, 2, 2, 3, 1), reset="before")
    assert set(cache) == common | {"rh"} and cache["reset"] == "before"


@pytest.mark.parametrize("reset", gru.RESETS)
def test_forward_and_backward_leave_their_inputs_and_the_cache_unchanged(reset):
    inputs = make_inputs(4, 2, 3, 5, 2)
    before = {k: v.copy() for k, v in inputs.items()}
    o, cache = gru.forward(**inputs, reset=reset)
    cached = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in cache.items()}
    do, dh_last = np.ones_like(o), np.ones((2, 5))
    gru.backward(do, cache, dh_last=dh_last)
    for k in inputs:
        np.testing.assert_array_equal(inputs[k], before[k])
    for k in cache:
        np.testing.assert_array_equal(cache[k], cached[k])
    np.testing.assert_array_equal(do, 1.0)
    np.testing.assert_array_equal(dh_last, 1.0)


@pytest.mark.parametrize("reset", gru.RESETS)
@pytest.mark.parametrize("scale", [0.5, 5.0])
def test_the_state_is_a_convex_combination_of_the_old_state_and_the_candidate(reset, scale):
    """h_t = (1 − z) n_t + z h_{t-1} lies between h_{t-1} and n_t entry by entry (to within
    the rounding of one multiply and two adds), so with |h_0| ≤ 1 every state stays in
    [−1, 1], however large the weights."""
    inputs = make_inputs(30, 4, 3, 6, 2, seed=2, init="normal", scale=scale)
    inputs["U"] *= 10.0
    inputs["h0"] = np.clip(inputs["h0"], -1, 1)
    _, cache = gru.forward(**inputs, reset=reset)
    _, prev, cand, h = reference_forward(**inputs, reset=reset)
    n = cache["n"]
    h_prev = np.concatenate([inputs["h0"][None], cache["h"][:-1]])
    low, high = np.minimum(h_prev, n), np.maximum(h_prev, n)
    rounding = 2 * np.finfo(np.float64).eps  # every value here is at most 1 in magnitude
    assert np.all((low - rounding <= cache["h"]) & (cache["h"] <= high + rounding))
    assert np.all(np.abs(cache["h"]) <= 1 + rounding)
    assert np.mean((low < cache["h"]) & (cache["h"] < high)) > 0.5  # mostly strictly inside
    np.testing.assert_allclose(h_prev, prev, rtol=1e-12, atol=1e-12)


def test_the_two_resets_agree_when_the_reset_gate_is_open_and_differ_otherwise():
    """With r = 1 (its bias far beyond saturation) r ⊙ (W_n h + b_hn) = W_n (r ⊙ h) + b_hn:
    the forms differ only in where r acts."""
    inputs = make_inputs(8, 3, 2, 5, 2, seed=4)
    o_after, _ = gru.forward(**inputs, reset="after")
    o_before, _ = gru.forward(**inputs, reset="before")
    assert np.max(np.abs(o_after - o_before)) > 1e-2
    inputs["b"][:5] = 1e4
    o_after, _ = gru.forward(**inputs, reset="after")
    o_before, _ = gru.forward(**inputs, reset="before")
    np.testing.assert_allclose(o_after, o_before, rtol=1e-12, atol=1e-12)


# --- dtypes ----------------------------------------------------------------------------

@pytest.mark.parametrize("reset", gru.RESETS)
def test_float32_stays_float32_and_agrees_with_float64(reset):
    inputs = make_inputs(8, 3, 2, 6, 2, seed=5)
    do = np.random.default_rng(6).standard_normal((8, 3, 2))
    o64, c64 = gru.forward(**inputs, reset=reset)
    o32, c32 = gru.forward(**inputs, reset=reset, dtype=np.float32)
    g64 = gru.backward(do, c64, dh_last=np.ones((3, 6)))
    g32 = gru.backward(do, c32, dh_last=np.ones((3, 6)))
    assert o64.dtype == np.float64 and o32.dtype == np.float32
    for k, v in c32.items():
        assert k == "reset" or v.dtype == np.float32, k
    np.testing.assert_allclose(o32, o64, rtol=1e-4, atol=1e-5)
    for name in GRAD_NAMES | {"dh_norms"}:
        assert g32[name].dtype == np.float32, name
        scale = np.max(np.abs(g64[name]))
        np.testing.assert_allclose(g32[name], g64[name], atol=1e-4 * max(scale, 1.0), err_msg=name)


def test_default_dtype_is_the_inputs_own():
    inputs = make_inputs(3, 2, 2, 4, 2)
    as32 = {k: v.astype(np.float32) for k, v in inputs.items()}
    o, cache = gru.forward(**as32)
    assert o.dtype == np.float32 and all(cache[k].dtype == np.float32 for k in ("r", "z", "n"))
    grads = gru.backward(np.ones((3, 2, 2)), cache)
    assert all(g.dtype == np.float32 for g in grads.values())
    o, cache = gru.forward(**{**as32, "b_hn": inputs["b_hn"]})
    assert o.dtype == np.float64 and cache["x"].dtype == np.float64
    o, _ = gru.forward(**{**inputs, "x": np.ones((3, 2, 2), dtype=np.int64)})
    assert o.dtype == np.float64
    o, _ = gru.forward(**inputs, dtype="float32")
    assert o.dtype == np.float32


@pytest.mark.parametrize("reset", gru.RESETS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_extreme_pre_activations_give_finite_saturated_gates_without_warnings(dtype, reset):
    inputs = make_inputs(3, 2, 2, 3, 1)
    inputs["U"] = inputs["U"] * 1e4
    with np.errstate(all="raise"):
        o, cache = gru.forward(**inputs, reset=reset, dtype=dtype)
        grads = gru.backward(np.ones_like(o), cache)
    assert np.all(np.isfinite(o)) and all(np.all(np.abs(cache[k]) <= 1) for k in ("r", "z", "n"))
    assert all(np.all(np.isfinite(g)) for g in grads.values())


def test_the_in_place_sigmoid_is_the_lstms():
    """Both modules carry the same kernel; the LSTM's tests check it against activations."""
    from vanishgrad import lstm

    x = np.linspace(-700, 700, 20001)
    a, b = np.empty_like(x), np.empty_like(x)
    with np.errstate(over="ignore", under="ignore"):
        gru._sigmoid_into(x, a)
        lstm._sigmoid_into(x, b)
    np.testing.assert_array_equal(a, b)


# --- initialisation --------------------------------------------------------------------

def test_init_params_shapes_dtypes_and_bounds():
    p = gru.init_params(3, 5, 2, rng=0)
    assert {k: v.shape for k, v in p.items()} == {
        "U": (15, 3), "W": (15, 5), "b": (15,), "b_hn": (5,), "V": (2, 5), "c": (2,)}
    assert all(v.dtype == np.float64 for v in p.values())
    assert not np.any(p["b"]) and not np.any(p["b_hn"]) and not np.any(p["c"])
    assert gru.init_params(3, 5, 2, dtype=np.float32, rng=0)["W"].dtype == np.float32
    H = 16
    q = gru.init_params(3, H, 2, init="pytorch", rng=0)
    k = 1 / np.sqrt(H)
    for name in ("U", "W", "b_hn", "V", "c"):
        assert np.all(np.abs(q[name]) <= k), name
    assert np.all(np.abs(q["b"][:2 * H]) <= 2 * k) and np.max(np.abs(q["b"][:2 * H])) > k  # bias_ih + bias_hh
    assert np.all(np.abs(q["b"][2 * H:]) <= k)                                           # bias_ih alone
    np.testing.assert_array_equal(gru.init_params(3, 5, 2, rng=1)["W"], gru.init_params(3, 5, 2, rng=1)["W"])


def test_init_params_refuses_bad_arguments():
    for bad in ((0, 5, 2), (3, 2.0, 2), (3, 5, True)):
        with pytest.raises(ValueError, match="must be a positive integer"):
            gru.init_params(*bad)
    with pytest.raises(ValueError, match="unknown init 'he'; choose one of normal, pytorch"):
        gru.init_params(3, 5, 2, init="he")
    with pytest.raises(ValueError, match="scale must be a finite number"):
        gru.init_params(3, 5, 2, scale=np.nan)


# --- bad input -------------------------------------------------------------------------

def good():
    return make_inputs(4, 2, 3, 5, 2)


@pytest.mark.parametrize("name, shape, message", [
    ("U", (15, 2), r"U must have shape \(3H, D\) = \(15, 3\); got \(15, 2\)"),
    ("W", (5, 5), r"W must have shape \(3H, H\) = \(15, 5\); got \(5, 5\)"),
    ("W", (15,), r"W must have shape \(3H, H\).*got \(15,\)"),
    ("b", (5,), r"b must have shape \(3H,\) = \(15,\); got \(5,\)"),
    ("b_hn", (15,), r"b_hn must have shape \(H,\) = \(5,\); got \(15,\)"),
    ("V", (2, 4), r"V must have shape \(K, H\) = \(2, 5\); got \(2, 4\)"),
    ("c", (3,), r"c must have shape \(K,\) = \(2,\); got \(3,\)"),
    ("h0", (3, 5), r"h0 must have shape \(B, H\) = \(2, 5\); got \(3, 5\)"),
    ("x", (4, 3), r"x must have shape \(T, B, D\).*got \(4, 3\)"),
])
def test_mismatched_shapes_name_the_expected_and_the_given_shape(name, shape, message):
    inputs = good()
    inputs[name] = np.zeros(shape)
    with pytest.raises(ValueError, match=message):
        gru.forward(**inputs)


def test_empty_sequences_unknown_resets_and_bad_dtypes_are_refused():
    with pytest.raises(ValueError, match="at least one time step"):
        gru.forward(**{**good(), "x": np.zeros((0, 2, 3))})
    with pytest.raises(ValueError, match="unknown reset 'never'; choose one of after, before"):
        gru.forward(**good(), reset="never")
    with pytest.raises(ValueError, match="x must be real"):
        gru.forward(**{**good(), "x": np.zeros((4, 2, 3), dtype=complex)})
    for dtype in (np.int64, np.complex128):
        with pytest.raises(ValueError, match="dtype must be float32 or float64"):
            gru.forward(**good(), dtype=dtype)


@pytest.mark.parametrize("name", sorted(GRAD_NAMES))
def test_non_finite_inputs_are_refused(name):
    inputs = good()
    inputs[name] = inputs[name].copy()
    inputs[name].flat[0] = np.nan
    with pytest.raises(ValueError, match=rf"{name} holds 1 non-finite value"):
        gru.forward(**inputs)


def test_backward_refuses_bad_upstream_gradients_and_foreign_caches():
    o, cache = gru.forward(**good())
    with pytest.raises(ValueError, match=r"do must have shape \(T, B, K\) = \(4, 2, 2\); got \(4, 2, 3\)"):
        gru.backward(np.zeros((4, 2, 3)), cache)
    bad = np.zeros_like(o)
    bad[1, 0, 0] = np.inf
    with pytest.raises(ValueError, match="do holds 1 non-finite"):
        gru.backward(bad, cache)
    with pytest.raises(ValueError, match=r"dh_last must have shape \(B, H\) = \(2, 5\); got \(5,\)"):
        gru.backward(np.zeros_like(o), cache, dh_last=np.zeros(5))
    with pytest.raises(ValueError, match="cache lacks 'hn'.*gru.forward"):
        gru.backward(np.zeros_like(o), {k: v for k, v in cache.items() if k != "hn"})
    with pytest.raises(ValueError, match="cache lacks 'reset'.*gru.forward"):
        gru.backward(np.zeros_like(o), {k: v for k, v in cache.items() if k != "reset"})
