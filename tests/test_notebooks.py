"""The chapter notebooks keep the book's conventions (CONTRIBUTING.md)."""

import json

import pytest

from conftest import ROOT

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
