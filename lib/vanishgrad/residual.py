"""Residual networks: blocks y = x + α·F(x), their Jacobians, and the paths through them.

**A block** keeps the width H and adds a scaled branch to its input, one example per row::

    net = x Wᵀ + b      F(x) = f(net)      y = x + α F(x)      x, y, net: (B, H)   W: (H, H)   b: (H,)

The branch F is one layer of :mod:`vanishgrad.mlp`, the same f(W x + b) as chapter 1's
hidden layers (computed by :func:`vanishgrad.mlp.layer_forward`); α is a scalar, the
branch scale. The block's Jacobian at one input is::

    ∂y/∂x = I + α J,      J = ∂F/∂x = diag(f'(net)) W      (H, H), column-vector convention

so a stack of blocks multiplies Π(I + α J_l) where a plain net multiplies Π J_l, and
backpropagation adds the skip's share to the branch's: ∂L/∂x = ∂L/∂y + α (∂L/∂y ⊙ f'(net)) W.

**A network** has the sizes [D, H, H, …, H, K] of an :mod:`vanishgrad.mlp` net, L layers,
layer 1 nearest the input::

    h_1 = f(x W_1ᵀ + b_1)                          the input layer, (B, H)
    h_l = h_{l-1} + α_l f(h_{l-1} W_lᵀ + b_l)      the blocks, l = 2 … L−1
    o   = h_{L-1} W_Lᵀ + b_L                        the linear readout, (B, K)

Its parameters are those of :func:`vanishgrad.mlp.init_params` with the same sizes (W1 …
WL, b1 … bL, the same names and shapes, and the same values for the same seed) plus
``"alpha"``, shape (L−2,), the scale of each block (alpha[l−2] for layer l). Drop the
skip, h_l = f(h_{l-1} W_lᵀ + b_l), and it is the plain net of chapter 1 with the same
weights, which is what makes the side-by-side comparison fair.

**The branch scale α, learned or fixed.** The parameters hold ``"alpha"``, and then α
is trained like every other parameter (SkipInit, De & Smith 2020; ReZero, Bachlechner et
al. 2020, start it at 0: ``init_params(..., alpha=0.0)``, every block the identity at
first). To keep α fixed (α = 1, the classic skip; α = 1/√(L−2), a scaled branch), take
it out of the parameters and pass it to the functions instead::

    params = residual.init_params(sizes, "he", rng=0)
    alpha = params.pop("alpha")                      # fixed: no longer a parameter
    o, cache = residual.forward(x, params, "relu", alpha=alpha)

An optimiser given ``params`` then never sees α. :func:`backward` returns ∂L/∂α either
way. Zero-initialised branches must learn α: with α fixed at 0 the blocks never learn,
since ∂L/∂W_l carries a factor α_l.

**Paths** (Veit, Wilber & Belongie 2016). Expanding Π(I + J_l) over n blocks gives 2ⁿ
products, one per path through the net: a path skips some blocks and goes through the
others. :func:`path_gradients` sorts the gradient by the number k of blocks its path goes
through: the coefficient of s^k in Π(I + s J_l), applied to an upstream gradient.

For training through the shared trainer (:func:`vanishgrad.train.run`),
:func:`classifier_loss` and :func:`mlp_classifier_loss` make the ``loss_and_grads(params,
batch)`` of a residual and of a plain net on a classification batch (x, y) with softmax
cross-entropy.
"""

import numpy as np

from . import activations, mlp
from .validation import (as_real_array, as_real_arrays, check_cache, check_finite, check_nonempty,
                         check_shape)

# --------------------------------------------------------------------------- arguments


def _float_dtype(*arrays):
    """float32 when every array is float32, else float64."""
    return np.dtype(np.float32) if all(a.dtype == np.float32 for a in arrays) else np.dtype(np.float64)


def _check_alpha(alpha, dtype):
    """The branch scale as a finite real scalar of ``dtype``."""
    bad = isinstance(alpha, bool) or np.ndim(alpha) != 0
    if not bad:
        a = np.asarray(alpha)
        bad = a.dtype.kind not in "iuf" or not np.isfinite(a)
    if bad:
        raise ValueError(f"alpha, the branch scale, must be a finite real number; got {alpha!r}")
    return np.dtype(dtype).type(alpha)


def _check_width(name, W, H):
    if W.ndim != 2 or W.shape != (H, H):
        raise ValueError(
            f"{name} must have shape (H, H) = ({H}, {H}): a residual branch keeps the width; got {W.shape}"
        )


# --------------------------------------------------------------------------- one block


def block_forward(x, W, b, alpha=1.0, activation="sigmoid"):
    """One residual block, y = x + α f(x Wᵀ + b).

    x: (B, H)   W: (H, H)   b: (H,)   alpha: the branch scale, a finite real number.
    activation: f, a name from :mod:`vanishgrad.activations`.
    Returns y (B, H) and a cache for :func:`block_backward`, a dict holding "x", "alpha",
    "F" = f(net) (B, H) and "layer", the cache of :func:`vanishgrad.mlp.layer_forward`.
    Float32 inputs give float32 out; float64 otherwise.
    """
    act = activations.get(activation)
    x, W, b = as_real_arrays({"x": x, "W": W, "b": b})
    if x.ndim != 2:
        raise ValueError(f"x must have shape (B, H), one example per row; got {x.shape}")
    check_nonempty("x", x, ("B", "H"))
    _check_width("W", W, x.shape[1])
    check_shape("b", b, (x.shape[1],), ("H",))
    for name, a in (("x", x), ("W", W), ("b", b)):
        check_finite(name, a)
    alpha = _check_alpha(alpha, x.dtype)
    return _block_forward(x, W, b, alpha, act)


def _block_forward(x, W, b, alpha, act):
    F, layer = mlp._layer_forward(x, W, b, act)
    return x + alpha * F, {"x": x, "alpha": alpha, "F": F, "layer": layer}


def block_backward(dy, cache):
    """Gradients of one block from dy = ∂L/∂y (B, H) and the cache of :func:`block_forward`.

    With δ = α dy ⊙ f'(net) = ∂L/∂net::

        ∂L/∂x = dy + δ W      ∂L/∂W = δᵀ x      ∂L/∂b = Σ_rows δ      ∂L/∂α = Σ dy ⊙ F

    Returns {"x": (B, H), "W": (H, H), "b": (H,), "alpha": a 0-d array, "net": (B, H)}.
    """
    check_cache(cache, ("x", "alpha", "F", "layer"), "residual.block_forward")
    F = cache["F"]
    dy = as_real_array("dy", dy, F.dtype)
    check_shape("dy", dy, F.shape, ("B", "H"))
    check_finite("dy", dy)
    return _block_backward(dy, cache)


def _block_backward(dy, cache):
    g = mlp._layer_backward(cache["alpha"] * dy, cache["layer"])
    return {
        "x": dy + g["h_prev"],
        "W": g["W"],
        "b": g["b"],
        "alpha": np.asarray(np.vdot(dy, cache["F"]), dtype=dy.dtype),
        "net": g["net"],
    }


# --------------------------------------------------------------------------- parameters


def _check_sizes(sizes):
    if not isinstance(sizes, (list, tuple)) or len(sizes) < 3:
        raise ValueError(
            f"sizes must be a list [D, H, …, H, K] of at least 3 sizes (an input layer and a readout); got {sizes!r}"
        )
    hidden = list(sizes[1:-1])
    if any(h != hidden[0] for h in hidden):
        raise ValueError(f"the hidden sizes sizes[1:-1] must all be equal, the blocks' width H; got {hidden}")


def init_params(sizes, init="xavier", *, alpha=1.0, scale=1.0, rng=None, dtype=np.float64):
    """Parameters of a residual net with sizes [D, H, H, …, H, K] (L = len(sizes) − 1 layers).

    W1 … WL and b1 … bL are exactly :func:`vanishgrad.mlp.init_params` (sizes, init, scale,
    rng, dtype): the initialisations "naive", "xavier" (or "glorot") and "he", and the
    same values for the same seed, so a plain net and a residual net can start from the
    same weights. ``"alpha"`` is (L−2,), every block's branch scale set to ``alpha``
    (0 for zero-initialised branches).
    Returns {"W1": (H, D), "b1": (H,), "W2": (H, H), …, "WL": (K, H), "bL": (K,), "alpha": (L−2,)}.
    """
    _check_sizes(sizes)
    params = mlp.init_params(list(sizes), init, scale=scale, rng=rng, dtype=dtype)
    dtype = params["W1"].dtype
    params["alpha"] = np.full(len(sizes) - 3, _check_alpha(alpha, np.float64), dtype=dtype)
    return params


def num_blocks(params):
    """The number of residual blocks, L − 2, of a parameter dict (with or without "alpha")."""
    return mlp.num_layers(params) - 2


def _branch_scales(params, alpha, n):
    """The n branch scales: params["alpha"] when ``alpha`` is None, else ``alpha`` (fixed)."""
    if alpha is None:
        if "alpha" not in params:
            raise ValueError(
                "params has no 'alpha', the blocks' branch scales: make params with residual.init_params, "
                "or pass fixed scales as alpha="
            )
        return as_real_array("alpha", params["alpha"])
    if "alpha" in params:
        raise ValueError(
            "params holds 'alpha' and fixed scales were passed as alpha= too: to keep α fixed, take it "
            "out of the parameters (params.pop('alpha')); to train it, pass alpha=None"
        )
    if np.ndim(alpha) == 0:
        return np.full(n, _check_alpha(alpha, np.float64))
    return as_real_array("alpha", alpha)


def _checked_params(params, D, alpha=None):
    """Params as float arrays with every shape and value checked, the branch scales under
    "alpha" (from params, or the fixed ``alpha``); returns them and L."""
    L = mlp.num_layers(params)
    if L < 2:
        raise ValueError("params must hold at least two layers, W1 (the input layer) and WL (the readout)")
    named = {k: params[k] for l in range(1, L + 1) for k in (f"W{l}", f"b{l}")}
    out = dict(zip(named, as_real_arrays(named)))
    scales = _branch_scales(params, alpha, L - 2)
    # the parameters set the dtype; fixed scales (a Python number, say) follow it
    dtype = _float_dtype(*out.values(), *([scales] if alpha is None else []))
    out["alpha"] = scales
    out = {k: a.astype(dtype, copy=False) for k, a in out.items()}
    W1 = out["W1"]
    if W1.ndim != 2 or W1.shape[1] != D:
        raise ValueError(f"W1 must have shape (H, D) = (?, {D}); got {W1.shape}")
    H = W1.shape[0]
    for l in range(2, L):
        _check_width(f"W{l}", out[f"W{l}"], H)
    WL = out[f"W{L}"]
    if WL.ndim != 2 or WL.shape[1] != H:
        raise ValueError(f"W{L} must have shape (K, H) = (?, {H}); got {WL.shape}")
    for l in range(1, L + 1):
        check_shape(f"b{l}", out[f"b{l}"], (out[f"W{l}"].shape[0],), (f"H_{l}",))
    check_shape("alpha", out["alpha"], (L - 2,), ("L-2",))
    for k, a in out.items():
        check_finite(k, a)
    return out, L


# --------------------------------------------------------------------------- the network


def forward(x, params, activation="sigmoid", alpha=None):
    """The residual net's output o for a batch x.

    x: (B, D). params: from :func:`init_params` (W1 (H, D), W2 … W_{L-1} (H, H), WL (K, H),
    the biases, "alpha" (L−2,)). activation: f of the input layer and of every branch;
    the readout is linear. alpha: None to use params["alpha"]; or fixed branch scales, a
    number or an (L−2,) array, for params without "alpha" (see the module's notes).
    Returns o (B, K) and a cache for :func:`backward`: a dict holding "activation",
    "layers" (the input layer's cache, the L−2 block caches, the readout's cache),
    "h" {l: h_l (B, H)} for l = 0 … L−1 (h_0 = x) and "net" {l: net_l} for l = 1 … L
    (net_l of a block is its branch's pre-activation; net_L = o).
    Raises ValueError on a wrong shape, a NaN or inf in x or the parameters, or an
    unknown activation; activations that overflow to inf on the way are passed on.
    """
    act = activations.get(activation)
    x = as_real_array("x", x)
    if x.ndim != 2:
        raise ValueError(f"x must have shape (B, D), one example per row; got {x.shape}")
    check_nonempty("x", x, ("B", "D"))
    params, L = _checked_params(params, x.shape[1], alpha)
    dtype = _float_dtype(x, *params.values())
    x = x.astype(dtype, copy=False)
    params = {k: v.astype(dtype, copy=False) for k, v in params.items()}
    check_finite("x", x)
    return _forward(x, params, L, act)


def _forward(x, params, L, act):
    h, first = mlp._layer_forward(x, params["W1"], params["b1"], act)
    cache = {"activation": act, "layers": [first], "h": {0: x, 1: h}, "net": {1: first.net}}
    for l in range(2, L):
        h, block = _block_forward(h, params[f"W{l}"], params[f"b{l}"], params["alpha"][l - 2], act)
        cache["layers"].append(block)
        cache["h"][l] = h
        cache["net"][l] = block["layer"].net
    o, readout = mlp._layer_forward(h, params[f"W{L}"], params[f"b{L}"], activations.get("identity"))
    cache["layers"].append(readout)
    cache["net"][L] = o
    return o, cache


def backward(do, cache):
    """Backpropagation through the residual net, from do = ∂L/∂o (B, K).

    Returns a dict of gradients: "W1" … "WL", "b1" … "bL" and "alpha" (L−2,), shaped like
    the parameters ("alpha" is ∂L/∂α whether α was a parameter or fixed); "x" (B, D); the
    backward signals "h1" … "h{L-1}" = ∂L/∂h_l (B, H) and "net1" … "netL" = ∂L/∂net_l.
    Layer L is handled first, layer 1 last.
    """
    check_cache(cache, ("activation", "layers", "h", "net"), "residual.forward")
    o = cache["net"][len(cache["layers"])]
    do = as_real_array("do", do, o.dtype)
    check_shape("do", do, o.shape, ("B", "K"))
    check_finite("do", do)
    return _backward(do, cache)


def _backward(do, cache):
    layers = cache["layers"]
    L = len(layers)
    grads = {}
    g = mlp._layer_backward(do, layers[-1])
    grads[f"W{L}"], grads[f"b{L}"], grads[f"net{L}"] = g["W"], g["b"], g["net"]
    dh = g["h_prev"]
    grads[f"h{L - 1}"] = dh
    alpha = np.zeros(L - 2, dtype=do.dtype)
    for l in range(L - 1, 1, -1):
        g = _block_backward(dh, layers[l - 1])
        grads[f"W{l}"], grads[f"b{l}"], grads[f"net{l}"] = g["W"], g["b"], g["net"]
        alpha[l - 2] = g["alpha"]
        dh = g["x"]
        grads[f"h{l - 1}"] = dh
    g = mlp._layer_backward(dh, layers[0])
    grads["W1"], grads["b1"], grads["net1"], grads["x"] = g["W"], g["b"], g["net"], g["h_prev"]
    grads["alpha"] = alpha
    return grads


def layer_gradient_norms(grads):
    """‖∂L/∂W_l‖ (Frobenius) for l = 1 … L, from the dict :func:`backward` (or
    :func:`vanishgrad.mlp.backward`) returns: shape (L,). With α_l = 0 a block's is 0."""
    return mlp.layer_gradient_norms(grads)


def signal_norms(grads):
    """‖∂L/∂h_l‖ (Frobenius over the batch) for l = 1 … L−1, from :func:`backward` (or
    :func:`vanishgrad.mlp.backward`): shape (L−1,). The backward signal itself, which
    the skips carry even where a block's weight gradient is zero."""
    L = sum(1 for k in grads if k.startswith("W"))
    if L < 2 or any(f"h{l}" not in grads for l in range(1, L)):
        raise ValueError("grads must hold the signals h1 … h{L-1}; pass the dict residual.backward returns")
    return np.array([np.linalg.norm(grads[f"h{l}"]) for l in range(1, L)])


# --------------------------------------------------------------------------- Jacobians and paths


def block_jacobians(x, params, activation="sigmoid", alpha=None):
    """The branches' Jacobians J_l = ∂F_l/∂h_{l-1} = diag(f'(net_l)) W_l at one input.

    x: (D,), one input. params, activation, alpha: as for :func:`forward`.
    Returns (L−2, H, H): row l−2 is block l's J_l (block 2, nearest the input, first), in
    the column-vector convention of :mod:`vanishgrad.jacobian` (entry (i, j) is
    ∂F_i/∂h_j). Block l's own Jacobian is I + α_l J_l, so the net's ∂h_{L-1}/∂h_1 is
    (I + α_{L-1} J_{L-1}) ··· (I + α_2 J_2), the latest block on the left.
    """
    act = activations.get(activation)
    x = as_real_array("x", x)
    if x.ndim != 1:
        raise ValueError(f"x must be one input of shape (D,); got {x.shape}")
    _, cache = forward(x[None, :], params, act, alpha)
    dtype = cache["h"][0].dtype
    L = len(cache["layers"])
    H = cache["h"][1].shape[1]
    J = np.empty((L - 2, H, H), dtype=dtype)
    for l in range(2, L):
        W = cache["layers"][l - 1]["layer"].W
        J[l - 2] = act.df(cache["net"][l][0])[:, None] * W
    return J


def path_gradients(jacobians, grad):
    """The gradient carried by the paths through exactly k blocks, k = 0 … n.

    jacobians: (n, H, H), the branch Jacobians J_1 … J_n of n consecutive blocks, the
        block nearest the input first (as :func:`block_jacobians` returns them; for a
        branch scale α_l pass α_l J_l, e.g. ``alpha[:, None, None] * J``).
    grad: (H,), the upstream gradient ∂L/∂h at the output of the last block.

    The gradient at the input of the first block is ((I + J_n) ··· (I + J_1))ᵀ grad. Put a
    variable s in front of every J and it is a polynomial in s; its coefficient of s^k,
    returned in row k, is the sum over the C(n, k) paths that go through exactly k
    blocks a_1 < … < a_k (and skip the others) of (J_{a_k} ··· J_{a_1})ᵀ grad. Row 0 is
    grad itself (the path of skips alone); the rows sum to the full gradient.

    The coefficients are built one block at a time, from the last block down: multiplying
    by (I + s J_l)ᵀ maps the coefficients c_k to c_k + J_lᵀ c_{k−1}. That is
    O(n²) matrix-vector products, instead of the 2ⁿ products of the paths one by one.
    Returns (n + 1, H).
    """
    J, g = as_real_arrays({"jacobians": jacobians, "grad": grad})
    if g.ndim != 1:
        raise ValueError(f"grad must be one vector of shape (H,); got {g.shape}")
    H = g.shape[0]
    if J.ndim != 3 and not (J.size == 0 and J.ndim == 1):
        raise ValueError(f"jacobians must have shape (n, H, H) = (n, {H}, {H}); got {J.shape}")
    J = J.reshape(-1, H, H) if J.size == 0 else J
    check_shape("jacobians", J, (None, H, H), ("n", "H", "H"))
    check_finite("jacobians", J)
    check_finite("grad", g)
    n = J.shape[0]
    coeffs = np.zeros((n + 1, H), dtype=g.dtype)
    coeffs[0] = g
    for m, J_l in enumerate(J[::-1]):  # from the last block down: m blocks done so far
        # rows as row vectors: c @ J_l is J_lᵀ c; the right side is computed before the sum
        coeffs[1:m + 2] += coeffs[:m + 1] @ J_l
    return coeffs


# --------------------------------------------------------------------------- training


def _batch(batch):
    if not isinstance(batch, (tuple, list)) or len(batch) != 2:
        raise ValueError("batch must be a pair (x, y): inputs (B, D) and integer labels (B,)")
    return batch


def _softmax_loss(o, y, backward, cache, names):
    if not np.all(np.isfinite(o)):  # an overflowed net: the trainer reports the divergence
        return (np.nan if np.isnan(o).any() else np.inf), None
    loss, do = mlp.softmax_cross_entropy(o, y)
    g = backward(do, cache)
    return loss, {k: g[k] for k in names}


def classifier_loss(activation="sigmoid", alpha=None):
    """``loss_and_grads`` for a residual net: softmax cross-entropy on a classification batch.

    activation: f of the net (a name from :mod:`vanishgrad.activations`).
    alpha: None to train the branch scales, which params then hold as "alpha"; or fixed
        scales (a number or an (L−2,) array) for params without "alpha".
    Returns a function (params, batch) -> (loss, grads) for :func:`vanishgrad.train.run`:
    batch is a pair (x (B, D), y (B,) integer labels); loss is the mean cross-entropy;
    grads holds the gradient of every entry of params (W1 … WL, b1 … bL, and "alpha"
    when it is one). If the outputs overflow to inf or NaN it returns that as the loss
    (inf, or NaN if any output is NaN) and None as the gradients::

        params = residual.init_params(sizes, "xavier", rng=0)
        del params["alpha"]                               # α fixed: not a parameter
        loss = residual.classifier_loss("sigmoid", alpha=1 / np.sqrt(len(sizes) - 3))
        history = train.run(loss, batches, optim.SGD(params, lr=0.1), steps=300)
    """
    act = activations.get(activation)  # an unknown name fails here, not at the first step

    def loss_and_grads(params, batch):
        x, y = _batch(batch)
        o, cache = forward(x, params, act, alpha)
        L = len(cache["layers"])
        names = [k for l in range(1, L + 1) for k in (f"W{l}", f"b{l}")] + (["alpha"] if alpha is None else [])
        return _softmax_loss(o, y, backward, cache, names)

    return loss_and_grads


def mlp_classifier_loss(activation="sigmoid"):
    """The same for a plain :mod:`vanishgrad.mlp` net (params from :func:`vanishgrad.mlp.init_params`).

    Returns a function (params, batch) -> (loss, grads) for :func:`vanishgrad.train.run`,
    grads {"W1": …, "b1": …, …, "WL": …, "bL": …}; inf or NaN outputs give (inf or NaN, None).
    """
    act = activations.get(activation)

    def loss_and_grads(params, batch):
        x, y = _batch(batch)
        o, cache = mlp.forward(x, params, act)
        L = len(cache["layers"])
        return _softmax_loss(o, y, mlp.backward, cache, [k for l in range(1, L + 1) for k in (f"W{l}", f"b{l}")])

    return loss_and_grads
