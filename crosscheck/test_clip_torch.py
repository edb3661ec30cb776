"""vanishgrad.clip against PyTorch: by_global_norm against torch.nn.utils.clip_grad_norm_ and
by_value against torch.nn.utils.clip_grad_value_, on random dicts of several tensors, in
float64 and float32 (the ``dtype`` fixture), with the norm above, below and exactly at θ,
many tensors, a zero gradient, and NaN and inf passed through (error_if_nonfinite=False
on both sides)."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from vanishgrad import clip  # noqa: E402

SHAPES = {"U": (6, 3), "W": (6, 6), "b": (6,), "V": (2, 6), "c": (2,), "s": (), "T": (2, 3, 4)}


def random_grads(seed, dtype, scale=1.0):
    rng = np.random.default_rng(seed)
    return {k: np.asarray(scale * rng.standard_normal(s), dtype=dtype) for k, s in SHAPES.items()}


def torch_parameters(grads):
    """One torch parameter per gradient, with .grad set to a copy of it."""
    params = []
    for g in grads.values():
        p = torch.nn.Parameter(torch.zeros(g.shape, dtype=torch.from_numpy(g).dtype))
        p.grad = torch.from_numpy(g.copy())
        params.append(p)
    return params


def torch_clip_norm(grads, theta, **kwargs):
    params = torch_parameters(grads)
    norm = torch.nn.utils.clip_grad_norm_(params, theta, **kwargs)
    return {k: p.grad.numpy() for k, p in zip(grads, params)}, norm.numpy()


def torch_clip_value(grads, theta):
    params = torch_parameters(grads)
    torch.nn.utils.clip_grad_value_(params, theta)
    return {k: p.grad.numpy() for k, p in zip(grads, params)}


# --- global-norm clipping --------------------------------------------------------------

@pytest.mark.parametrize("regime", ["above", "below", "at"])
@pytest.mark.parametrize("seed", range(5))
def test_global_norm_clipping_matches_clip_grad_norm_(dtype, regime, seed, compare):
    grads = random_grads(seed, dtype, scale=10.0 ** (seed - 2))  # norms from about 0.1 to 1000
    norm = clip.global_norm(grads)
    theta = {"above": 0.3 * norm, "below": 3.0 * norm, "at": norm}[regime]
    ours, our_norm = clip.by_global_norm(grads, theta)
    theirs, their_norm = torch_clip_norm(grads, theta)
    # our norm is a float64 number; torch's is in the gradients' dtype
    compare(np.asarray(our_norm, dtype=dtype), their_norm, f"norm before clipping, {regime} θ")
    for k in grads:
        compare(ours[k], theirs[k], f"clipped grads[{k!r}], {regime} θ")


def test_a_norm_exactly_at_theta_is_shrunk_by_the_same_factor(dtype, compare):
    grads = {"a": np.array([3.0, 4.0], dtype=dtype), "b": np.zeros((2, 2), dtype=dtype)}  # norm exactly 5
    ours, our_norm = clip.by_global_norm(grads, 5.0)
    theirs, their_norm = torch_clip_norm(grads, 5.0)
    assert our_norm == float(their_norm) == 5.0
    compare(ours["a"], theirs["a"], "a gradient of norm exactly θ")
    assert theirs["a"][0] < 3.0  # PyTorch shrinks at exactly θ too: θ / (θ + 1e-6) < 1
    np.testing.assert_array_equal(ours["b"], theirs["b"])


def test_many_tensors_and_a_zero_gradient(dtype, compare):
    rng = np.random.default_rng(99)
    grads = {f"p{i}": np.asarray(rng.standard_normal(rng.integers(1, 6, size=rng.integers(0, 4))), dtype=dtype)
             for i in range(40)}
    ours, our_norm = clip.by_global_norm(grads, 1.0)
    theirs, their_norm = torch_clip_norm(grads, 1.0)
    compare(np.asarray(our_norm, dtype=dtype), their_norm, "norm of 40 tensors")
    for k in grads:
        compare(ours[k], theirs[k], f"40 tensors, clipped grads[{k!r}]")
    zeros = {k: np.zeros_like(v) for k, v in grads.items()}
    ours, our_norm = clip.by_global_norm(zeros, 1.0)
    theirs, their_norm = torch_clip_norm(zeros, 1.0)
    assert our_norm == float(their_norm) == 0.0
    for k in zeros:
        np.testing.assert_array_equal(ours[k], theirs[k])


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_gradients_passed_through_give_what_pytorch_gives(dtype, bad):
    grads = random_grads(3, dtype)
    grads["W"][2, 3] = bad
    ours, our_norm = clip.by_global_norm(grads, 1.0, error_if_nonfinite=False)
    theirs, their_norm = torch_clip_norm(grads, 1.0, error_if_nonfinite=False)
    np.testing.assert_equal(our_norm, float(their_norm))  # NaN equals NaN here
    for k in grads:
        np.testing.assert_array_equal(ours[k], theirs[k], err_msg=k)
    # by default this library refuses; PyTorch refuses only when asked, with a RuntimeError
    with pytest.raises(ValueError, match=r"grads\['W'\] holds 1"):
        clip.by_global_norm(grads, 1.0)
    with pytest.raises(RuntimeError, match="non-finite"):
        torch_clip_norm(grads, 1.0, error_if_nonfinite=True)


# --- value clipping --------------------------------------------------------------------

@pytest.mark.parametrize("quantile", [0.1, 0.5, 0.9, 1.0])
@pytest.mark.parametrize("seed", range(3))
def test_value_clipping_matches_clip_grad_value_exactly(dtype, quantile, seed, compare):
    grads = random_grads(seed, dtype, scale=5.0)
    everything = np.concatenate([np.abs(g).ravel() for g in grads.values()])
    theta = float(np.quantile(everything, quantile))  # 1.0: θ is the largest |entry|, nothing moves
    ours, _ = clip.by_value(grads, theta)
    theirs = torch_clip_value(grads, theta)
    for k in grads:
        compare(ours[k], theirs[k], f"value-clipped grads[{k!r}]")
        np.testing.assert_array_equal(ours[k], theirs[k], err_msg=k)  # clamping is exact


def test_value_clipping_of_nan_and_inf_passed_through(dtype):
    grads = {"w": np.array([np.nan, np.inf, -np.inf, 0.3, -7.0], dtype=dtype)}
    ours, _ = clip.by_value(grads, 1.0, error_if_nonfinite=False)
    np.testing.assert_array_equal(ours["w"], torch_clip_value(grads, 1.0)["w"])
