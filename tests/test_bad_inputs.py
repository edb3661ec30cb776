"""Every public function of the library's core modules, tried with bad input.

One table: for each public function at least two calls that must fail, the exception they
must raise (ValueError, or TypeError where Python's convention says so), and the argument
the message must name. The list of public functions is read from the modules themselves,
so a new public function without rows here fails :func:`test_every_public_function_has_bad_input_cases`.
"""

import inspect
import re
from collections import Counter, namedtuple

import numpy as np
import pytest

from vanishgrad import activations, gradcheck, jacobian, losses, mlp, rnn, validation

MODULES = (activations, gradcheck, validation, rnn, mlp, losses, jacobian)
MIN_CASES = 2

NAN = np.nan


def public_functions(module):
    return sorted(name for name, fn in inspect.getmembers(module, inspect.isfunction)
                  if fn.__module__ == module.__name__ and not name.startswith("_"))


# --- the objects the bad calls are made with ------------------------------------------------

def rnn_inputs(T=4, B=2, D=3, H=5, K=2):
    rng = np.random.default_rng(0)
    return dict(x=rng.standard_normal((T, B, D)), h0=np.zeros((B, H)), **rnn.init_params(D, H, K, rng=1))


RNN = rnn_inputs()
RNN_O, RNN_CACHE = rnn.forward(**RNN)
MLP_PARAMS = mlp.init_params([3, 5, 2], rng=0)
MLP_X = np.random.default_rng(2).standard_normal((4, 3))
MLP_O, MLP_CACHE = mlp.forward(MLP_X, MLP_PARAMS, "tanh")
LAYER_H, LAYER_CACHE = mlp.layer_forward(MLP_X, MLP_PARAMS["W1"], MLP_PARAMS["b1"])
MLP_GRADS = mlp.backward(np.ones_like(MLP_O), MLP_CACHE)
LABELS = np.array([0, 1, 1, 0])
STACK = np.random.default_rng(3).standard_normal((4, 3, 3))


def with_nan(a, index=0):
    a = np.array(a, dtype=float)
    a.flat[index] = NAN
    return a


def rnn_with(**changes):
    return {**RNN, **changes}


def cache_with(**changes):
    return {**RNN_CACHE, **changes}


def cache_without(key):
    return {k: v for k, v in RNN_CACHE.items() if k != key}


def returns(value):
    return lambda *args, **kwargs: value


# --- the table ---------------------------------------------------------------------------------

Case = namedtuple("Case", "module function label call error names")
CASES = []


def case(module, function, label, call, error=ValueError, names=None):
    """``names``: the word the message must contain (the argument, as the message calls it)."""
    CASES.append(Case(module.__name__.rsplit(".", 1)[1], function, label, call, error, names))


# activations: every f, f' and f'-from-output refuses non-real input; the from-output forms
# refuse values f cannot produce.
for _fn in ("sigmoid", "sigmoid_grad", "tanh", "tanh_grad", "relu", "relu_grad", "identity", "identity_grad"):
    f = getattr(activations, _fn)
    case(activations, _fn, "complex", lambda f=f: f(np.array([1 + 1j])), names="x")
    case(activations, _fn, "string", lambda f=f: f("0.5"), names="x")
    case(activations, _fn, "object", lambda f=f: f([0.5, None]), names="x")
for _fn, outside in (("sigmoid_grad_from_output", [2.0, -0.5, NAN]),
                     ("tanh_grad_from_output", [1.5, -2.0, NAN]),
                     ("relu_grad_from_output", [-1.0, -1e-300, NAN]),
                     ("identity_grad_from_output", [])):
    f = getattr(activations, _fn)
    case(activations, _fn, "complex", lambda f=f: f(np.array([0.5 + 1j])), names="h")
    case(activations, _fn, "string", lambda f=f: f("0.5"), names="h")
    for v in outside:
        case(activations, _fn, f"outside the range: {v}", lambda f=f, v=v: f(v), names="h")
# get(name): the message calls the name what it is, an activation
case(activations, "get", "unknown name", lambda: activations.get("softplus"), names="activation")
case(activations, "get", "None", lambda: activations.get(None), names="activation")
case(activations, "get", "a function", lambda: activations.get(np.tanh), names="activation")

# gradcheck
x2 = np.array([1.0, 2.0])
case(gradcheck, "numerical_gradient", "f returns NaN", lambda: gradcheck.numerical_gradient(returns(NAN), x2.copy()), names="f")
case(gradcheck, "numerical_gradient", "f returns inf", lambda: gradcheck.numerical_gradient(returns(np.inf), x2.copy()), names="f")
case(gradcheck, "numerical_gradient", "f returns a vector", lambda: gradcheck.numerical_gradient(returns(np.ones(2)), x2.copy()), names="f")
case(gradcheck, "numerical_gradient", "f returns a string", lambda: gradcheck.numerical_gradient(returns("1"), x2.copy()), TypeError, "f")
case(gradcheck, "numerical_gradient", "f returns None", lambda: gradcheck.numerical_gradient(returns(None), x2.copy()), TypeError, "f")
case(gradcheck, "numerical_gradient", "f not callable", lambda: gradcheck.numerical_gradient(1.0, x2.copy()), TypeError, "f")
case(gradcheck, "numerical_gradient", "integer x", lambda: gradcheck.numerical_gradient(returns(0.0), np.array([1, 2])), names="x")
case(gradcheck, "numerical_gradient", "list x", lambda: gradcheck.numerical_gradient(returns(0.0), [1.0, 2.0]), names="x")
case(gradcheck, "numerical_gradient", "eps 0", lambda: gradcheck.numerical_gradient(returns(0.0), x2.copy(), eps=0), names="eps")
case(gradcheck, "numerical_jacobian", "empty v", lambda: gradcheck.numerical_jacobian(lambda v: v, np.zeros(0)), names="v")
case(gradcheck, "numerical_jacobian", "NaN in v", lambda: gradcheck.numerical_jacobian(lambda v: v, [NAN, 1.0]), names="v")
case(gradcheck, "numerical_jacobian", "complex v", lambda: gradcheck.numerical_jacobian(lambda v: v, [1j, 1.0]), names="v")
case(gradcheck, "numerical_jacobian", "v a matrix", lambda: gradcheck.numerical_jacobian(lambda v: v, np.eye(2)), names="v")
case(gradcheck, "numerical_jacobian", "func returns a matrix", lambda: gradcheck.numerical_jacobian(lambda v: np.outer(v, v), x2), names="func")
case(gradcheck, "numerical_jacobian", "func returns a scalar", lambda: gradcheck.numerical_jacobian(lambda v: v.sum(), x2), names="func")
case(gradcheck, "numerical_jacobian", "func returns NaN", lambda: gradcheck.numerical_jacobian(lambda v: v * NAN, x2), names="func")
case(gradcheck, "numerical_jacobian", "func not callable", lambda: gradcheck.numerical_jacobian("v", x2), TypeError, "func")
case(gradcheck, "rel_error", "NaN in a", lambda: gradcheck.rel_error([NAN], [1.0]), names="a")
case(gradcheck, "rel_error", "inf in b", lambda: gradcheck.rel_error([1.0], [np.inf]), names="b")
case(gradcheck, "rel_error", "complex b", lambda: gradcheck.rel_error([1.0], [1j]), names="b")
case(gradcheck, "rel_error", "shapes differ", lambda: gradcheck.rel_error(np.zeros(2), np.zeros(3)), names="a")
case(gradcheck, "rel_error", "string a", lambda: gradcheck.rel_error("1", [1.0]), names="a")
_affine = (lambda x: (2 * x, None), lambda d, c: {"x": 2 * d})
case(gradcheck, "check_forward_backward", "forward returns a bare array",
     lambda: gradcheck.check_forward_backward(lambda x: 2 * x, _affine[1], {"x": x2.copy()}), names="forward")
case(gradcheck, "check_forward_backward", "backward returns a list",
     lambda: gradcheck.check_forward_backward(_affine[0], lambda d, c: [d], {"x": x2.copy()}), names="backward")
case(gradcheck, "check_forward_backward", "inputs a list",
     lambda: gradcheck.check_forward_backward(*_affine, [x2.copy()]), names="inputs")
case(gradcheck, "check_forward_backward", "forward not callable",
     lambda: gradcheck.check_forward_backward(None, _affine[1], {"x": x2.copy()}), TypeError, "forward")
case(gradcheck, "check_forward_backward", "seed a string",
     lambda: gradcheck.check_forward_backward(*_affine, {"x": x2.copy()}, seed="one"), names="seed")

# validation: each check refuses what it exists to refuse, naming the argument it is given
case(validation, "check_dtype", "int64", lambda: validation.check_dtype(np.int64), names="dtype")
case(validation, "check_dtype", "complex", lambda: validation.check_dtype(complex), names="dtype")
case(validation, "check_dtype", "not a dtype", lambda: validation.check_dtype("no such dtype"), names="dtype")
for _fn in ("as_real_array", "as_float_array"):
    f = getattr(validation, _fn)
    case(validation, _fn, "complex", lambda f=f: f("arg", np.ones(2) * 1j), names="arg")
    case(validation, _fn, "string", lambda f=f: f("arg", "1.0"), names="arg")
    case(validation, _fn, "ragged", lambda f=f: f("arg", [[1.0], [1.0, 2.0]]), names="arg")
    case(validation, _fn, "int dtype", lambda f=f: f("arg", [1.0], np.int64), names="dtype")
case(validation, "as_real_arrays", "one complex", lambda: validation.as_real_arrays({"p": [1.0], "q": [1j]}), names="q")
case(validation, "as_real_arrays", "one object", lambda: validation.as_real_arrays({"p": [None], "q": [1.0]}), names="p")
case(validation, "as_real_arrays", "bad dtype", lambda: validation.as_real_arrays({"p": [1.0]}, "int8"), names="dtype")
case(validation, "check_shape", "wrong size", lambda: validation.check_shape("arg", np.zeros((2, 3)), (2, 4)), names="arg")
case(validation, "check_shape", "wrong ndim", lambda: validation.check_shape("arg", np.zeros(3), (None, 3)), names="arg")
case(validation, "check_finite", "NaN", lambda: validation.check_finite("arg", [1.0, NAN]), names="arg")
case(validation, "check_finite", "inf", lambda: validation.check_finite("arg", [np.inf]), names="arg")
case(validation, "check_finite", "object", lambda: validation.check_finite("arg", np.array([None])), names="arg")
case(validation, "check_nonempty", "empty first axis", lambda: validation.check_nonempty("arg", np.zeros((0, 2)), ("B", "K")), names="arg")
case(validation, "check_nonempty", "empty last axis", lambda: validation.check_nonempty("arg", np.zeros((2, 0)), ("B", "K")), names="arg")
case(validation, "check_cache", "None", lambda: validation.check_cache(None, ("x",), "rnn.forward"), names="cache")
case(validation, "check_cache", "missing key", lambda: validation.check_cache({}, ("x",), "rnn.forward"), names="cache")
case(validation, "check_range", "above", lambda: validation.check_range("arg", [2.0], 0, 1, "probabilities"), names="arg")
case(validation, "check_range", "NaN", lambda: validation.check_range("arg", [NAN], 0, 1, "probabilities"), names="arg")
case(validation, "check_positive", "zero", lambda: validation.check_positive("arg", 0), names="arg")
case(validation, "check_positive", "NaN", lambda: validation.check_positive("arg", NAN), names="arg")
case(validation, "check_positive", "string", lambda: validation.check_positive("arg", "1"), names="arg")
case(validation, "check_choice", "unknown", lambda: validation.check_choice("arg", "c", ("a", "b")), names="arg")
case(validation, "check_choice", "None", lambda: validation.check_choice("arg", None, ("a", "b")), names="arg")
case(validation, "check_callable", "number", lambda: validation.check_callable("arg", 3), TypeError, "arg")
case(validation, "check_callable", "None", lambda: validation.check_callable("arg", None), TypeError, "arg")
case(validation, "check_integer", "float", lambda: validation.check_integer("arg", 2.5), names="arg")
case(validation, "check_integer", "bool", lambda: validation.check_integer("arg", True), names="arg")
case(validation, "check_integer", "below the minimum", lambda: validation.check_integer("arg", 0, minimum=1), names="arg")
case(validation, "as_generator", "string", lambda: validation.as_generator("seed"), names="rng")
case(validation, "as_generator", "negative", lambda: validation.as_generator(-1), names="rng")
case(validation, "as_generator", "float", lambda: validation.as_generator(1.5), names="rng")

# rnn
case(rnn, "init_params", "int dtype", lambda: rnn.init_params(3, 5, 2, dtype=np.int64), names="dtype")
case(rnn, "init_params", "complex dtype", lambda: rnn.init_params(3, 5, 2, dtype=complex), names="dtype")
case(rnn, "init_params", "D = 0", lambda: rnn.init_params(0, 5, 2), names="D")
case(rnn, "init_params", "H a float", lambda: rnn.init_params(3, 5.0, 2), names="H")
case(rnn, "init_params", "NaN scale", lambda: rnn.init_params(3, 5, 2, scale=NAN), names="scale")
case(rnn, "init_params", "rng a string", lambda: rnn.init_params(3, 5, 2, rng="seed"), names="rng")
case(rnn, "forward", "complex x", lambda: rnn.forward(**rnn_with(x=RNN["x"] + 1j)), names="x")
case(rnn, "forward", "complex W", lambda: rnn.forward(**rnn_with(W=RNN["W"] * 1j)), names="W")
case(rnn, "forward", "NaN in U", lambda: rnn.forward(**rnn_with(U=with_nan(RNN["U"]))), names="U")
case(rnn, "forward", "h0 of the wrong shape", lambda: rnn.forward(**rnn_with(h0=np.zeros(5))), names="h0")
case(rnn, "forward", "x of strings", lambda: rnn.forward(**rnn_with(x=np.full((4, 2, 3), "a"))), names="x")
case(rnn, "forward", "no time steps", lambda: rnn.forward(**rnn_with(x=np.zeros((0, 2, 3)))), names="x")
case(rnn, "forward", "float16 dtype", lambda: rnn.forward(**RNN, dtype=np.float16), names="dtype")
case(rnn, "forward", "unknown activation", lambda: rnn.forward(**RNN, activation="softsign"), names="activation")
case(rnn, "backward", "empty cache", lambda: rnn.backward(RNN_O, {}), names="cache")
case(rnn, "backward", "None cache", lambda: rnn.backward(RNN_O, None), names="cache")
case(rnn, "backward", "cache without h", lambda: rnn.backward(RNN_O, cache_without("h")), names="cache")
case(rnn, "backward", "complex do", lambda: rnn.backward(RNN_O + 1j, RNN_CACHE), names="do")
case(rnn, "backward", "NaN in do", lambda: rnn.backward(with_nan(RNN_O), RNN_CACHE), names="do")
case(rnn, "backward", "do of the wrong shape", lambda: rnn.backward(RNN_O[:-1], RNN_CACHE), names="do")
case(rnn, "backward", "truncate 0", lambda: rnn.backward(RNN_O, RNN_CACHE, truncate=0), names="truncate")
case(rnn, "backward", "complex dh_last", lambda: rnn.backward(RNN_O, RNN_CACHE, dh_last=np.ones((2, 5)) * 1j), names="dh_last")

# mlp
case(mlp, "init_params", "int dtype", lambda: mlp.init_params([3, 4], dtype=np.int64), names="dtype")
case(mlp, "init_params", "complex dtype", lambda: mlp.init_params([3, 4], dtype=complex), names="dtype")
case(mlp, "init_params", "one size", lambda: mlp.init_params([3]), names="sizes")
case(mlp, "init_params", "unknown init", lambda: mlp.init_params([3, 4], "lecun"), names="init")
case(mlp, "init_params", "scale 0", lambda: mlp.init_params([3, 4], scale=0), names="scale")
case(mlp, "init_params", "rng negative", lambda: mlp.init_params([3, 4], rng=-3), names="rng")
case(mlp, "num_layers", "a list", lambda: mlp.num_layers([MLP_PARAMS["W1"]]), names="params")
case(mlp, "num_layers", "missing b2", lambda: mlp.num_layers({k: v for k, v in MLP_PARAMS.items() if k != "b2"}), names="params")
case(mlp, "num_layers", "empty", lambda: mlp.num_layers({}), names="params")
case(mlp, "layer_forward", "complex h_prev", lambda: mlp.layer_forward(MLP_X * 1j, MLP_PARAMS["W1"], MLP_PARAMS["b1"]), names="h_prev")
case(mlp, "layer_forward", "NaN in W", lambda: mlp.layer_forward(MLP_X, with_nan(MLP_PARAMS["W1"]), MLP_PARAMS["b1"]), names="W")
case(mlp, "layer_forward", "b of the wrong shape", lambda: mlp.layer_forward(MLP_X, MLP_PARAMS["W1"], np.zeros(4)), names="b")
case(mlp, "layer_forward", "empty batch", lambda: mlp.layer_forward(np.zeros((0, 3)), MLP_PARAMS["W1"], MLP_PARAMS["b1"]), names="h_prev")
case(mlp, "layer_forward", "unknown activation", lambda: mlp.layer_forward(MLP_X, MLP_PARAMS["W1"], MLP_PARAMS["b1"], "Sigmoid"), names="activation")
case(mlp, "layer_backward", "None cache", lambda: mlp.layer_backward(LAYER_H, None), names="cache")
case(mlp, "layer_backward", "the network's cache", lambda: mlp.layer_backward(LAYER_H, MLP_CACHE), names="cache")
case(mlp, "layer_backward", "NaN in dh", lambda: mlp.layer_backward(with_nan(LAYER_H), LAYER_CACHE), names="dh")
case(mlp, "layer_backward", "complex dh", lambda: mlp.layer_backward(LAYER_H * 1j, LAYER_CACHE), names="dh")
case(mlp, "layer_backward", "dh of the wrong shape", lambda: mlp.layer_backward(LAYER_H.T, LAYER_CACHE), names="dh")
case(mlp, "forward", "complex x", lambda: mlp.forward(MLP_X * 1j, MLP_PARAMS), names="x")
case(mlp, "forward", "NaN in x", lambda: mlp.forward(with_nan(MLP_X), MLP_PARAMS), names="x")
case(mlp, "forward", "params a list", lambda: mlp.forward(MLP_X, list(MLP_PARAMS.values())), names="params")
case(mlp, "forward", "complex b2", lambda: mlp.forward(MLP_X, {**MLP_PARAMS, "b2": MLP_PARAMS["b2"] * 1j}), names="b2")
case(mlp, "forward", "empty batch", lambda: mlp.forward(np.zeros((0, 3)), MLP_PARAMS), names="x")
case(mlp, "backward", "NaN in do", lambda: mlp.backward(with_nan(MLP_O), MLP_CACHE), names="do")
case(mlp, "backward", "complex do", lambda: mlp.backward(MLP_O * 1j, MLP_CACHE), names="do")
case(mlp, "backward", "None cache", lambda: mlp.backward(MLP_O, None), names="cache")
case(mlp, "backward", "empty cache", lambda: mlp.backward(MLP_O, {}), names="cache")
case(mlp, "backward", "a layer's cache", lambda: mlp.backward(MLP_O, LAYER_CACHE), names="cache")
case(mlp, "layer_gradient_norms", "missing layer", lambda: mlp.layer_gradient_norms({"W1": np.eye(2), "W3": np.eye(2)}), names="grads")
case(mlp, "layer_gradient_norms", "NaN", lambda: mlp.layer_gradient_norms({**MLP_GRADS, "W1": with_nan(MLP_GRADS["W1"])}), names="grads")
case(mlp, "layer_gradient_norms", "complex", lambda: mlp.layer_gradient_norms({"W1": np.eye(2) * 1j}), names="grads")
case(mlp, "layer_gradient_norms", "no layers", lambda: mlp.layer_gradient_norms({}), names="grads")
case(mlp, "layer_gradient_norms", "a list", lambda: mlp.layer_gradient_norms([np.eye(2)]), names="grads")
case(mlp, "softmax_cross_entropy", "NaN in o", lambda: mlp.softmax_cross_entropy(with_nan(MLP_O), LABELS), names="o")
case(mlp, "softmax_cross_entropy", "empty batch", lambda: mlp.softmax_cross_entropy(np.zeros((0, 2)), np.zeros(0, int)), names="o")
case(mlp, "softmax_cross_entropy", "no classes", lambda: mlp.softmax_cross_entropy(np.zeros((4, 0)), LABELS), names="o")
case(mlp, "softmax_cross_entropy", "complex o", lambda: mlp.softmax_cross_entropy(MLP_O * 1j, LABELS), names="o")
case(mlp, "softmax_cross_entropy", "float labels", lambda: mlp.softmax_cross_entropy(MLP_O, LABELS * 1.0), names="y")
case(mlp, "softmax_cross_entropy", "label out of range", lambda: mlp.softmax_cross_entropy(MLP_O, LABELS + 1), names="y")
case(mlp, "train", "complex x", lambda: mlp.train(MLP_PARAMS, MLP_X * 1j, LABELS, steps=1), names="x")
case(mlp, "train", "NaN in x", lambda: mlp.train(MLP_PARAMS, with_nan(MLP_X), LABELS, steps=1), names="x")
case(mlp, "train", "lr 0", lambda: mlp.train(MLP_PARAMS, MLP_X, LABELS, lr=0.0), names="lr")
case(mlp, "train", "steps 0", lambda: mlp.train(MLP_PARAMS, MLP_X, LABELS, steps=0), names="steps")
case(mlp, "train", "batch_size too large", lambda: mlp.train(MLP_PARAMS, MLP_X, LABELS, batch_size=5), names="batch_size")
case(mlp, "train", "rng a string", lambda: mlp.train(MLP_PARAMS, MLP_X, LABELS, steps=1, rng="x"), names="rng")

# losses
o3 = np.zeros((4, 2, 3))
case(losses, "mse_last", "complex o", lambda: losses.mse_last(o3 + 1j, np.zeros((2, 3))), names="o")
case(losses, "mse_last", "T = 0", lambda: losses.mse_last(np.zeros((0, 2, 3)), np.zeros((2, 3))), names="o")
case(losses, "mse_last", "B = 0", lambda: losses.mse_last(np.zeros((4, 0, 3)), np.zeros((0, 3))), names="o")
case(losses, "mse_last", "NaN in y", lambda: losses.mse_last(o3, with_nan(np.zeros((2, 3)))), names="y")
case(losses, "mse_last", "y of the wrong shape", lambda: losses.mse_last(o3, np.zeros((4, 2, 3))), names="y")
case(losses, "mse_last", "complex y", lambda: losses.mse_last(o3, np.zeros((2, 3)) * 1j), names="y")
case(losses, "mse_every_step", "complex o", lambda: losses.mse_every_step(o3 * 1j, o3), names="o")
case(losses, "mse_every_step", "B = 0", lambda: losses.mse_every_step(np.zeros((4, 0, 3)), np.zeros((4, 0, 3))), names="o")
case(losses, "mse_every_step", "NaN in o", lambda: losses.mse_every_step(with_nan(o3), o3), names="o")
case(losses, "mse_every_step", "o of two axes", lambda: losses.mse_every_step(np.zeros((2, 3)), np.zeros((2, 3))), names="o")
case(losses, "mse_every_step", "y of the wrong shape", lambda: losses.mse_every_step(o3, np.zeros((2, 3))), names="y")

# jacobian
case(jacobian, "step_jacobians", "empty cache", lambda: jacobian.step_jacobians({}), names="cache")
case(jacobian, "step_jacobians", "None cache", lambda: jacobian.step_jacobians(None), names="cache")
case(jacobian, "step_jacobians", "complex W in the cache", lambda: jacobian.step_jacobians(cache_with(W=RNN_CACHE["W"] * 1j)), names="cache")
case(jacobian, "step_jacobians", "seq out of range", lambda: jacobian.step_jacobians(RNN_CACHE, seq=2), names="seq")
case(jacobian, "step_jacobians", "unknown kind", lambda: jacobian.step_jacobians(RNN_CACHE, kind="hidden"), names="kind")
case(jacobian, "unrolled_map", "start + lag too large", lambda: jacobian.unrolled_map(RNN_CACHE, 2, 2), names="start")
case(jacobian, "unrolled_map", "negative lag", lambda: jacobian.unrolled_map(RNN_CACHE, 0, -1), names="lag")
case(jacobian, "unrolled_map", "seq None", lambda: jacobian.unrolled_map(RNN_CACHE, 0, 1, seq=None), names="seq")
case(jacobian, "unrolled_map", "cache without x", lambda: jacobian.unrolled_map(cache_without("x"), 0, 1), names="cache")
case(jacobian, "unrolled_map", "the map given a wrong state", lambda: jacobian.unrolled_map(RNN_CACHE, 0, 1)(np.zeros(4)), names="state")
case(jacobian, "unrolled_map", "the map given a complex state", lambda: jacobian.unrolled_map(RNN_CACHE, 0, 1)(np.ones(5) * 1j), names="state")
case(jacobian, "unrolled_map", "the map given NaN", lambda: jacobian.unrolled_map(RNN_CACHE, 0, 1)(with_nan(np.zeros(5))), names="state")
case(jacobian, "chain", "complex", lambda: jacobian.chain(STACK * 1j), names="jacobians")
case(jacobian, "chain", "one matrix", lambda: jacobian.chain(np.eye(3)), names="jacobians")
case(jacobian, "chain", "NaN", lambda: jacobian.chain(with_nan(STACK)), names="jacobians")
case(jacobian, "chain", "not square", lambda: jacobian.chain(np.zeros((2, 3, 4))), names="jacobians")
case(jacobian, "product_norms", "complex", lambda: jacobian.product_norms(STACK * 1j), names="jacobians")
case(jacobian, "product_norms", "one matrix", lambda: jacobian.product_norms(np.eye(3)), names="jacobians")
case(jacobian, "product_norms", "ord 1", lambda: jacobian.product_norms(STACK, ord=1), names="ord")
case(jacobian, "power_norms", "complex W", lambda: jacobian.power_norms(np.eye(3) * 1j, 2), names="W")
case(jacobian, "power_norms", "W not square", lambda: jacobian.power_norms(np.zeros((2, 3)), 2), names="W")
case(jacobian, "power_norms", "negative k_max", lambda: jacobian.power_norms(np.eye(2), -1), names="k_max")
case(jacobian, "power_norms", "ord nuc", lambda: jacobian.power_norms(np.eye(2), 2, ord="nuc"), names="ord")
case(jacobian, "spectral_radius", "not square", lambda: jacobian.spectral_radius(np.zeros((2, 3))), names="A")
case(jacobian, "spectral_radius", "NaN", lambda: jacobian.spectral_radius(with_nan(np.eye(2))), names="A")
case(jacobian, "spectral_radius", "string", lambda: jacobian.spectral_radius("W"), names="A")
case(jacobian, "sigma_max", "not square", lambda: jacobian.sigma_max(np.zeros((2, 3))), names="A")
case(jacobian, "sigma_max", "complex NaN", lambda: jacobian.sigma_max(np.eye(2) * complex(NAN, 1)), names="A")
case(jacobian, "sigma_max", "object", lambda: jacobian.sigma_max(np.array([[None]])), names="A")
case(jacobian, "pascanu_bound", "complex W", lambda: jacobian.pascanu_bound(np.eye(2) * 1j, "tanh"), names="W")
case(jacobian, "pascanu_bound", "a stack", lambda: jacobian.pascanu_bound(STACK, "tanh"), names="W")
case(jacobian, "pascanu_bound", "unknown activation", lambda: jacobian.pascanu_bound(np.eye(2), "softsign"), names="activation")
case(jacobian, "lyapunov_exponents", "no steps", lambda: jacobian.lyapunov_exponents(np.zeros((0, 3, 3))), names="jacobians")
case(jacobian, "lyapunov_exponents", "complex", lambda: jacobian.lyapunov_exponents(STACK * 1j), names="jacobians")
case(jacobian, "lyapunov_exponents", "n_exponents > H", lambda: jacobian.lyapunov_exponents(STACK, 4), names="n_exponents")
case(jacobian, "lyapunov_exponents", "discard = n", lambda: jacobian.lyapunov_exponents(STACK, discard=4), names="discard")
case(jacobian, "lyapunov_exponents", "backward a string", lambda: jacobian.lyapunov_exponents(STACK, backward="yes"), names="backward")
case(jacobian, "lyapunov_exponents", "rng a string", lambda: jacobian.lyapunov_exponents(STACK, rng="x"), names="rng")
case(jacobian, "nonnormal_matrix", "H = 0", lambda: jacobian.nonnormal_matrix(0, 0.9, 1.0), names="H")
case(jacobian, "nonnormal_matrix", "negative rho", lambda: jacobian.nonnormal_matrix(4, -1.0, 1.0), names="rho")
case(jacobian, "nonnormal_matrix", "NaN departure", lambda: jacobian.nonnormal_matrix(4, 0.9, NAN), names="departure")
case(jacobian, "nonnormal_matrix", "departure a string", lambda: jacobian.nonnormal_matrix(4, 0.9, "big"), names="departure")
case(jacobian, "nonnormal_matrix", "departure with H = 2", lambda: jacobian.nonnormal_matrix(2, 0.9, 1.0), names="departure")
case(jacobian, "nonnormal_matrix", "rng a string", lambda: jacobian.nonnormal_matrix(4, 0.9, 1.0, rng="x"), names="rng")


# --- the tests -----------------------------------------------------------------------------------

def counts():
    """{module: {function: number of bad-input cases}}."""
    table = {m.__name__.rsplit(".", 1)[1]: Counter() for m in MODULES}
    for c in CASES:
        table[c.module][c.function] += 1
    return table


@pytest.mark.parametrize("module", MODULES, ids=[m.__name__ for m in MODULES])
def test_every_public_function_has_bad_input_cases(module):
    have = counts()[module.__name__.rsplit(".", 1)[1]]
    functions = public_functions(module)
    assert functions, module.__name__
    too_few = {f: have[f] for f in functions if have[f] < MIN_CASES}
    assert not too_few, f"public functions of {module.__name__} with fewer than {MIN_CASES} bad-input cases: {too_few}"
    unknown = set(have) - set(functions)
    assert not unknown, f"cases for functions {module.__name__} does not have: {unknown}"


@pytest.mark.parametrize("c", CASES, ids=[f"{c.module}.{c.function}: {c.label}" for c in CASES])
def test_bad_input_raises_a_clear_error_naming_the_argument(c):
    with pytest.raises(Exception) as info:
        c.call()
    assert info.type is c.error, f"{c.module}.{c.function} ({c.label}) raised {info.type.__name__}: {info.value}"
    message = str(info.value)
    assert re.search(rf"(?<![\w']){re.escape(c.names)}(?![\w])", message), \
        f"{c.module}.{c.function} ({c.label}): the message does not name {c.names!r}: {message}"
