"""vanishgrad.lstm against torch.nn.LSTM: the same weights, the same input, the same outputs
and gradients (every parameter, h_0, c_0 and x), in float64 and float32.

The mapping: U = weight_ih_l0, W = weight_hh_l0 (both with the gates i, f, g, o stacked
in that order, as in the library), b = bias_ih_l0 + bias_hh_l0, and the output layer
out_t = V h_t + b_V written out in torch. ∂L/∂b is then the gradient of each of torch's
two biases. The norms ‖∂L/∂h_t‖ and ‖∂L/∂c_t‖ are checked against torch.nn.LSTMCell run
step by step, where autograd gives ∂L/∂h_t and ∂L/∂c_t for every t.
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from vanishgrad import lstm  # noqa: E402

# (T, B, D, H, K): one step, one sequence, one unit, D ≠ H, and longer sequences
SHAPES = [(1, 1, 1, 1, 1), (1, 3, 2, 4, 2), (5, 1, 3, 1, 2), (7, 2, 3, 5, 2), (20, 4, 6, 8, 3), (60, 3, 5, 16, 4)]


def make_inputs(shape, dtype, rng):
    T, B, D, H, K = shape
    p = lstm.init_params(D, H, K, rng=rng, dtype=dtype)
    p["b"] += (0.3 * rng.standard_normal(4 * H)).astype(dtype)
    p["b_V"] = (0.3 * rng.standard_normal(K)).astype(dtype)
    return dict(x=rng.standard_normal((T, B, D)).astype(dtype),
                h0=(0.5 * rng.standard_normal((B, H))).astype(dtype),
                c0=(0.5 * rng.standard_normal((B, H))).astype(dtype), **p)


def leaf(a):
    return torch.from_numpy(np.array(a, copy=True)).requires_grad_(True)


def torch_lstm(inputs, bias_hh):
    """torch.nn.LSTM holding the library's weights, with b split as b − bias_hh and bias_hh."""
    D, H = inputs["U"].shape[1], inputs["W"].shape[1]
    net = torch.nn.LSTM(D, H)
    with torch.no_grad():
        net.weight_ih_l0.copy_(torch.from_numpy(inputs["U"]))
        net.weight_hh_l0.copy_(torch.from_numpy(inputs["W"]))
        net.bias_ih_l0.copy_(torch.from_numpy(inputs["b"] - bias_hh))
        net.bias_hh_l0.copy_(torch.from_numpy(bias_hh))
    return net


def run_both(inputs, bias_hh, rng, extra_last=False):
    """Our forward and backward and torch's, on L = Σ out·dout (+ h_T·dh_last + c_T·dc_last)."""
    T, B, D = inputs["x"].shape
    H, K, dtype = inputs["W"].shape[1], inputs["V"].shape[0], inputs["x"].dtype
    dout = rng.standard_normal((T, B, K)).astype(dtype)
    dh_last = rng.standard_normal((B, H)).astype(dtype) if extra_last else None
    dc_last = rng.standard_normal((B, H)).astype(dtype) if extra_last else None
    out, cache = lstm.forward(**inputs)
    grads = lstm.backward(dout, cache, dh_last=dh_last, dc_last=dc_last)

    net = torch_lstm(inputs, bias_hh)
    x, h0, c0, V, b_V = (leaf(inputs[k]) for k in ("x", "h0", "c0", "V", "b_V"))
    hs, (h_T, c_T) = net(x, (h0[None], c0[None]))
    out_t = hs @ V.T + b_V
    loss = (out_t * torch.from_numpy(dout)).sum()
    if extra_last:
        loss = loss + (h_T[0] * torch.from_numpy(dh_last)).sum() + (c_T[0] * torch.from_numpy(dc_last)).sum()
    loss.backward()
    theirs = {"out": out_t, "U": net.weight_ih_l0.grad, "W": net.weight_hh_l0.grad,
              "b": net.bias_ih_l0.grad, "b (as bias_hh)": net.bias_hh_l0.grad,
              "V": V.grad, "b_V": b_V.grad, "x": x.grad, "h0": h0.grad, "c0": c0.grad}
    ours = {**grads, "out": out, "b (as bias_hh)": grads["b"]}
    return ours, theirs, cache, (hs, h_T, c_T)


@pytest.mark.parametrize("shape", SHAPES, ids=[str(s) for s in SHAPES])
@pytest.mark.parametrize("split", ["bias_ih", "random"])
def test_outputs_and_every_gradient_match_torch(shape, split, dtype, rng, compare):
    """split "bias_ih": b goes into bias_ih and bias_hh is zero; "random": b = bias_ih + bias_hh
    with bias_hh random."""
    inputs = make_inputs(shape, dtype, rng)
    H = shape[3]
    bias_hh = np.zeros(4 * H, dtype) if split == "bias_ih" else rng.standard_normal(4 * H).astype(dtype)
    ours, theirs, cache, (hs, h_T, c_T) = run_both(inputs, bias_hh, rng)
    for name in theirs:
        compare(ours[name], theirs[name], f"{name} at {shape}")
    compare(cache["h"], hs, f"h at {shape}")
    compare(cache["c"][-1], c_T[0], f"c_T at {shape}")


@pytest.mark.parametrize("shape", [(1, 2, 3, 4, 2), (6, 3, 2, 5, 3)], ids=str)
def test_gradients_into_the_last_states_match_torch(shape, dtype, rng, compare):
    inputs = make_inputs(shape, dtype, rng)
    ours, theirs, _, _ = run_both(inputs, np.zeros(4 * shape[3], dtype), rng, extra_last=True)
    for name in theirs:
        compare(ours[name], theirs[name], f"{name} with dh_last, dc_last at {shape}")


def test_torchs_own_initialisation_maps_onto_one_bias_per_gate(dtype, rng, compare):
    """torch.nn.LSTM as PyTorch initialises it; the library gets b = bias_ih + bias_hh."""
    T, B, D, H, K = 9, 3, 4, 6, 2
    net = torch.nn.LSTM(D, H)
    p = {"U": net.weight_ih_l0, "W": net.weight_hh_l0, "b": net.bias_ih_l0 + net.bias_hh_l0}
    p = {k: v.detach().numpy().copy() for k, v in p.items()}
    inputs = dict(x=rng.standard_normal((T, B, D)).astype(dtype), h0=np.zeros((B, H), dtype),
                  c0=np.zeros((B, H), dtype), V=rng.standard_normal((K, H)).astype(dtype),
                  b_V=np.zeros(K, dtype), **p)
    ours, theirs, _, _ = run_both(inputs, net.bias_hh_l0.detach().numpy().copy(), rng)
    for name in theirs:
        compare(ours[name], theirs[name], f"{name}, torch's initialisation")


@pytest.mark.parametrize("shape", [(1, 1, 2, 3, 1), (12, 3, 4, 5, 2)], ids=str)
def test_dh_norms_and_dc_norms_match_lstmcell_step_by_step(shape, dtype, rng, compare):
    T, B, D, H, K = shape
    inputs = make_inputs(shape, dtype, rng)
    dout = rng.standard_normal((T, B, K)).astype(dtype)
    _, cache = lstm.forward(**inputs)
    grads = lstm.backward(dout, cache)

    cell = torch.nn.LSTMCell(D, H)
    with torch.no_grad():
        cell.weight_ih.copy_(torch.from_numpy(inputs["U"]))
        cell.weight_hh.copy_(torch.from_numpy(inputs["W"]))
        cell.bias_ih.copy_(torch.from_numpy(inputs["b"]))
        cell.bias_hh.zero_()
    x = torch.from_numpy(inputs["x"])
    h, c = torch.from_numpy(inputs["h0"]), torch.from_numpy(inputs["c0"])
    hs, cs = [], []
    for t in range(T):
        h, c = cell(x[t], (h, c))
        h.retain_grad()
        c.retain_grad()
        hs.append(h)
        cs.append(c)
    out = torch.stack(hs) @ torch.from_numpy(inputs["V"]).T + torch.from_numpy(inputs["b_V"])
    (out * torch.from_numpy(dout)).sum().backward()
    compare(grads["dh_norms"], torch.stack([h.grad.norm() for h in hs]), f"dh_norms at {shape}")
    compare(grads["dc_norms"], torch.stack([c.grad.norm() for c in cs]), f"dc_norms at {shape}")
