"""vanishgrad.gru against torch.nn.GRU: the same weights, the same input, the same outputs
and gradients (every parameter, h_0 and x), in float64 and float32.

The mapping: U = weight_ih_l0, W = weight_hh_l0 (gates r, z, n), and for the biases
b[0:2H] = bias_ih[0:2H] + bias_hh[0:2H], b[2H:3H] = bias_ih[2H:3H], b_hn = bias_hh[2H:3H];
the output layer o_t = V h_t + c is written out in torch. The paper's form (reset="before"),
which PyTorch has no module for, is checked against the same equations written with torch
operations and differentiated by autograd; ‖∂L/∂h_t‖ against torch.nn.GRUCell run step by
step.
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from vanishgrad import gru  # noqa: E402

# (T, B, D, H, K): one step, one sequence, one unit, D ≠ H, and longer sequences
SHAPES = [(1, 1, 1, 1, 1), (1, 3, 2, 4, 2), (5, 1, 3, 1, 2), (7, 2, 3, 5, 2), (20, 4, 6, 8, 3), (60, 3, 5, 16, 4)]


def make_inputs(shape, dtype, rng):
    T, B, D, H, K = shape
    p = gru.init_params(D, H, K, init="pytorch", rng=rng, dtype=dtype)
    return dict(x=rng.standard_normal((T, B, D)).astype(dtype),
                h0=(0.5 * rng.standard_normal((B, H))).astype(dtype), **p)


def leaf(a):
    return torch.from_numpy(np.array(a, copy=True)).requires_grad_(True)


def torch_gru(inputs, split):
    """torch.nn.GRU holding the library's weights; split (2H,) is moved from bias_ih into bias_hh."""
    D, H = inputs["U"].shape[1], inputs["W"].shape[1]
    bias_ih = inputs["b"].copy()
    bias_ih[:2 * H] -= split
    bias_hh = np.concatenate([split, inputs["b_hn"]])
    net = torch.nn.GRU(D, H)
    with torch.no_grad():
        net.weight_ih_l0.copy_(torch.from_numpy(inputs["U"]))
        net.weight_hh_l0.copy_(torch.from_numpy(inputs["W"]))
        net.bias_ih_l0.copy_(torch.from_numpy(bias_ih))
        net.bias_hh_l0.copy_(torch.from_numpy(bias_hh))
    return net


def run_both(inputs, split, rng, extra_last=False):
    """Our forward and backward and torch's, on L = Σ o·do (+ h_T·dh_last)."""
    T, B, D = inputs["x"].shape
    H, K, dtype = inputs["W"].shape[1], inputs["V"].shape[0], inputs["x"].dtype
    do = rng.standard_normal((T, B, K)).astype(dtype)
    dh_last = rng.standard_normal((B, H)).astype(dtype) if extra_last else None
    o, cache = gru.forward(**inputs)
    grads = gru.backward(do, cache, dh_last=dh_last)

    net = torch_gru(inputs, split)
    x, h0, V, c = (leaf(inputs[k]) for k in ("x", "h0", "V", "c"))
    hs, h_T = net(x, h0[None])
    o_t = hs @ V.T + c
    loss = (o_t * torch.from_numpy(do)).sum()
    if extra_last:
        loss = loss + (h_T[0] * torch.from_numpy(dh_last)).sum()
    loss.backward()
    bias_hh = net.bias_hh_l0.grad
    theirs = {"o": o_t, "h": hs, "U": net.weight_ih_l0.grad, "W": net.weight_hh_l0.grad,
              "b": net.bias_ih_l0.grad, "b[:2H] (as bias_hh)": bias_hh[:2 * H], "b_hn": bias_hh[2 * H:],
              "V": V.grad, "c": c.grad, "x": x.grad, "h0": h0.grad}
    ours = {**grads, "o": o, "h": cache["h"], "b[:2H] (as bias_hh)": grads["b"][:2 * H]}
    return ours, theirs


@pytest.mark.parametrize("shape", SHAPES, ids=[str(s) for s in SHAPES])
@pytest.mark.parametrize("split", ["bias_ih", "random"])
def test_outputs_and_every_gradient_match_torch(shape, split, dtype, rng, compare):
    """split "bias_ih": b goes into bias_ih, bias_hh holds zeros for r and z and b_hn for n;
    "random": b[0:2H] = bias_ih + bias_hh with bias_hh random."""
    inputs = make_inputs(shape, dtype, rng)
    H = shape[3]
    s = np.zeros(2 * H, dtype) if split == "bias_ih" else rng.standard_normal(2 * H).astype(dtype)
    ours, theirs = run_both(inputs, s, rng)
    for name in theirs:
        compare(ours[name], theirs[name], f"{name} at {shape}")


@pytest.mark.parametrize("shape", [(1, 2, 3, 4, 2), (6, 3, 2, 5, 3)], ids=str)
def test_a_gradient_into_the_last_state_matches_torch(shape, dtype, rng, compare):
    inputs = make_inputs(shape, dtype, rng)
    ours, theirs = run_both(inputs, np.zeros(2 * shape[3], dtype), rng, extra_last=True)
    for name in theirs:
        compare(ours[name], theirs[name], f"{name} with dh_last at {shape}")


def test_torchs_own_initialisation_maps_onto_the_library_biases(dtype, rng, compare):
    T, B, D, H, K = 9, 3, 4, 6, 2
    net = torch.nn.GRU(D, H)
    bias_ih, bias_hh = (t.detach().numpy() for t in (net.bias_ih_l0, net.bias_hh_l0))
    b = bias_ih.copy()
    b[:2 * H] += bias_hh[:2 * H]
    inputs = dict(x=rng.standard_normal((T, B, D)).astype(dtype), h0=np.zeros((B, H), dtype),
                  U=net.weight_ih_l0.detach().numpy().copy(), W=net.weight_hh_l0.detach().numpy().copy(),
                  b=b, b_hn=bias_hh[2 * H:].copy(), V=rng.standard_normal((K, H)).astype(dtype),
                  c=np.zeros(K, dtype))
    ours, theirs = run_both(inputs, bias_hh[:2 * H].copy(), rng)
    for name in theirs:
        compare(ours[name], theirs[name], f"{name}, torch's initialisation")


def torch_gru_by_hand(x, h0, U, W, b, b_hn, reset):
    """The GRU's equations in torch operations, for autograd: both forms of the reset."""
    H = W.shape[1]
    h, hs = h0, []
    for x_t in x:
        a = x_t @ U.T + b
        r = torch.sigmoid(a[:, :H] + h @ W[:H].T)
        z = torch.sigmoid(a[:, H:2 * H] + h @ W[H:2 * H].T)
        if reset == "after":
            n = torch.tanh(a[:, 2 * H:] + r * (h @ W[2 * H:].T + b_hn))
        else:
            n = torch.tanh(a[:, 2 * H:] + (r * h) @ W[2 * H:].T + b_hn)
        h = (1 - z) * n + z * h
        hs.append(h)
    return torch.stack(hs)


@pytest.mark.parametrize("reset", ["after", "before"])
@pytest.mark.parametrize("shape", [(1, 1, 1, 1, 1), (5, 1, 3, 1, 2), (8, 3, 4, 6, 2)], ids=str)
def test_both_forms_of_the_reset_match_autograd(reset, shape, dtype, rng, compare):
    T, B, D, H, K = shape
    inputs = make_inputs(shape, dtype, rng)
    do = rng.standard_normal((T, B, K)).astype(dtype)
    o, cache = gru.forward(**inputs, reset=reset)
    grads = gru.backward(do, cache)
    t = {k: leaf(v) for k, v in inputs.items()}
    hs = torch_gru_by_hand(t["x"], t["h0"], t["U"], t["W"], t["b"], t["b_hn"], reset)
    o_t = hs @ t["V"].T + t["c"]
    (o_t * torch.from_numpy(do)).sum().backward()
    compare(o, o_t, f"o, reset={reset} at {shape}")
    for name in inputs:
        compare(grads[name], t[name].grad, f"{name}, reset={reset} at {shape}")


def test_the_two_forms_differ_on_the_same_weights(rng):
    """Not a tolerance check: the forms are different functions of the same parameters."""
    inputs = make_inputs((10, 4, 3, 8, 2), np.float64, rng)
    o_after, _ = gru.forward(**inputs, reset="after")
    o_before, _ = gru.forward(**inputs, reset="before")
    assert np.max(np.abs(o_after - o_before)) > 1e-3


@pytest.mark.parametrize("shape", [(1, 1, 2, 3, 1), (12, 3, 4, 5, 2)], ids=str)
def test_dh_norms_match_grucell_step_by_step(shape, dtype, rng, compare):
    T, B, D, H, K = shape
    inputs = make_inputs(shape, dtype, rng)
    do = rng.standard_normal((T, B, K)).astype(dtype)
    _, cache = gru.forward(**inputs)
    grads = gru.backward(do, cache)

    cell = torch.nn.GRUCell(D, H)
    with torch.no_grad():
        cell.weight_ih.copy_(torch.from_numpy(inputs["U"]))
        cell.weight_hh.copy_(torch.from_numpy(inputs["W"]))
        cell.bias_ih.copy_(torch.from_numpy(inputs["b"]))
        cell.bias_hh.copy_(torch.from_numpy(np.concatenate([np.zeros(2 * H, dtype), inputs["b_hn"]])))
    x, h = torch.from_numpy(inputs["x"]), torch.from_numpy(inputs["h0"])
    hs = []
    for t in range(T):
        h = cell(x[t], h)
        h.retain_grad()
        hs.append(h)
    o = torch.stack(hs) @ torch.from_numpy(inputs["V"]).T + torch.from_numpy(inputs["c"])
    (o * torch.from_numpy(do)).sum().backward()
    compare(grads["dh_norms"], torch.stack([h.grad.norm() for h in hs]), f"dh_norms at {shape}")
