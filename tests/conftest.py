"""Shared fixtures: the repository's root and the website built once per test run."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HTML = ROOT / "_build" / "html"


@pytest.fixture(scope="session")
def root():
    return ROOT


@pytest.fixture(scope="session")
def built_book():
    """Build the website exactly as `make book` does (strict: warnings are errors).

    Returns the finished ``subprocess.CompletedProcess``; tests that need the site
    itself use :data:`HTML`. The notebook cache in ``_build/.jupyter_cache`` makes a
    rebuild of unchanged notebooks fast.
    """
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    return subprocess.run(
        [str(jupyter_book), "build", str(ROOT), "--builder", "html", "-W", "-n", "--keep-going"],
        cwd=ROOT, capture_output=True, text=True, timeout=1800,
    )
