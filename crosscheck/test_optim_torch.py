"""vanishgrad.optim against PyTorch: Adam against torch.optim.Adam and SGD (with and without
momentum) against torch.optim.SGD, step by step on the same gradients, in float64 and
float32 (the ``dtype`` fixture)."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from vanishgrad import optim  # noqa: E402

SHAPES = {"U": (5, 3), "W": (5, 5), "b": (5,), "V": (2, 5), "c": (2,), "s": ()}
STEPS = 25


def twin_parameters(seed, dtype):
    """The same random parameters as a numpy dict and as a list of torch parameters."""
    rng = np.random.default_rng(seed)
    ours = {k: np.asarray(rng.standard_normal(s), dtype=dtype) for k, s in SHAPES.items()}
    theirs = [torch.nn.Parameter(torch.from_numpy(v.copy())) for v in ours.values()]
    return ours, theirs


def gradient_sequence(seed, dtype):
    """STEPS random gradients, their sizes spread over six orders of magnitude, some zero."""
    rng = np.random.default_rng(seed + 1000)
    for step in range(STEPS):
        scale = 10.0 ** rng.uniform(-3, 3)
        grads = {k: np.asarray(scale * rng.standard_normal(s), dtype=dtype) for k, s in SHAPES.items()}
        if step % 7 == 3:
            grads["b"][:] = 0.0
        yield grads


def step_both(opt, torch_opt, seed, dtype, compare, label):
    """Feed both optimisers the same gradients; after every step the parameters must agree."""
    theirs = torch_opt.param_groups[0]["params"]
    for step, grads in enumerate(gradient_sequence(seed, dtype)):
        opt.step(grads)
        for p, g in zip(theirs, grads.values()):
            p.grad = torch.from_numpy(g.copy())
        torch_opt.step()
        for (k, ours), p in zip(opt.params.items(), theirs):
            compare(ours, p, f"{label}: params[{k!r}] after step {step}")


@pytest.mark.parametrize("hyper", [
    {},
    {"lr": 0.05, "betas": (0.8, 0.99), "eps": 1e-6},
    {"lr": 1e-4, "betas": (0.0, 0.5), "eps": 1e-10},
], ids=["defaults", "custom", "beta1-zero"])
@pytest.mark.parametrize("seed", range(2))
def test_adam_matches_torch_optim_adam_step_by_step(dtype, hyper, seed, compare):
    ours, theirs = twin_parameters(seed, dtype)
    opt = optim.Adam(ours, **hyper)
    step_both(opt, torch.optim.Adam(theirs, **hyper), seed, dtype, compare, f"Adam {hyper or 'defaults'}")
    assert opt.t == STEPS


@pytest.mark.parametrize("lr, momentum", [(0.01, 0.0), (0.01, 0.9), (0.3, 0.5)])
@pytest.mark.parametrize("seed", range(2))
def test_sgd_matches_torch_optim_sgd_step_by_step(dtype, lr, momentum, seed, compare):
    ours, theirs = twin_parameters(seed, dtype)
    opt = optim.SGD(ours, lr=lr, momentum=momentum)
    step_both(opt, torch.optim.SGD(theirs, lr=lr, momentum=momentum), seed, dtype, compare,
              f"SGD lr={lr} momentum={momentum}")
