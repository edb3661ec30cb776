"""Every model gives the same numbers whatever the memory layout of its inputs.

A student's data is often a view: batch-major data made time-major with
``x.transpose(1, 0, 2)``, a slice, a Fortran-ordered matrix. The library takes such arrays
as they are (without a copy), so each forward and backward pass is run here twice, once
on C-ordered inputs and once on the same numbers laid out otherwise, and every output and
gradient must agree. (A backward pass that wrote ∂L/∂x through a reshaped view of an
array laid out like x once returned uninitialised memory for a transposed x.)
"""

import numpy as np
import pytest

from vanishgrad import gru, lru, lstm, mlp, residual, rnn

T, B, D, H, K = 5, 3, 4, 6, 2


def other_layout(a):
    """The same numbers, not C-contiguous: every axis reversed in memory (so a 2-D array
    is Fortran-ordered and x (T, B, D) is stored as (D, B, T)), or, in 1-D, every other
    element of a longer array."""
    a = np.asarray(a)
    if a.ndim >= 2:
        out = np.ascontiguousarray(a.transpose()).transpose()
    else:
        longer = np.zeros(2 * a.size, dtype=a.dtype)
        longer[::2] = a
        out = longer[::2]
    assert not out.flags.c_contiguous and np.array_equal(out, a)
    return out


def relaid(value):
    if isinstance(value, dict):
        return {k: relaid(v) for k, v in value.items()}
    return other_layout(value) if isinstance(value, np.ndarray) and value.size > 1 else value


def arrays(result):
    """Every array a pass returned, by name, from (output, gradients)."""
    out, grads = result
    found = {"output": out}
    for name, g in grads.items():
        for sub, a in (g.items() if isinstance(g, dict) else [(None, g)]):
            if isinstance(a, np.ndarray):
                found[name if sub is None else f"{name}.{sub}"] = a
    return found


def run_rnn(x, h0, p, dout):
    out, cache = rnn.forward(x, h0, p["U"], p["W"], p["b"], p["V"], p["c"])
    return out, rnn.backward(dout, cache)


def run_lstm(x, h0, c0, p, dout):
    out, cache = lstm.forward(x, h0, c0, p["U"], p["W"], p["b"], p["V"], p["b_V"])
    return out, lstm.backward(dout, cache)


def run_gru(reset):
    def run(x, h0, p, dout):
        out, cache = gru.forward(x, h0, p["U"], p["W"], p["b"], p["b_hn"], p["V"], p["c"], reset=reset)
        return out, gru.backward(dout, cache)
    return run


def run_lru(u, p, dy):
    y, cache = lru.forward(u, p)
    return y, lru.backward(dy, cache)


def run_mlp(x, p, do):
    out, cache = mlp.forward(x, p, "tanh")
    return out, mlp.backward(do, cache)


def run_residual(x, p, do):
    out, cache = residual.forward(x, p, "tanh")
    return out, residual.backward(do, cache)


def cases():
    rng = np.random.default_rng(0)
    x, dout = rng.standard_normal((T, B, D)), rng.standard_normal((T, B, K))
    h0, c0 = rng.standard_normal((B, H)), rng.standard_normal((B, H))
    rows, drows = rng.standard_normal((7, 3)), rng.standard_normal((7, 2))
    return {
        "rnn": (run_rnn, (x, h0, rnn.init_params(D, H, K, rng=1), dout)),
        "lstm": (run_lstm, (x, h0, c0, lstm.init_params(D, H, K, rng=1), dout)),
        "gru after": (run_gru("after"), (x, h0, gru.init_params(D, H, K, rng=1), dout)),
        "gru before": (run_gru("before"), (x, h0, gru.init_params(D, H, K, rng=1), dout)),
        "lru": (run_lru, (x, lru.init_params(D, 5, K, rng=1), dout)),
        "mlp": (run_mlp, (rows, mlp.init_params([3, 5, 4, 2], rng=1), drows)),
        "residual": (run_residual, (rows, residual.init_params([3, 5, 5, 2], rng=1), drows)),
    }


CASES = cases()


@pytest.mark.parametrize("name", list(CASES))
def test_same_numbers_in_any_layout(name):
    run, args = CASES[name]
    expected = arrays(run(*args))
    got = arrays(run(*[relaid(a) for a in args]))
    assert set(got) == set(expected)
    assert {"x", "u"} & set(expected), "the gradient of the input is compared too"
    for key, want in expected.items():
        np.testing.assert_allclose(got[key], want, rtol=1e-12, atol=1e-13, err_msg=f"{name}: {key}")
