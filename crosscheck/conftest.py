"""The set-up the cross-checks against PyTorch share (``make crosscheck``).

The cross-checks run in the benchmark's environment, ``.venv-bench``, where PyTorch (CPU)
is installed; the book and ``make test`` never need it. Each test builds a library model
and the PyTorch model holding the same numbers, runs both on the same input, and
compares the outputs and every gradient.

Fixtures:

- ``dtype``: runs the test once in float64 and once in float32, with torch's default
  dtype set to match while it runs (and restored after);
- ``rng``: a seeded ``np.random.Generator``; torch's generator is seeded before every test
  too, so every run compares the same numbers;
- ``compare``: ``compare(ours, theirs, what)`` asserts that the library's array and torch's
  tensor agree to within :data:`TOLERANCE` of the array's dtype, relative to the largest
  entry of torch's (see :func:`relative_difference`), and records the difference; the
  worst difference per module and dtype is printed at the end of the run.

Both libraries compute in the same dtype but sum in a different order, so float64 agrees
to about 1e-15 per operation, float32 to about 1e-7; the tolerances leave room for a
few hundred operations' worth of rounding, and no more.
"""

import numpy as np
import pytest

try:
    import torch
except ImportError:  # the test modules skip themselves (pytest.importorskip) without torch
    torch = None

#: The largest relative difference tolerated, per dtype.
TOLERANCE = {np.dtype(np.float64): 1e-12, np.dtype(np.float32): 1e-5}

# (module, dtype name) -> (worst relative difference, what it was), over the whole run
_WORST = {}


def torch_dtype(dtype):
    """torch.float32 or torch.float64 for a numpy float dtype."""
    return {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64}[np.dtype(dtype)]


def relative_difference(ours, theirs):
    """max |ours − theirs| / max |theirs|, computed in float64; the plain difference where
    torch's array is all zeros."""
    a = np.asarray(ours, dtype=np.float64)
    b = np.asarray(theirs, dtype=np.float64)
    if a.size == 0:
        return 0.0
    diff = float(np.max(np.abs(a - b)))
    scale = float(np.max(np.abs(b)))
    return diff / scale if scale > 0 else diff


def pytest_configure(config):
    if torch is not None:
        torch.set_num_threads(1)  # small problems: one thread is fastest, and leaves the other core free


@pytest.fixture(autouse=True)
def _seed_torch():
    if torch is not None:
        torch.manual_seed(0)


@pytest.fixture(params=[np.float64, np.float32], ids=["float64", "float32"])
def dtype(request):
    """np.float64, then np.float32; torch's default dtype follows while the test runs."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch_dtype(request.param))
    yield request.param
    torch.set_default_dtype(previous)


@pytest.fixture
def rng():
    return np.random.default_rng(20240611)


@pytest.fixture
def compare(request):
    """compare(ours, theirs, what): our array against torch's tensor (or array), checked and recorded.

    Asserts equal shapes, that ours has the dtype torch's has, and a relative difference
    of at most TOLERANCE[dtype]. The module recorded is the test file's, without the
    ``test_`` and ``_torch``: test_lstm_torch.py records as "lstm".
    """
    module = request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_").removesuffix("_torch")

    def check(ours, theirs, what):
        if torch is not None and isinstance(theirs, torch.Tensor):
            theirs = theirs.detach().numpy()
        ours, theirs = np.asarray(ours), np.asarray(theirs)
        assert ours.shape == theirs.shape, f"{what}: shape {ours.shape}, torch's {theirs.shape}"
        assert ours.dtype == theirs.dtype, f"{what}: dtype {ours.dtype}, torch's {theirs.dtype}"
        diff = relative_difference(ours, theirs)
        key = (module, ours.dtype.name)
        if diff > _WORST.get(key, (-1.0, ""))[0]:
            _WORST[key] = (diff, what)
        tol = TOLERANCE[ours.dtype]
        assert diff <= tol, f"{what} ({ours.dtype}): relative difference {diff:.2e} from torch's, above {tol:.0e}"
        return diff

    return check


def pytest_terminal_summary(terminalreporter):
    if not _WORST:
        return
    terminalreporter.write_sep("-", "worst relative difference from PyTorch, per module and dtype")
    for (module, dtype), (diff, what) in sorted(_WORST.items()):
        terminalreporter.write_line(f"{module:>8} {dtype:>8}  {diff:.1e}  ({what})")
