"""vanishgrad.mlp against torch autograd: the same layers written with torch operations, the
same outputs, every weight and bias gradient, ∂L/∂x and the backward signals ∂L/∂h_l and
∂L/∂net_l, for sigmoid, tanh and relu, in float64 and float32; and the softmax
cross-entropy against torch.nn.functional.cross_entropy.
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from vanishgrad import mlp  # noqa: E402

ACTIVATIONS = {"sigmoid": "sigmoid", "tanh": "tanh", "relu": "relu"}
# layer sizes [D, H_1, ..., K]: a single linear layer, single units, and a deep net
SIZES = [[3, 2], [1, 1, 1], [4, 6, 5, 3], [7, 10, 10, 10, 10, 10, 10, 2]]


def leaf(a):
    return torch.from_numpy(np.array(a, copy=True)).requires_grad_(True)


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("sizes", SIZES, ids=str)
@pytest.mark.parametrize("B", [1, 5])
def test_outputs_gradients_and_backward_signals_match_autograd(activation, sizes, B, dtype, rng, compare):
    params = mlp.init_params(sizes, rng=rng, dtype=dtype)
    for l in range(1, len(sizes)):
        params[f"b{l}"] = (0.2 * rng.standard_normal(sizes[l])).astype(dtype)
    x = rng.standard_normal((B, sizes[0])).astype(dtype)
    do = rng.standard_normal((B, sizes[-1])).astype(dtype)
    o, cache = mlp.forward(x, params, activation=activation)
    grads = mlp.backward(do, cache)

    f = getattr(torch, ACTIVATIONS[activation])
    t = {k: leaf(v) for k, v in params.items()}
    xt = leaf(x)
    L = len(sizes) - 1
    h, signals = xt, {}
    for l in range(1, L + 1):
        net = h @ t[f"W{l}"].T + t[f"b{l}"]
        net.retain_grad()
        signals[f"net{l}"] = net
        if l < L:
            h = f(net)
            h.retain_grad()
            signals[f"h{l}"] = h
    (net * torch.from_numpy(do)).sum().backward()

    where = f"{activation} {sizes} B={B}"
    compare(o, net, f"o, {where}")
    compare(grads["x"], xt.grad, f"x, {where}")
    for k in params:
        compare(grads[k], t[k].grad, f"{k}, {where}")
    for k, tensor in signals.items():
        compare(grads[k], tensor.grad, f"∂L/∂{k}, {where}")


@pytest.mark.parametrize("B, K", [(1, 2), (6, 4), (3, 10)])
def test_softmax_cross_entropy_matches_torch(B, K, dtype, rng, compare):
    o = (3.0 * rng.standard_normal((B, K))).astype(dtype)
    y = rng.integers(0, K, B)
    loss, do = mlp.softmax_cross_entropy(o, y)
    ot = leaf(o)
    lt = torch.nn.functional.cross_entropy(ot, torch.from_numpy(y))
    lt.backward()
    compare(np.asarray(loss, dtype=dtype), lt, f"loss, B={B} K={K}")
    compare(do, ot.grad, f"do, B={B} K={K}")
