"""The experiments module: the copy task's loss and every model's loss and gradients
(gradient-checked), the IRNN's initialisation, the split of ∂L/∂W by step, a run's record
(solved, budget, divergence, determinism), the H&S stopping rule, the command line, and
the committed full grid, one cell of which is re-run and must reproduce."""

import json
import math

import numpy as np
import pytest

from vanishgrad import experiments as ex
from vanishgrad import gradcheck, gru, lstm, rnn, tasks

SHAPES = [(1, 1, 1), (3, 2, 4), (5, 1, 3)]  # (T, B, H): a single step, a batch, a batch of one


def batch_of(task, T, B, seed):
    """A batch of the task at the small sizes of the gradient checks."""
    if task == "copy":
        return tasks.copy_task(T, B, rng=seed, n_symbols=2, alphabet=3)
    if task == "adding_hochreiter":
        return tasks.adding_hochreiter(11, B, rng=seed)
    return tasks.adding(max(T, 2), B, rng=seed)


def params_for(model, task, H, seed):
    """Initial parameters for a batch of :func:`batch_of`, with every bias nonzero."""
    D, K = (5, 4) if task == "copy" else (2, 1)
    rng = np.random.default_rng(seed)
    params = ex.init_params(model, D, H, K, rng=rng)
    for name in params:
        if params[name].ndim == 1:
            params[name] = params[name] + 0.3 * rng.standard_normal(params[name].shape)
    if model == "irnn":  # keep the ReLU's units away from the kink, where differences are one-sided
        params["b"] = params["b"] + 1.0
    return params


# --- the copy task's loss ---------------------------------------------------------------

def test_cross_entropy_of_uniform_logits_is_log_k_and_its_gradient_matches_central_differences():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 5, (4, 3))
    loss, do = ex.cross_entropy(np.zeros((4, 3, 5)), y)
    assert loss == pytest.approx(math.log(5), rel=1e-14)
    o = 3.0 * rng.standard_normal((4, 3, 5))
    loss, do = ex.cross_entropy(o, y)
    numeric = gradcheck.numerical_gradient(lambda: ex.cross_entropy(o, y)[0], o)
    assert gradcheck.rel_error(do, numeric) < 1e-8
    # the mean over steps and sequences of −log p(target)
    p = np.exp(o) / np.exp(o).sum(axis=2, keepdims=True)
    assert loss == pytest.approx(-np.mean(np.log(np.take_along_axis(p, y[:, :, None], axis=2))), rel=1e-12)


def test_cross_entropy_does_not_overflow_on_large_logits():
    o = np.array([[[1000.0, 0.0, -1000.0]]])
    loss, do = ex.cross_entropy(o, np.array([[0]]))
    assert loss == 0.0 and np.all(np.isfinite(do))
    loss, _ = ex.cross_entropy(o, np.array([[2]]))
    assert loss == pytest.approx(2000.0)


def test_cross_entropy_keeps_float32():
    loss, do = ex.cross_entropy(np.zeros((2, 2, 3), dtype=np.float32), np.zeros((2, 2), dtype=int))
    assert do.dtype == np.float32


@pytest.mark.parametrize("o, y, message", [
    (np.zeros((2, 3)), np.zeros((2,), dtype=int), "shape (T, B, K)"),
    (np.zeros((2, 3, 4)), np.zeros((2, 2), dtype=int), "y must have shape (T, B) = (2, 3)"),
    (np.zeros((2, 3, 4)), np.zeros((2, 3)), "integer class ids"),
    (np.zeros((2, 3, 4)), np.full((2, 3), 4), "class ids in 0 … K − 1 = 3"),
    (np.full((2, 3, 4), np.nan), np.zeros((2, 3), dtype=int), "non-finite"),
], ids=["2-d o", "y shape", "float y", "class out of range", "nan"])
def test_cross_entropy_refuses_bad_input(o, y, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        ex.cross_entropy(o, y)


# --- the models' losses and gradients -----------------------------------------------------

@pytest.mark.parametrize("task", ex.TASKS)
@pytest.mark.parametrize("model", ex.MODELS)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_loss_and_grads_match_central_differences(model, task, shape):
    T, B, H = shape
    batch = batch_of(task, T, B, seed=sum(shape))
    params = params_for(model, task, H, seed=sum(shape) + 1)
    compute = ex.loss_and_grads(model, task)
    loss, grads = compute(params, batch)
    assert set(grads) == set(params)
    for name, value in params.items():
        numeric = gradcheck.numerical_gradient(lambda: compute(params, batch)[0], value)
        error = gradcheck.rel_error(grads[name], numeric)
        assert error <= 1e-7, (model, task, shape, name, error)


@pytest.mark.parametrize("model", ex.MODELS)
def test_the_loss_is_the_tasks_loss_on_the_models_outputs(model):
    x, y = tasks.adding(6, 3, rng=0)
    params = ex.init_params(model, 2, 4, 1, rng=1)
    loss, _ = ex.loss_and_grads(model, "adding")(params, (x, y))
    o, _ = ex.forward(model, params, x)
    assert loss == pytest.approx(0.5 * np.mean((o[-1] - y) ** 2), rel=1e-13)
    x, y = tasks.copy_task(3, 2, rng=0)
    params = ex.init_params(model, 10, 4, 9, rng=1)
    loss, _ = ex.loss_and_grads(model, "copy")(params, (x, y))
    assert loss == pytest.approx(ex.cross_entropy(ex.forward(model, params, x)[0], y)[0], rel=1e-13)


def test_the_forward_passes_are_the_library_modules_from_a_zero_state():
    x, _ = tasks.adding(5, 2, rng=0)
    zeros = np.zeros((2, 3))
    p = ex.init_params("rnn", 2, 3, 1, rng=0)
    np.testing.assert_array_equal(ex.forward("rnn", p, x)[0], rnn.forward(x, zeros, **p, activation="tanh")[0])
    np.testing.assert_array_equal(ex.forward("irnn", p, x)[0], rnn.forward(x, zeros, **p, activation="relu")[0])
    p = ex.init_params("lstm", 2, 3, 1, rng=0)
    np.testing.assert_array_equal(ex.forward("lstm", p, x)[0], lstm.forward(x, zeros, zeros, **p)[0])
    p = ex.init_params("gru", 2, 3, 1, rng=0)
    np.testing.assert_array_equal(ex.forward("gru", p, x)[0], gru.forward(x, zeros, **p)[0])


def test_outputs_that_overflow_are_reported_as_an_infinite_loss():
    params = ex.init_params("irnn", 2, 3, 1, rng=0)
    params["W"] *= 1e30
    x, y = tasks.adding(40, 2, rng=0)
    loss, grads = ex.loss_and_grads("irnn", "adding")(params, (x, y))
    assert not math.isfinite(loss) and grads is None


def test_init_params_irnn_is_the_identity_with_zero_bias_and_lstm_has_forget_bias_one():
    p = ex.irnn_params(2, 5, 1, rng=0)
    np.testing.assert_array_equal(p["W"], np.eye(5))
    np.testing.assert_array_equal(p["b"], np.zeros(5))
    assert p["U"].shape == (5, 2) and p["V"].shape == (1, 5)
    p = ex.init_params("lstm", 2, 5, 1, rng=0)
    np.testing.assert_array_equal(p["b"][5:10], np.ones(5))
    # rnn and rnn_clip start from the same weights when given the same generator seed
    a, b = ex.init_params("rnn", 2, 5, 1, rng=3), ex.init_params("rnn_clip", 2, 5, 1, rng=3)
    assert all(np.array_equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("call, message", [
    (lambda: ex.init_params("cnn", 2, 3, 1), "model"),
    (lambda: ex.loss_and_grads("rnn", "sorting"), "task"),
    (lambda: ex.forward("lstm", ex.init_params("rnn", 2, 3, 1), np.zeros((2, 1, 2))), "params has no"),
    (lambda: ex.forward("rnn", ex.init_params("rnn", 2, 3, 1), np.zeros((2, 2))), "shape"),
    (lambda: ex.train_model("rnn", "adding", 5, 0, budget=4, batch=8), "budget"),
    (lambda: ex.train_model("rnn", "adding", 5, -1), "seed"),
    (lambda: ex.train_model("rnn", "adding", 5, 0, lr=0), "lr"),
], ids=["model", "task", "params", "x", "budget", "seed", "lr"])
def test_bad_arguments_say_what_is_wrong(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# --- the gradient split by step -----------------------------------------------------------

@pytest.mark.parametrize("model", ex.MODELS)
@pytest.mark.parametrize("task", ["adding", "copy"])
def test_split_gradient_near_part_is_the_gradient_through_the_last_steps_only(model, task):
    # G_near is ∂L/∂W where W acts only in the steps k + 1 … T: checked against central
    # differences of that function, with the first k steps run on a frozen copy of W
    T = 8 if task == "adding" else 3
    x, y = tasks.adding(T, 2, rng=0) if task == "adding" else tasks.copy_task(T, 2, rng=0)
    D, K = x.shape[2], (1 if task == "adding" else 9)
    params = ex.init_params(model, D, 3, K, rng=1)
    far, near = ex.split_gradient(model, task, params, x, y)
    k = ex.far_steps(task, x.shape[0])
    frozen = {name: value.copy() for name, value in params.items()}
    late = params["W"].copy()
    module = {"rnn": rnn, "rnn_clip": rnn, "irnn": rnn, "lstm": lstm, "gru": gru}[model]

    def loss_of_late_w():
        _, cache = ex.forward(model, frozen, x[:k])
        weights = {name: (late if name == "W" else frozen[name]) for name in module.PARAMS}
        h_k = cache["h"][-1]
        if module is rnn:
            o = rnn.forward(x[k:], h_k, **weights, activation="relu" if model == "irnn" else "tanh")[0]
        elif module is lstm:
            o = lstm.forward(x[k:], h_k, cache["c"][-1], **weights)[0]
        else:
            o = gru.forward(x[k:], h_k, **weights)[0]
        if task == "adding":
            return 0.5 * np.mean((o[-1] - y) ** 2)
        # the copy task: the cross-entropy of the ten recall steps, over all T·B steps
        recall = o[-10:] - o[-10:].max(axis=2, keepdims=True)
        log_p = recall - np.log(np.exp(recall).sum(axis=2, keepdims=True))
        return -np.take_along_axis(log_p, y[-10:, :, None], axis=2).sum() / y.size

    numeric = gradcheck.numerical_gradient(loss_of_late_w, late)
    assert gradcheck.rel_error(near, numeric) <= 1e-7
    full = ex.loss_and_grads(model, task)
    if task == "adding":
        np.testing.assert_allclose(far + near, full(params, (x, y))[1]["W"], rtol=1e-12, atol=1e-15)


def test_split_gradient_of_the_rnn_is_truncated_bptt():
    # for the rnn, G_near holds the terms of the last T − k steps: truncated BPTT(T − k)
    x, y = tasks.adding(10, 3, rng=0)
    params = ex.init_params("rnn", 2, 4, 1, rng=2)
    far, near = ex.split_gradient("rnn", "adding", params, x, y)
    o, cache = ex.forward("rnn", params, x)
    do = np.zeros_like(o)
    do[-1] = (o[-1] - y) / 3
    np.testing.assert_allclose(near, rnn.backward(do, cache, truncate=5)["W"], rtol=1e-12, atol=1e-15)
    share = ex.far_share("rnn", "adding", params, x, y)
    assert share == pytest.approx(np.linalg.norm(far) / (np.linalg.norm(far) + np.linalg.norm(near)))
    assert 0 < share < 1


def test_the_far_share_vanishes_for_a_contracting_rnn_and_not_for_the_lstm():
    x, y = tasks.adding(60, 16, rng=0)
    small = ex.init_params("rnn", 2, 8, 1, rng=0)
    small["W"] *= 0.3
    assert ex.far_share("rnn", "adding", small, x, y) < 1e-6
    assert ex.far_share("lstm", "adding", ex.init_params("lstm", 2, 8, 1, rng=0), x, y) > 1e-3


# --- the tasks' baselines and errors ---------------------------------------------------------

def test_baselines():
    assert ex.baseline("adding", 50) == tasks.ADDING_BASELINE_MSE
    assert ex.baseline("copy", 10) == pytest.approx(10 * math.log(8) / 30)
    # always predicting 0.5 fails H&S's tolerance on about 85 % of sequences (tasks.py's docstring)
    assert 0.8 < ex.baseline("adding_hochreiter", 100) < 0.9


def test_test_sets_are_fixed_and_shared():
    a, b = ex.test_set("adding", 12), ex.test_set("adding", 12)
    np.testing.assert_array_equal(a[0][0], b[0][0])
    assert a[0][0].shape == (12, ex.DEFAULTS["test_size"], 2)
    hs = ex.test_set("adding_hochreiter", 100)
    assert sum(len(y) for _, y in hs) == 2560 and len({x.shape[0] for x, _ in hs}) > 1


def test_test_error_is_the_baseline_for_the_memoryless_prediction():
    # an rnn whose output is the constant 1 (V = 0, c = 1) scores the sample variance of the sum
    params = ex.init_params("rnn", 2, 3, 1, rng=0)
    params["V"][:] = 0.0
    params["c"][:] = 1.0
    test = ex.test_set("adding", 20)
    error = ex.test_error("rnn", "adding", params, test)
    assert error == pytest.approx(np.mean((test[0][1] - 1.0) ** 2), rel=1e-12)
    assert abs(error / tasks.ADDING_BASELINE_MSE - 1) < 0.1


# --- one run ----------------------------------------------------------------------------------

def test_a_run_is_deterministic_and_records_its_curve():
    a = ex.train_model("gru", "adding", 6, 0, budget=160, batch=8, eval_every=5)
    b = ex.train_model("gru", "adding", 6, 0, budget=160, batch=8, eval_every=5)
    assert a["test_error"] == b["test_error"]
    assert a["eval_sequences"] == [0, 40, 80, 120, 160][:len(a["eval_sequences"])]
    assert len(a["test_error"]) == len(a["train_seconds"]) == len(a["eval_sequences"])
    assert a["baseline"] == tasks.ADDING_BASELINE_MSE
    assert a["criterion"] == pytest.approx(ex.CRITERIA["adding"] * tasks.ADDING_BASELINE_MSE)
    if not a["solved"]:
        assert a["sequences"] == 160 and a["sequences_to_solve"] is None


def test_a_run_stops_when_solved_and_says_when():
    run = ex.train_model("lstm", "adding", 4, 0, budget=4000, batch=16, eval_every=10)
    assert run["solved"], run["test_error"]
    assert run["final_error"] <= run["criterion"] < min(run["test_error"][:-1])
    assert run["sequences_to_solve"] == run["sequences"] == run["eval_sequences"][-1] < 4000
    assert run["seconds_to_solve"] == run["seconds"] > 0
    kept_going = ex.train_model("lstm", "adding", 4, 0, budget=4000, batch=16, eval_every=10,
                                stop_when_solved=False)
    assert kept_going["sequences"] == 4000
    assert kept_going["sequences_to_solve"] == run["sequences_to_solve"]


def test_a_diverging_run_is_recorded_not_raised():
    run = ex.train_model("irnn", "adding", 100, 0, budget=320, batch=16, eval_every=5, lr=1e3, theta=1e6)
    assert run["diverged_at"] is not None and not run["solved"]
    assert math.isinf(run["final_error"])


def test_run_grid_and_summary():
    runs = ex.run_grid("adding", ["rnn", "lstm"], [4, 6], [0, 1], budget=64, batch=16, eval_every=2)
    assert [(r["T"], r["model"], r["seed"]) for r in runs] == [
        (T, m, s) for T in (4, 6) for m in ("rnn", "lstm") for s in (0, 1)]
    assert all("params" not in r and 0 <= r["far_share"] <= 1 and 0 <= r["far_share_init"] <= 1 for r in runs)
    rows = ex.summary(runs)
    assert len(rows) == 4 and all(row["seeds"] == 2 for row in rows)
    row = rows[0]
    errors = [r["final_error"] for r in runs if (r["model"], r["T"]) == (row["model"], row["T"])]
    assert row["final_error"] == pytest.approx(np.median(errors))
    assert row["error_ratio"] == pytest.approx(np.median(errors) / tasks.ADDING_BASELINE_MSE)


# --- Hochreiter & Schmidhuber's stopping rule ---------------------------------------------------

def test_hochreiter_run_stops_at_the_budget_or_the_rule(monkeypatch):
    run = ex.hochreiter_run(0, T=12, batch=8, max_sequences=80)
    assert run["sequences"] == 80 and not run["stopped"]
    assert run["test_size"] == 2560 and 0 <= run["test_wrong"] <= 2560
    assert run["cpu_seconds"] >= 0 and run["seconds"] > 0
    # a window of 40 sequences and a loose tolerance: the rule is met as soon as the last
    # 40 training sequences are all within it
    monkeypatch.setattr(ex, "HOCHREITER_WINDOW", 40)
    monkeypatch.setattr(ex.tasks, "HOCHREITER_TOLERANCE", 10.0)
    monkeypatch.setattr(ex, "HOCHREITER_MSE", 100.0)
    run = ex.hochreiter_run(0, T=12, batch=8, max_sequences=800)
    assert run["stopped"] and run["sequences"] == 40


# --- the command line and the committed results --------------------------------------------------

def test_the_command_writes_results_with_their_provenance(tmp_path):
    out = tmp_path / "r.json"
    ex.main(["long_range", "--tasks", "adding", "--models", "rnn", "--adding-lengths", "4",
             "--seeds", "1", "--budget", "32", "--hochreiter-seeds", "--out", str(out)])
    result = json.loads(out.read_text())
    prov = result["provenance"]
    assert prov["command"].startswith("python -m vanishgrad.experiments long_range")
    assert {"seeds", "vanishgrad", "numpy", "python", "started", "finished", "seconds", "machine"} <= set(prov)
    assert [(r["model"], r["T"], r["seed"]) for r in result["runs"]] == [("rnn", 4, 0)]
    assert result["settings"]["budget"] == 32 and result["hochreiter"] == []


def test_the_committed_full_grid_covers_every_model_and_length():
    result = ex.load_results()
    for task, grid in result["grids"].items():
        cells = {(r["model"], r["T"], r["seed"]) for r in result["runs"] if r["task"] == task}
        assert cells == {(m, T, s) for m in grid["models"] for T in grid["lengths"] for s in grid["seeds"]}
    assert set(result["grids"]["adding"]["models"]) == set(ex.MODELS)
    assert len(result["grids"]["adding"]["seeds"]) >= 3
    assert result["hochreiter"], "the H&S runs at T = 100"


def test_one_cell_of_the_committed_full_grid_reproduces():
    # Re-run one cell with the committed settings: the tanh RNN at the shortest length, seed
    # 0, which learns the task in a few thousand sequences and takes about a second. The
    # same code and seed repeat the same arithmetic, so on the machine that made the file
    # the learning curve comes back bit for bit. Elsewhere a different BLAS, thread count
    # or CPU may sum the matrix products in another order: rounding differences near 1e-16
    # that a few hundred updates carry along. Allowed: a relative difference of 1e-6 in
    # every test error of the learning curve; the evaluations and the outcome must match.
    result = ex.load_results()
    settings = {k: result["settings"][k] for k in ("hidden", "batch", "lr", "theta", "budget", "eval_every")}
    T = min(result["grids"]["adding"]["lengths"])
    committed = next(r for r in result["runs"]
                     if (r["task"], r["model"], r["T"], r["seed"]) == ("adding", "rnn", T, 0))
    assert committed["solved"], "the cell re-run here learnt the task when the file was made"
    again = ex.train_model("rnn", "adding", T, 0, **settings)
    assert again["eval_sequences"] == committed["eval_sequences"]
    np.testing.assert_allclose(again["test_error"], committed["test_error"], rtol=1e-6)
    assert (again["solved"], again["sequences_to_solve"]) == (committed["solved"], committed["sequences_to_solve"])
