"""One training loop for every chapter: gradients, clipping, an optimiser step, and a record.

::

    opt = optim.SGD(params, lr=0.1)
    history = train.run(train.rnn_mse_last(), batches, opt, steps=200, clip=("global_norm", 1.0))
    history.loss, history.grad_norm, history.clipped      # one entry per step

At each step s = 0, 1, …, steps − 1 (steps count from 0), :func:`run`

1. takes the step's batch: ``batches(s)`` if ``batches`` is callable, the next item if it
   is an iterable, ``None`` if it is ``None`` (a model with no data);
2. calls ``loss, grads = loss_and_grads(optimizer.params, batch)``;
3. records the loss and the global norm ‖g‖ of the parameters' gradients, before clipping
   (only the gradients named in ``optimizer.params`` count: extra entries such as rnn's
   ``"x"``, ``"h0"`` and ``"dh_norms"`` are ignored);
4. clips the gradients, if a clipping rule is given, and records whether that changed them;
5. updates the parameters in place with ``optimizer.step``;
6. every ``eval_every`` steps, calls ``evaluate(params)`` and keeps what it returns.

So ``loss[s]`` is measured after s updates, and ``eval_steps`` counts updates on the same
axis.

A NaN or inf is never trained through. If the loss or a gradient is not finite at step
s, or the update of step s makes a parameter non-finite, the run stops at step s: by
default it raises :class:`DivergenceError`, whose message names the step and what was
non-finite and which carries the record so far; with ``on_nonfinite="record"`` it
returns that record instead, with ``history.diverged_at = s``. The parameters are left
as they were when the run stopped (a bad update is not undone). numpy's overflow and
invalid-value warnings are silenced inside a step, since the loop checks for their
result itself.
"""

import math
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from . import activations, losses, rnn
from . import clip as clipping
from .validation import check_choice, check_positive

NONFINITE = ("raise", "record")


class DivergenceError(FloatingPointError):
    """Training met a NaN or inf. ``step``: the step (counting from 0); ``history``: the
    :class:`History` up to and including that step."""

    def __init__(self, message, step, history):
        super().__init__(message)
        self.step = step
        self.history = history


@dataclass(repr=False)
class History:
    """What :func:`run` recorded; n is the number of steps taken.

    loss:        (n,) the loss at step s, before the update of step s.
    grad_norm:   (n,) the global norm ‖g‖ of the parameters' gradients, before clipping.
    clipped:     (n,) bool, True where clipping changed the gradient.
    eval_steps:  (m,) int, the number of updates made before each evaluation.
    evals:       list of m values, what ``evaluate`` returned.
    diverged_at: the step at which a NaN or inf stopped the run, or None.
    message:     what was non-finite, or None.
    """

    loss: np.ndarray
    grad_norm: np.ndarray
    clipped: np.ndarray
    eval_steps: np.ndarray
    evals: list
    diverged_at: int | None = None
    message: str | None = None

    @property
    def steps(self):
        """The number of steps taken (recorded)."""
        return len(self.loss)

    @property
    def clipped_fraction(self):
        """The fraction of the steps on which clipping changed the gradient."""
        return float(np.mean(self.clipped)) if self.steps else 0.0

    def __repr__(self):
        if self.steps == 0:
            return "History(no steps)"
        end = f"diverged at step {self.diverged_at}" if self.diverged_at is not None else \
            f"final loss {self.loss[-1]:.4g}"
        return (f"History({self.steps} steps, {end}, clipped on {self.clipped_fraction:.0%} of steps, "
                f"{len(self.evals)} evaluations)")


# --------------------------------------------------------------------------- arguments


def _check_steps(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer; got {value!r}")
    return int(value)


def _check_callable(name, value):
    if not callable(value):
        raise TypeError(f"{name} must be a callable (a function); got {type(value).__name__}")


def _clip_rule(clip):
    """A function grads -> clipped grads, or None."""
    if clip is None:
        return None
    if callable(clip):
        return clip
    if isinstance(clip, tuple) and len(clip) == 2:
        variant, theta = clip
        check_choice("clipping variant", variant, clipping.VARIANTS)
        if isinstance(theta, (int, float, np.integer, np.floating)) and theta == math.inf:
            raise ValueError("the clipping threshold theta is inf: pass clip=None to train without clipping")
        check_positive("the clipping threshold theta", theta)
        clip_fn = clipping.VARIANTS[variant]
        return lambda grads: clip_fn(grads, theta)
    raise ValueError(
        "clip must be None, a pair (variant, theta) such as ('global_norm', 1.0), or a callable "
        f"grads -> clipped grads; got {clip!r}"
    )


def _batch_source(batches, steps):
    """A function step -> batch."""
    if batches is None:
        return lambda step: None
    if callable(batches):
        return batches
    if isinstance(batches, (tuple, np.ndarray)) or not isinstance(batches, Iterable):
        raise ValueError(
            f"batches must be a callable step -> batch, a list or iterator of batches, or None; got "
            f"{type(batches).__name__} (to use one batch at every step, pass lambda step: batch)"
        )
    iterator = iter(batches)

    def next_batch(step):
        try:
            return next(iterator)
        except StopIteration:
            raise ValueError(
                f"batches ran out after {step} batch(es), but steps={steps}: pass more batches, "
                f"a callable step -> batch, or fewer steps"
            ) from None

    return next_batch


def _check_optimizer(optimizer):
    if not (isinstance(getattr(optimizer, "params", None), dict) and callable(getattr(optimizer, "step", None))):
        raise ValueError(
            "optimizer must be an optimiser from vanishgrad.optim (an object with .params and "
            f".step(grads)); got {type(optimizer).__name__}"
        )


class _Progress:
    """A one-line text progress report, rewritten in place with a carriage return."""

    def __init__(self, progress, steps):
        if progress is True:
            self.stream = sys.stdout
        elif progress is False or progress is None:
            self.stream = None
        elif callable(getattr(progress, "write", None)):
            self.stream = progress
        else:
            raise ValueError(f"progress must be True, False or a writable text stream; got {progress!r}")
        self.steps, self.every, self.width = steps, max(1, steps // 50), 0

    def update(self, done, loss, norm, clipped):
        if self.stream is None or (done % self.every and done != self.steps):
            return
        line = (f"step {done}/{self.steps}  loss {loss:.4g}  gradient norm {norm:.3g}  "
                f"clipped {np.mean(clipped[:done]):.0%}")
        self.stream.write("\r" + line.ljust(self.width))
        self.stream.flush()
        self.width = len(line)

    def close(self):
        if self.stream is not None and self.width:
            self.stream.write("\n")
            self.stream.flush()


# --------------------------------------------------------------------------- one step


def _loss_and_grads(loss_and_grads, params, batch, step):
    out = loss_and_grads(params, batch)
    if not (isinstance(out, tuple) and len(out) == 2):
        raise ValueError(
            f"loss_and_grads must return a pair (loss, grads); at step {step} it returned {out!r:.80}"
        )
    loss, grads = out
    try:
        loss = float(loss)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"loss_and_grads must return a number as the loss; at step {step} it returned {loss!r:.80}"
        ) from exc
    return loss, grads


def _parameter_gradients(grads, params, step):
    """The gradients of the parameters only, as a new dict."""
    if not isinstance(grads, Mapping):
        raise ValueError(
            f"loss_and_grads must return a dict of gradients; at step {step} it returned {type(grads).__name__}"
        )
    missing = [k for k in params if k not in grads]
    if missing:
        raise ValueError(
            f"at step {step}, loss_and_grads returned no gradient for the parameter(s) "
            f"{', '.join(map(repr, missing))}"
        )
    return {k: grads[k] for k in params}


def _clipped(rule, grads):
    out = rule(grads)
    if isinstance(out, tuple) and out:
        out = out[0]  # the functions of vanishgrad.clip return (clipped, norm)
    if not isinstance(out, Mapping):
        raise ValueError(
            f"the clipping rule must return a dict of gradients (or a tuple whose first item is one); "
            f"got {type(out).__name__}"
        )
    return dict(out)


def _changed(before, after):
    return any(np.shape(before[k]) != np.shape(after[k]) or (before[k] != after[k]).any() for k in before)


def _nonfinite_gradient(norm, grads):
    """What is wrong with the gradients if their norm is NaN or inf, else None."""
    if math.isfinite(norm):
        return None
    report = clipping._nonfinite_report({k: np.asarray(g) for k, g in grads.items()})
    return f"the gradient norm is {norm}: {report}"


def _nonfinite_update(params, loss):
    """What is wrong with the parameters if an update made one NaN or inf, else None."""
    bad = [name for name, p in params.items() if not np.isfinite(p).all()]
    if not bad:
        return None
    return f"the update made params[{bad[0]!r}] non-finite (the loss before it was {loss:.6g})"


# --------------------------------------------------------------------------- the loop


def run(loss_and_grads, batches, optimizer, steps, *, clip=None, evaluate=None, eval_every=None,
        on_nonfinite="raise", progress=False):
    """Train for ``steps`` steps; return a :class:`History` (see the module doc for a step).

    loss_and_grads: callable (params, batch) -> (loss, grads): a number and a dict holding
                    at least the gradient of every parameter, each of its shape
                    (grads may be None when the loss is not finite; it is not read then).
    batches:        callable step -> batch, an iterable of batches (a list, an iterator), or
                    None (then batch is None).
    optimizer:      an optimiser from :mod:`vanishgrad.optim`; its ``params`` are trained.
    steps:          the number of steps, a positive integer.
    clip:           None (no clipping), a pair (variant, θ) with variant one of
                    "global_norm", "tensor_norm", "value" (:mod:`vanishgrad.clip`) and θ a
                    finite number > 0, or a callable grads -> clipped grads (a dict, or a
                    tuple whose first item is the dict, as vanishgrad.clip returns).
    evaluate, eval_every: a callable params -> anything, called after every
                    ``eval_every``-th update (both or neither).
    on_nonfinite:   "raise" (default): raise :class:`DivergenceError` at the first NaN or
                    inf; "record": stop there and return the record, with ``diverged_at`` set.
    progress:       False (default), True (a line on stdout, rewritten as training goes),
                    or a text stream to write that line to.
    Returns a History with n = steps entries, or fewer if the run diverged.
    """
    _check_callable("loss_and_grads", loss_and_grads)
    _check_optimizer(optimizer)
    steps = _check_steps("steps", steps)
    next_batch = _batch_source(batches, steps)
    rule = _clip_rule(clip)
    if (evaluate is None) != (eval_every is None):
        raise ValueError("pass evaluate and eval_every together (or neither)")
    if evaluate is not None:
        _check_callable("evaluate", evaluate)
        eval_every = _check_steps("eval_every", eval_every)
    check_choice("on_nonfinite", on_nonfinite, NONFINITE)
    bar = _Progress(progress, steps)

    params = optimizer.params
    loss_record = np.full(steps, np.nan)
    norm_record = np.full(steps, np.nan)
    clipped = np.zeros(steps, dtype=bool)
    eval_steps, evals = [], []
    done, diverged_at, message = 0, None, None
    for step in range(steps):
        batch = next_batch(step)
        with np.errstate(over="ignore", invalid="ignore"):  # NaN and inf are checked for below
            loss, grads = _loss_and_grads(loss_and_grads, params, batch, step)
            loss_record[step] = loss
            problem = None if math.isfinite(loss) else f"the loss is {loss}"
            if problem is None:
                grads = _parameter_gradients(grads, params, step)
                norm_record[step] = clipping.global_norm(grads)
                problem = _nonfinite_gradient(norm_record[step], grads)
            if problem is None:
                if rule is not None:
                    new = _clipped(rule, grads)
                    clipped[step] = _changed(grads, new)
                    grads = new
                optimizer.step(grads)
                problem = _nonfinite_update(params, loss)
        done = step + 1
        if problem is not None:
            diverged_at, message = step, f"training diverged at step {step} (counting from 0): {problem}"
            break
        if evaluate is not None and done % eval_every == 0:
            eval_steps.append(done)
            evals.append(evaluate(params))
        bar.update(done, loss, norm_record[step], clipped)
    bar.close()

    history = History(loss_record[:done].copy(), norm_record[:done].copy(), clipped[:done].copy(),
                      np.array(eval_steps, dtype=int), evals, diverged_at, message)
    if diverged_at is not None and on_nonfinite == "raise":
        raise DivergenceError(message, diverged_at, history)
    return history


# --------------------------------------------------------------------------- the rnn, last-step MSE


def rnn_mse_last(activation="tanh", truncate=None):
    """``loss_and_grads`` for :mod:`vanishgrad.rnn` with the last-step loss of :func:`losses.mse_last`.

    activation: the RNN's f (a name from :mod:`vanishgrad.activations`).
    truncate:   None for full BPTT, or k for BPTT(k) (see :func:`rnn.backward`).
    Returns a function (params, batch) -> (loss, grads) for :func:`run`, where params is
    {"U", "W", "b", "V", "c"} (as :func:`rnn.init_params` makes it), batch is a pair (x, y)
    with x (T, B, D) and y (B, K), h_0 = 0, and grads holds the five parameter gradients.
    It computes in the dtype of params["W"]. If the outputs overflow to inf or NaN, it
    returns that as the loss (inf, or NaN if any output is NaN) and None as the gradients.
    """
    act = activations.get(activation)  # an unknown name fails here, not at the first step

    def loss_and_grads(params, batch):
        missing = [k for k in rnn.PARAMS if k not in params]
        if missing:
            raise ValueError(f"params has no {', '.join(map(repr, missing))}; pass rnn.init_params(...)")
        if not (isinstance(batch, (tuple, list)) and len(batch) == 2):
            raise ValueError(f"batch must be a pair (x, y) with x (T, B, D) and y (B, K); got {type(batch).__name__}")
        x, y = batch
        x = np.asarray(x)
        if x.ndim != 3:
            raise ValueError(f"x must have shape (T, B, D) (time-major); got {x.shape}")
        W = params["W"]
        h0 = np.zeros((x.shape[1], W.shape[0]), dtype=W.dtype)
        o, cache = rnn.forward(x, h0, **{k: params[k] for k in rnn.PARAMS}, activation=act, dtype=W.dtype)
        if not np.all(np.isfinite(o)):
            return (math.nan if np.isnan(o).any() else math.inf), None
        loss, do = losses.mse_last(o, y)
        grads = rnn.backward(do, cache, truncate=truncate)
        return loss, {k: grads[k] for k in rnn.PARAMS}

    return loss_and_grads
