"""vanishgrad.rnn against torch.nn.RNN: the same weights, the same input, the same outputs
and gradients (every parameter, h_0 and x), in float64 and float32, for the two
nonlinearities torch.nn.RNN has, tanh and relu.

The mapping: U = weight_ih_l0, W = weight_hh_l0, b = bias_ih_l0 + bias_hh_l0, and the
output layer o_t = V h_t + c written out in torch. Truncated BPTT is checked against torch
run chunk by chunk with the state detached between chunks; ‖∂L/∂h_t‖ against
torch.nn.RNNCell run step by step.
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from vanishgrad import rnn  # noqa: E402

NONLINEARITIES = ["tanh", "relu"]
# (T, B, D, H, K): one step, one sequence, one unit, D ≠ H, and longer sequences
SHAPES = [(1, 1, 1, 1, 1), (1, 3, 2, 4, 2), (5, 1, 3, 1, 2), (7, 2, 3, 5, 2), (20, 4, 6, 8, 3), (60, 3, 5, 16, 4)]


def make_inputs(shape, dtype, rng, scale=0.9):
    T, B, D, H, K = shape
    p = rnn.init_params(D, H, K, scale=scale, rng=rng, dtype=dtype)
    p["b"] = (0.3 * rng.standard_normal(H)).astype(dtype)
    p["c"] = (0.3 * rng.standard_normal(K)).astype(dtype)
    return dict(x=rng.standard_normal((T, B, D)).astype(dtype),
                h0=(0.5 * rng.standard_normal((B, H))).astype(dtype), **p)


def leaf(a):
    return torch.from_numpy(np.array(a, copy=True)).requires_grad_(True)


def torch_rnn(inputs, nonlinearity, bias_hh):
    D, H = inputs["U"].shape[1], inputs["W"].shape[0]
    net = torch.nn.RNN(D, H, nonlinearity=nonlinearity)
    with torch.no_grad():
        net.weight_ih_l0.copy_(torch.from_numpy(inputs["U"]))
        net.weight_hh_l0.copy_(torch.from_numpy(inputs["W"]))
        net.bias_ih_l0.copy_(torch.from_numpy(inputs["b"] - bias_hh))
        net.bias_hh_l0.copy_(torch.from_numpy(bias_hh))
    return net


@pytest.mark.parametrize("nonlinearity", NONLINEARITIES)
@pytest.mark.parametrize("shape", SHAPES, ids=[str(s) for s in SHAPES])
@pytest.mark.parametrize("split", ["bias_ih", "random"])
def test_outputs_and_every_gradient_match_torch(nonlinearity, shape, split, dtype, rng, compare):
    """split "bias_ih": b goes into bias_ih and bias_hh is zero; "random": b = bias_ih + bias_hh."""
    T, B, D, H, K = shape
    inputs = make_inputs(shape, dtype, rng)
    do = rng.standard_normal((T, B, K)).astype(dtype)
    dh_last = rng.standard_normal((B, H)).astype(dtype)
    o, cache = rnn.forward(**inputs, activation=nonlinearity)
    grads = rnn.backward(do, cache, dh_last=dh_last)

    bias_hh = np.zeros(H, dtype) if split == "bias_ih" else rng.standard_normal(H).astype(dtype)
    net = torch_rnn(inputs, nonlinearity, bias_hh)
    x, h0, V, c = (leaf(inputs[k]) for k in ("x", "h0", "V", "c"))
    hs, h_T = net(x, h0[None])
    o_t = hs @ V.T + c
    ((o_t * torch.from_numpy(do)).sum() + (h_T[0] * torch.from_numpy(dh_last)).sum()).backward()
    theirs = {"o": o_t, "h": hs, "U": net.weight_ih_l0.grad, "W": net.weight_hh_l0.grad,
              "b": net.bias_ih_l0.grad, "b (as bias_hh)": net.bias_hh_l0.grad,
              "V": V.grad, "c": c.grad, "x": x.grad, "h0": h0.grad}
    ours = {**grads, "o": o, "h": cache["h"], "b (as bias_hh)": grads["b"]}
    for name in theirs:
        compare(ours[name], theirs[name], f"{name}, {nonlinearity} at {shape}")


@pytest.mark.parametrize("k", [1, 3, 4])
def test_truncated_bptt_matches_torch_with_the_state_detached_between_chunks(k, dtype, rng, compare):
    """BPTT(k): chunks of k steps counted back from the end; no gradient crosses a cut."""
    T, B, D, H, K = 10, 3, 2, 5, 2
    inputs = make_inputs((T, B, D, H, K), dtype, rng)
    do = rng.standard_normal((T, B, K)).astype(dtype)
    _, cache = rnn.forward(**inputs)
    grads = rnn.backward(do, cache, truncate=k)

    net = torch_rnn(inputs, "tanh", np.zeros(H, dtype))
    x, h0, V, c = (leaf(inputs[k_]) for k_ in ("x", "h0", "V", "c"))
    cuts = sorted({0, *range(T, 0, -k)})
    h, outs = h0[None], []
    for start, end in zip(cuts[:-1], cuts[1:]):
        hs, h = net(x[start:end], h if start == 0 else h.detach())
        outs.append(hs)
    o_t = torch.cat(outs) @ V.T + c
    (o_t * torch.from_numpy(do)).sum().backward()
    theirs = {"U": net.weight_ih_l0.grad, "W": net.weight_hh_l0.grad, "b": net.bias_ih_l0.grad,
              "V": V.grad, "c": c.grad, "x": x.grad, "h0": h0.grad}
    for name in theirs:
        compare(grads[name], theirs[name], f"{name}, truncate={k}")


@pytest.mark.parametrize("nonlinearity", NONLINEARITIES)
@pytest.mark.parametrize("shape", [(1, 1, 2, 3, 1), (12, 3, 4, 5, 2)], ids=str)
def test_dh_norms_match_rnncell_step_by_step(nonlinearity, shape, dtype, rng, compare):
    T, B, D, H, K = shape
    inputs = make_inputs(shape, dtype, rng)
    do = rng.standard_normal((T, B, K)).astype(dtype)
    _, cache = rnn.forward(**inputs, activation=nonlinearity)
    grads = rnn.backward(do, cache)

    cell = torch.nn.RNNCell(D, H, nonlinearity=nonlinearity)
    with torch.no_grad():
        cell.weight_ih.copy_(torch.from_numpy(inputs["U"]))
        cell.weight_hh.copy_(torch.from_numpy(inputs["W"]))
        cell.bias_ih.copy_(torch.from_numpy(inputs["b"]))
        cell.bias_hh.zero_()
    x, h = torch.from_numpy(inputs["x"]), torch.from_numpy(inputs["h0"])
    hs = []
    for t in range(T):
        h = cell(x[t], h)
        h.retain_grad()
        hs.append(h)
    o = torch.stack(hs) @ torch.from_numpy(inputs["V"]).T + torch.from_numpy(inputs["c"])
    (o * torch.from_numpy(do)).sum().backward()
    compare(grads["dh_norms"], torch.stack([h.grad.norm() for h in hs]), f"dh_norms, {nonlinearity} at {shape}")
