"""The clip module: the exact semantics of global-norm, per-tensor and value clipping (a
zero gradient, a gradient exactly at θ, many tensors, float32, NaN and inf both ways), what
each does to the direction, which entries are clipped, and bad input."""

import warnings

import numpy as np
import pytest

from vanishgrad import clip, rnn

CLIPS = [clip.by_global_norm, clip.by_tensor_norm, clip.by_value]


def random_grads(seed=0, scale=1.0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    shapes = {"U": (4, 3), "W": (4, 4), "b": (4,), "V": (2, 4), "c": (2,)}
    return {k: (scale * rng.standard_normal(s)).astype(dtype) for k, s in shapes.items()}


def concatenated(grads):
    return np.concatenate([np.ravel(g) for g in grads.values()]).astype(np.float64)


# --- global-norm clipping --------------------------------------------------------------

@pytest.mark.parametrize("scale", [0.01, 1.0, 100.0])
def test_global_norm_is_the_norm_of_all_tensors_concatenated_and_is_returned_before_clipping(scale):
    g = random_grads(seed=1, scale=scale)
    clipped, norm = clip.by_global_norm(g, 0.5)
    expected = np.linalg.norm(concatenated(g))
    assert isinstance(norm, float)
    assert norm == pytest.approx(expected, rel=1e-14)
    assert clip.global_norm(g) == norm


def test_above_the_threshold_every_entry_gets_the_same_factor_theta_over_norm_plus_1e_6():
    g = random_grads(seed=2, scale=10.0)
    theta = 1.0
    clipped, norm = clip.by_global_norm(g, theta)
    factor = theta / (norm + 1e-6)
    for k in g:
        np.testing.assert_array_equal(clipped[k], g[k] * factor)
    # the clipped norm is θ·‖g‖/(‖g‖ + 1e-6): just under θ
    assert clip.global_norm(clipped) == pytest.approx(theta * norm / (norm + 1e-6), rel=1e-14)
    assert clip.global_norm(clipped) <= theta


def test_global_norm_clipping_keeps_the_direction_exactly_cosine_one():
    g = random_grads(seed=3, scale=50.0)
    clipped, norm = clip.by_global_norm(g, 0.1)
    assert norm > 0.1
    assert clip.cosine(g, clipped) == pytest.approx(1.0, abs=1e-15)
    # every tensor keeps its share of the norm
    before = clip.tensor_norms(g)
    after = clip.tensor_norms(clipped)
    for k in g:
        assert after[k] / clip.global_norm(clipped) == pytest.approx(before[k] / norm, rel=1e-13)


def test_below_the_threshold_the_gradient_is_unchanged_but_copied():
    g = random_grads(seed=4, scale=0.01)
    norm = clip.global_norm(g)
    clipped, returned = clip.by_global_norm(g, norm + 1e-6)  # factor exactly 1 from here up
    assert returned == norm
    for k in g:
        np.testing.assert_array_equal(clipped[k], g[k])
        assert not np.shares_memory(clipped[k], g[k])


def test_a_gradient_exactly_at_theta_is_shrunk_by_theta_over_theta_plus_1e_6_as_in_pytorch():
    g = {"w": np.array([3.0, 4.0])}  # norm exactly 5
    clipped, norm = clip.by_global_norm(g, 5.0)
    assert norm == 5.0
    np.testing.assert_array_equal(clipped["w"], g["w"] * (5.0 / (5.0 + 1e-6)))
    assert clipped["w"][0] < 3.0
    # within 1e-6 below the norm, the factor is still below 1
    clipped, _ = clip.by_global_norm(g, 5.0 + 5e-7)
    assert clipped["w"][0] < 3.0


def test_at_theta_the_other_two_clippings_leave_the_gradient_unchanged():
    g = {"w": np.array([3.0, 4.0]), "b": np.array([-2.0, 2.0])}
    clipped, _ = clip.by_tensor_norm(g, 5.0)  # ‖g_w‖ = 5 exactly: Keras's θ / max(‖g_w‖, θ) = 1
    np.testing.assert_array_equal(clipped["w"], g["w"])
    clipped, _ = clip.by_value(g, 2.0)  # |entries| equal to θ stay
    np.testing.assert_array_equal(clipped["b"], g["b"])
    np.testing.assert_array_equal(clipped["w"], [2.0, 2.0])


@pytest.mark.parametrize("fn", CLIPS, ids=lambda f: f.__name__)
def test_a_zero_gradient_gives_a_zero_norm_and_stays_zero_without_warnings(fn):
    g = {"W": np.zeros((3, 3)), "b": np.zeros(3), "s": np.zeros(())}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clipped, norm = fn(g, 1.0)
    assert norm == 0.0
    for k in g:
        np.testing.assert_array_equal(clipped[k], g[k])
        assert clipped[k].shape == g[k].shape


@pytest.mark.parametrize("fn", CLIPS, ids=lambda f: f.__name__)
def test_an_empty_dict_has_norm_zero(fn):
    assert fn({}, 1.0) == ({}, 0.0)


def test_many_tensors_of_every_shape_share_one_factor():
    rng = np.random.default_rng(5)
    shapes = [(), (0,), (1,), (7,), (3, 5), (2, 3, 4), (1, 1, 1, 1)] * 8
    g = {f"p{i}": 3.0 * rng.standard_normal(s) for i, s in enumerate(shapes)}
    clipped, norm = clip.by_global_norm(g, 2.0)
    assert norm == pytest.approx(np.linalg.norm(concatenated(g)), rel=1e-14)
    factor = 2.0 / (norm + 1e-6)
    for k in g:
        assert clipped[k].shape == g[k].shape
        np.testing.assert_array_equal(clipped[k], g[k] * factor)
    assert clip.global_norm(clipped) == pytest.approx(2.0, rel=1e-6)


# --- per-tensor and value clipping ----------------------------------------------------

def test_per_tensor_clipping_bounds_each_tensor_and_changes_their_relative_sizes():
    g = {"W": np.full((2, 2), 5.0), "b": np.array([0.06, 0.08])}  # ‖g_W‖ = 10, ‖g_b‖ = 0.1
    clipped, norm = clip.by_tensor_norm(g, 1.0)
    assert norm == pytest.approx(np.sqrt(100 + 0.01), rel=1e-15)
    norms = clip.tensor_norms(clipped)
    assert norms["W"] == pytest.approx(1.0, rel=1e-15)
    np.testing.assert_array_equal(clipped["b"], g["b"])  # within θ: untouched
    np.testing.assert_allclose(clipped["W"], g["W"] / 10.0, rtol=1e-15)
    # the ratio ‖g_W‖/‖g_b‖ was 100, now it is 10: the whole gradient turns
    assert norms["W"] / norms["b"] == pytest.approx(10.0, rel=1e-12)
    assert clip.cosine(g, clipped) < 0.9999


def test_per_tensor_clipping_of_a_single_tensor_is_global_clipping_up_to_the_1e_6():
    g = {"W": 7.0 * np.random.default_rng(6).standard_normal((4, 4))}
    by_tensor, n1 = clip.by_tensor_norm(g, 1.0)
    by_global, n2 = clip.by_global_norm(g, 1.0)
    assert n1 == n2
    np.testing.assert_allclose(by_tensor["W"], by_global["W"], rtol=2e-6 / n1 + 1e-15)


def test_value_clipping_clamps_entries_and_changes_the_direction():
    g = {"w": np.array([10.0, 0.1, -3.0])}
    clipped, norm = clip.by_value(g, 1.0)
    np.testing.assert_array_equal(clipped["w"], [1.0, 0.1, -1.0])
    assert norm == pytest.approx(np.linalg.norm(g["w"]), rel=1e-15)
    expected_cos = (10 * 1 + 0.1 * 0.1 + 3 * 1) / (np.linalg.norm(g["w"]) * np.linalg.norm([1, 0.1, 1]))
    assert clip.cosine(g, clipped) == pytest.approx(expected_cos, rel=1e-14)
    assert expected_cos < 0.9


def test_value_clipping_can_turn_the_gradient_by_more_than_45_degrees():
    # one large coordinate and ten small ones: after clipping all eleven are equal
    g = {"w": np.array([1000.0] + [1.0] * 10)}
    clipped, _ = clip.by_value(g, 1.0)
    angle = np.degrees(np.arccos(clip.cosine(g, clipped)))
    assert angle > 45, angle


def test_the_inputs_are_never_modified_and_the_outputs_are_new_arrays():
    for fn in CLIPS:
        g = random_grads(seed=7, scale=10.0)
        before = {k: v.copy() for k, v in g.items()}
        clipped, _ = fn(g, 0.5)
        for k in g:
            np.testing.assert_array_equal(g[k], before[k])
            assert not np.shares_memory(clipped[k], g[k])


# --- float32, integers, overflow -------------------------------------------------------

@pytest.mark.parametrize("fn", CLIPS, ids=lambda f: f.__name__)
def test_float32_stays_float32_and_agrees_with_float64(fn):
    g32 = random_grads(seed=8, scale=10.0, dtype=np.float32)
    g64 = {k: v.astype(np.float64) for k, v in g32.items()}
    c32, n32 = fn(g32, 1.0)
    c64, n64 = fn(g64, 1.0)
    assert n32 == pytest.approx(n64, rel=1e-12)  # the norm is accumulated in float64
    for k in g32:
        assert c32[k].dtype == np.float32, k
        np.testing.assert_allclose(c32[k], c64[k], rtol=1e-6, atol=1e-7)


def test_a_mixed_dict_keeps_each_dtype_and_integers_become_float64():
    g = {"a": np.ones(3, dtype=np.float32), "b": np.ones(2), "n": np.array([3, 4])}
    clipped, norm = clip.by_global_norm(g, 1.0)
    assert norm == pytest.approx(np.sqrt(3 + 2 + 25))
    assert [clipped[k].dtype for k in "abn"] == [np.float32, np.float64, np.float64]


@pytest.mark.parametrize("dtype, big", [(np.float64, 1e200), (np.float32, 1e30)])
def test_a_finite_gradient_whose_sum_of_squares_overflows_has_a_finite_norm(dtype, big):
    g = {"w": np.array([big, big], dtype=dtype), "b": np.array([big], dtype=dtype)}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clipped, norm = clip.by_global_norm(g, 1.0)
    assert norm == pytest.approx(np.sqrt(3.0) * float(np.array(big, dtype=dtype)), rel=1e-6)
    assert clip.global_norm(clipped) == pytest.approx(1.0, rel=1e-6)
    assert clip.cosine(g, clipped) == pytest.approx(1.0, abs=1e-6)


def test_a_tiny_gradient_whose_squares_underflow_keeps_its_norm_and_direction():
    g = {"w": np.array([3e-300, 4e-300]), "b": np.array([0.0])}
    assert clip.global_norm(g) == pytest.approx(5e-300, rel=1e-15)
    assert clip.tensor_norms(g) == {"w": pytest.approx(5e-300, rel=1e-15), "b": 0.0}
    assert clip.cosine(g, {"w": np.array([3e-300, 0.0]), "b": np.array([0.0])}) == pytest.approx(0.6, rel=1e-15)
    clipped, _ = clip.by_global_norm(g, 1.0)
    np.testing.assert_array_equal(clipped["w"], g["w"])


def test_cosine_of_huge_gradients_does_not_overflow():
    g = {"w": np.array([1e200, 1e200]), "b": np.array([-1e200])}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert clip.cosine(g, g) == pytest.approx(1.0, abs=1e-15)


# --- NaN and inf -----------------------------------------------------------------------

@pytest.mark.parametrize("fn", CLIPS, ids=lambda f: f.__name__)
def test_a_non_finite_gradient_raises_by_default_naming_the_tensors(fn):
    g = random_grads(seed=9)
    g["W"][0, 0] = np.nan
    g["W"][1, 1] = np.nan
    g["c"][0] = -np.inf
    with pytest.raises(ValueError, match=r"the gradient norm is nan.*grads\['W'\] holds 2 NaN; grads\['c'\] holds 1 inf"):
        fn(g, 1.0)
    g = random_grads(seed=9)
    g["b"][2] = np.inf
    with pytest.raises(ValueError, match=r"the gradient norm is inf.*grads\['b'\] holds 1 inf.*error_if_nonfinite=False"):
        fn(g, 1.0)


def test_passing_a_nan_norm_through_makes_every_entry_nan_as_pytorch_does():
    g = random_grads(seed=10)
    g["W"][0, 0] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clipped, norm = clip.by_global_norm(g, 1.0, error_if_nonfinite=False)
    assert np.isnan(norm)
    assert all(np.all(np.isnan(v)) for v in clipped.values())


def test_passing_an_inf_norm_through_zeroes_finite_entries_and_makes_inf_nan():
    g = random_grads(seed=11)
    g["W"][0, 0] = np.inf
    clipped, norm = clip.by_global_norm(g, 1.0, error_if_nonfinite=False)
    assert norm == np.inf
    assert np.isnan(clipped["W"][0, 0])
    finite = np.ones_like(g["W"], dtype=bool)
    finite[0, 0] = False
    assert np.all(clipped["W"][finite] == 0) and all(np.all(clipped[k] == 0) for k in "UbVc")


def test_passing_through_per_tensor_touches_only_the_bad_tensor():
    g = random_grads(seed=12, scale=10.0)
    g["b"][0] = np.inf
    clipped, norm = clip.by_tensor_norm(g, 1.0, error_if_nonfinite=False)
    assert norm == np.inf
    assert np.isnan(clipped["b"][0]) and np.all(clipped["b"][1:] == 0)
    assert clip.tensor_norms(clipped, keys=["U", "W", "V", "c"]) == pytest.approx(
        {k: min(1.0, n) for k, n in clip.tensor_norms(g, keys=["U", "W", "V", "c"]).items()}, rel=1e-12)


def test_passing_through_value_clipping_maps_inf_to_theta_and_keeps_nan():
    g = {"w": np.array([np.inf, -np.inf, np.nan, 0.5])}
    clipped, norm = clip.by_value(g, 2.0, error_if_nonfinite=False)
    assert np.isnan(norm)
    np.testing.assert_array_equal(clipped["w"], [2.0, -2.0, np.nan, 0.5])


# --- which entries, and bad input ------------------------------------------------------

def make_rnn_grads():
    rng = np.random.default_rng(13)
    p = rnn.init_params(3, 4, 2, scale=2.0, rng=rng)
    x, h0 = rng.standard_normal((5, 2, 3)), np.zeros((2, 4))
    o, cache = rnn.forward(x, h0, **p)
    return rnn.backward(np.ones_like(o), cache)


def test_a_backward_dict_with_diagnostics_is_refused_unless_keys_name_the_gradients():
    grads = make_rnn_grads()
    with pytest.raises(ValueError, match=r"grads\['dh_norms'\] is not a gradient.*keys=rnn.PARAMS"):
        clip.by_global_norm(grads, 1.0)
    with pytest.raises(ValueError, match="dh_norms"):
        clip.global_norm(grads)
    clipped, norm = clip.by_global_norm(grads, 1.0, keys=rnn.PARAMS)
    assert list(clipped) == list(rnn.PARAMS)  # exactly the named entries, in that order
    assert norm == pytest.approx(np.linalg.norm(concatenated({k: grads[k] for k in rnn.PARAMS})), rel=1e-14)
    assert clip.global_norm(grads, keys=rnn.PARAMS) == norm


def test_keys_must_be_names_that_grads_holds():
    g = random_grads()
    with pytest.raises(ValueError, match=r"keys names 'h0', which grads does not hold; grads holds 'U', 'W'"):
        clip.by_value(g, 1.0, keys=["W", "h0"])
    with pytest.raises(ValueError, match="keys must be a list of gradient names"):
        clip.by_value(g, 1.0, keys="W")
    with pytest.raises(ValueError, match="keys must be a list of gradient names"):
        clip.by_value(g, 1.0, keys=3)


@pytest.mark.parametrize("fn", CLIPS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("theta", [0, -1.0, np.nan, np.inf, -np.inf, "1", None, True, [1.0]])
def test_theta_must_be_a_positive_finite_number(fn, theta):
    with pytest.raises(ValueError, match=r"theta must be a finite number > 0"):
        fn(random_grads(), theta)


@pytest.mark.parametrize("fn", CLIPS, ids=lambda f: f.__name__)
def test_bad_gradients_and_flags_are_refused(fn):
    with pytest.raises(ValueError, match="grads must be a dict of named gradients"):
        fn([np.ones(3)], 1.0)
    with pytest.raises(ValueError, match=r"grads\['w'\] must be an array of real numbers; got dtype complex128"):
        fn({"w": np.ones(3, dtype=complex)}, 1.0)
    with pytest.raises(ValueError, match=r"grads\['w'\] must be an array of real numbers"):
        fn({"w": "abc"}, 1.0)
    with pytest.raises(ValueError, match="error_if_nonfinite must be True or False"):
        fn({"w": np.ones(3)}, 1.0, error_if_nonfinite="no")


def test_cosine_refuses_mismatched_and_zero_gradients():
    a = {"w": np.ones(3)}
    with pytest.raises(ValueError, match="a and b must hold the same gradients"):
        clip.cosine(a, {"v": np.ones(3)})
    with pytest.raises(ValueError, match=r"a\['w'\] and b\['w'\] must have the same shape"):
        clip.cosine(a, {"w": np.ones(4)})
    with pytest.raises(ValueError, match="zero gradient"):
        clip.cosine(a, {"w": np.zeros(3)})
    assert clip.cosine(a, {"w": -2 * np.ones(3)}) == -1.0


def test_variants_map_names_to_the_functions():
    assert clip.VARIANTS == {"global_norm": clip.by_global_norm, "tensor_norm": clip.by_tensor_norm,
                             "value": clip.by_value}
    assert clip.EPS == 1e-6
