"""The residual module: gradients checked against central differences (block and network,
α = 0 and α ≠ 0), the forward pass against a reference loop, the Jacobians against finite
differences, the path decomposition against all 2ⁿ paths, the training helpers, bad input."""

import itertools
from math import comb

import numpy as np
import pytest

from vanishgrad import activations, gradcheck, mlp, residual

ACTIVATIONS = ["sigmoid", "tanh", "relu", "identity"]
TOL = 1e-7
# [D, H, …, H, K]: no block, one block, D ≠ H ≠ K, a single unit, D = H
SIZES = [[3, 4, 2], [3, 4, 4, 2], [2, 5, 5, 5, 3], [1, 1, 1, 1, 1], [4, 4, 4, 4, 2]]


def make_params(sizes, init="xavier", alpha=0.7, seed=0):
    params = residual.init_params(sizes, init, alpha=alpha, rng=seed)
    rng = np.random.default_rng(seed + 100)
    for k in params:  # biases away from zero, and different scales per block
        if k.startswith("b"):
            params[k] = 0.5 * rng.standard_normal(params[k].shape)
    if params["alpha"].size and alpha != 0:
        params["alpha"] = alpha * rng.uniform(0.5, 1.5, params["alpha"].shape)
    return params


def reference_forward(x, params, f):
    """The residual net one example at a time, column vectors as in the math."""
    L = mlp.num_layers(params)
    out = []
    for xb in x:
        h = f(params["W1"] @ xb + params["b1"])
        for l in range(2, L):
            h = h + params["alpha"][l - 2] * f(params[f"W{l}"] @ h + params[f"b{l}"])
        out.append(params[f"W{L}"] @ h + params[f"b{L}"])
    return np.array(out)


# --------------------------------------------------------------------------- one block


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("alpha", [0.0, 0.7, -1.3])
@pytest.mark.parametrize("B, H", [(1, 1), (4, 5), (3, 2)])
def test_block_gradients_match_central_differences(activation, alpha, B, H):
    rng = np.random.default_rng(B * 10 + H)
    inputs = {"x": rng.standard_normal((B, H)), "W": rng.standard_normal((H, H)),
              "b": rng.standard_normal(H), "alpha": np.array(alpha)}
    errors = gradcheck.check_forward_backward(
        lambda **kw: residual.block_forward(**kw, activation=activation), residual.block_backward, inputs)
    assert set(errors) == {"x", "W", "b", "alpha"}
    assert max(errors.values()) <= TOL, errors


def test_block_is_the_input_plus_the_scaled_branch():
    rng = np.random.default_rng(1)
    x, W, b = rng.standard_normal((3, 4)), rng.standard_normal((4, 4)), rng.standard_normal(4)
    y, cache = residual.block_forward(x, W, b, alpha=0.3, activation="tanh")
    np.testing.assert_allclose(y, x + 0.3 * np.tanh(x @ W.T + b), rtol=1e-14)
    np.testing.assert_allclose(cache["F"], np.tanh(x @ W.T + b), rtol=1e-14)
    y0, _ = residual.block_forward(x, W, b, alpha=0.0)
    np.testing.assert_array_equal(y0, x)  # α = 0: the block is the identity
    g = residual.block_backward(np.ones_like(y0), residual.block_forward(x, W, b, alpha=0.0)[1])
    np.testing.assert_array_equal(g["x"], np.ones_like(x))  # ... and passes the gradient unchanged
    assert not np.any(g["W"]) and not np.any(g["b"]) and g["alpha"] != 0
    assert g["alpha"].shape == () and g["net"].shape == (3, 4)


# --------------------------------------------------------------------------- the network


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("sizes", SIZES, ids=[str(s) for s in SIZES])
@pytest.mark.parametrize("alpha", [0.0, 0.7])
def test_network_gradients_match_central_differences(activation, sizes, alpha):
    params = make_params(sizes, alpha=alpha, seed=len(sizes))
    fixed = {"alpha": params.pop("alpha")} if params["alpha"].size == 0 else {}  # nothing to perturb
    inputs = {"x": np.random.default_rng(3).standard_normal((3, sizes[0])), **params}
    errors = gradcheck.check_forward_backward(
        lambda x, **p: residual.forward(x, {**p, **fixed}, activation), residual.backward, inputs)
    assert set(errors) == set(inputs)
    assert max(errors.values()) <= TOL, errors


@pytest.mark.parametrize("init", ["naive", "xavier", "he"])
@pytest.mark.parametrize("B", [1, 5])
def test_network_gradients_for_every_initialisation_and_batch_size(init, B):
    params = make_params([2, 6, 6, 6, 6, 3], init=init, alpha=1.0, seed=B)
    inputs = {"x": np.random.default_rng(B).standard_normal((B, 2)), **params}
    errors = gradcheck.check_forward_backward(
        lambda x, **p: residual.forward(x, p, "relu"), residual.backward, inputs)
    assert max(errors.values()) <= TOL, errors


def test_zero_initialised_branches():
    sizes = [2, 5, 5, 5, 5, 3]
    params = residual.init_params(sizes, "he", alpha=0.0, rng=4)
    x = np.random.default_rng(5).standard_normal((6, 2))
    o, cache = residual.forward(x, params, "sigmoid")
    # every block is the identity, so the net is its input layer followed by its readout
    h1 = activations.sigmoid(x @ params["W1"].T + params["b1"])
    np.testing.assert_allclose(o, h1 @ params["W5"].T + params["b5"], rtol=1e-14)
    grads = residual.backward(np.ones_like(o), cache)
    for l in (2, 3, 4):  # the branches get no gradient while α = 0 ...
        assert not np.any(grads[f"W{l}"]) and not np.any(grads[f"b{l}"])
        np.testing.assert_array_equal(grads[f"h{l - 1}"], grads["h4"])  # ... the skips carry it intact
    assert np.all(grads["alpha"] != 0)  # ... and α does, so a learned α can grow from zero
    errors = gradcheck.check_forward_backward(
        lambda x, **p: residual.forward(x, p, "sigmoid"), residual.backward, {"x": x, **params})
    assert max(errors.values()) <= TOL, errors


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("sizes", SIZES, ids=[str(s) for s in SIZES])
def test_forward_matches_a_reference_loop(activation, sizes):
    params = make_params(sizes, alpha=0.9, seed=1)
    x = np.random.default_rng(2).standard_normal((4, sizes[0]))
    o, cache = residual.forward(x, params, activation)
    np.testing.assert_allclose(o, reference_forward(x, params, activations.get(activation).f), rtol=1e-12, atol=1e-13)
    L = len(sizes) - 1
    assert sorted(cache["h"]) == list(range(L)) and sorted(cache["net"]) == list(range(1, L + 1))
    np.testing.assert_array_equal(cache["net"][L], o)


def test_parameters_are_the_mlp_parameters_plus_alpha():
    sizes = [2, 8, 8, 8, 3]
    params = residual.init_params(sizes, "he", alpha=0.25, scale=1.5, rng=9)
    plain = mlp.init_params(sizes, "he", scale=1.5, rng=9)
    assert set(params) == set(plain) | {"alpha"}
    for k in plain:
        np.testing.assert_array_equal(params[k], plain[k])
    np.testing.assert_array_equal(params["alpha"], [0.25, 0.25])
    assert residual.num_blocks(params) == 2


def test_fixed_branch_scales_give_the_same_net_as_trained_ones():
    params = make_params([3, 5, 5, 5, 5, 2], seed=3)
    x = np.random.default_rng(4).standard_normal((4, 3))
    fixed = {k: v for k, v in params.items() if k != "alpha"}
    o, cache = residual.forward(x, params, "tanh")
    o_fixed, cache_fixed = residual.forward(x, fixed, "tanh", alpha=params["alpha"])
    np.testing.assert_array_equal(o, o_fixed)
    do = np.random.default_rng(5).standard_normal(o.shape)
    g, g_fixed = residual.backward(do, cache), residual.backward(do, cache_fixed)
    for k in g:
        np.testing.assert_array_equal(g[k], g_fixed[k], err_msg=k)  # ∂L/∂α too
    np.testing.assert_array_equal(residual.block_jacobians(x[0], params, "tanh"),
                                  residual.block_jacobians(x[0], fixed, "tanh", alpha=params["alpha"]))
    # one number for every block
    same = {**fixed, "alpha": np.full(3, 0.4)}
    np.testing.assert_array_equal(residual.forward(x, fixed, "tanh", alpha=0.4)[0],
                                  residual.forward(x, same, "tanh")[0])
    # float32 parameters stay float32 with a Python number as α
    fixed32 = {k: v.astype(np.float32) for k, v in fixed.items()}
    assert residual.forward(x.astype(np.float32), fixed32, "tanh", alpha=0.4)[0].dtype == np.float32


def test_shapes_of_gradients_and_norms():
    sizes = [3, 6, 6, 6, 6, 2]
    params = make_params(sizes)
    o, cache = residual.forward(np.ones((7, 3)), params, "tanh")
    grads = residual.backward(np.ones_like(o), cache)
    for k, v in params.items():
        assert grads[k].shape == v.shape, k
    assert grads["x"].shape == (7, 3)
    assert all(grads[f"h{l}"].shape == (7, 6) for l in range(1, 5))
    norms = residual.layer_gradient_norms(grads)
    assert norms.shape == (5,) and np.all(norms > 0)
    signals = residual.signal_norms(grads)
    np.testing.assert_allclose(signals, [np.linalg.norm(grads[f"h{l}"]) for l in range(1, 5)])


def test_skips_keep_the_signal_where_a_plain_sigmoid_net_loses_it():
    # the same weights, with and without skips: depth 30, width 32, sigmoid, Xavier
    sizes = [2] + [32] * 29 + [3]
    params = residual.init_params(sizes, "xavier", alpha=1.0, rng=0)
    plain = {k: v for k, v in params.items() if k != "alpha"}
    x = np.random.default_rng(1).standard_normal((16, 2))
    y = np.arange(16) % 3
    o, cache = residual.forward(x, params, "sigmoid")
    g_res = residual.backward(mlp.softmax_cross_entropy(o, y)[1], cache)
    o, cache = mlp.forward(x, plain, "sigmoid")
    g_plain = mlp.backward(mlp.softmax_cross_entropy(o, y)[1], cache)
    # ‖∂L/∂h_1‖ / ‖∂L/∂h_29‖: about 1e-18 without skips (measured), about 1.3 with them
    ratio = lambda g: residual.signal_norms(g)[0] / residual.signal_norms(g)[-1]  # noqa: E731
    assert ratio(g_plain) < 1e-10 and 0.5 < ratio(g_res) < 2, (ratio(g_plain), ratio(g_res))


def test_float32_stays_float32():
    params = {k: v.astype(np.float32) for k, v in make_params([3, 4, 4, 2]).items()}
    x = np.ones((2, 3), dtype=np.float32)
    o, cache = residual.forward(x, params, "tanh")
    grads = residual.backward(np.ones_like(o), cache)
    assert o.dtype == np.float32 and all(grads[k].dtype == np.float32 for k in params)
    J = residual.block_jacobians(x[0], params, "tanh")
    assert J.dtype == np.float32
    assert residual.path_gradients(J, np.ones(4, dtype=np.float32)).dtype == np.float32
    x3, W3, b3 = np.ones((2, 3), np.float32), np.eye(3, dtype=np.float32), np.zeros(3, np.float32)
    y, c = residual.block_forward(x3, W3, b3, 0.5)
    assert y.dtype == np.float32 and residual.block_backward(np.ones_like(y), c)["alpha"].dtype == np.float32


def test_forward_and_backward_leave_their_inputs_unchanged():
    params = make_params([3, 4, 4, 4, 2])
    before = {k: v.copy() for k, v in params.items()}
    x = np.random.default_rng(0).standard_normal((5, 3))
    x_before = x.copy()
    o, cache = residual.forward(x, params, "relu")
    do = np.ones_like(o)
    residual.backward(do, cache)
    residual.block_jacobians(x[0], params, "relu")
    for k in params:
        np.testing.assert_array_equal(params[k], before[k])
    np.testing.assert_array_equal(x, x_before)
    np.testing.assert_array_equal(do, np.ones_like(o))


# --------------------------------------------------------------------------- Jacobians


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu", "identity"])
def test_block_jacobians_match_finite_differences(activation):
    sizes = [3, 5, 5, 5, 5, 2]
    params = make_params(sizes, seed=6)
    x = np.random.default_rng(7).standard_normal(3)
    J = residual.block_jacobians(x, params, activation)
    assert J.shape == (3, 5, 5)
    _, cache = residual.forward(x[None], params, activation)
    f = activations.get(activation).f
    for l in range(2, 5):
        branch = lambda h, l=l: f(params[f"W{l}"] @ h + params[f"b{l}"])  # noqa: E731
        numeric = gradcheck.numerical_jacobian(branch, cache["h"][l - 1][0])
        assert gradcheck.rel_error(J[l - 2], numeric) <= TOL, l


def test_block_jacobians_of_a_net_without_blocks_are_empty():
    J = residual.block_jacobians(np.ones(3), make_params([3, 4, 2]), "tanh")
    assert J.shape == (0, 4, 4)


# --------------------------------------------------------------------------- paths


def brute_force_paths(J, g):
    """Σ over all 2ⁿ subsets of blocks, grouped by size: (J_{a_k} ··· J_{a_1})ᵀ g."""
    n, H = len(J), len(g)
    out = np.zeros((n + 1, H))
    for through in itertools.product([False, True], repeat=n):
        product = np.eye(H)
        for l in range(n):  # block 1 first, later blocks on the left
            if through[l]:
                product = J[l] @ product
        out[sum(through)] += product.T @ g
    return out


@pytest.mark.parametrize("n", range(0, 9))
def test_path_gradients_match_all_two_to_the_n_paths(n):
    H = 3
    rng = np.random.default_rng(n)
    J = rng.standard_normal((n, H, H)) * 0.8
    g = rng.standard_normal(H)
    coeffs = residual.path_gradients(J, g)
    assert coeffs.shape == (n + 1, H)
    expected = brute_force_paths(J, g)
    np.testing.assert_allclose(coeffs, expected, rtol=1e-12, atol=1e-12 * np.abs(expected).max())
    # the rows add up to the full gradient ((I + J_n) ··· (I + J_1))ᵀ g
    full = np.eye(H)
    for J_l in J:
        full = (np.eye(H) + J_l) @ full
    np.testing.assert_allclose(coeffs.sum(axis=0), full.T @ g, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(coeffs[0], g)  # the path through no block: the skips alone


def test_path_gradients_are_binomial_for_scalar_blocks():
    # one unit, every J = c: the paths through k blocks carry C(n, k) c^k g
    n, c, g = 12, -0.6, 2.0
    coeffs = residual.path_gradients(np.full((n, 1, 1), c), np.array([g]))
    np.testing.assert_allclose(coeffs[:, 0], [comb(n, k) * c**k * g for k in range(n + 1)], rtol=1e-12)


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_paths_of_a_real_net_add_up_to_its_backpropagated_gradient(activation):
    sizes = [3] + [6] * 7 + [2]
    params = make_params(sizes, init="he", alpha=0.8, seed=8)
    x = np.random.default_rng(9).standard_normal((1, 3))
    o, cache = residual.forward(x, params, activation)
    grads = residual.backward(np.random.default_rng(10).standard_normal(o.shape), cache)
    J = residual.block_jacobians(x[0], params, activation)
    coeffs = residual.path_gradients(params["alpha"][:, None, None] * J, grads["h7"][0])
    np.testing.assert_allclose(coeffs.sum(axis=0), grads["h1"][0], rtol=1e-10, atol=1e-12)


def test_path_gradients_accept_a_list_and_no_blocks():
    g = np.array([1.0, -2.0])
    np.testing.assert_array_equal(residual.path_gradients([], g), [g])
    J = [np.eye(2), 2 * np.eye(2)]
    np.testing.assert_allclose(residual.path_gradients(J, g), [g, 3 * g, 2 * g])


# --------------------------------------------------------------------------- training helpers


@pytest.mark.parametrize("trained", [True, False])
def test_classifier_loss_is_the_loss_and_its_gradient(trained):
    params = make_params([2, 4, 4, 4, 3], seed=11)
    alpha = None if trained else params.pop("alpha")  # fixed α: out of the parameters
    x = np.random.default_rng(12).standard_normal((5, 2))
    y = np.array([0, 1, 2, 2, 0])
    loss_and_grads = residual.classifier_loss("tanh", alpha=alpha)
    loss, grads = loss_and_grads(params, (x, y))
    assert set(grads) == set(params)  # a gradient for every parameter, nothing else
    o, _ = residual.forward(x, params, "tanh", alpha=alpha)
    assert loss == pytest.approx(mlp.softmax_cross_entropy(o, y)[0])
    for name in grads:
        numeric = gradcheck.numerical_gradient(lambda: loss_and_grads(params, (x, y))[0], params[name])
        assert gradcheck.rel_error(grads[name], numeric) <= TOL, name


def test_mlp_classifier_loss_is_the_plain_nets_loss_and_gradient():
    params = mlp.init_params([2, 5, 5, 3], "xavier", rng=13)
    x = np.random.default_rng(14).standard_normal((6, 2))
    y = np.array([0, 1, 2, 0, 1, 2])
    loss_and_grads = residual.mlp_classifier_loss("sigmoid")
    loss, grads = loss_and_grads(params, (x, y))
    assert set(grads) == set(params)
    for name in grads:
        numeric = gradcheck.numerical_gradient(lambda: loss_and_grads(params, (x, y))[0], params[name])
        assert gradcheck.rel_error(grads[name], numeric) <= TOL, name


def test_classifier_loss_reports_overflow_as_a_non_finite_loss():
    params = residual.init_params([2, 4, 4, 3], "he", scale=1e200, rng=0)
    x = np.full((2, 2), 1e200)
    with np.errstate(over="ignore", invalid="ignore"):
        loss, grads = residual.classifier_loss("relu")(params, (x, np.array([0, 1])))
    assert not np.isfinite(loss) and grads is None


@pytest.mark.parametrize("trained", [True, False])
def test_a_residual_sigmoid_net_trains_through_the_shared_trainer(trained):
    from vanishgrad import optim, train
    sizes = [2] + [16] * 11 + [3]
    params = residual.init_params(sizes, "xavier", alpha=1 / np.sqrt(10), rng=0)
    alpha = None if trained else params.pop("alpha")
    rng = np.random.default_rng(1)
    x = rng.standard_normal((60, 2))
    y = (x[:, 0] > 0).astype(int) + (x[:, 1] > 0)
    history = train.run(residual.classifier_loss("sigmoid", alpha), [(x, y)] * 100, optim.SGD(params, lr=0.1),
                        steps=100)
    assert history.loss[-1] < 0.7 * history.loss[0], history.loss[[0, -1]]
    if trained:
        assert not np.allclose(params["alpha"], 1 / np.sqrt(10))  # α moved with the weights
    else:
        np.testing.assert_array_equal(alpha, np.full(10, 1 / np.sqrt(10)))


# --------------------------------------------------------------------------- bad input


def good():
    return make_params([3, 4, 4, 4, 2]), np.ones((2, 3))


@pytest.mark.parametrize("name, value, message", [
    ("W2", np.zeros((4, 5)),
     r"W2 must have shape \(H, H\) = \(4, 4\): a residual branch keeps the width; got \(4, 5\)"),
    ("W3", np.zeros((5, 5)), r"W3 must have shape \(H, H\) = \(4, 4\)"),
    ("W1", np.zeros((4, 2)), r"W1 must have shape \(H, D\) = \(\?, 3\); got \(4, 2\)"),
    ("W4", np.zeros((2, 3)), r"W4 must have shape \(K, H\) = \(\?, 4\); got \(2, 3\)"),
    ("b2", np.zeros(3), r"b2 must have shape \(H_2,\) = \(4,\); got \(3,\)"),
    ("alpha", np.zeros(3), r"alpha must have shape \(L-2,\) = \(2,\); got \(3,\)"),
    ("alpha", np.array([0.5, np.nan]), r"alpha holds 1 non-finite value"),
    ("W2", np.full((4, 4), np.inf), r"W2 holds 16 non-finite value"),
    ("W2", np.zeros((4, 4), dtype=complex), r"W2 must be real; got a complex array"),
])
def test_bad_parameters_are_refused(name, value, message):
    params, x = good()
    params[name] = value
    with pytest.raises(ValueError, match=message):
        residual.forward(x, params)


def test_bad_network_inputs_are_refused():
    params, x = good()
    with pytest.raises(ValueError, match=r"x must have shape \(B, D\)"):
        residual.forward(np.ones(3), params)
    with pytest.raises(ValueError, match=r"x holds 1 non-finite"):
        residual.forward(np.array([[1.0, np.nan, 0.0]]), params)
    with pytest.raises(ValueError, match=r"x must be a numeric array of real numbers"):
        residual.forward(np.array([["a", "b", "c"]]), params)
    with pytest.raises(ValueError, match="unknown activation 'softsign'"):
        residual.forward(x, params, "softsign")
    plain = {k: v for k, v in params.items() if k != "alpha"}
    with pytest.raises(ValueError, match="params has no 'alpha'.*residual.init_params.*alpha="):
        residual.forward(x, plain)
    with pytest.raises(ValueError, match=r"params holds 'alpha' and fixed scales were passed.*params.pop\('alpha'\)"):
        residual.forward(x, params, alpha=0.5)
    with pytest.raises(ValueError, match=r"alpha must have shape \(L-2,\) = \(2,\); got \(3,\)"):
        residual.forward(x, plain, alpha=np.ones(3))
    with pytest.raises(ValueError, match="alpha, the branch scale, must be a finite real number"):
        residual.forward(x, plain, alpha=np.inf)
    with pytest.raises(ValueError, match="x must have at least one entry along every axis"):
        residual.forward(np.ones((0, 3)), params)
    with pytest.raises(ValueError, match="params must be a dict"):
        residual.forward(x, [1, 2])
    o, cache = residual.forward(x, params)
    with pytest.raises(ValueError, match=r"do must have shape \(B, K\) = \(2, 2\); got \(2, 3\)"):
        residual.backward(np.ones((2, 3)), cache)
    with pytest.raises(ValueError, match="do holds 1 non-finite"):
        residual.backward(np.array([[np.inf, 0.0], [0.0, 0.0]]), cache)
    with pytest.raises(ValueError, match="cache lacks .*residual.forward"):
        residual.backward(np.ones((2, 2)), {"x": 1})


@pytest.mark.parametrize("alpha", [np.nan, np.inf, True, "1", np.ones(2), None, 1j])
def test_bad_branch_scales_are_refused(alpha):
    with pytest.raises(ValueError, match="alpha, the branch scale, must be a finite real number"):
        residual.block_forward(np.ones((2, 3)), np.eye(3), np.zeros(3), alpha=alpha)
    with pytest.raises(ValueError, match="alpha, the branch scale, must be a finite real number"):
        residual.init_params([2, 3, 3, 2], alpha=alpha)


def test_bad_block_inputs_are_refused():
    with pytest.raises(ValueError, match=r"W must have shape \(H, H\) = \(3, 3\): a residual branch keeps the width"):
        residual.block_forward(np.ones((2, 3)), np.ones((4, 3)), np.zeros(4))
    with pytest.raises(ValueError, match=r"x must have shape \(B, H\)"):
        residual.block_forward(np.ones(3), np.eye(3), np.zeros(3))
    with pytest.raises(ValueError, match=r"b must have shape"):
        residual.block_forward(np.ones((2, 3)), np.eye(3), np.zeros(2))
    with pytest.raises(ValueError, match="x holds 1 non-finite"):
        residual.block_forward(np.array([[np.nan, 0, 0]]), np.eye(3), np.zeros(3))
    y, cache = residual.block_forward(np.ones((2, 3)), np.eye(3), np.zeros(3))
    with pytest.raises(ValueError, match=r"dy must have shape \(B, H\) = \(2, 3\); got \(3, 2\)"):
        residual.block_backward(np.ones((3, 2)), cache)
    with pytest.raises(ValueError, match="dy holds 1 non-finite"):
        residual.block_backward(np.array([[np.nan, 0, 0], [0, 0, 0]]), cache)
    with pytest.raises(ValueError, match="cache must be the dict returned by residual.block_forward"):
        residual.block_backward(np.ones((2, 3)), (1, 2))


def test_bad_sizes_are_refused():
    with pytest.raises(ValueError, match=r"the hidden sizes sizes\[1:-1\] must all be equal.*\[4, 5\]"):
        residual.init_params([2, 4, 5, 3])
    with pytest.raises(ValueError, match="at least 3 sizes"):
        residual.init_params([2, 3])
    with pytest.raises(ValueError, match="orthogonal"):
        residual.init_params([2, 3, 3, 2], "orthogonal")


def test_bad_jacobian_and_path_inputs_are_refused():
    params, x = good()
    with pytest.raises(ValueError, match=r"x must be one input of shape \(D,\)"):
        residual.block_jacobians(x, params)
    g = np.ones(3)
    with pytest.raises(ValueError, match=r"jacobians must have shape \(n, H, H\) = \(\?, 3, 3\); got \(2, 3, 4\)"):
        residual.path_gradients(np.zeros((2, 3, 4)), g)
    with pytest.raises(ValueError, match=r"jacobians must have shape \(n, H, H\).*got \(3, 3\)"):
        residual.path_gradients(np.eye(3), g)
    with pytest.raises(ValueError, match=r"grad must be one vector of shape \(H,\)"):
        residual.path_gradients(np.zeros((2, 3, 3)), np.ones((1, 3)))
    with pytest.raises(ValueError, match="jacobians holds 1 non-finite"):
        residual.path_gradients(np.array([[[np.nan]]]), np.ones(1))
    with pytest.raises(ValueError, match="grad holds 1 non-finite"):
        residual.path_gradients(np.zeros((1, 1, 1)), np.array([np.inf]))


def test_bad_batches_are_refused():
    params, x = good()
    with pytest.raises(ValueError, match=r"batch must be a pair \(x, y\)"):
        residual.classifier_loss()(params, x)
    with pytest.raises(ValueError, match=r"batch must be a pair \(x, y\)"):
        residual.mlp_classifier_loss()(params, (x,))
    with pytest.raises(ValueError, match="y must hold class labels in 0"):
        residual.classifier_loss()(params, (x, np.array([0, 5])))
    with pytest.raises(ValueError, match="unknown activation 'softsign'"):
        residual.classifier_loss("softsign")
