"""The chapter notebooks keep the book's conventions (CONTRIBUTING.md)."""

import json
import re

import pytest

from conftest import ROOT
from vanishgrad.plotting import COLUMN_INCHES

NOTEBOOKS = sorted((ROOT / "chapters").glob("**/*.ipynb"))
NOTEBOOKS = [p for p in NOTEBOOKS if ".ipynb_checkpoints" not in p.parts]


def load(path):
    return json.loads(path.read_text(encoding="utf-8"))


def code_cells(path):
    return [c for c in load(path)["cells"] if c["cell_type"] == "code"]


def source(cell):
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def ids(paths):
    return [p.name for p in paths]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_stored_without_outputs(path):
    dirty = [i for i, c in enumerate(code_cells(path)) if c.get("outputs") or c.get("execution_count")]
    assert not dirty, (
        f"{path.name}: code cells {dirty} carry outputs or execution counts; "
        f"clear them (jupyter nbconvert --clear-output --inplace {path.relative_to(ROOT)})"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_imports_the_installed_library(path):
    offenders = [i for i, c in enumerate(code_cells(path)) if "sys.path" in source(c)]
    assert not offenders, f"{path.name}: cells {offenders} edit sys.path; import vanishgrad as installed"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_claims_are_guarded_by_hidden_check_cells(path):
    checks = [c for c in code_cells(path) if source(c).lstrip().startswith("# check:")]
    assert checks, f"{path.name}: no check cells (code cells starting with '# check:')"
    shown = [source(c).splitlines()[0] for c in checks if "remove-cell" not in c["metadata"].get("tags", [])]
    assert not shown, f"{path.name}: check cells not tagged remove-cell: {shown}"
    empty = [source(c).splitlines()[0] for c in checks if "assert" not in source(c)]
    assert not empty, f"{path.name}: check cells that assert nothing: {empty}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_figures_have_alt_text_and_captions(path):
    bad = []
    for i, c in enumerate(code_cells(path)):
        if "plt.show()" not in source(c):
            continue
        meta = c["metadata"].get("mystnb", {})
        if not meta.get("image", {}).get("alt", "").strip() or not meta.get("figure", {}).get("caption", "").strip():
            bad.append(i)
    assert not bad, f"{path.name}: figure cells {bad} lack mystnb.image.alt or mystnb.figure.caption"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_seeded_randomness(path):
    text = "\n".join(source(c) for c in code_cells(path))
    for unseeded in ("np.random.rand(", "np.random.randn(", "np.random.seed(", "default_rng()"):
        assert unseeded not in text, f"{path.name}: use a seeded np.random.default_rng(seed), not {unseeded}"


# ---------------------------------------------------------------------------------------
# Numbers in the prose (CONTRIBUTING.md): {eval}`num.name`, registered by an earlier cell

EVAL_ROLE = re.compile(r"\{eval\}`([^`]*)`")
OTHER_NUMBER_ROLES = re.compile(r"\{glue(:\w+)?\}|```\{glue|:::\{glue|```\{eval\}|:::\{eval\}")
REGISTERED = re.compile(r"""\bnum\(\s*(f?)(["'])(.+?)\2""")


def registered_patterns(code):
    """Regexes of the names a code cell registers with ``num("name", ...)``.

    An f-string name such as ``num(f"ratio_{name}", ...)`` registers every name that its
    literal parts allow, ``ratio_<anything>``.
    """
    patterns = []
    for is_f, _, name in REGISTERED.findall(code):
        if is_f:
            parts = re.split(r"\{[^}]*\}", name)
            patterns.append(re.compile("^" + r"\w+".join(map(re.escape, parts)) + "$"))
        else:
            patterns.append(re.compile("^" + re.escape(name) + "$"))
    return patterns


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_prose_quotes_numbers_only_through_eval(path):
    bad = [i for i, c in enumerate(load(path)["cells"])
           if c["cell_type"] == "markdown" and OTHER_NUMBER_ROLES.search(source(c))]
    assert not bad, (f"{path.name}: markdown cells {bad} use glue or an eval directive; quote a number "
                     "inline with {eval}`num.name` and show a table as a Markdown output (CONTRIBUTING.md)")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_every_quoted_number_is_registered_above_its_quote(path):
    known, problems = [], []
    for i, cell in enumerate(load(path)["cells"]):
        text = source(cell)
        if cell["cell_type"] == "code":
            known += registered_patterns(text)
            continue
        if cell["cell_type"] != "markdown":
            continue
        for expression in EVAL_ROLE.findall(text):
            match = re.fullmatch(r"num\.([A-Za-z]\w*)", expression)
            if not match:
                problems.append(f"cell {i}: {{eval}}`{expression}` is not num.<name>")
            elif not any(p.match(match.group(1)) for p in known):
                problems.append(f"cell {i}: num.{match.group(1)} is quoted before any cell registers it")
    assert not problems, f"{path.name}:\n" + "\n".join(problems)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_stored_without_evaluated_expressions(path):
    stale = [i for i, c in enumerate(load(path)["cells"]) if c["metadata"].get("user_expressions")]
    assert not stale, (f"{path.name}: markdown cells {stale} carry evaluated {{eval}} results "
                       "(metadata 'user_expressions', written by JupyterLab on save); remove them")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_cells_that_register_numbers_are_not_removed(path):
    # the website's inline execution runs a removed cell only when the next visible code cell
    # runs, after the markdown below it has already been rendered without its numbers
    removed = [i for i, c in enumerate(load(path)["cells"]) if c["cell_type"] == "code"
               and "remove-cell" in c["metadata"].get("tags", []) and registered_patterns(source(c))]
    assert not removed, (f"{path.name}: cells {removed} register numbers with num(...) but are tagged "
                         "remove-cell; tag them remove-input (CONTRIBUTING.md)")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_no_code_cell_ends_with_a_semicolon(path):
    # IPython reads a trailing ';' of the last stored cell as "show nothing", and {eval} runs
    # without storing history: every quote after such a cell would come back empty
    bad = [i for i, c in enumerate(load(path)["cells"])
           if c["cell_type"] == "code" and source(c).rstrip().endswith(";")]
    assert not bad, f"{path.name}: code cells {bad} end with ';'; end them with an assignment or None"


# ---------------------------------------------------------------------------------------
# Figures and code on the page (CONTRIBUTING.md)

#: The longest code line a reader sees whole: in a 1280 px window the website's code cells
#: are 652 px wide inside their padding, about 77 characters of its 14 px monospace font.
CODE_LINE_CHARACTERS = 77
#: Tags that keep a cell's source off the website (`hide-input` only folds it away).
SOURCE_NOT_SHOWN = {"remove-cell", "remove-input"}
#: A literal figure width: `figsize=(w, h)`, also `sweep(..., figsize=(w, h))`, and
#: `fig.set_size_inches(w, h)`.
FIGURE_WIDTH = re.compile(r"(?:\bfigsize\s*=\s*|\bset_size_inches\s*\(\s*)\(?\s*([0-9]*\.?[0-9]+)\s*,")
INSTALL_NOTE = ("To run this chapter yourself you need the book's library and the notebook "
                "tools it uses: `pip install -e \".[chapters]\"` from the book's repository, or "
                "`make lab`, which installs everything and opens JupyterLab.")


def shown_code_cells(path):
    """The code cells whose source the website shows (open or folded)."""
    return [c for c in code_cells(path) if not SOURCE_NOT_SHOWN & set(c["metadata"].get("tags", []))]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_shown_code_lines_fit_the_page(path):
    long = [f"cell {c['id']}, line {n}: {len(line)} characters: {line.strip()[:50]}"
            for c in shown_code_cells(path)
            for n, line in enumerate(source(c).splitlines(), start=1)
            if len(line) > CODE_LINE_CHARACTERS]
    assert not long, (f"{path.name}: code lines longer than {CODE_LINE_CHARACTERS} characters scroll "
                      "sideways on the website; break the argument list, name an intermediate value or "
                      "shorten the comment:\n" + "\n".join(long))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_figures_fit_the_page_column(path):
    wide = [f"cell {c['id']}: a figure {match.group(1)} in wide"
            for c in code_cells(path) for match in FIGURE_WIDTH.finditer(source(c))
            if float(match.group(1)) > COLUMN_INCHES]
    assert not wide, (f"{path.name}: figures wider than the page column ({COLUMN_INCHES} in) are shrunk "
                      "to fit, and their text with them; make them narrower, stack the panels, or put a "
                      "long legend below the axes:\n" + "\n".join(wide))


def test_figure_width_pattern_reads_every_form():
    widths = [m.group(1) for m in FIGURE_WIDTH.finditer(
        "plt.subplots(1, 2, figsize=(10, 3.8)); sweep(draw, v, figsize = ( 7.25, 3 )); "
        "fig.set_size_inches(8.5, 2); fig.set_size_inches((.5, 2)); ax.plot(x, y)")]
    assert widths == ["10", "7.25", "8.5", ".5"], widths


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_first_markdown_cell_says_how_to_get_the_library(path):
    first = next(c for c in load(path)["cells"] if c["cell_type"] == "markdown")
    assert " ".join(source(first).split()).endswith(INSTALL_NOTE), (
        f"{path.name}: a reader who downloads this notebook from the website must learn how to get "
        f"the library it imports; end its first markdown cell (id {first['id']}) with:\n{INSTALL_NOTE}")
