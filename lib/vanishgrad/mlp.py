"""A deep multilayer perceptron, its forward and backward passes written out layer by layer.

Layers are numbered l = 1, …, L. **Layer 1 is nearest the input, layer L nearest the
output.** With h_0 = x, one example per row::

    net_l = h_{l-1} W_lᵀ + b_l     W_l: (H_l, H_{l-1})   b_l: (H_l,)   net_l, h_l: (B, H_l)
    h_l   = f(net_l)               the hidden layers, l = 1, …, L−1
    o     = net_L                  the readout (layer L) is linear: o is (B, K), K = H_L

x is (B, D) with D = H_0. The sizes of a network are the list [H_0, H_1, …, H_L], so a net
with L layers has L weight matrices. W_l is (out, in) as in the math, and the batched code
computes ``h_prev @ W.T``. A loss (here :func:`softmax_cross_entropy`) turns o into a number
and hands :func:`backward` the gradient do = ∂L/∂o.

The chain rule that the book studies is one line of :func:`layer_backward`::

    ∂L/∂net_l = ∂L/∂h_l ⊙ f'(net_l),   ∂L/∂h_{l-1} = ∂L/∂net_l W_l,
    ∂L/∂W_l = (∂L/∂net_l)ᵀ h_{l-1},   ∂L/∂b_l = Σ_rows ∂L/∂net_l

so ∂L/∂h_{l-1} = ∂L/∂h_l · diag(f'(net_l)) W_l, row by row: the backward signal is
multiplied by Wᵀ diag(f') once per layer.

Parameters live in a dict ``{"W1": …, "b1": …, …, "WL": …, "bL": …}``. dtype follows the
library's convention (:mod:`vanishgrad.validation`): float32 if every input array (the
batch and every parameter) is float32, float64 otherwise. One layer is a forward/backward
pair of its own (:func:`layer_forward`, :func:`layer_backward`), so a block that wraps a
layer (a skip connection, say) needs nothing new from this module.
"""

import re
from collections import namedtuple

import numpy as np

from . import activations
from .validation import (as_generator, as_real_array, as_real_arrays, check_cache, check_choice,
                         check_dtype, check_finite, check_integer, check_nonempty, check_positive,
                         check_shape)

#: The cache of one layer, as :func:`layer_forward` returns it and :func:`layer_backward` reads it.
LayerCache = namedtuple("LayerCache", "h_prev W net h activation")

#: The initialisations :func:`init_params` knows; "glorot" is another name for "xavier".
INITS = ("naive", "xavier", "glorot", "he")


# --------------------------------------------------------------------------- parameters


def _check_sizes(sizes):
    sizes = list(sizes) if isinstance(sizes, (list, tuple)) else sizes
    if not isinstance(sizes, list) or len(sizes) < 2:
        raise ValueError(f"sizes must be a list [H_0, H_1, ..., H_L] of at least 2 layer sizes; got {sizes!r}")
    return [check_integer(f"sizes[{i}]", n, minimum=1) for i, n in enumerate(sizes)]


def init_params(sizes, init="xavier", *, scale=1.0, rng=None, dtype=np.float64):
    """Random weights and zero biases for a net of the given sizes.

    sizes: [H_0, H_1, …, H_L]: the input size D = H_0, the hidden sizes, the output size K = H_L.
    init:  how W_l (H_l, H_{l-1}) is drawn, with n_in = H_{l-1} and n_out = H_l:

           - ``"naive"``: uniform on [−1/√n_in, 1/√n_in], variance 1/(3 n_in): the common
             heuristic before 2010, the "standard initialisation" Glorot & Bengio compare against;
           - ``"xavier"`` (or ``"glorot"``): uniform on [−a, a], a = √(6/(n_in + n_out)),
             variance 2/(n_in + n_out) (Glorot & Bengio 2010);
           - ``"he"``: normal with mean 0 and variance 2/n_in (He et al. 2015).

    scale: a gain multiplying every W_l after it is drawn (1 leaves the init as named).
    rng:   a seed or a ``np.random.Generator``; the same seed gives the same weights.
    dtype: float64 (the default; None means the same) or float32; anything else is a ValueError.
    Returns {"W1": (H_1, H_0), "b1": (H_1,), …, "WL": (H_L, H_{L-1}), "bL": (H_L,)}.
    """
    sizes = _check_sizes(sizes)
    check_choice("init", init, INITS)
    check_positive("scale", scale)
    dtype = check_dtype(dtype) or np.dtype(np.float64)
    rng = as_generator(rng)
    params = {}
    for l in range(1, len(sizes)):
        n_in, n_out = sizes[l - 1], sizes[l]
        if init == "naive":
            a = 1.0 / np.sqrt(n_in)
            W = rng.uniform(-a, a, (n_out, n_in))
        elif init in ("xavier", "glorot"):
            a = np.sqrt(6.0 / (n_in + n_out))
            W = rng.uniform(-a, a, (n_out, n_in))
        else:  # "he"
            W = rng.standard_normal((n_out, n_in)) * np.sqrt(2.0 / n_in)
        params[f"W{l}"] = (scale * W).astype(dtype)
        params[f"b{l}"] = np.zeros(n_out, dtype=dtype)
    return params


def _layer_count(name, d, prefixes, source):
    """L for a dict keyed W1 … WL (and more per-layer prefixes); ValueError naming a missing key."""
    if not isinstance(d, dict):
        raise ValueError(f"{name} must be a dict {{'W1': ..., 'b1': ..., ...}} {source}; got {type(d).__name__}")
    layers = [int(m.group(1)) for k in d if isinstance(k, str) and (m := re.fullmatch(r"W([1-9][0-9]*)", k))]
    L = max(layers, default=0)
    missing = [f"{p}{l}" for l in range(1, max(L, 1) + 1) for p in prefixes if f"{p}{l}" not in d]
    if missing:
        raise ValueError(f"{name} must hold {', '.join(f'{p}1' for p in prefixes)}, …, "
                         f"{', '.join(f'{p}L' for p in prefixes)} {source}; missing {', '.join(missing)}")
    return L


def num_layers(params):
    """L, the number of weight matrices W1 … WL in ``params`` (checked to be consecutive, each with its b)."""
    return _layer_count("params", params, ("W", "b"), "(as init_params returns)")


def _checked_params(params, D, dtype):
    """Params as arrays of ``dtype``, finite, with shapes chained from D; returns (params, sizes)."""
    L = num_layers(params)
    out, sizes = {}, [D]
    for l in range(1, L + 1):
        W = as_real_array(f"W{l}", params[f"W{l}"], dtype)
        if W.ndim != 2:
            raise ValueError(f"W{l} must have shape (H_{l}, H_{l-1}) = (?, {sizes[-1]}); got {W.shape}")
        check_shape(f"W{l}", W, (None, sizes[-1]), (f"H_{l}", f"H_{l-1}"))
        b = as_real_array(f"b{l}", params[f"b{l}"], dtype)
        check_shape(f"b{l}", b, (W.shape[0],), (f"H_{l}",))
        check_finite(f"W{l}", W)
        check_finite(f"b{l}", b)
        out[f"W{l}"], out[f"b{l}"] = W, b
        sizes.append(W.shape[0])
    return out, sizes


def _checked_batch(name, x, params):
    """x (B, D) and the params, all in the dtype they meet in, checked; returns (x, params, sizes)."""
    L = num_layers(params)
    params = {k: params[k] for l in range(1, L + 1) for k in (f"W{l}", f"b{l}")}
    arrays = as_real_arrays({name: x, **params})
    dtype = arrays[0].dtype
    x = arrays[0]
    if x.ndim != 2:
        raise ValueError(f"{name} must have shape (B, D), one example per row; got {x.shape}")
    check_nonempty(name, x, ("B", "D"))
    check_finite(name, x)
    params, sizes = _checked_params(dict(zip(params, arrays[1:])), x.shape[1], dtype)
    return x, params, sizes


# --------------------------------------------------------------------------- one layer


def layer_forward(h_prev, W, b, activation="sigmoid"):
    """One layer, h = f(h_prev Wᵀ + b).

    h_prev: (B, H_in)   W: (H_out, H_in)   b: (H_out,)
    activation: a name known to :func:`vanishgrad.activations.get` ("identity" gives a
    linear layer, such as the readout).
    Returns h (B, H_out) and a cache for :func:`layer_backward`, a :class:`LayerCache`
    (h_prev, W, net, h, activation).
    """
    act = activations.get(activation)
    h_prev, W, b = as_real_arrays({"h_prev": h_prev, "W": W, "b": b})
    if W.ndim != 2:
        raise ValueError(f"W must have shape (H_out, H_in); got {W.shape}")
    H_out, H_in = W.shape
    check_shape("h_prev", h_prev, (None, H_in), ("B", "H_in"))
    check_shape("b", b, (H_out,), ("H_out",))
    check_nonempty("h_prev", h_prev, ("B", "H_in"))
    for name, a in (("h_prev", h_prev), ("W", W), ("b", b)):
        check_finite(name, a)
    return _layer_forward(h_prev, W, b, act)


def _layer_forward(h_prev, W, b, act):
    net = h_prev @ W.T + b
    h = act.f(net).astype(net.dtype, copy=False)
    return h, LayerCache(h_prev, W, net, h, act)


def _check_layer_cache(cache, name="cache"):
    if not isinstance(cache, LayerCache):
        raise ValueError(f"{name} must be the second value returned by mlp.layer_forward "
                         f"(a LayerCache); got {type(cache).__name__}")


def layer_backward(dh, cache):
    """Gradients of one layer from dh = ∂L/∂h (B, H_out) and the cache of :func:`layer_forward`.

    Returns {"h_prev": (B, H_in), "W": (H_out, H_in), "b": (H_out,), "net": (B, H_out)}:
    ∂L/∂net = dh ⊙ f'(net), then ∂L/∂h_prev = ∂L/∂net · W, ∂L/∂W = (∂L/∂net)ᵀ h_prev and
    ∂L/∂b = the column sums of ∂L/∂net. f'(net) is computed from net, not from h, so it
    stays exact deep in a saturated tail where h rounds to 0 or 1.
    Raises ValueError on a cache not from :func:`layer_forward`, a wrong shape, complex
    input, or a NaN or inf in dh.
    """
    _check_layer_cache(cache)
    dh = as_real_array("dh", dh, cache.h.dtype)
    check_shape("dh", dh, cache.h.shape, ("B", "H_out"))
    check_finite("dh", dh)
    return _layer_backward(dh, cache)


def _layer_backward(dh, cache):
    h_prev, W, net, h, act = cache
    dnet = (dh * act.df(net)).astype(net.dtype, copy=False)
    return {"h_prev": dnet @ W, "W": dnet.T @ h_prev, "b": dnet.sum(axis=0), "net": dnet}


# --------------------------------------------------------------------------- the whole net


def forward(x, params, activation="sigmoid"):
    """The net's output o = net_L for a batch x.

    x:      (B, D), D = H_0.
    params: {"W1": (H_1, H_0), "b1": (H_1,), …, "WL": (K, H_{L-1}), "bL": (K,)}.
    activation: f of the hidden layers 1 … L−1 (a name from :mod:`vanishgrad.activations`);
            the readout, layer L, is linear.
    Returns o (B, K) and a cache for :func:`backward`, a dict holding "activation",
    "layers" (the L layer caches, layer 1 first), "h" {l: h_l (B, H_l)} for l = 0 … L−1
    (h_0 = x) and "net" {l: net_l (B, H_l)} for l = 1 … L (net_L = o).
    """
    act = activations.get(activation)
    x, params, _ = _checked_batch("x", x, params)
    return _forward(x, params, act)


def _forward(x, params, act):
    L = len(params) // 2
    identity = activations.get("identity")
    cache = {"activation": act, "layers": [], "h": {0: x}, "net": {}}
    h = x
    for l in range(1, L + 1):
        h, layer = _layer_forward(h, params[f"W{l}"], params[f"b{l}"], act if l < L else identity)
        cache["layers"].append(layer)
        cache["net"][l] = layer.net
        if l < L:
            cache["h"][l] = h
    return h, cache


def backward(do, cache):
    """Backpropagation through the whole net, from do = ∂L/∂o (B, K).

    Returns a dict of gradients: "W1" … "WL" and "b1" … "bL" (shaped like the
    parameters), "x" (B, D), and the backward signals "h1" … "h{L-1}" = ∂L/∂h_l and
    "net1" … "netL" = ∂L/∂net_l, each (B, H_l). Layer L is handled first, layer 1 last.
    Raises ValueError on a cache not from :func:`forward`, a wrong shape, complex input,
    or a NaN or inf in do.
    """
    check_cache(cache, ("layers",), "mlp.forward")
    layers = cache["layers"]
    if not (isinstance(layers, list) and layers):
        raise ValueError("cache['layers'] must be the non-empty list mlp.forward stores; pass mlp.forward's cache")
    for l, layer in enumerate(layers, start=1):
        _check_layer_cache(layer, name=f"cache['layers'][{l - 1}]")
    o = layers[-1].h
    do = as_real_array("do", do, o.dtype)
    check_shape("do", do, o.shape, ("B", "K"))
    check_finite("do", do)
    return _backward(do, cache)


def _backward(do, cache):
    L = len(cache["layers"])
    grads = {}
    dh = do
    for l in range(L, 0, -1):
        g = _layer_backward(dh, cache["layers"][l - 1])
        grads[f"W{l}"], grads[f"b{l}"], grads[f"net{l}"] = g["W"], g["b"], g["net"]
        dh = g["h_prev"]
        grads[f"h{l - 1}" if l > 1 else "x"] = dh
    return grads


def layer_gradient_norms(grads):
    """‖∂L/∂W_l‖ (Frobenius) for l = 1 … L, from the dict :func:`backward` returns: shape (L,).

    Raises ValueError if a layer's gradient is missing (naming it) or holds NaN or inf.
    """
    L = _layer_count("grads", grads, ("W",), "(as mlp.backward returns)")
    norms = np.empty(L)
    for l in range(1, L + 1):
        dW = as_real_array(f"grads['W{l}']", grads[f"W{l}"])
        check_finite(f"grads['W{l}']", dW)
        norms[l - 1] = np.linalg.norm(dW)
    return norms


# --------------------------------------------------------------------------- loss and training


def _check_labels(y, B, K):
    try:
        y = np.asarray(y)
    except ValueError as exc:
        raise ValueError(f"y must be an array of integer class labels 0 … K−1; got {type(y).__name__}") from exc
    check_shape("y", y, (B,), ("B",))
    if not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"y must hold integer class labels 0 … K−1; got dtype {y.dtype}")
    if y.size and (y.min() < 0 or y.max() >= K):
        raise ValueError(f"y must hold class labels in 0 … {K - 1}; got labels from {y.min()} to {y.max()}")
    return y


def softmax_cross_entropy(o, y):
    """Mean cross-entropy of softmax(o) against integer labels, and its gradient.

    o: (B, K) logits (the net's output); y: (B,) integer labels in 0 … K−1.
    Returns (loss, do): L = −(1/B) Σ_b log softmax(o_b)[y_b], a float, and
    do = ∂L/∂o = (softmax(o) − onehot(y)) / B, (B, K).
    Raises ValueError on an empty batch, complex input, a NaN or inf in o, or labels
    that are not integers in 0 … K−1.
    """
    o = as_real_array("o", o)
    if o.ndim != 2:
        raise ValueError(f"o must have shape (B, K); got {o.shape}")
    check_nonempty("o", o, ("B", "K"))
    check_finite("o", o)
    y = _check_labels(y, *o.shape)
    return _softmax_cross_entropy(o, y)


def _softmax_cross_entropy(o, y):
    B = o.shape[0]
    z = o - o.max(axis=1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    rows = np.arange(B)
    loss = -float(np.mean(log_p[rows, y]))
    do = np.exp(log_p)
    do[rows, y] -= 1.0
    return loss, do / B


def train(params, x, y, *, activation="sigmoid", lr=0.1, steps=100, batch_size=None, rng=None):
    """Plain stochastic gradient descent on the softmax cross-entropy; a record of every step.

    params: as for :func:`forward`; not modified (training works on a copy).
    x: (N, D) inputs; y: (N,) integer labels in 0 … K−1.
    lr: the learning rate; steps: the number of updates W_l ← W_l − lr ∂L/∂W_l.
    batch_size: examples per step, drawn without replacement from x each step
            (``None``: all N, i.e. full-batch gradient descent); rng: a seed or a generator
            for the draws. The same params, data and seed give the same run.
    Returns (params, history); history holds, per step t (before its update):

    - "loss" (steps,): the loss on the step's batch;
    - "grad_norm" (steps, L): ‖∂L/∂W_l‖, column l−1 for layer l;
    - "update_ratio" (steps, L): ‖ΔW_l‖ / ‖W_l‖ = lr ‖∂L/∂W_l‖ / ‖W_l‖, the relative size
      of the step each layer takes.

    Raises ``FloatingPointError``, naming the step, if the loss or the weights become
    inf or NaN (a learning rate or a weight scale too large): training stops there.
    """
    act = activations.get(activation)
    x, params, sizes = _checked_batch("x", x, params)
    params = {k: v.copy() for k, v in params.items()}
    N, L = x.shape[0], len(sizes) - 1
    y = _check_labels(y, N, sizes[-1])
    check_positive("lr", lr)
    steps = check_integer("steps", steps, minimum=1)
    if batch_size is not None and not (
        isinstance(batch_size, (int, np.integer)) and not isinstance(batch_size, bool) and 1 <= batch_size <= N
    ):
        raise ValueError(f"batch_size must be None or an integer in 1 … N = {N}; got {batch_size!r}")
    rng = as_generator(rng)

    history = {
        "loss": np.empty(steps),
        "grad_norm": np.empty((steps, L)),
        "update_ratio": np.empty((steps, L)),
    }
    with np.errstate(all="ignore"):  # overflow shows up as a non-finite loss, reported below
        for t in range(steps):
            if batch_size is None:
                xb, yb = x, y
            else:
                rows = rng.choice(N, size=batch_size, replace=False)
                xb, yb = x[rows], y[rows]
            o, cache = _forward(xb, params, act)
            loss, do = _softmax_cross_entropy(o, yb)
            if not np.isfinite(loss):
                raise FloatingPointError(
                    f"training diverged: the loss is {loss} at step {t} (lr = {lr}); "
                    "lower the learning rate or the weight scale"
                )
            grads = _backward(do, cache)
            history["loss"][t] = loss
            for l in range(1, L + 1):
                W, dW = params[f"W{l}"], grads[f"W{l}"]
                g = np.linalg.norm(dW)
                history["grad_norm"][t, l - 1] = g
                history["update_ratio"][t, l - 1] = lr * g / np.linalg.norm(W)
                W -= lr * dW
                params[f"b{l}"] -= lr * grads[f"b{l}"]
    bad = [k for k, v in params.items() if not np.all(np.isfinite(v))]
    if bad:
        raise FloatingPointError(
            f"training diverged: {', '.join(bad)} became inf or NaN in the last step (lr = {lr}); "
            "lower the learning rate or the weight scale"
        )
    return params, history
