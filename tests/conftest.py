"""Shared fixtures: the repository's root, the website built once per test run, and the
site served on localhost to a headless Chromium."""

import functools
import http.server
import os
import subprocess
import sys
import threading
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


# ---------------------------------------------------------------------------------------
# The website in a real browser (tests/test_browser.py)

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
# Flags for a headless Chromium that touches nothing beyond the page it is given.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]
SCREENSHOTS = ROOT / "_build" / "screenshots"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def site(built_book):
    """The built website served over http on an ephemeral localhost port; yields its base URL."""
    # A build that only warned (test_build.py fails on it) still wrote the site: test it too.
    if not (HTML / "index.html").exists():
        pytest.fail("the book did not build (see test_build.py); nothing to test in a browser")
    handler = functools.partial(_QuietHandler, directory=str(HTML))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def _no_browser(reason):
    """Skip, except in CI, where the browser tests must run."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: the browser tests may not be skipped)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright (never a downloaded browser)."""
    if not CHROMIUM.exists():
        _no_browser(f"Chromium not found at {CHROMIUM}: install it with "
                    f"`sudo apt-get install chromium` (or set CHROMIUM=/path/to/chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _no_browser("Playwright for Python is not installed: run `make test`, which installs requirements.txt")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()
