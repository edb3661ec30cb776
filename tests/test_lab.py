"""The chapters read in JupyterLab as they do on the website.

A student runs a chapter in JupyterLab (``make lab``): JupyterLab starts from the book's
environment on a free localhost port with a token, Playwright drives Debian's Chromium to
open the chapter, *Run → Run All Cells* and save, and then the test reads what the student
sees and what JupyterLab saved:

- every cell shown, and every markdown cell rendered by jupyterlab-myst;
- no raw MyST syntax in the rendered markdown (no ``{eval}`…``` or ``{cite}`…```, no
  ``:::`` fences, no "Unknown Directive" boxes), and no role JupyterLab cannot render
  (an unknown role shows its bare text, with nothing to find on the page);
- every ``{eval}`num.name``` evaluated, and the text JupyterLab saved for it equal to what
  the website shows at that place: the notebook run on its own (in a kernel of its own,
  outside the browser), each quote evaluated where its markdown cell stands, as MyST-NB
  does (a measured time changes from run to run: its text is compared in form only);
- every figure shown, and no error or stderr output in any cell.

The same holds for the student copy that ``make assignments`` writes, up to the exercises
(whose test cells fail until the student writes the answers): its numbers are evaluated,
and a test cell is the only place an error may appear.

Screenshots and each chapter's figures (the time *Run All* took, quotes, raw syntax found)
go to ``_build/screenshots/lab/``.
"""

import json
import os
import queue
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import uuid

import nbformat
import pytest
from jupyter_client.manager import start_new_kernel
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from conftest import ROOT, SCREENSHOTS

pytestmark = pytest.mark.browser

CHAPTERS = sorted(p for p in (ROOT / "chapters").glob("*.ipynb"))
LAB_SCREENSHOTS = SCREENSHOTS / "lab"
RAW_SYNTAX = re.compile(r"\{[a-z]+(:[a-z]+)?\}`|^:::|^```\{|unknown (directive|role)", re.I | re.M)
EVAL = re.compile(r"\{eval\}`([^`]*)`")
ROLE = re.compile(r"\{([A-Za-z][\w:-]*)\}`")
# The roles the chapters use, each seen in JupyterLab: eval as its number, cite as its key,
# ref and doc as their link text, eq as the equation's number, numref as the number of what
# it names (a figure, named in code-cell metadata, shows its label). A role jupyterlab-myst
# does not know renders as its bare content, nothing the page can be searched for, so a new
# role is looked at in JupyterLab before it joins this list.
ROLES_SHOWN_IN_LAB = {"eval", "cite", "numref", "ref", "doc", "eq"}

# Quotes of measured times, and of what is derived from them: they change from run to run,
# so JupyterLab's text is compared with the website's in form only (the same number format).
MEASURED = {
    "02_bptt": {"num.per_step_spread", "num.us_per_step", "num.ksteps_per_s", "num.gflops"},
    "04_clipping": {"num.sw_cpu"},
    "07_long_range": {"num.live_seconds"},
}

START_TIMEOUT = 120      # seconds for JupyterLab to answer, a notebook to open, a kernel to start
RUN_TIMEOUT = 300        # seconds for Run All on a busy two-core machine
CELL_TIMEOUT = 300       # seconds for one cell of the run outside the browser
QUOTES_TIMEOUT = 60      # seconds, after the last code cell, for the quotes to be evaluated


# ---------------------------------------------------------------------------------------
# JupyterLab, started the way `make lab` starts it, on a copy of the chapters

def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _write_settings(settings_dir):
    """JupyterLab settings for a test: those `make lab` installs, and every cell attached.

    Without windowing every cell is in the page and laid out, so the text the test reads
    is the text a student scrolls through.
    """
    settings = json.loads((ROOT / "jupyterlab" / "overrides.json").read_text())
    settings.setdefault("@jupyterlab/notebook-extension:tracker", {})["windowingMode"] = "none"
    for plugin, values in settings.items():
        package, name = plugin.split(":")
        path = settings_dir / package / f"{name}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


@pytest.fixture(scope="module")
def lab(tmp_path_factory, browser):
    """A JupyterLab server on a temporary directory; yields (url, token, work dir).

    Its settings and workspaces live in temporary directories: a workspace saved by an
    earlier run (the user's, in ~/.jupyter) would reopen that run's notebooks beside the
    one under test. ``window.jupyterapp`` is exposed so that the test can wait for the
    kernel and for *Run All* to finish instead of sleeping.
    """
    work = tmp_path_factory.mktemp("lab")
    (work / "chapters").mkdir()
    settings = tmp_path_factory.mktemp("lab-settings")
    _write_settings(settings)
    workspaces = tmp_path_factory.mktemp("lab-workspaces")
    port, token = _free_port(), uuid.uuid4().hex
    jupyter = os.path.join(os.path.dirname(sys.executable), "jupyter")
    command = [jupyter, "lab", "--no-browser", f"--ServerApp.port={port}", "--ServerApp.ip=127.0.0.1",
               f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={work}",
               "--LabApp.expose_app_in_browser=True"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")   # CI runs as root
    env = dict(os.environ, JUPYTERLAB_SETTINGS_DIR=str(settings), JUPYTERLAB_WORKSPACES_DIR=str(workspaces))
    log = open(work / "lab.log", "w")
    server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=work)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2)
                break
            except OSError:
                if server.poll() is not None:
                    pytest.fail(f"JupyterLab exited: {(work / 'lab.log').read_text()[-2000:]}")
                if time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not answer within {START_TIMEOUT} s")
                time.sleep(0.5)
        yield url, token, work
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def _shut_down_kernels(url, token, relpath):
    """End the sessions (and kernels) of ``relpath``, so that the next chapter runs alone."""
    with urllib.request.urlopen(f"{url}/api/sessions?token={token}", timeout=10) as response:
        sessions = json.load(response)
    for session in sessions:
        if session.get("path") == relpath:
            request = urllib.request.Request(f"{url}/api/sessions/{session['id']}?token={token}", method="DELETE")
            urllib.request.urlopen(request, timeout=30).close()


# ---------------------------------------------------------------------------------------
# What the website shows: the notebook run on its own, each quote evaluated in its place

def _request(kc, code, **options):
    """Send ``code`` to the kernel and return its execute_reply.

    The shell channel is polled a second at a time. nbclient, which waits for a reply in
    one call, at times sat out its whole timeout on the chapters' ipywidgets cells although
    the kernel had replied (jupyter/nbclient#312).
    """
    msg_id = kc.execute(code, allow_stdin=False, stop_on_error=False, **options)
    deadline = time.monotonic() + CELL_TIMEOUT
    while time.monotonic() < deadline:
        while kc.iopub_channel.msg_ready():   # outputs are not needed: drop them
            kc.iopub_channel.get_msg(timeout=0)
        try:
            reply = kc.get_shell_msg(timeout=1)
        except queue.Empty:
            continue
        if reply["parent_header"].get("msg_id") == msg_id:
            return reply
    raise TimeoutError(f"no reply within {CELL_TIMEOUT} s to {code[:200]!r}")


def _shown(result):
    """The text of one user-expression result: its text/plain, or its error."""
    if result.get("status") == "ok":
        return result.get("data", {}).get("text/plain")
    return f"{result.get('ename')}: {result.get('evalue')}"


def website_numbers(path):
    """Run the notebook in a kernel of its own, evaluating each markdown cell's quotes where it stands.

    Returns {(cell id, expression): text}. The website is built the same way (MyST-NB's
    inline execution): code cells in order, each ``{eval}`` evaluated with the state the
    code cells above it left, and shown as its text/plain. A cell that raises does not stop
    the run (the checks on JupyterLab's page report it).
    """
    nb = nbformat.read(path, as_version=4)
    km, kc = start_new_kernel(kernel_name="python3", cwd=str(path.parent))
    shown = {}
    try:
        for cell in nb.cells:
            if cell.cell_type == "code":
                _request(kc, cell.source)
            elif cell.cell_type == "markdown" and EVAL.search(cell.source):
                expressions = EVAL.findall(cell.source)
                reply = _request(kc, "", store_history=False,
                                 user_expressions={str(i): e for i, e in enumerate(expressions)})
                for i, expression in enumerate(expressions):
                    shown[cell.id, expression] = _shown(reply["content"]["user_expressions"][str(i)])
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    return shown


def saved_quotes(path):
    """{(cell id, expression): text} as jupyterlab-myst stored them when the notebook was saved,
    and the set of those whose evaluation raised."""
    results, failed = {}, set()
    for cell in json.loads(path.read_text())["cells"]:
        for item in cell.get("metadata", {}).get("user_expressions", []):
            quote = cell["id"], item["expression"]
            results[quote] = _shown(item.get("result", {}))
            if item.get("result", {}).get("status") != "ok":
                failed.add(quote)
    return results, failed


def quotes_in(nb, cells=None):
    """The (cell id, expression) of every ``{eval}`` in the markdown cells (those at ``cells``, if given)."""
    return {(cell["id"], expression) for index, cell in enumerate(nb["cells"])
            if cell["cell_type"] == "markdown" and (cells is None or index in cells)
            for expression in EVAL.findall("".join(cell["source"]))}


def _form(text):
    """A quote's number format without its digits: '1,234.5 × 10⁻⁶' -> '0.0 × 0⁻⁰'."""
    return re.sub(r"[⁰¹²³⁴⁵⁶⁷⁸⁹]+", "⁰", re.sub(r"\d[\d,]*", "0", text or ""))


def differences(chapter, saved, expected, quotes):
    """{quote: (JupyterLab's text, the website's)} where they differ (measured times: in form)."""
    measured = MEASURED.get(chapter, set())
    return {q: (saved[q], expected[q]) for q in sorted(quotes)
            if (_form(saved[q]) != _form(expected[q]) if q[1] in measured else saved[q] != expected[q])}


def roles_not_shown_in_lab(nb):
    return sorted({role for cell in nb["cells"] if cell["cell_type"] == "markdown"
                   for role in ROLE.findall("".join(cell["source"]))} - ROLES_SHOWN_IN_LAB)


def error_outputs_in(nb):
    """{cell index: 'Name: value'} of the error outputs JupyterLab saved."""
    return {index: f"{output['ename']}: {output['evalue']}"[:300]
            for index, cell in enumerate(nb["cells"]) if cell["cell_type"] == "code"
            for output in cell.get("outputs", []) if output["output_type"] == "error"}


def figure_cells(nb):
    """Indices of the code cells that draw a figure (they end with ``plt.show()``)."""
    return [index for index, cell in enumerate(nb["cells"])
            if cell["cell_type"] == "code" and "plt.show()" in "".join(cell["source"])]


# ---------------------------------------------------------------------------------------
# The student's actions in JupyterLab, and what the page shows

# True once the notebook at `path` is the current tab, loaded, with its kernel connected and idle.
_NOTEBOOK_READY = """(path) => {
    const app = window.jupyterapp;
    const panel = app && app.shell.currentWidget;
    if (!panel || !panel.context || panel.context.path !== path || !panel.context.isReady) return false;
    const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
    return !!kernel && kernel.connectionStatus === 'connected' && kernel.status === 'idle';
}"""

# Resolves window.__runAll to 'done' when the Run All Cells command's promise settles: that
# is when every code cell has run (or the run stopped at an error).
_WATCH_RUN_ALL = """() => {
    window.__runAll = 'waiting';
    window.jupyterapp.commands.commandExecuted.connect((_, args) => {
        if (args.id !== 'notebook:run-all-cells') return;
        window.__runAll = 'running';
        Promise.resolve(args.result).then(() => { window.__runAll = 'done'; },
                                          () => { window.__runAll = 'done'; });
    });
}"""

# Every cell on the page, in order: its type, its rendered text (markdown), the quotes still
# shown as names, the images shown and the stderr/error text in its outputs.
_CELLS = r"""() => Array.from(document.querySelectorAll('.jp-Notebook .jp-Cell')).map(cell => {
    const markdown = cell.classList.contains('jp-MarkdownCell');
    const rendered = cell.querySelector('.jp-InputArea .myst, .jp-InputArea .jp-RenderedMarkdown');
    return {
        markdown,
        rendered: !!rendered,
        text: rendered ? rendered.innerText : '',
        unevaluated: markdown ? Array.from(cell.querySelectorAll('code')).map(c => c.textContent.trim())
                                     .filter(t => /^num\.[A-Za-z_]\w*$/.test(t)) : [],
        failed: markdown ? Array.from(cell.querySelectorAll('[data-mime-type="application/vnd.jupyter.stderr"]'))
                                .map(e => e.innerText.slice(0, 200)) : [],
        images: cell.querySelectorAll('.jp-OutputArea-output img, .jp-OutputArea-output svg').length,
        stderr: Array.from(cell.querySelectorAll(
                    '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'))
                    .map(e => e.innerText.slice(0, 300)),
    };
})"""

# True when the markdown cells before index `last` are rendered and show no quote as a name.
_QUOTES_SHOWN = r"""(last) => Array.from(document.querySelectorAll('.jp-Notebook .jp-Cell')).slice(0, last)
    .filter(cell => cell.classList.contains('jp-MarkdownCell'))
    .every(cell => cell.querySelector('.jp-InputArea .myst, .jp-InputArea .jp-RenderedMarkdown')
                   && !Array.from(cell.querySelectorAll('code'))
                         .some(c => /^num\.[A-Za-z_]\w*$/.test(c.textContent.trim())))"""


def run_all_and_save(page, url, token, relpath, quotes_before=None):
    """Open ``relpath`` in JupyterLab, Run All from the menu, wait for the quotes, save.

    ``quotes_before``: wait only for the quotes above this cell index (None: all of them).
    Returns (seconds for Run All, seconds until the quotes showed or the wait ended).
    """
    page.goto(f"{url}/lab/tree/{relpath}?reset&token={token}", timeout=START_TIMEOUT * 1000)
    page.wait_for_function(_NOTEBOOK_READY, arg=relpath, timeout=START_TIMEOUT * 1000, polling=250)
    page.evaluate(_WATCH_RUN_ALL)
    start = time.monotonic()
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
    try:
        page.wait_for_function("window.__runAll === 'done'", timeout=RUN_TIMEOUT * 1000, polling=250)
    except PlaywrightTimeout:
        pytest.fail(f"{relpath}: Run All did not finish within {RUN_TIMEOUT} s "
                    f"(state: {page.evaluate('window.__runAll')})")
    ran = time.monotonic() - start
    # Run All renders every markdown cell at once; jupyterlab-myst then asks the kernel for
    # their quotes, which it answers after the code cells queued before. Wait for them to
    # show (a quote that never does is reported by the checks).
    last = 10 ** 6 if quotes_before is None else quotes_before
    try:
        page.wait_for_function(_QUOTES_SHOWN, arg=last, timeout=QUOTES_TIMEOUT * 1000, polling=250)
    except PlaywrightTimeout:
        pass
    shown = time.monotonic() - start
    page.keyboard.press("Control+s")
    try:
        page.wait_for_function("() => !window.jupyterapp.shell.currentWidget.context.model.dirty",
                               timeout=START_TIMEOUT * 1000, polling=250)
    except PlaywrightTimeout:
        pytest.fail(f"{relpath}: the notebook was not saved within {START_TIMEOUT} s")
    return ran, shown


def first_quote(nb):
    """The index of the first markdown cell that quotes a number (0 if none does)."""
    return next((i for i, c in enumerate(nb["cells"])
                 if c["cell_type"] == "markdown" and EVAL.search("".join(c["source"]))), 0)


def screenshot(page, name, cell_index):
    """Scroll cell ``cell_index`` to the top of the notebook and save the window."""
    page.evaluate("(i) => document.querySelectorAll('.jp-Notebook .jp-Cell')[i].scrollIntoView()", cell_index)
    LAB_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(LAB_SCREENSHOTS / f"{name}.png"))


def write_figures(name, **figures):
    LAB_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (LAB_SCREENSHOTS / f"{name}.json").write_text(json.dumps(figures, indent=1) + "\n")


def raw_syntax(cells):
    """(cell index, text) of every piece of raw MyST syntax in the rendered markdown."""
    return [(i, m.group(0)) for i, c in enumerate(cells) for m in RAW_SYNTAX.finditer(c["text"])]


def check_page(label, nb, cells, upto=None, hint=""):
    """The checks on what the page shows: every cell, and the quotes and figures before ``upto``."""
    assert len(cells) == len(nb["cells"]), (
        f"{label}: JupyterLab shows {len(cells)} cells, the notebook has {len(nb['cells'])}")
    shown = cells[:upto]
    unrendered = [i for i, c in enumerate(cells) if c["markdown"] and not c["rendered"]]
    assert not unrendered, f"{label}: markdown cells not rendered: {unrendered[:10]}"
    raw = raw_syntax(cells)
    assert not raw, f"{label}: raw MyST syntax in rendered markdown cells (cell, text): {raw[:10]}"
    roles = roles_not_shown_in_lab(nb)
    assert not roles, f"{label}: roles that JupyterLab shows as bare text: {roles}"
    missing = [(i, q) for i, c in enumerate(shown) for q in c["unevaluated"]]
    assert not missing, f"{label}: numbers still shown as names after Run All (cell, quote): {missing[:10]}{hint}"
    failed = [(i, q) for i, c in enumerate(shown) for q in c["failed"]]
    assert not failed, f"{label}: quotes shown as an error (cell, error): {failed[:10]}"
    blank = [i for i in figure_cells(nb) if (upto is None or i < upto) and not cells[i]["images"]]
    assert not blank, f"{label}: figure cells that show no image: {blank}"


# ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("chapter", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_chapter_reads_in_jupyterlab_as_on_the_website(lab, browser, chapter):
    url, token, work = lab
    relpath = f"chapters/{chapter.name}"
    saved_path = work / relpath
    shutil.copy(chapter, saved_path)   # the chapter as it is now, run on its own and in JupyterLab
    quoted = quotes_in(json.loads(saved_path.read_text()))
    expected = website_numbers(saved_path)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        ran, shown = run_all_and_save(page, url, token, relpath)
        cells = page.evaluate(_CELLS)
        saved_nb = json.loads(saved_path.read_text())
        screenshot(page, chapter.stem, first_quote(saved_nb))
        write_figures(chapter.stem, run_all_seconds=round(ran, 1), quotes_shown_seconds=round(shown, 1),
                      quotes=len(quoted), raw_syntax=len(raw_syntax(cells)), figures=len(figure_cells(saved_nb)))

        errors = error_outputs_in(saved_nb)
        assert not errors, f"{chapter.name}: error outputs (cell: error): {errors}"
        stderr = {i: c["stderr"] for i, c in enumerate(cells) if c["stderr"]}
        assert not stderr, f"{chapter.name}: stderr shown (cell: text): {dict(list(stderr.items())[:3])}"
        check_page(chapter.name, saved_nb, cells)

        saved, raised = saved_quotes(saved_path)
        never = sorted(quoted - set(saved))
        assert not never, f"{chapter.name}: quotes JupyterLab never evaluated (cell id, quote): {never[:10]}"
        raised = {q: saved[q] for q in sorted(raised & quoted)}
        assert not raised, f"{chapter.name}: quotes whose evaluation raised in JupyterLab: {raised}"
        wrong = differences(chapter.stem, saved, expected, quoted)
        assert not wrong, (f"{chapter.name}: JupyterLab shows (got, the website shows): "
                           f"{dict(list(wrong.items())[:10])}")
    finally:
        page.close()
        _shut_down_kernels(url, token, relpath)


def test_student_copy_reads_in_jupyterlab(lab, browser, tmp_path):
    """The student copy of chapter 2, as `make assignments` writes it, read in JupyterLab.

    The answer cells and their test cells fail until the student writes the answers. They
    are tagged ``raises-exception``, so *Run All* shows the errors and runs every cell to the
    end; every number above the exercises must be evaluated, equal to the website's, no
    markdown cell anywhere may show raw syntax, and an error may appear only in an answer
    cell or a graded test cell.
    """
    url, token, work = lab
    chapter = ROOT / "chapters" / "02_bptt.ipynb"
    course = tmp_path / "course"
    subprocess.run([sys.executable, str(ROOT / "coursework" / "make_assignments.py"), "--out", str(course),
                    str(chapter)], check=True, capture_output=True, text=True, timeout=600)
    student = work / "student" / chapter.name
    student.parent.mkdir(exist_ok=True)
    shutil.copy(course / "release" / chapter.stem / chapter.name, student)
    relpath = f"student/{chapter.name}"
    student_nb = json.loads(student.read_text())
    exercises = next(i for i, c in enumerate(student_nb["cells"])
                     if c["cell_type"] == "markdown" and "".join(c["source"]).startswith("## Exercises"))
    expected = website_numbers(student)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        ran, shown = run_all_and_save(page, url, token, relpath, quotes_before=exercises)
        cells = page.evaluate(_CELLS)
        saved_nb = json.loads(student.read_text())
        quoted = quotes_in(saved_nb, cells=range(exercises))
        screenshot(page, f"student_{chapter.stem}", first_quote(saved_nb))
        write_figures(f"student_{chapter.stem}", run_all_seconds=round(ran, 1),
                      quotes_shown_seconds=round(shown, 1), quotes=len(quoted), raw_syntax=len(raw_syntax(cells)))

        errors = error_outputs_in(saved_nb)
        may_raise = {i for i, c in enumerate(saved_nb["cells"]) if c["cell_type"] == "code"
                     and (c["metadata"].get("nbgrader", {}).get("grade")
                          or c["metadata"].get("nbgrader", {}).get("solution"))}
        elsewhere = {i: e for i, e in errors.items() if i not in may_raise}
        assert not elsewhere, f"student copy: errors outside the answer and test cells (cell: error): {elsewhere}"
        assert errors, "student copy: no unfinished answer raised; is the stub still in place?"
        not_run = [i for i, c in enumerate(saved_nb["cells"])
                   if c["cell_type"] == "code" and c.get("execution_count") is None]
        hint = ("" if not not_run else
                f"; Run All stopped before cell {min(not_run)}: jupyterlab-myst's requests for the "
                f"numbers wait in the kernel's queue behind every code cell, and an error in a cell "
                f"without the tag raises-exception empties the queue")
        assert not not_run, f"student copy: Run All did not run the code cells {not_run[:10]}{hint}"
        check_page("student copy", saved_nb, cells, upto=exercises, hint=hint)

        saved, raised = saved_quotes(student)
        never = sorted(quoted - set(saved))
        assert not never, (f"student copy: quotes above the exercises JupyterLab never evaluated "
                           f"(cell id, quote): {never[:10]}")
        raised = {q: saved[q] for q in sorted(raised & quoted)}
        assert not raised, f"student copy: quotes whose evaluation raised in JupyterLab: {raised}"
        wrong = differences(chapter.stem, saved, expected, quoted)
        assert not wrong, f"student copy: JupyterLab shows (got, the website shows): {dict(list(wrong.items())[:10])}"
    finally:
        page.close()
        _shut_down_kernels(url, token, relpath)
