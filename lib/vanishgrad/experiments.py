"""Long-range dependencies, measured: five recurrent networks trained on the long-range tasks.

The experiment of chapter 7. A vanilla tanh RNN, the same with global-norm clipping, the
IRNN, the LSTM and the GRU are trained on the adding problem (and the copy task) across
sequence lengths T, under one budget of training sequences, and compared with the tasks'
memoryless baselines (:mod:`vanishgrad.tasks`)::

    python -m vanishgrad.experiments long_range              # the full grid, with a progress bar
    python -m vanishgrad.experiments long_range --jobs 2     # the same in two processes
    python -m vanishgrad.experiments long_range --help       # its sizes, and how to change them

writes ``results/long_range.json``: every run's learning curve and outcome, with the
provenance of the run (the command, the seeds, the library's version, the date, the
machine). The chapter runs a small grid live with :func:`run_grid` and reads the full one
from that file (:func:`load_results`).

The models (:data:`MODELS`), all with H hidden units, a linear readout and h_0 = 0:

========  ======================================================  ===================
name      network                                                 clipping
========  ======================================================  ===================
rnn       tanh RNN, W Gaussian with spectral radius near 1        none
rnn_clip  the same                                                global norm, θ
irnn      ReLU RNN, W = I and b = 0 (Le, Jaitly & Hinton 2015)    global norm, θ
lstm      LSTM, forget-gate bias 1                                global norm, θ
gru       GRU (PyTorch's form)                                    global norm, θ
========  ======================================================  ===================

Every model is trained with Adam (:class:`vanishgrad.optim.Adam`) at the same learning
rate, on fresh batches drawn from a seeded generator, through :func:`vanishgrad.train.run`.
The losses: half the squared error at the last step for the adding problems
(:func:`vanishgrad.losses.mse_last`), the softmax cross-entropy averaged over every step
for the copy task (:func:`cross_entropy`).

What a run measures (:func:`train_model`): every ``eval_every`` updates, the error on a
fixed test set (the same for every model at a given T): the mean squared error for the
adding problem, the mean cross-entropy per step for the copy task, the fraction of
sequences outside Hochreiter & Schmidhuber's tolerance for their variant. A run has
**solved** the task at the first evaluation where the error is at or below its criterion
(:data:`CRITERIA`), and training then stops; otherwise it uses its whole budget.

Hochreiter & Schmidhuber's own goal (:func:`hochreiter_run`): an LSTM trained on their
variant at T = 100 until their stopping rule holds, counted in training sequences against
the 74,000 of their Table 7.

The gradient view (:func:`far_share`): with a loss at the last step, the terms of
∂L/∂W = Σ_t δ_t h_{t-1}ᵀ from the steps where the information to be remembered enters
(the first half of an adding sequence, where the first marked value lies; the symbols of a
copy sequence) are the ones that can teach a network to keep it. Their share of the
gradient says whether that teaching signal arrives at all.
"""

import argparse
import datetime
import json
import math
import os
import platform
import sys
import time
from pathlib import Path

if __name__ == "__main__":
    # The networks are small: on a busy machine BLAS threads only get in each other's way
    # (one thread ran the chapter's live grid 2.5 times faster). Before numpy loads.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from . import __version__, gru, lstm, optim, rnn, tasks, train  # noqa: E402
from .validation import (as_generator, as_real_array, check_choice, check_finite,  # noqa: E402
                         check_integer, check_positive)

#: The networks compared, in the order the chapter shows them.
MODELS = ("rnn", "rnn_clip", "irnn", "lstm", "gru")

#: The tasks: the adding problem (modern form), the copy task, and the adding problem as
#: Hochreiter & Schmidhuber (1997) posed it.
TASKS = ("adding", "copy", "adding_hochreiter")

#: What "solved" means, per task: the test error must fall to ``fraction`` times the task's
#: baseline (:func:`baseline`) or below. For the adding problem, 0.1: the MSE must be at
#: most 10 % of the MSE of always predicting 1. A model that remembers only the second
#: marked value (the nearer one) and predicts it plus 0.5 scores 1/12, half the baseline,
#: so 10 % needs both values. For the copy task, 0.1 of the memoryless cross-entropy, which
#: is what a model scores that reproduces nine of the ten symbols perfectly and knows
#: nothing of the tenth. For Hochreiter & Schmidhuber's variant the error is the fraction
#: of test sequences with an absolute error of 0.04 or more, and 1/2560 (one wrong of
#: their 2560 test sequences, their Table 7 at T = 100) is the criterion.
CRITERIA = {"adding": 0.1, "copy": 0.1, "adding_hochreiter": 1 / 2560}

#: The training setup every model shares in the full grid (the chapter's live grid changes
#: only the budget and how often it evaluates).
DEFAULTS = {
    "hidden": 32,          # H, the same for every model
    "batch": 16,           # sequences per update
    "lr": 0.01,            # Adam's learning rate
    "theta": 1.0,          # the global-norm clipping threshold, for every model but "rnn"
    "budget": 16_000,      # training sequences per run (budget / batch updates)
    "eval_every": 25,      # updates between evaluations on the test set
    "test_size": 500,      # test sequences (2560 for adding_hochreiter, as in the paper)
}

#: The seed of every test set: one fixed test set per task and T, shared by all models.
TEST_SEED = 20_240_101

# Input and output sizes: the copy task's inputs are 8 symbols, the blank and the
# delimiter, its outputs the 8 symbols and the blank.
_D = {"adding": 2, "copy": 10, "adding_hochreiter": 2}
_K = {"adding": 1, "copy": 9, "adding_hochreiter": 1}
_KIND = {"rnn": "rnn", "rnn_clip": "rnn", "irnn": "rnn", "lstm": "lstm", "gru": "gru"}
_MODULE = {"rnn": rnn, "lstm": lstm, "gru": gru}
_ACTIVATION = {"rnn": "tanh", "rnn_clip": "tanh", "irnn": "relu"}


# --------------------------------------------------------------------------- the copy task's loss


def cross_entropy(o, y):
    """The softmax cross-entropy, averaged over every step and sequence.

    o: (T, B, K) logits; y: (T, B) integer class ids in 0 … K − 1.
    L = −(1/TB) Σ_t Σ_b log softmax(o_tb)[y_tb], the mean cross-entropy per step that
    :func:`vanishgrad.tasks.copy_baseline` gives for the memoryless strategy.
    Returns (loss, do): a float and ∂L/∂o (T, B, K) = (softmax(o) − onehot(y)) / (TB),
    in the dtype of o.
    """
    o = as_real_array("o", o)
    if o.ndim != 3 or 0 in o.shape:
        raise ValueError(f"o must have shape (T, B, K) (time-major) with no empty axis; got {o.shape}")
    check_finite("o", o)
    T, B, K = o.shape
    y = np.asarray(y)
    if y.shape != (T, B):
        raise ValueError(f"y must have shape (T, B) = ({T}, {B}), one class id per step; got {y.shape}")
    if y.dtype.kind not in "iu":
        raise ValueError(f"y must hold integer class ids; got dtype {y.dtype}")
    if y.min() < 0 or y.max() >= K:
        raise ValueError(f"y must hold class ids in 0 … K − 1 = {K - 1}; "
                         f"got values from {y.min()} to {y.max()}")
    shifted = o - o.max(axis=2, keepdims=True)   # log-softmax without overflow
    log_z = np.log(np.exp(shifted).sum(axis=2, keepdims=True))
    log_p = shifted - log_z
    picked = np.take_along_axis(log_p, y[:, :, None], axis=2)
    loss = -float(picked.sum()) / (T * B)
    do = np.exp(log_p)
    np.put_along_axis(do, y[:, :, None], np.take_along_axis(do, y[:, :, None], axis=2) - 1.0, axis=2)
    do /= T * B
    return loss, do


# --------------------------------------------------------------------------- the networks


def irnn_params(D, H, K, *, rng=None, dtype=np.float64):
    """The IRNN's initial parameters (Le, Jaitly & Hinton 2015): W = I, b = 0.

    A ReLU RNN whose recurrent weights start as the identity: at first the state adds up
    its inputs, so nothing vanishes or explodes through W. U and V are drawn as in
    :func:`vanishgrad.rnn.init_params` (standard deviations 1/√D and 1/√H), c is zero.
    Returns {"U": (H, D), "W": (H, H), "b": (H,), "V": (K, H), "c": (K,)} of ``dtype``.
    """
    p = rnn.init_params(D, H, K, rng=rng, dtype=dtype)
    p["W"] = np.eye(H, dtype=p["W"].dtype)
    return p


def init_params(model, D, H, K, *, rng=None):
    """A model's initial parameters (float64).

    model: one of :data:`MODELS`. D, H, K: input, hidden and output sizes.
    rng:   a seed or a ``np.random.Generator``.
    rnn and rnn_clip: :func:`vanishgrad.rnn.init_params` (W with spectral radius near 1);
    irnn: :func:`irnn_params`; lstm: :func:`vanishgrad.lstm.init_params` (forget-gate
    bias 1); gru: :func:`vanishgrad.gru.init_params`.
    """
    check_choice("model", model, MODELS)
    rng = as_generator(rng)
    if model == "irnn":
        return irnn_params(D, H, K, rng=rng)
    return _MODULE[_KIND[model]].init_params(D, H, K, rng=rng)


def forward(model, params, x):
    """Run a model over x (T, B, D) from a zero state; returns (o, cache), o (T, B, K)."""
    check_choice("model", model, MODELS)
    kind = _KIND[model]
    module = _MODULE[kind]
    missing = [k for k in module.PARAMS if k not in params]
    if missing:
        raise ValueError(f"params has no {', '.join(map(repr, missing))}; pass init_params({model!r}, ...)")
    x = np.asarray(x)
    if x.ndim != 3:
        raise ValueError(f"x must have shape (T, B, D) (time-major); got {x.shape}")
    h0 = np.zeros((x.shape[1], params["W"].shape[1]))
    weights = {k: params[k] for k in module.PARAMS}
    if kind == "rnn":
        return rnn.forward(x, h0, **weights, activation=_ACTIVATION[model])
    if kind == "lstm":
        return lstm.forward(x, h0, h0, **weights)
    return gru.forward(x, h0, **weights)


def _task_loss(task, o, y):
    if task == "copy":
        return cross_entropy(o, y)
    from .losses import mse_last
    return mse_last(o, y)


def loss_and_grads(model, task):
    """``loss_and_grads`` for :func:`vanishgrad.train.run`: (params, (x, y)) -> (loss, grads).

    model: one of :data:`MODELS`; task: one of :data:`TASKS` (which decides the loss:
    half the squared error at the last step for the adding problems, :func:`cross_entropy`
    for the copy task). grads holds the gradient of every parameter. If the outputs
    overflow to inf or NaN, the loss is returned as inf (or NaN) and grads as None, which
    the trainer records as a divergence.
    """
    check_choice("model", model, MODELS)
    check_choice("task", task, TASKS)
    module = _MODULE[_KIND[model]]

    def compute(params, batch):
        if not (isinstance(batch, (tuple, list)) and len(batch) == 2):
            raise ValueError(f"batch must be a pair (x, y); got {type(batch).__name__}")
        x, y = batch
        with np.errstate(over="ignore", invalid="ignore"):  # checked just below
            o, cache = forward(model, params, x)
        if not np.all(np.isfinite(o)):
            return (math.nan if np.isnan(o).any() else math.inf), None
        loss, do = _task_loss(task, o, y)
        grads = module.backward(do, cache)
        return loss, {k: grads[k] for k in module.PARAMS}

    return compute


# --------------------------------------------------------------------------- the tasks


def baseline(task, T):
    """The memoryless baseline's error on a task: 1/6 (the MSE of always predicting 1) for
    the adding problem, 10 log 8 / (T + 20) for the copy task, and for Hochreiter &
    Schmidhuber's variant the fraction of sequences that always predicting 0.5 gets wrong
    (estimated on the task's test set, about 0.85)."""
    check_choice("task", task, TASKS)
    if task == "adding":
        return tasks.ADDING_BASELINE_MSE
    if task == "copy":
        return float(tasks.copy_baseline(T))
    _, ys = zip(*test_set(task, T))
    y = np.concatenate(ys)
    return float(np.mean(~tasks.hochreiter_correct(np.full_like(y, 0.5), y)))


def make_batch(task, T, B, rng):
    """One batch of a task: (x, y) from its generator in :mod:`vanishgrad.tasks`."""
    check_choice("task", task, TASKS)
    return {"adding": tasks.adding, "copy": tasks.copy_task,
            "adding_hochreiter": tasks.adding_hochreiter}[task](T, B, rng=rng)


def test_set(task, T, size=None):
    """The fixed test set of a task at length T: a list of (x, y) batches.

    The same for every model and seed (drawn from ``[TEST_SEED, T]``). size: the number of
    sequences (default: :data:`DEFAULTS` ``["test_size"]``, or 2560 for adding_hochreiter,
    drawn as 20 batches of 128 so that the lengths vary as in the paper).
    """
    check_choice("task", task, TASKS)
    rng = np.random.default_rng([TEST_SEED, int(T)])
    if task == "adding_hochreiter":
        return [make_batch(task, T, 128, rng) for _ in range(20)]
    return [make_batch(task, T, DEFAULTS["test_size"] if size is None else size, rng)]


def test_error(model, task, params, batches):
    """A model's error on test batches: the MSE at the last step (adding), the mean
    cross-entropy per step (copy), or the fraction of sequences outside the 0.04
    tolerance (adding_hochreiter). Non-finite outputs give inf."""
    total, count = 0.0, 0
    for x, y in batches:
        with np.errstate(over="ignore", invalid="ignore"):
            o, _ = forward(model, params, x)
        if not np.all(np.isfinite(o)):
            return math.inf
        if task == "adding":
            total += float(np.sum((o[-1] - y) ** 2))
            count += len(y)
        elif task == "copy":
            total += cross_entropy(o, y)[0] * y.size
            count += y.size
        else:
            total += float(np.sum(~tasks.hochreiter_correct(o[-1], y)))
            count += len(y)
    return total / count


# --------------------------------------------------------------------------- one run


def initial_rng(task, T, seed):
    """The generator of the initial parameters of a run of ``task`` at length T with
    ``seed`` (:func:`train_model`): the same for every model, so that rnn and rnn_clip
    start from the same weights."""
    return np.random.default_rng([seed, TASKS.index(task), T, 1])


def train_model(model, task, T, seed, *, hidden=None, batch=None, lr=None, theta=None,
                budget=None, eval_every=None, test=None, stop_when_solved=True):
    """Train one model on one task at one length; return what happened, as a dict.

    model, task: names from :data:`MODELS` and :data:`TASKS`; T: the task's length;
    seed: the run's seed (initial parameters and training batches).
    hidden, batch, lr, theta, budget, eval_every: as :data:`DEFAULTS` (None: the default).
    test: the test batches (None: :func:`test_set`); pass them to share one set among runs.
    stop_when_solved: stop at the first evaluation that meets the criterion.

    Returns a dict with the settings and
    ``eval_sequences`` (training sequences seen at each evaluation, the first at 0),
    ``test_error`` (the error there), ``train_seconds`` and ``train_cpu_seconds`` (the
    training time up to there, wall-clock and CPU, evaluations excluded), ``baseline``,
    ``criterion`` (the error to get down to), ``solved``, ``sequences_to_solve``,
    ``seconds_to_solve`` and ``cpu_seconds_to_solve`` (None if not solved),
    ``final_error``, ``sequences``, ``seconds`` and ``cpu_seconds`` (the whole run: the
    training loop's wall-clock time and the process's CPU time over it), ``diverged_at``
    (the update that produced a NaN or inf, or None), and ``params`` (the final
    parameters, not serialised by :func:`run_grid`).
    """
    check_choice("model", model, MODELS)
    check_choice("task", task, TASKS)
    config = {key: DEFAULTS[key] if value is None else value for key, value in
              dict(hidden=hidden, batch=batch, lr=lr, theta=theta, budget=budget, eval_every=eval_every).items()}
    T = check_integer("T", T, 1)
    seed = check_integer("seed", seed, 0)
    H, B = check_integer("hidden", config["hidden"], 1), check_integer("batch", config["batch"], 1)
    check_positive("lr", config["lr"])
    check_positive("theta", config["theta"])
    check_integer("budget", config["budget"], B)
    eval_every = check_integer("eval_every", config["eval_every"], 1)
    updates = config["budget"] // B

    params = init_params(model, _D[task], H, _K[task], rng=initial_rng(task, T, seed))
    optimizer = optim.Adam(params, lr=config["lr"])
    clip = None if model == "rnn" else ("global_norm", config["theta"])
    compute = loss_and_grads(model, task)
    batch_rng = np.random.default_rng([seed, TASKS.index(task), T, 2])  # the same batches for every model
    test = test_set(task, T) if test is None else test
    base = baseline(task, T)
    criterion = CRITERIA[task] * base if task != "adding_hochreiter" else CRITERIA[task]

    record = {"model": model, "task": task, "T": T, "seed": seed, **config,
              "clip": None if clip is None else list(clip), "baseline": base, "criterion": criterion,
              "eval_sequences": [0], "test_error": [test_error(model, task, params, test)],
              "train_seconds": [0.0], "train_cpu_seconds": [0.0], "diverged_at": None}
    seconds, cpu_seconds, done = 0.0, 0.0, 0
    solved_at = None
    while done < updates:
        steps = min(eval_every, updates - done)
        start, cpu_start = time.perf_counter(), time.process_time()
        history = train.run(compute, lambda step: make_batch(task, T, B, batch_rng), optimizer, steps,
                            clip=clip, on_nonfinite="record")
        seconds += time.perf_counter() - start
        cpu_seconds += time.process_time() - cpu_start
        if history.diverged_at is not None:
            record["diverged_at"] = done + history.diverged_at
            done += history.steps
            record["eval_sequences"].append(done * B)
            record["test_error"].append(math.inf)
            record["train_seconds"].append(seconds)
            record["train_cpu_seconds"].append(cpu_seconds)
            break
        done += steps
        error = test_error(model, task, params, test)
        record["eval_sequences"].append(done * B)
        record["test_error"].append(error)
        record["train_seconds"].append(seconds)
        record["train_cpu_seconds"].append(cpu_seconds)
        if error <= criterion and solved_at is None:
            solved_at = len(record["test_error"]) - 1
            if stop_when_solved:
                break
    record.update(
        solved=solved_at is not None,
        sequences_to_solve=None if solved_at is None else record["eval_sequences"][solved_at],
        seconds_to_solve=None if solved_at is None else record["train_seconds"][solved_at],
        cpu_seconds_to_solve=None if solved_at is None else record["train_cpu_seconds"][solved_at],
        final_error=record["test_error"][-1], sequences=done * B, seconds=seconds, cpu_seconds=cpu_seconds,
        params=params)
    return record


# --------------------------------------------------------------------------- Hochreiter & Schmidhuber's goal


#: Hochreiter & Schmidhuber's stopping rule (1997, Experiment 4): training stops once the
#: most recent HOCHREITER_WINDOW training sequences were all processed correctly (absolute
#: error below 0.04) and their average error is below HOCHREITER_MSE (read here as the
#: mean squared error over that window).
HOCHREITER_WINDOW = 2000
HOCHREITER_MSE = 0.01

#: The setup of the LSTM that :func:`hochreiter_run` trains: the grid's hidden size,
#: optimiser and clipping, with its own batch size and, as in Hochreiter & Schmidhuber's
#: own network, a cell that starts out keeping what it holds: the forget gate's bias at
#: ``forget_bias`` (σ(10) = 0.99995: after 110 steps a stored value keeps 99.5 % of
#: itself, close to their constant error carousel, which has no forget gate) and the
#: input gate's bias at ``input_bias`` (σ(−3) = 0.05: the cell does not drift by adding
#: up every input, as their negative input-gate biases prevented). The learning rate is
#: multiplied by ``lr_factor`` each time the fraction of the window processed correctly
#: first reaches one of ``lr_steps``.
HOCHREITER_SETUP = {"hidden": 32, "batch": 16, "lr": 0.01, "theta": 1.0, "forget_bias": 10.0,
                    "input_bias": -3.0, "lr_steps": (0.9, 0.98), "lr_factor": 0.3}


def hochreiter_run(seed, T=100, *, max_sequences=200_000, **setup):
    """Train an LSTM on :func:`vanishgrad.tasks.adding_hochreiter` until their stopping rule holds.

    The LSTM (set up as :data:`HOCHREITER_SETUP` says) is trained with Adam and
    global-norm clipping on fresh batches, one length per batch, as :func:`train_model`
    does. After every update the
    batch's errors, measured before the update as in on-line training, join a window of
    the last :data:`HOCHREITER_WINDOW` training sequences; training stops when all of
    them are within 0.04 and their mean squared error is below :data:`HOCHREITER_MSE`,
    or after ``max_sequences``. The trained network is then tested on the 2560 sequences
    of :func:`test_set`, as their Table 7 reports.

    seed: the run's seed; T: the minimal length (100 in their goal);
    setup: any of the keys of :data:`HOCHREITER_SETUP`, to change it.
    Returns a dict: the settings, ``stopped`` (True if the rule was met),
    ``sequences`` (training sequences seen), ``seconds`` (wall-clock time of the training
    loop), ``cpu_seconds`` (the process's CPU time over it), ``test_wrong`` and
    ``test_size`` (sequences outside the tolerance, of 2560), and ``diverged_at``.
    """
    unknown = sorted(set(setup) - set(HOCHREITER_SETUP))
    if unknown:
        raise ValueError(f"unknown setting(s) {', '.join(unknown)}; "
                         f"the settings are {', '.join(HOCHREITER_SETUP)}")
    setup = {**HOCHREITER_SETUP, **setup}
    seed = check_integer("seed", seed, 0)
    T = check_integer("T", T, 11)
    B = check_integer("batch", setup["batch"], 1)
    check_integer("max_sequences", max_sequences, B)
    task = "adding_hochreiter"
    H = check_integer("hidden", setup["hidden"], 1)
    params = lstm.init_params(2, H, 1, forget_bias=setup["forget_bias"], rng=initial_rng(task, T, seed))
    params["b"][:H] += setup["input_bias"]
    optimizer = optim.Adam(params, lr=setup["lr"])
    lr_steps = sorted(setup["lr_steps"])
    batch_rng = np.random.default_rng([seed, TASKS.index(task), T, 2])
    errors = np.zeros(0)  # the absolute errors of the most recent training sequences
    recent = []

    def compute(params, batch):  # the loss and gradients, keeping the batch's errors
        x, y = batch
        o, cache = forward("lstm", params, x)
        if not np.all(np.isfinite(o)):
            return math.inf, None
        recent.append(np.abs(o[-1, :, 0] - y[:, 0]))
        loss, do = _task_loss(task, o, y)
        grads = lstm.backward(do, cache)
        return loss, {k: grads[k] for k in lstm.PARAMS}

    done, stopped, diverged_at = 0, False, None
    wall, cpu = time.perf_counter(), time.process_time()
    while done * B < max_sequences:
        history = train.run(compute, lambda step: make_batch(task, T, B, batch_rng), optimizer, 1,
                            clip=("global_norm", setup["theta"]), on_nonfinite="record")
        if history.diverged_at is not None:
            diverged_at = done
            break
        done += 1
        errors = np.concatenate([errors, recent.pop()])[-HOCHREITER_WINDOW:]
        correct = np.mean(errors < tasks.HOCHREITER_TOLERANCE)
        while lr_steps and len(errors) == HOCHREITER_WINDOW and correct >= lr_steps[0]:
            lr_steps.pop(0)
            optimizer.lr = optimizer.lr * setup["lr_factor"]
        if (len(errors) == HOCHREITER_WINDOW and np.all(errors < tasks.HOCHREITER_TOLERANCE)
                and np.mean(errors ** 2) < HOCHREITER_MSE):
            stopped = True
            break
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    test = test_set(task, T)
    wrong = int(round(test_error("lstm", task, params, test) * 2560))
    return {"model": "lstm", "task": task, "T": T, "seed": seed, **setup, "lr_steps": list(setup["lr_steps"]),
            "clip": ["global_norm", setup["theta"]],
            "stopped": stopped, "sequences": done * B, "seconds": wall, "cpu_seconds": cpu,
            "test_wrong": wrong, "test_size": 2560, "diverged_at": diverged_at,
            "paper_sequences": tasks.HOCHREITER_TABLE_7[T][0] if T in tasks.HOCHREITER_TABLE_7 else None}


# --------------------------------------------------------------------------- the gradient view


def split_gradient(model, task, params, x, y):
    """∂L/∂W split by where its terms come from: (G_far, G_near), each shaped like W.

    With the loss at the end, ∂L/∂W = Σ_t δ_t h_{t-1}ᵀ splits into G_far, the terms of the
    steps t = 1 … k, and G_near, those of the steps k + 1 … T, where k = :func:`far_steps`:
    T // 2 for the adding problems (the first marked value lies in the first half, at a
    lag of at least T − T//2 steps from the loss), the number of symbols (10) for the copy
    task, whose loss is then taken over the ten recall steps only (the blanks before them
    are learnt from nearby inputs). G_near is the gradient of that loss with the state
    after step k held fixed,
    that is, of the network run from h_k (and c_k) over the steps k + 1 … T;
    G_far = ∂L/∂W − G_near. For the LSTM and the GRU, W stacks the gates' recurrent weights.

    x, y: a batch of the task (x: (T, B, D)).
    """
    check_choice("model", model, MODELS)
    check_choice("task", task, TASKS)
    kind = _KIND[model]
    module = _MODULE[kind]
    x = np.asarray(x)
    k = far_steps(task, x.shape[0])
    o, cache = forward(model, params, x)
    _, do = _task_loss(task, o, y)
    if task == "copy":
        do[:-10] = 0.0
    full = module.backward(do, cache)["W"]
    weights = {name: params[name] for name in module.PARAMS}
    h_k = cache["h"][k - 1]
    if kind == "rnn":
        _, near_cache = rnn.forward(x[k:], h_k, **weights, activation=_ACTIVATION[model])
    elif kind == "lstm":
        _, near_cache = lstm.forward(x[k:], h_k, cache["c"][k - 1], **weights)
    else:
        _, near_cache = gru.forward(x[k:], h_k, **weights)
    near = module.backward(do[k:], near_cache)["W"]
    return full - near, near


def far_steps(task, T):
    """k, the number of first steps whose terms make up G_far (:func:`split_gradient`)."""
    check_choice("task", task, TASKS)
    return 10 if task == "copy" else T // 2


def far_share(model, task, params, x, y):
    """‖G_far‖ / (‖G_far‖ + ‖G_near‖) (:func:`split_gradient`): the share of ∂L/∂W that
    comes from the steps where the information to remember enters, in [0, 1]. Near 0
    when the gradient from those steps has vanished on its way back."""
    far, near = split_gradient(model, task, params, x, y)
    a, b = np.linalg.norm(far), np.linalg.norm(near)
    return float(a / (a + b)) if a + b > 0 else 0.0


# --------------------------------------------------------------------------- grids


class _Bar:
    """A one-line progress bar on a text stream, rewritten in place."""

    def __init__(self, total, stream):
        self.total, self.stream, self.start, self.width = total, stream, time.perf_counter(), 0

    def show(self, done, what):
        if self.stream is None:
            return
        elapsed = time.perf_counter() - self.start
        left = elapsed / done * (self.total - done) if done else math.nan
        filled = int(30 * done / self.total)
        eta = f"about {left / 60:.1f} min left" if done else "first run under way"
        line = (f"[{'#' * filled}{'.' * (30 - filled)}] {done}/{self.total} runs  "
                f"{elapsed / 60:.1f} min, {eta}  {what}")
        self.stream.write("\r" + line.ljust(self.width))
        self.stream.flush()
        self.width = len(line)

    def close(self):
        if self.stream is not None:
            self.stream.write("\n")
            self.stream.flush()


def grid_cell(task, model, T, seed, *, gradient_view=True, test=None, **settings):
    """One cell of a grid: :func:`train_model`'s record without its ``params``.

    gradient_view: add ``far_share`` (:func:`far_share` of the trained model on the first
    100 test sequences; None if the run diverged) and ``far_share_init`` (the same at
    initialisation). test: the test batches (None: :func:`test_set`).
    """
    test = test_set(task, T) if test is None else test
    record = train_model(model, task, T, seed, test=test, **settings)
    params = record.pop("params")
    if gradient_view:
        x, y = test[0]
        x, y = x[:, :100], (y[:, :100] if task == "copy" else y[:100])
        start = init_params(model, _D[task], record["hidden"], _K[task], rng=initial_rng(task, T, seed))
        record["far_share"] = None if record["diverged_at"] is not None else far_share(model, task, params, x, y)
        record["far_share_init"] = far_share(model, task, start, x, y)
    return record


def _grid_cell(args):
    task, model, T, seed, settings = args
    return grid_cell(task, model, T, seed, **settings)


def run_grid(task, models, lengths, seeds, *, progress=None, jobs=1, **settings):
    """Train every model at every length with every seed; return the runs, a list of dicts.

    task: one of :data:`TASKS`; models: names from :data:`MODELS`; lengths: the T's;
    seeds: the seeds (integers); settings: as for :func:`grid_cell` and :func:`train_model`.
    progress: None, or a text stream (sys.stderr) for a progress bar.
    jobs: the number of processes to train in (each run is seeded on its own, so the
    results do not depend on it; the measured times do, if the processes share cores).
    Returns one :func:`grid_cell` record per (T, model, seed), in that order.
    """
    check_choice("task", task, TASKS)
    jobs = check_integer("jobs", jobs, 1)
    cells = [(task, model, T, seed, settings) for T in lengths for model in models for seed in seeds]
    bar = _Bar(len(cells), progress)
    bar.show(0, "")
    runs = []
    if jobs == 1:
        for args in cells:
            runs.append(_grid_cell(args))
            bar.show(len(runs), f"{args[1]} T={args[2]} seed {args[3]}")
    else:
        import multiprocessing
        with multiprocessing.get_context("spawn").Pool(jobs) as pool:
            for record in pool.imap(_grid_cell, cells):
                runs.append(record)
                bar.show(len(runs), f"{record['model']} T={record['T']} seed {record['seed']}")
    bar.close()
    return runs


def summary(runs):
    """One row per (task, model, T) over the seeds: a dict with ``solved`` (how many
    seeds), ``seeds``, the median ``final_error`` and its ratio to the baseline
    (``error_ratio``), the median ``sequences_to_solve``, ``seconds_to_solve`` and
    ``cpu_seconds_to_solve`` over
    the seeds that solved (None if none did), the median ``seconds`` and ``cpu_seconds``
    of a whole run, and
    the median ``far_share`` if the runs have one."""
    groups = {}
    for r in runs:
        groups.setdefault((r["task"], r["model"], r["T"]), []).append(r)
    rows = []
    for (task, model, T), group in groups.items():
        solved = [r for r in group if r["solved"]]
        errors = [r["final_error"] for r in group]
        row = {"task": task, "model": model, "T": T, "seeds": len(group), "solved": len(solved),
               "final_error": float(np.median(errors)),
               "error_ratio": float(np.median(errors) / group[0]["baseline"]),
               "sequences_to_solve":
                   float(np.median([r["sequences_to_solve"] for r in solved])) if solved else None,
               "seconds_to_solve": float(np.median([r["seconds_to_solve"] for r in solved])) if solved else None,
               "cpu_seconds_to_solve":
                   float(np.median([r["cpu_seconds_to_solve"] for r in solved])) if solved else None,
               "seconds": float(np.median([r["seconds"] for r in group])),
               "cpu_seconds": float(np.median([r["cpu_seconds"] for r in group]))}
        if all(r.get("far_share") is not None for r in group):
            row["far_share"] = float(np.median([r["far_share"] for r in group]))
        rows.append(row)
    return rows


# --------------------------------------------------------------------------- the full run


#: The full grid that ``python -m vanishgrad.experiments long_range`` runs by default.
FULL_GRID = {
    "adding": {"lengths": [10, 20, 50, 100, 200], "seeds": [0, 1, 2, 3, 4]},
    "copy": {"lengths": [5, 10], "seeds": [0, 1, 2, 3, 4]},
}

#: The seeds of the H&S runs in the full run, and the most training sequences each may take.
HOCHREITER_SEEDS = [0, 1, 2, 3, 4]
HOCHREITER_MAX_SEQUENCES = 100_000

#: The default results file, at the top of the repository.
RESULTS = Path(__file__).resolve().parents[2] / "results" / "long_range.json"


def _load_average():
    return [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None


def provenance(argv, seeds, started, finished, load_at_start=None):
    """Where and how a result was made: the command, the seeds, versions, date, machine.

    argv: the command's arguments; seeds: {task: seeds}; started, finished: datetimes;
    load_at_start: the machine's load averages when the run started (the 1, 5 and 15
    minute averages of runnable processes), recorded with those at the end.
    """
    return {
        "command": "python -m vanishgrad.experiments " + " ".join(argv),
        "seeds": seeds,
        "vanishgrad": __version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "started": started.isoformat(timespec="seconds"),
        "finished": finished.isoformat(timespec="seconds"),
        "seconds": round((finished - started).total_seconds(), 1),
        "environment": {k: os.environ[k] for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
                        if k in os.environ},
        "machine": {"platform": platform.platform(), "processor": platform.machine(), "cpus": os.cpu_count(),
                    "load_average_at_start": load_at_start, "load_average_at_end": _load_average()},
    }


def load_results(path=None):
    """The committed results file as a dict (``provenance``, ``settings``, ``runs``, ...)."""
    path = RESULTS if path is None else Path(path)
    return json.loads(path.read_text(encoding="utf-8"))


def _clean(value):
    """JSON-safe: inf as None, numpy scalars as Python numbers."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, (np.floating, float)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value


def _hochreiter_run(seed):
    return hochreiter_run(seed, max_sequences=HOCHREITER_MAX_SEQUENCES)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="python -m vanishgrad.experiments", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="experiment", required=True)
    grid = sub.add_parser("long_range", help="the full grid of chapter 7")
    grid.add_argument("--tasks", nargs="+", default=list(FULL_GRID), choices=["adding", "copy"])
    grid.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    grid.add_argument("--adding-lengths", nargs="+", type=int, default=FULL_GRID["adding"]["lengths"])
    grid.add_argument("--copy-lengths", nargs="+", type=int, default=FULL_GRID["copy"]["lengths"])
    grid.add_argument("--seeds", type=int, default=None, help="seeds per cell (default: 5)")
    grid.add_argument("--budget", type=int, default=DEFAULTS["budget"], help="training sequences per run")
    grid.add_argument("--hochreiter-seeds", nargs="*", type=int, default=HOCHREITER_SEEDS,
                      help="seeds of the LSTM runs on Hochreiter & Schmidhuber's variant at T = 100 "
                           "(none: skip them)")
    grid.add_argument("--jobs", type=int, default=1, help="processes to train in (default 1)")
    grid.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    started, load_at_start = datetime.datetime.now(datetime.timezone.utc), _load_average()
    settings = {**DEFAULTS, "budget": args.budget}
    result = {"settings": settings, "criteria": CRITERIA, "grids": {}, "runs": []}
    all_seeds = {}
    for task in args.tasks:
        lengths = args.adding_lengths if task == "adding" else args.copy_lengths
        seeds = FULL_GRID[task]["seeds"] if args.seeds is None else list(range(args.seeds))
        all_seeds[task] = seeds
        print(f"{task}: models {', '.join(args.models)}; T = {', '.join(map(str, lengths))}; "
              f"seeds {', '.join(map(str, seeds))}", file=sys.stderr)
        result["grids"][task] = {"models": args.models, "lengths": lengths, "seeds": seeds}
        result["runs"] += run_grid(task, args.models, lengths, seeds, progress=sys.stderr, jobs=args.jobs,
                                   budget=args.budget)
    result["hochreiter"] = []
    if args.hochreiter_seeds:
        print(f"Hochreiter & Schmidhuber's variant, T = 100: LSTM, seeds "
              f"{', '.join(map(str, args.hochreiter_seeds))}", file=sys.stderr)
        bar = _Bar(len(args.hochreiter_seeds), sys.stderr)
        bar.show(0, "")
        if args.jobs == 1:
            runs = map(_hochreiter_run, args.hochreiter_seeds)
        else:
            import multiprocessing
            pool = multiprocessing.get_context("spawn").Pool(args.jobs)
            runs = pool.imap(_hochreiter_run, args.hochreiter_seeds)
        for run in runs:
            result["hochreiter"].append(run)
            bar.show(len(result["hochreiter"]), f"seed {run['seed']}: {run['sequences']} sequences, "
                                                 f"{run['test_wrong']} wrong of 2560")
        bar.close()
        if args.jobs > 1:
            pool.close()
    all_seeds["adding_hochreiter"] = args.hochreiter_seeds
    finished = datetime.datetime.now(datetime.timezone.utc)
    result = {"provenance": provenance(argv, all_seeds, started, finished, load_at_start), **result}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(_clean(result), indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out} in {(finished - started).total_seconds() / 60:.1f} min", file=sys.stderr)


if __name__ == "__main__":
    main()
