import warnings

import numpy as np
import pytest

from vanishgrad import activations, mlp
from vanishgrad.gradcheck import check_forward_backward, numerical_gradient, rel_error

ACTIVATIONS = ["sigmoid", "tanh", "relu", "identity"]
SIZES = [3, 5, 4, 6, 2]  # D = 3, three hidden layers, K = 2: L = 4 layers
TOL = 1e-7


def batch(B=4, D=3, seed=0):
    return np.random.default_rng(seed).standard_normal((B, D))


def labels(B=4, K=2, seed=0):
    return np.random.default_rng(seed).integers(0, K, B)


# --------------------------------------------------------------------------- gradient checks


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_layer_backward_matches_central_differences(activation):
    rng = np.random.default_rng(1)
    inputs = {"h_prev": rng.standard_normal((4, 3)), "W": rng.standard_normal((5, 3)), "b": rng.standard_normal(5)}
    errors = check_forward_backward(
        lambda h_prev, W, b: mlp.layer_forward(h_prev, W, b, activation), mlp.layer_backward, inputs
    )
    assert set(errors) == {"h_prev", "W", "b"}
    assert max(errors.values()) <= TOL, errors


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("init", ["naive", "xavier", "he"])
def test_network_backward_matches_central_differences(activation, init):
    params = mlp.init_params(SIZES, init, rng=2)
    for l in range(1, 5):  # non-zero biases, so the check covers them at a generic point
        params[f"b{l}"] = np.random.default_rng(l).standard_normal(params[f"b{l}"].shape) * 0.5
    inputs = {"x": batch(), **params}

    def forward(x, **p):
        return mlp.forward(x, p, activation)

    errors = check_forward_backward(forward, mlp.backward, inputs)
    assert set(errors) == set(inputs)
    assert max(errors.values()) <= TOL, errors


@pytest.mark.parametrize("activation", ["sigmoid", "tanh"])
def test_backward_is_right_in_the_saturated_regime(activation):
    # Weights 6x too large saturate most units; the gradients are tiny but still right.
    params = mlp.init_params(SIZES, "xavier", scale=6.0, rng=3)
    inputs = {"x": 3 * batch(), **params}
    errors = check_forward_backward(lambda x, **p: mlp.forward(x, p, activation), mlp.backward, inputs)
    assert max(errors.values()) <= TOL, errors


def test_backward_signals_are_the_gradients_of_the_hidden_states():
    # grads["h2"] is ∂L/∂h_2: perturbing h_2 inside the net must move the loss accordingly.
    params = mlp.init_params(SIZES, "xavier", rng=4)
    x, y = batch(), labels()
    o, cache = mlp.forward(x, params, "tanh")
    grads = mlp.backward(mlp.softmax_cross_entropy(o, y)[1], cache)
    h2 = cache["h"][2].copy()

    def loss_from_h2():
        h = h2
        for l in (3, 4):
            net = h @ params[f"W{l}"].T + params[f"b{l}"]
            h = np.tanh(net) if l < 4 else net
        return mlp.softmax_cross_entropy(h, y)[0]

    assert rel_error(grads["h2"], numerical_gradient(loss_from_h2, h2)) <= TOL
    np.testing.assert_allclose(grads["net2"], grads["h2"] * (1 - cache["h"][2] ** 2), rtol=1e-12)


def test_softmax_cross_entropy_gradient():
    o = np.random.default_rng(5).standard_normal((6, 3)) * 3
    y = np.array([0, 2, 1, 1, 0, 2])
    loss, do = mlp.softmax_cross_entropy(o, y)
    assert rel_error(do, numerical_gradient(lambda: mlp.softmax_cross_entropy(o, y)[0], o)) <= TOL
    assert loss == pytest.approx(-np.mean(np.log(np.exp(o) / np.exp(o).sum(1, keepdims=True))[np.arange(6), y]))


def test_softmax_cross_entropy_is_stable_for_huge_logits():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss, do = mlp.softmax_cross_entropy(np.array([[1000.0, -1000.0]]), np.array([0]))
    assert loss == 0.0 and np.all(np.isfinite(do))


@pytest.mark.parametrize("activation", ["sigmoid", "relu"])
def test_loss_gradient_end_to_end(activation):
    params = mlp.init_params(SIZES, "he", rng=6)
    x, y = batch(), labels()
    o, cache = mlp.forward(x, params, activation)
    grads = mlp.backward(mlp.softmax_cross_entropy(o, y)[1], cache)
    for name in ("W1", "b1", "W4"):
        numeric = numerical_gradient(lambda: mlp.softmax_cross_entropy(mlp.forward(x, params, activation)[0], y)[0],
                                     params[name])
        assert rel_error(grads[name], numeric) <= TOL, name


# --------------------------------------------------------------------------- the API


def test_shapes_of_the_forward_pass_and_the_cache():
    params = mlp.init_params(SIZES, "xavier", rng=0)
    o, cache = mlp.forward(batch(B=7), params, "sigmoid")
    assert o.shape == (7, 2)
    assert sorted(cache["h"]) == [0, 1, 2, 3] and sorted(cache["net"]) == [1, 2, 3, 4]
    assert [cache["h"][l].shape[1] for l in range(4)] == SIZES[:4]
    np.testing.assert_array_equal(cache["net"][4], o)
    grads = mlp.backward(np.ones_like(o), cache)
    for l in range(1, 5):
        assert grads[f"W{l}"].shape == params[f"W{l}"].shape
        assert grads[f"b{l}"].shape == params[f"b{l}"].shape
    assert grads["x"].shape == (7, 3)
    assert mlp.layer_gradient_norms(grads).shape == (4,)
    assert mlp.num_layers(params) == 4


def test_layer_one_is_nearest_the_input():
    params = mlp.init_params([3, 8, 2], "xavier", rng=0)
    assert params["W1"].shape == (8, 3) and params["W2"].shape == (2, 8)


def test_float32_stays_float32():
    params = {k: v.astype(np.float32) for k, v in mlp.init_params(SIZES, "xavier", rng=0).items()}
    o, cache = mlp.forward(batch().astype(np.float32), params, "tanh")
    grads = mlp.backward(np.ones_like(o), cache)
    assert o.dtype == np.float32 and grads["W1"].dtype == np.float32
    loss, do = mlp.softmax_cross_entropy(o, labels())
    assert do.dtype == np.float32
    h, lcache = mlp.layer_forward(batch().astype(np.float32), params["W1"], params["b1"])
    assert h.dtype == np.float32 and mlp.layer_backward(np.ones((4, 5)), lcache)["W"].dtype == np.float32
    trained, _ = mlp.train(params, batch().astype(np.float32), labels(), steps=2)
    assert trained["W1"].dtype == np.float32


def test_init_params_dtype():
    assert mlp.init_params(SIZES, rng=0, dtype=np.float32)["W1"].dtype == np.float32
    assert mlp.init_params(SIZES, rng=0)["W1"].dtype == np.float64
    np.testing.assert_array_equal(mlp.init_params(SIZES, rng=0, dtype=None)["W1"], mlp.init_params(SIZES, rng=0)["W1"])
    for dtype in (np.int64, complex, "float16"):
        with pytest.raises(ValueError, match="dtype must be float32 or float64"):
            mlp.init_params(SIZES, dtype=dtype)


def test_mixed_and_integer_inputs_compute_in_float64():
    params = {k: v.astype(np.float32) for k, v in mlp.init_params(SIZES, "xavier", rng=0).items()}
    o, _ = mlp.forward(batch(), params, "tanh")  # float64 x, float32 params
    assert o.dtype == np.float64
    o, _ = mlp.forward(np.ones((2, 3), dtype=np.int64), params, "tanh")
    assert o.dtype == np.float64
    assert mlp.softmax_cross_entropy(np.zeros((2, 2), dtype=np.int64), np.array([0, 1]))[1].dtype == np.float64


# --------------------------------------------------------------------------- initialisations


def test_initialisations_have_their_stated_distributions():
    n_in, n_out = 400, 300
    naive = mlp.init_params([n_in, n_out], "naive", rng=0)["W1"]
    xavier = mlp.init_params([n_in, n_out], "xavier", rng=0)["W1"]
    he = mlp.init_params([n_in, n_out], "he", rng=0)["W1"]
    assert np.abs(naive).max() <= 1 / np.sqrt(n_in)
    assert naive.var() == pytest.approx(1 / (3 * n_in), rel=0.02)
    assert np.abs(xavier).max() <= np.sqrt(6 / (n_in + n_out))
    assert xavier.var() == pytest.approx(2 / (n_in + n_out), rel=0.02)
    assert he.var() == pytest.approx(2 / n_in, rel=0.02)
    assert np.all(mlp.init_params([n_in, n_out], "he", rng=0)["b1"] == 0)


def test_glorot_is_xavier_and_scale_multiplies():
    a = mlp.init_params(SIZES, "glorot", rng=9)
    b = mlp.init_params(SIZES, "xavier", rng=9)
    c = mlp.init_params(SIZES, "xavier", scale=2.5, rng=9)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
        np.testing.assert_allclose(c[k], 2.5 * b[k])


def test_same_seed_same_weights_other_seed_other_weights():
    a, b, c = (mlp.init_params(SIZES, "he", rng=s) for s in (1, 1, 2))
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not np.array_equal(a["W1"], c["W1"])


# --------------------------------------------------------------------------- bad input


def test_unknown_activation_lists_the_known_ones():
    params = mlp.init_params(SIZES, "xavier", rng=0)
    with pytest.raises(ValueError, match=r"unknown activation 'softsign'; choose one of identity, relu, sigmoid, tanh"):
        mlp.forward(batch(), params, "softsign")
    with pytest.raises(ValueError, match="unknown activation"):
        mlp.layer_forward(batch(), params["W1"], params["b1"], "Sigmoid")
    with pytest.raises(ValueError, match="unknown activation"):
        mlp.train(params, batch(), labels(), activation="swish", steps=1)


def test_unknown_initialisation_lists_the_known_ones():
    with pytest.raises(ValueError, match=r"unknown init 'lecun'; choose one of glorot, he, naive, xavier"):
        mlp.init_params(SIZES, "lecun")


@pytest.mark.parametrize("sizes", [[3], [3, 0, 2], [3, 2.5, 2], "3,4"])
def test_bad_sizes(sizes):
    with pytest.raises(ValueError, match="sizes"):
        mlp.init_params(sizes)


@pytest.mark.parametrize("scale", [0, -1.0, float("nan")])
def test_bad_scale(scale):
    with pytest.raises(ValueError, match="scale"):
        mlp.init_params(SIZES, scale=scale)


def test_shape_errors_name_the_expected_and_the_given_shape():
    params = mlp.init_params(SIZES, "xavier", rng=0)
    bad = dict(params, W2=np.zeros((4, 6)))
    with pytest.raises(ValueError, match=r"W2 must have shape \(H_2, H_1\) = \(\?, 5\); got \(4, 6\)"):
        mlp.forward(batch(), bad, "tanh")
    bad = dict(params, b3=np.zeros(4))
    with pytest.raises(ValueError, match=r"b3 must have shape \(H_3,\) = \(6,\); got \(4,\)"):
        mlp.forward(batch(), bad, "tanh")
    with pytest.raises(ValueError, match=r"W1 must have shape \(H_1, H_0\) = \(\?, 7\); got \(5, 3\)"):
        mlp.forward(batch(D=7), params, "tanh")
    with pytest.raises(ValueError, match=r"x must have shape \(B, D\).*got \(3,\)"):
        mlp.forward(np.zeros(3), params, "tanh")
    o, cache = mlp.forward(batch(B=4), params, "tanh")
    with pytest.raises(ValueError, match=r"do must have shape \(B, K\) = \(4, 2\); got \(4, 3\)"):
        mlp.backward(np.zeros((4, 3)), cache)
    with pytest.raises(ValueError, match=r"h_prev must have shape \(B, H_in\) = \(\?, 3\); got \(4, 5\)"):
        mlp.layer_forward(np.zeros((4, 5)), params["W1"], params["b1"])
    h, lcache = mlp.layer_forward(batch(), params["W1"], params["b1"])
    with pytest.raises(ValueError, match=r"dh must have shape \(B, H_out\) = \(4, 5\); got \(5, 4\)"):
        mlp.layer_backward(np.zeros((5, 4)), lcache)


def test_missing_parameters_and_non_finite_inputs():
    params = mlp.init_params(SIZES, "xavier", rng=0)
    with pytest.raises(ValueError, match="missing"):
        mlp.forward(batch(), {k: v for k, v in params.items() if k != "b2"}, "tanh")
    x = batch()
    x[0, 0] = np.nan
    with pytest.raises(ValueError, match="x holds 1 non-finite"):
        mlp.forward(x, params, "tanh")


def test_bad_labels():
    with pytest.raises(ValueError, match=r"labels in 0 … 1; got labels from 0 to 2"):
        mlp.softmax_cross_entropy(np.zeros((3, 2)), np.array([0, 1, 2]))
    with pytest.raises(ValueError, match="integer class labels"):
        mlp.softmax_cross_entropy(np.zeros((3, 2)), np.array([0.0, 1.0, 1.0]))
    with pytest.raises(ValueError, match=r"y must have shape \(B,\) = \(3,\); got \(2,\)"):
        mlp.softmax_cross_entropy(np.zeros((3, 2)), np.array([0, 1]))


def test_bad_training_arguments():
    params = mlp.init_params(SIZES, "xavier", rng=0)
    with pytest.raises(ValueError, match="lr"):
        mlp.train(params, batch(), labels(), lr=0.0)
    with pytest.raises(ValueError, match="steps"):
        mlp.train(params, batch(), labels(), steps=0)
    with pytest.raises(ValueError, match="batch_size"):
        mlp.train(params, batch(), labels(), batch_size=5)


# --------------------------------------------------------------------------- training


def spirals_like(n=60, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 3))
    return x, (x[:, 0] * x[:, 1] > 0).astype(int)


def test_training_diverges_loudly():
    x, y = spirals_like()
    # A linear net with a learning rate far too large: the weights grow until they overflow.
    params = mlp.init_params([3, 16, 16, 2], "he", rng=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warnings: the error says it all
        with pytest.raises(FloatingPointError, match=r"training diverged: the loss is (nan|inf) at step \d+ \(lr = 10.0\)"):
            mlp.train(params, x, y, activation="identity", lr=10.0, steps=100)


def test_training_learns_and_leaves_its_input_alone():
    x, y = spirals_like()
    params = mlp.init_params([3, 16, 16, 2], "xavier", rng=0)
    before = {k: v.copy() for k, v in params.items()}
    trained, history = mlp.train(params, x, y, activation="tanh", lr=0.5, steps=300)
    assert history["loss"][-1] < 0.5 * history["loss"][0]
    assert all(np.array_equal(params[k], before[k]) for k in params)
    assert history["update_ratio"].shape == history["grad_norm"].shape == (300, 3)


def test_update_ratio_is_the_relative_size_of_the_step():
    x, y = spirals_like()
    params = mlp.init_params([3, 8, 2], "xavier", rng=0)
    trained, history = mlp.train(params, x, y, activation="sigmoid", lr=0.3, steps=1)
    for l in (1, 2):
        step = trained[f"W{l}"] - params[f"W{l}"]
        assert history["update_ratio"][0, l - 1] == pytest.approx(
            np.linalg.norm(step) / np.linalg.norm(params[f"W{l}"]), rel=1e-12)
    o, cache = mlp.forward(x, params, "sigmoid")
    norms = mlp.layer_gradient_norms(mlp.backward(mlp.softmax_cross_entropy(o, y)[1], cache))
    np.testing.assert_allclose(history["grad_norm"][0], norms, rtol=1e-12)


def test_training_is_reproducible_with_a_seed():
    x, y = spirals_like()
    params = mlp.init_params([3, 8, 8, 2], "he", rng=0)
    runs = [mlp.train(params, x, y, activation="relu", lr=0.1, steps=20, batch_size=8, rng=s) for s in (7, 7, 8)]
    (p1, h1), (p2, h2), (p3, h3) = runs
    for key in h1:
        np.testing.assert_array_equal(h1[key], h2[key])
    assert all(np.array_equal(p1[k], p2[k]) for k in p1)
    assert not np.array_equal(h1["loss"], h3["loss"])


def test_bad_caches_and_non_finite_gradients_name_what_to_pass():
    params = mlp.init_params(SIZES, "xavier", rng=0)
    o, cache = mlp.forward(batch(), params, "tanh")
    h, lcache = mlp.layer_forward(batch(), params["W1"], params["b1"])
    with pytest.raises(ValueError, match=r"cache must be the second value returned by mlp.layer_forward.*got NoneType"):
        mlp.layer_backward(np.ones((4, 5)), None)
    with pytest.raises(ValueError, match=r"cache must be the second value returned by mlp.layer_forward.*got dict"):
        mlp.layer_backward(np.ones((4, 5)), cache)
    with pytest.raises(ValueError, match=r"cache lacks 'layers': pass the cache returned by mlp.forward"):
        mlp.backward(np.ones((4, 2)), {})
    with pytest.raises(ValueError, match=r"cache must be the dict returned by mlp.forward; got LayerCache"):
        mlp.backward(np.ones((4, 2)), lcache)
    with pytest.raises(ValueError, match="do holds 1 non-finite"):
        mlp.backward(np.array([[np.nan, 0]] + [[0, 0]] * 3), cache)
    with pytest.raises(ValueError, match="dh holds 20 non-finite"):
        mlp.layer_backward(np.full((4, 5), np.inf), lcache)
    with pytest.raises(ValueError, match="o holds 1 non-finite"):
        mlp.softmax_cross_entropy(np.array([[np.nan, 0.0]]), np.array([0]))


def test_layer_gradient_norms_names_a_missing_layer():
    grads = mlp.backward(np.ones((4, 2)), mlp.forward(batch(), mlp.init_params(SIZES, rng=0), "tanh")[1])
    assert mlp.layer_gradient_norms(grads).shape == (4,)
    with pytest.raises(ValueError, match="grads must hold W1, …, WL .*; missing W2"):
        mlp.layer_gradient_norms({k: v for k, v in grads.items() if k != "W2"})
    with pytest.raises(ValueError, match=r"grads\['W3'\] holds 1 non-finite"):
        bad = dict(grads, W3=grads["W3"].copy())
        bad["W3"][0, 0] = np.nan
        mlp.layer_gradient_norms(bad)


def test_empty_batches_are_refused_without_a_warning():
    params = mlp.init_params(SIZES, rng=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=r"o must have at least one entry along every axis, \(B, K\) = \(0, 2\): B is 0"):
            mlp.softmax_cross_entropy(np.zeros((0, 2)), np.zeros(0, dtype=int))
        with pytest.raises(ValueError, match=r"x must have at least one entry.*B is 0"):
            mlp.forward(np.zeros((0, 3)), params, "tanh")
        with pytest.raises(ValueError, match=r"x must have at least one entry.*B is 0"):
            mlp.train(params, np.zeros((0, 3)), np.zeros(0, dtype=int))


def test_layer_cache_is_a_named_tuple_that_still_unpacks():
    h_prev = batch()
    params = mlp.init_params(SIZES, rng=0)
    h, cache = mlp.layer_forward(h_prev, params["W1"], params["b1"], "tanh")
    a, W, net, out, act = cache
    assert a is cache.h_prev and out is cache.h is h and act.name == "tanh"


# --------------------------------------------------------------------------- train is the plain loop, bit for bit


def reference_train(params, x, y, activation, lr, steps, batch_size=None, rng=None):
    """The training loop train documents, written out from the public forward and backward."""
    params = {k: v.copy() for k, v in params.items()}
    rng = np.random.default_rng(rng)
    L = mlp.num_layers(params)
    history = {"loss": np.empty(steps), "grad_norm": np.empty((steps, L)), "update_ratio": np.empty((steps, L))}
    for t in range(steps):
        rows = slice(None) if batch_size is None else rng.choice(len(x), size=batch_size, replace=False)
        o, cache = mlp.forward(x[rows], params, activation)
        loss, do = mlp.softmax_cross_entropy(o, y[rows])
        grads = mlp.backward(do, cache)
        history["loss"][t] = loss
        for l in range(1, L + 1):
            g = np.linalg.norm(grads[f"W{l}"])
            history["grad_norm"][t, l - 1] = g
            with np.errstate(invalid="ignore"):  # W_l = 0 gives NaN, as in train
                history["update_ratio"][t, l - 1] = lr * g / np.linalg.norm(params[f"W{l}"])
            params[f"W{l}"] -= lr * grads[f"W{l}"]  # in place: the params keep their dtype
            params[f"b{l}"] -= lr * grads[f"b{l}"]
    return params, history


def assert_same_bits(got, expected, what):
    got, expected = np.asarray(got), np.asarray(expected)
    assert (got.dtype, got.shape) == (expected.dtype, expected.shape), (
        f"{what}: got {got.dtype} {got.shape}, expected {expected.dtype} {expected.shape}")
    differ = got.view(np.uint8) != expected.view(np.uint8)  # np.array_equal would take -0.0 for 0.0
    assert not differ.any(), f"{what}: {np.count_nonzero(differ)} bytes differ from the reference loop"


def assert_same_run(run, reference):
    (params, history), (ref_params, ref_history) = run, reference
    assert list(params) == list(ref_params)
    for k in ref_params:
        assert_same_bits(params[k], ref_params[k], k)
    for k in ("loss", "grad_norm", "update_ratio"):
        assert_same_bits(history[k], ref_history[k], f"history[{k!r}]")


def softsign():
    """An activation of the caller's own, which train handles by the general route."""
    return activations.Activation("softsign", lambda v: v / (1 + np.abs(v)), lambda v: 1 / (1 + np.abs(v)) ** 2,
                                  None, 1.0)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("activation", ACTIVATIONS + ["softsign"])
def test_train_is_the_plain_loop_to_the_last_bit(activation, dtype):
    x, y = spirals_like(n=50)
    x = x.astype(dtype)
    params = mlp.init_params([3, 9, 8, 8, 2], "xavier", scale=2.0, rng=7, dtype=dtype)
    act = softsign() if activation == "softsign" else activation
    lr = 0.05 if activation == "identity" else 0.5
    run = mlp.train(params, x, y, activation=act, lr=lr, steps=30)
    assert_same_run(run, reference_train(params, x, y, act, lr, steps=30))


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
@pytest.mark.parametrize("batch_size", [1, 7])
def test_minibatch_training_is_the_plain_loop_to_the_last_bit(activation, batch_size):
    x, y = spirals_like(n=40)
    params = mlp.init_params([3, 8, 8, 2], "he", rng=8)
    run = mlp.train(params, x, y, activation=activation, lr=0.3, steps=25, batch_size=batch_size, rng=11)
    assert_same_run(run, reference_train(params, x, y, activation, 0.3, steps=25, batch_size=batch_size, rng=11))


def test_a_deep_saturating_net_trains_as_the_plain_loop_to_the_last_bit():
    # Chapter 1's setting, smaller: a deep sigmoid net on a few hundred points, where f' is
    # tiny in the saturated units
    x, y = spirals_like(n=200, seed=3)
    params = mlp.init_params([3] + [16] * 9 + [2], "xavier", scale=3.0, rng=1)
    run = mlp.train(params, 3 * x, y, activation="sigmoid", lr=1.0, steps=20)
    assert_same_run(run, reference_train(params, 3 * x, y, "sigmoid", 1.0, steps=20))


@pytest.mark.parametrize("lr", [np.float64(0.3), np.float32(0.3), 1])
def test_the_type_of_lr_acts_as_in_numpy_arithmetic(lr):
    # float32 params with a float64 lr: the step lr ∂L/∂W is float64, as numpy computes lr * grad
    x, y = spirals_like(n=30)
    params = mlp.init_params([3, 6, 2], "xavier", rng=2, dtype=np.float32)
    x = x.astype(np.float32)
    run = mlp.train(params, x, y, activation="tanh", lr=lr, steps=10)
    assert run[0]["W1"].dtype == np.float32
    assert_same_run(run, reference_train(params, x, y, "tanh", lr, steps=10))


def test_training_takes_relu_prime_at_zero_as_zero():
    # W2 = 0 and b2 = 0 put every net_2 exactly at 0, where relu' is taken to be 0
    x, y = spirals_like(n=30)
    params = mlp.init_params([3, 6, 5, 2], "he", rng=4)
    params["W2"][:] = 0.0
    run = mlp.train(params, x, y, activation="relu", lr=0.5, steps=5)
    assert not run[0]["W2"].any()  # ∂L/∂W_2 = (f'(net_2) ⊙ ∂L/∂h_2)ᵀ h_1 = 0 at every step
    assert_same_run(run, reference_train(params, x, y, "relu", 0.5, steps=5))


@pytest.mark.parametrize("steps, message", [
    (1, r"training diverged: W1, W2, W3 became inf or NaN in the last step \(lr = 1e\+308\)"),
    (2, r"training diverged: the loss is nan at step 1 \(lr = 1e\+308\)"),
])
def test_divergence_names_the_step_or_the_weights(steps, message):
    x, y = spirals_like()
    params = mlp.init_params([3, 16, 16, 2], "he", rng=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(FloatingPointError, match=message):
            mlp.train(params, 10 * x, y, activation="identity", lr=1e308, steps=steps)
