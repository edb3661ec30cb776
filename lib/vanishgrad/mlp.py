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


# train's own forward and backward passes. They compute what _forward, _softmax_cross_entropy
# and _backward compute, operation for operation and in the same order, so training gives the
# same numbers to the last bit; what they save is time: every array is allocated once for the
# whole run, the sigmoid's f' reuses the e^{-|net|} of its forward pass instead of computing
# the exponential again, and ∂L/∂x, which training does not use, is skipped.
#
# f_into(net, h, z, d) writes f(net) into h; dnet_into(net, dh, dnet, z, d) writes
# ∂L/∂net = dh ⊙ f'(net) into dnet. z and d are scratch arrays of net's shape; the sigmoid's
# forward pass leaves e^{-|net|} and 1 + e^{-|net|} in them for the backward pass of the same
# layer. Each kernel follows its function in vanishgrad.activations step by step (a NaN or an
# inf takes the same path too), and the tests compare whole training runs bit for bit.


def _sigmoid_into(net, h, z, d):  # activations.sigmoid
    np.abs(net, out=z)
    z *= -1.0
    np.exp(z, out=z)  # z = e^{-|net|}
    np.greater_equal(net, 0.0, out=h, casting="unsafe")  # 1 for net ≥ 0, else 0
    np.maximum(h, z, out=h)  # the numerator: 1 for net ≥ 0, z for net < 0
    np.add(z, 1.0, out=d)
    h /= d


def _sigmoid_dnet_into(net, dh, dnet, z, d):  # activations.sigmoid_grad, from z and d above
    d *= d
    np.divide(z, d, out=dnet)  # σ'(net) = z / (1 + z)²
    np.multiply(dh, dnet, out=dnet)


def _tanh_into(net, h, z, d):  # activations.tanh
    np.tanh(net, out=h)


def _tanh_dnet_into(net, dh, dnet, z, d):  # activations.tanh_grad
    np.abs(net, out=z)
    z *= -2.0
    np.exp(z, out=z)  # z = e^{-2|net|}
    np.add(z, 1.0, out=d)
    d *= d
    z *= 4.0
    np.divide(z, d, out=dnet)  # tanh'(net) = 4z / (1 + z)²
    np.multiply(dh, dnet, out=dnet)


def _relu_into(net, h, z, d):  # activations.relu
    np.maximum(net, 0.0, out=h)


def _relu_dnet_into(net, dh, dnet, z, d):  # activations.relu_grad
    np.greater(net, 0.0, out=dnet, casting="unsafe")  # 1 where net > 0, else 0
    np.multiply(dh, dnet, out=dnet)


def _identity_into(net, h, z, d):  # activations.identity
    np.copyto(h, net)


def _identity_dnet_into(net, dh, dnet, z, d):  # activations.identity_grad
    dnet.fill(1.0)
    np.multiply(dh, dnet, out=dnet)


_TRAINING_KERNELS = {
    "sigmoid": (_sigmoid_into, _sigmoid_dnet_into),
    "tanh": (_tanh_into, _tanh_dnet_into),
    "relu": (_relu_into, _relu_dnet_into),
    "identity": (_identity_into, _identity_dnet_into),
}


class _TrainingPasses:
    """Loss and gradients of a net with the library's activation ``act``, for batches of B rows.

    params: checked params of one dtype, which :func:`train` updates in place between calls.
    :meth:`gradients` returns the same loss and the same "W1" … "bL" as _forward,
    _softmax_cross_entropy and _backward do, to the last bit, in arrays it overwrites on the
    next call.
    """

    def __init__(self, params, act, B):
        L = len(params) // 2
        self.f_into, self.dnet_into = _TRAINING_KERNELS[act.name]
        self.W = [params[f"W{l}"] for l in range(1, L + 1)]
        self.b = [params[f"b{l}"] for l in range(1, L + 1)]
        dtype = self.W[0].dtype

        def per_layer():  # one (B, H_l) array for each layer l = 1 … L (index l − 1)
            return [np.empty((B, W.shape[0]), dtype) for W in self.W]

        def shared():  # one (B, H) array for all the layers of width H, which keeps it in cache
            by_width = {H: np.empty((B, H), dtype) for H in {W.shape[0] for W in self.W}}
            return [by_width[W.shape[0]] for W in self.W]

        self.net, self.h = per_layer(), per_layer()
        # only the sigmoid carries something (z and d) from a layer's forward pass to its backward pass
        self.z, self.d = (per_layer(), per_layer()) if act.name == "sigmoid" else (shared(), shared())
        self.dh, self.dnet = shared(), shared()
        self.grads = {}
        for l, (W, b) in enumerate(zip(self.W, self.b), start=1):
            self.grads[f"W{l}"], self.grads[f"b{l}"] = np.empty_like(W), np.empty_like(b)

    def gradients(self, x, y):
        """(loss, grads) for the batch x (B, D), y (B,); grads is None if the loss is inf or NaN."""
        L = len(self.W)
        h = x
        for l in range(L):  # layer l + 1
            net = self.net[l]
            np.matmul(h, self.W[l].T, out=net)
            net += self.b[l]
            if l < L - 1:
                self.f_into(net, self.h[l], self.z[l], self.d[l])
                h = self.h[l]
        loss, do = _softmax_cross_entropy(self.net[-1], y)
        if not np.isfinite(loss):
            return loss, None
        dnet = do  # the readout is linear: ∂L/∂net_L = ∂L/∂o
        for l in range(L - 1, -1, -1):  # layer l + 1, the readout first
            h_prev = self.h[l - 1] if l > 0 else x
            np.matmul(dnet.T, h_prev, out=self.grads[f"W{l + 1}"])
            np.sum(dnet, axis=0, out=self.grads[f"b{l + 1}"])
            if l > 0:
                np.matmul(dnet, self.W[l], out=self.dh[l - 1])
                self.dnet_into(self.net[l - 1], self.dh[l - 1], self.dnet[l - 1], self.z[l - 1], self.d[l - 1])
                dnet = self.dnet[l - 1]
        return loss, self.grads


def _gradients(params, act, x, y):
    """The general (loss, grads) of a step, for an activation the passes above do not know."""
    o, cache = _forward(x, params, act)
    loss, do = _softmax_cross_entropy(o, y)
    if not np.isfinite(loss):
        return loss, None
    return loss, _backward(do, cache)


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

    Each step computes exactly what :func:`forward`, :func:`softmax_cross_entropy` and
    :func:`backward` compute, to the last bit, in arrays allocated once for the whole run.
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

    if act is activations.ACTIVATIONS.get(act.name):
        gradients = _TrainingPasses(params, act, N if batch_size is None else batch_size).gradients
    else:  # an Activation of the caller's own
        def gradients(xb, yb):
            return _gradients(params, act, xb, yb)
    # lr ∂L/∂W_l and lr ∂L/∂b_l, in the dtype of lr * grad (float64 for a float64 lr and float32 params)
    updates = {k: np.empty(v.shape, np.result_type(lr, v)) for k, v in params.items()}
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
            loss, grads = gradients(xb, yb)
            if not np.isfinite(loss):
                raise FloatingPointError(
                    f"training diverged: the loss is {loss} at step {t} (lr = {lr}); "
                    "lower the learning rate or the weight scale"
                )
            history["loss"][t] = loss
            for l in range(1, L + 1):
                W, dW = params[f"W{l}"], grads[f"W{l}"]
                g = np.linalg.norm(dW)
                history["grad_norm"][t, l - 1] = g
                history["update_ratio"][t, l - 1] = lr * g / np.linalg.norm(W)
                W -= np.multiply(lr, dW, out=updates[f"W{l}"])
                params[f"b{l}"] -= np.multiply(lr, grads[f"b{l}"], out=updates[f"b{l}"])
    bad = [k for k, v in params.items() if not np.all(np.isfinite(v))]
    if bad:
        raise FloatingPointError(
            f"training diverged: {', '.join(bad)} became inf or NaN in the last step (lr = {lr}); "
            "lower the learning rate or the weight scale"
        )
    return params, history
