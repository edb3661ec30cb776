"""The train module: the rnn loss-and-gradients helper (gradient-checked), what run records,
clipping flags, divergence (an error naming the step, or a record), batch sources,
evaluation, the progress line, determinism, and bad arguments."""

import io

import numpy as np
import pytest

from vanishgrad import clip, gradcheck, losses, optim, rnn, train


def rnn_problem(T=6, B=3, D=2, H=5, K=1, scale=1.5, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    params = rnn.init_params(D, H, K, scale=scale, rng=rng, dtype=dtype)
    params["b"] = (0.2 * rng.standard_normal(H)).astype(dtype)
    x = rng.standard_normal((T, B, D))
    y = rng.standard_normal((B, K))
    return params, (x, y)


def quadratic_loss(params, batch):
    """L = ½‖w − target‖², whose gradient is w − target; batch is the target."""
    diff = params["w"] - batch
    return 0.5 * float(diff @ diff), {"w": diff}


# --- the rnn helper --------------------------------------------------------------------

@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu"])
@pytest.mark.parametrize("shape", [(1, 1, 1, 1, 1), (4, 1, 3, 1, 2), (5, 3, 2, 4, 1), (3, 2, 4, 2, 3)],
                         ids=str)
def test_rnn_mse_last_gradients_match_central_differences(activation, shape):
    T, B, D, H, K = shape
    params, batch = rnn_problem(T, B, D, H, K, seed=sum(shape))
    loss_and_grads = train.rnn_mse_last(activation)
    loss, grads = loss_and_grads(params, batch)
    assert set(grads) == set(rnn.PARAMS)
    for name in rnn.PARAMS:
        numeric = gradcheck.numerical_gradient(lambda: loss_and_grads(params, batch)[0], params[name])
        error = gradcheck.rel_error(grads[name], numeric)
        assert error <= 1e-7, (activation, shape, name, error)


def test_rnn_mse_last_is_forward_loss_and_backward_with_a_zero_initial_state():
    params, (x, y) = rnn_problem()
    loss, grads = train.rnn_mse_last(truncate=2)(params, (x, y))
    o, cache = rnn.forward(x, np.zeros((3, 5)), **params)
    o_last = o[-1]
    assert loss == pytest.approx(0.5 * np.sum((o_last - y) ** 2) / 3, rel=1e-14)
    do = np.zeros_like(o)
    do[-1] = (o_last - y) / 3
    expected = rnn.backward(do, cache, truncate=2)
    for name in rnn.PARAMS:
        np.testing.assert_allclose(grads[name], expected[name], rtol=1e-13, atol=1e-15)


def test_rnn_mse_last_computes_in_the_dtype_of_the_parameters():
    params, batch = rnn_problem(dtype=np.float32)
    loss, grads = train.rnn_mse_last()(params, batch)
    assert all(g.dtype == np.float32 for g in grads.values())


def test_rnn_mse_last_reports_an_output_overflow_as_the_loss():
    params, (x, y) = rnn_problem(T=40, scale=1.0)
    params["W"] = 1e10 * np.eye(5)  # relu with a gain of 1e10 per step: 1e400 overflows
    params["U"] = np.abs(params["U"]) + 1.0
    with np.errstate(over="ignore", invalid="ignore"):
        loss, grads = train.rnn_mse_last("relu")(params, (np.abs(x), y))
    assert loss == np.inf or np.isnan(loss)
    assert grads is None


def test_rnn_mse_last_refuses_bad_arguments():
    with pytest.raises(ValueError, match="unknown activation"):
        train.rnn_mse_last("softsign")
    params, (x, y) = rnn_problem()
    f = train.rnn_mse_last()
    with pytest.raises(ValueError, match=r"batch must be a pair \(x, y\)"):
        f(params, x)
    with pytest.raises(ValueError, match=r"x must have shape \(T, B, D\)"):
        f(params, (x[0], y))
    with pytest.raises(ValueError, match=r"params has no 'V', 'c'"):
        f({k: params[k] for k in ("U", "W", "b")}, (x, y))


# --- what run records ------------------------------------------------------------------

def test_run_records_loss_and_norm_before_each_update_and_matches_a_hand_loop():
    params, batch = rnn_problem()
    reference = {k: v.copy() for k, v in params.items()}
    f = train.rnn_mse_last()
    history = train.run(f, lambda step: batch, optim.SGD(params, lr=0.05, momentum=0.5), 20)
    assert history.steps == 20 and history.diverged_at is None and history.message is None
    assert history.loss.shape == history.grad_norm.shape == history.clipped.shape == (20,)
    assert not history.clipped.any() and history.clipped_fraction == 0.0

    opt = optim.SGD(reference, lr=0.05, momentum=0.5)
    for step in range(20):
        loss, grads = f(reference, batch)
        assert history.loss[step] == loss
        assert history.grad_norm[step] == clip.global_norm(grads)
        opt.step(grads)
    for name in rnn.PARAMS:
        np.testing.assert_array_equal(params[name], reference[name])
    assert history.loss[-1] < history.loss[0]


def test_only_the_parameters_gradients_are_used_extra_entries_are_ignored():
    params, (x, y) = rnn_problem()

    def full_backward(params, batch):
        o, cache = rnn.forward(x, np.zeros((3, 5)), **params)
        loss, do = losses.mse_last(o, y)
        return loss, rnn.backward(do, cache)  # also "x", "h0" and "dh_norms"

    history = train.run(full_backward, None, optim.SGD(params, lr=0.01), 1)
    _, grads = train.rnn_mse_last()(rnn_problem()[0], (x, y))
    assert history.grad_norm[0] == pytest.approx(clip.global_norm(grads), rel=1e-14)


def test_a_run_is_deterministic_given_the_seeds():
    def one_run(seed):
        params, _ = rnn_problem(seed=1)
        rng = np.random.default_rng(seed)
        batches = lambda step: (rng.standard_normal((6, 3, 2)), rng.standard_normal((3, 1)))
        history = train.run(train.rnn_mse_last(), batches, optim.Adam(params, lr=0.01), 15,
                            clip=("global_norm", 0.5))
        return history, params

    (h1, p1), (h2, p2), (h3, _) = one_run(7), one_run(7), one_run(8)
    np.testing.assert_array_equal(h1.loss, h2.loss)
    np.testing.assert_array_equal(h1.grad_norm, h2.grad_norm)
    np.testing.assert_array_equal(h1.clipped, h2.clipped)
    for name in p1:
        np.testing.assert_array_equal(p1[name], p2[name])
    assert not np.array_equal(h1.loss, h3.loss)


def test_float32_training_stays_float32():
    params, batch = rnn_problem(dtype=np.float32)
    opt = optim.Adam(params, lr=0.01)
    history = train.run(train.rnn_mse_last(), lambda step: batch, opt, 5, clip=("global_norm", 1.0))
    assert all(p.dtype == np.float32 for p in params.values())
    assert all(m.dtype == np.float32 for m in opt.m.values())
    assert history.steps == 5


# --- clipping --------------------------------------------------------------------------

def test_the_clipping_flags_follow_the_rule_and_the_norm_is_recorded_before_clipping():
    params, batch = rnn_problem(scale=3.0)
    theta = 0.5
    history = train.run(train.rnn_mse_last(), lambda step: batch, optim.SGD(params, lr=0.02), 30,
                        clip=("global_norm", theta))
    # global-norm clipping changes the gradient exactly when θ / (‖g‖ + 1e-6) < 1
    np.testing.assert_array_equal(history.clipped, history.grad_norm + 1e-6 > theta)
    assert history.clipped.any() and not history.clipped.all()
    assert history.clipped_fraction == pytest.approx(np.mean(history.grad_norm + 1e-6 > theta))
    assert history.grad_norm.max() > theta  # the recorded norm is the one before clipping


@pytest.mark.parametrize("clip_rule, expected", [
    (("global_norm", 1e-9), True), (("global_norm", 1e9), False),
    (("tensor_norm", 1e-9), True), (("tensor_norm", 1e9), False),
    (("value", 1e-9), True), (("value", 1e9), False),
    (None, False),
])
def test_the_clipping_flags_for_each_variant_at_extreme_thresholds(clip_rule, expected):
    params, batch = rnn_problem()
    history = train.run(train.rnn_mse_last(), lambda step: batch, optim.SGD(params, lr=0.01), 5, clip=clip_rule)
    assert history.clipped.tolist() == [expected] * 5


def test_clipping_bounds_the_step_that_the_optimiser_takes():
    params, batch = rnn_problem(scale=3.0)
    before = {k: v.copy() for k, v in params.items()}
    lr, theta = 0.5, 0.01
    train.run(train.rnn_mse_last(), lambda step: batch, optim.SGD(params, lr=lr), 1, clip=("global_norm", theta))
    step = {k: params[k] - before[k] for k in params}
    assert clip.global_norm(step) <= lr * theta * (1 + 1e-12)


def test_a_callable_clipping_rule_is_used_and_may_return_a_dict_or_a_tuple():
    seen = []

    def halve(grads):
        seen.append(set(grads))
        return {k: g / 2 for k, g in grads.items()}

    params = {"w": np.array([4.0])}
    history = train.run(quadratic_loss, lambda step: np.array([0.0]), optim.SGD(params, lr=1.0), 1, clip=halve)
    assert seen == [{"w"}] and history.clipped.tolist() == [True]
    assert params["w"][0] == pytest.approx(2.0)

    params = {"w": np.array([4.0])}
    rule = lambda grads: clip.by_value(grads, 1.0)  # returns (clipped, norm)
    train.run(quadratic_loss, lambda step: np.array([0.0]), optim.SGD(params, lr=1.0), 1, clip=rule)
    assert params["w"][0] == pytest.approx(3.0)


# --- divergence ------------------------------------------------------------------------

def diverging_at(bad_step, what):
    """A quadratic loss whose loss (or gradient) turns non-finite at ``bad_step``."""
    def loss_and_grads(params, step):
        loss, grads = quadratic_loss(params, np.zeros(2))
        if step == bad_step:
            if what == "loss":
                return np.nan, None
            grads["w"] = grads["w"].copy()
            grads["w"][1] = np.inf
        return loss, grads
    return loss_and_grads


def test_a_nan_loss_raises_an_error_naming_the_step_and_carrying_the_record():
    params = {"w": np.array([1.0, 2.0])}
    with pytest.raises(train.DivergenceError, match=r"training diverged at step 3 \(counting from 0\): the loss is nan") as info:
        train.run(diverging_at(3, "loss"), lambda step: step, optim.SGD(params, lr=0.1), 10)
    assert isinstance(info.value, FloatingPointError)
    assert info.value.step == 3
    history = info.value.history
    assert history.steps == 4 and history.diverged_at == 3
    assert np.all(np.isfinite(history.loss[:3])) and np.isnan(history.loss[3])
    # three updates were made, none at the bad step
    np.testing.assert_allclose(params["w"], np.array([1.0, 2.0]) * 0.9 ** 3, rtol=1e-15)


def test_a_non_finite_gradient_raises_naming_the_step_and_the_tensor():
    params = {"w": np.array([1.0, 2.0])}
    with pytest.raises(train.DivergenceError,
                       match=r"at step 5 \(counting from 0\): the gradient norm is inf: grads\['w'\] holds 1 inf"):
        train.run(diverging_at(5, "grads"), lambda step: step, optim.Adam(params), 10)


def test_an_update_that_overflows_the_parameters_is_caught_at_its_step():
    params = {"w": np.array([1e300, 1.0])}
    with pytest.raises(train.DivergenceError, match=r"at step 0 .*the update made params\['w'\] non-finite"):
        # w − lr·w with lr = −… is not allowed, so overflow through a huge gradient instead
        train.run(lambda p, b: (1.0, {"w": np.array([-1e300, 0.0])}), None, optim.SGD(params, lr=1e10), 3)


def test_record_mode_stops_and_returns_the_record_without_raising():
    params = {"w": np.array([1.0, 2.0])}
    history = train.run(diverging_at(2, "grads"), lambda step: step, optim.SGD(params, lr=0.1), 10,
                        on_nonfinite="record")
    assert history.steps == 3 and history.diverged_at == 2
    assert "step 2" in history.message and "grads['w'] holds 1 inf" in history.message
    assert history.grad_norm[2] == np.inf and np.isfinite(history.loss[2])
    assert "diverged at step 2" in repr(history)


def test_an_exploding_rnn_trained_without_clipping_diverges_and_with_clipping_does_not():
    def go(clip_rule):
        params, batch = rnn_problem(scale=2.0)
        return train.run(train.rnn_mse_last("relu"), lambda step: batch, optim.SGD(params, lr=1e3), 30,
                         clip=clip_rule, on_nonfinite="record")

    plain, clipped = go(None), go(("global_norm", 1e-3))
    assert plain.diverged_at is not None and plain.steps < 30
    assert clipped.diverged_at is None and clipped.steps == 30


# --- batches, evaluation, progress -----------------------------------------------------

def test_batches_can_be_a_list_an_iterator_a_callable_or_none():
    targets = [np.array([1.0, 0.0]), np.array([0.0, 1.0]), np.array([2.0, 2.0])]
    for batches in (targets, iter(targets), lambda step: targets[step]):
        params = {"w": np.zeros(2)}
        history = train.run(quadratic_loss, batches, optim.SGD(params, lr=1.0), 3)
        np.testing.assert_array_equal(params["w"], targets[2])  # lr 1 jumps to each target
        assert history.loss.tolist() == [0.5, 1.0, 2.5]
    seen = []
    train.run(lambda p, b: (seen.append(b) or 0.0, {"w": np.zeros(2)}), None, optim.SGD({"w": np.zeros(2)}, lr=1.0), 2)
    assert seen == [None, None]


def test_running_out_of_batches_is_an_error():
    with pytest.raises(ValueError, match=r"batches ran out after 2 batch\(es\), but steps=5"):
        train.run(quadratic_loss, [np.zeros(2)] * 2, optim.SGD({"w": np.zeros(2)}, lr=0.1), 5)


def test_a_single_batch_given_as_a_tuple_or_array_is_refused():
    for batches in ((np.zeros(2), np.zeros(2)), np.zeros((3, 2))):
        with pytest.raises(ValueError, match="to use one batch at every step, pass lambda step: batch"):
            train.run(quadratic_loss, batches, optim.SGD({"w": np.zeros(2)}, lr=0.1), 2)


def test_evaluation_every_k_updates():
    params = {"w": np.array([4.0])}
    target = np.array([0.0])
    history = train.run(quadratic_loss, lambda step: target, optim.SGD(params, lr=0.5), 7,
                        evaluate=lambda p: float(p["w"][0]), eval_every=3)
    assert history.eval_steps.tolist() == [3, 6]
    assert history.evals == [4.0 * 0.5 ** 3, 4.0 * 0.5 ** 6]  # w after 3 and after 6 updates
    # loss[s] is measured after s updates, on the same axis
    assert history.loss[3] == pytest.approx(0.5 * history.evals[0] ** 2)


def test_progress_is_off_by_default_and_writes_one_rewritten_line_when_asked(capsys):
    train.run(quadratic_loss, lambda s: np.zeros(1), optim.SGD({"w": np.ones(1)}, lr=0.1), 5)
    assert capsys.readouterr().out == ""
    stream = io.StringIO()
    train.run(quadratic_loss, lambda s: np.zeros(1), optim.SGD({"w": np.ones(1)}, lr=0.1), 5,
              clip=("global_norm", 0.85), progress=stream)
    text = stream.getvalue()
    assert text.count("\r") == 5 and text.endswith("\n") and "\n" not in text[:-1]
    assert "step 5/5" in text and "clipped 40%" in text
    train.run(quadratic_loss, lambda s: np.zeros(1), optim.SGD({"w": np.ones(1)}, lr=0.1), 200, progress=True)
    out = capsys.readouterr().out
    assert out.count("\r") == 50 and "step 200/200" in out


# --- bad arguments ---------------------------------------------------------------------

def good_args():
    return quadratic_loss, lambda step: np.zeros(2), optim.SGD({"w": np.ones(2)}, lr=0.1)


@pytest.mark.parametrize("steps", [0, -3, 2.0, True, "10", None])
def test_steps_must_be_a_positive_integer(steps):
    with pytest.raises(ValueError, match="steps must be a positive integer"):
        train.run(*good_args(), steps)


@pytest.mark.parametrize("clip_rule, message", [
    (("bogus", 1.0), "unknown clipping variant 'bogus'; choose one of global_norm, tensor_norm, value"),
    (("global_norm", 0.0), "the clipping threshold theta must be a finite number > 0"),
    (("value", -1.0), "the clipping threshold theta must be a finite number > 0"),
    (("global_norm", np.inf), "pass clip=None to train without clipping"),
    (1.0, r"clip must be None, a pair \(variant, theta\)"),
    (("global_norm", 1.0, 2.0), r"clip must be None, a pair \(variant, theta\)"),
])
def test_bad_clipping_rules_are_refused(clip_rule, message):
    with pytest.raises(ValueError, match=message):
        train.run(*good_args(), 3, clip=clip_rule)


def test_other_bad_arguments_are_refused():
    f, batches, opt = good_args()
    with pytest.raises(TypeError, match="loss_and_grads must be a callable"):
        train.run(None, batches, opt, 3)
    with pytest.raises(ValueError, match="optimizer must be an optimiser from vanishgrad.optim"):
        train.run(f, batches, {"w": np.ones(2)}, 3)
    with pytest.raises(ValueError, match="pass evaluate and eval_every together"):
        train.run(f, batches, opt, 3, evaluate=lambda p: 0.0)
    with pytest.raises(ValueError, match="eval_every must be a positive integer"):
        train.run(f, batches, opt, 3, evaluate=lambda p: 0.0, eval_every=0)
    with pytest.raises(TypeError, match="evaluate must be a callable"):
        train.run(f, batches, opt, 3, evaluate=1.0, eval_every=1)
    with pytest.raises(ValueError, match="unknown on_nonfinite 'ignore'; choose one of raise, record"):
        train.run(f, batches, opt, 3, on_nonfinite="ignore")
    with pytest.raises(ValueError, match="progress must be True, False or a writable text stream"):
        train.run(f, batches, opt, 3, progress="yes")
    with pytest.raises(ValueError, match="batches must be a callable step -> batch"):
        train.run(f, 5, opt, 3)
    assert opt.t == 0  # nothing ran


def test_bad_returns_from_loss_and_grads_name_the_step():
    opt = optim.SGD({"w": np.ones(2)}, lr=0.1)
    with pytest.raises(ValueError, match=r"loss_and_grads must return a pair \(loss, grads\); at step 0"):
        train.run(lambda p, b: 1.0, None, opt, 2)
    with pytest.raises(ValueError, match="must return a number as the loss; at step 0"):
        train.run(lambda p, b: ("high", {"w": np.ones(2)}), None, opt, 2)
    with pytest.raises(ValueError, match=r"at step 0, loss_and_grads returned no gradient for the parameter\(s\) 'w'"):
        train.run(lambda p, b: (1.0, {"v": np.ones(2)}), None, opt, 2)
    with pytest.raises(ValueError, match="must return a dict of gradients; at step 0"):
        train.run(lambda p, b: (1.0, [np.ones(2)]), None, opt, 2)
    with pytest.raises(ValueError, match="the clipping rule must return a dict of gradients"):
        train.run(quadratic_loss, lambda s: np.zeros(2), opt, 2, clip=lambda g: 1.0)
