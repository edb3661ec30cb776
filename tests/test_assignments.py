"""Coursework: nbgrader turns every chapter into a student copy that holds up.

For every chapter under chapters/ (nothing here names one, except the table of simulated
students below), `coursework/make_assignments.py` writes an nbgrader course directory
into a temporary folder. The tests then check:

- the conventions of CONTRIBUTING.md ("Exercises") that a program can check: at least
  three exercises, each code exercise graded by two or more test cells, every assertion
  with a message, test cells that bind and read only their own names, a manually graded
  answer cell for every paper and open exercise;
- the student copy: stubs for every answer, no check cell, no written solution, and no
  line of a solution or of a hidden test anywhere in it (markdown included);
- `make_assignments.py` never touches an instructor's collected work;
- what `nbgrader autograde` gives a class of simulated students, all handed in to one
  course directory per chapter and graded in one run:

  ==================  ==================================================  ============
  student             hands in                                            earns
  ==================  ==================================================  ============
  correct             the student copy with the book's answers written    every point
                      in (code and written answers)                       of the code
  untouched           the student copy as it was handed out               nothing
  partly_wrong        the chapter's typical mistake (table below)         its share
  tampering           partly_wrong's answer, with every test cell         what
                      rewritten to pass and its points raised             partly_wrong
                                                                          earns
  deleted_tests       the correct code, with every test cell deleted      every point
                                                                          of the code
  cheat_*             a shortcut the tests must not reward (table below)  nothing on
                                                                          the tests it
                                                                          affects
  ==================  ==================================================  ============

  Written answers are graded by hand: the correct student's wait for the instructor,
  everyone else's untouched prompts score zero. To keep the run short, only the correct
  and the untouched students hand in the whole chapter; the others keep only what
  grading needs (the chapter's first code cell, its imports, and the Exercises section),
  as a student may delete the rest.

A chapter's typical mistake and its cheats are particular to it, so each chapter with a
code exercise has an entry in STUDENTS; a chapter without one fails a test that says so.
"""

import ast
import builtins
import csv
import hashlib
import importlib.util
import io
import keyword
import os
import re
import shutil
import subprocess
import sys
import textwrap
import tokenize
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook, MissingEntry
from traitlets.config.loader import PyFileConfigLoader

from conftest import ROOT

CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))
NAMES = [p.stem for p in CHAPTERS]
MAKE = ROOT / "coursework" / "make_assignments.py"
BIN = Path(sys.executable).parent
# nbgrader runs `alembic` as a command: find it in this environment even when not activated
ENV = {**os.environ, "PATH": str(BIN) + os.pathsep + os.environ.get("PATH", "")}

REGIONS = {
    "solution": ("### BEGIN SOLUTION", "### END SOLUTION"),
    "hidden test": ("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"),
}
STUB = "raise NotImplementedError()"
SOLUTION_FENCE = re.compile(r"^\s*(:{3,}|`{3,})\{(solution|solution-start|solution-end)\}")
EXERCISE_FENCE = re.compile(r"^\s*(:{3,}|`{3,})\{exercise\}")


# ---------------------------------------------------------------------------------------
# The simulated students particular to each chapter

@dataclass(frozen=True)
class Student:
    """What a simulated student writes, and which test cells must then earn their points.

    answers: {grade_id of a code answer cell: the code written in place of its stub}
    passes:  grade_ids of the test cells that earn their points; every other test cell
             must earn zero
    added:   code of a cell the student adds right after their answer cell
    """

    answers: dict
    passes: tuple = ()
    added: str = ""


STUDENTS = {
    "01_saturating_sigmoids": {
        # the bias gradient averaged over the batch instead of summed: right for a batch of one
        "partly_wrong": Student(
            answers={"ch1-layer-backward": """
                dnet = dh * h * (1.0 - h)
                return {"h_prev": dnet @ W, "W": dnet.T @ h_prev, "b": dnet.mean(axis=0)}
            """},
            passes=("ch1-layer-backward-shapes", "ch1-layer-backward-edge")),
        # the library's layer_backward, which the exercise forbids, fed a rebuilt cache
        "cheat_library_backward": Student(
            answers={"ch1-layer-backward": """
                from vanishgrad.mlp import LayerCache, layer_backward
                net = np.log(h / (1 - h))
                grads = layer_backward(dh, LayerCache(h_prev, W, net, h, activations.get("sigmoid")))
                return {key: grads[key] for key in ("h_prev", "W", "b")}
            """}),
    },
    "02_bptt": {
        # tanh's derivative, 1 − h², whatever the activation: right for tanh only
        "partly_wrong": Student(
            answers={"ch2-bptt-step": """
                dh_t = dh_out + carry
                delta_t = (1.0 - h_t ** 2) * dh_t
                new_carry = delta_t @ W
            """},
            passes=("ch2-bptt-step-shapes", "ch2-bptt-step-example", "ch2-bptt-step-single-step")),
        # f' left out, and the notebook's gradcheck replaced by a fake whose rel_error is always 0
        "cheat_fake_gradcheck": Student(
            answers={"ch2-bptt-step": """
                dh_t = dh_out + carry
                delta_t = dh_t
                new_carry = delta_t @ W
            """},
            added="""
                class gradcheck:
                    @staticmethod
                    def rel_error(a, b):
                        return 0.0
            """,
            passes=("ch2-bptt-step-shapes",)),
    },
    "03_jacobians": {
        # the step Jacobians multiplied in the reverse order: right at lags 0 and 1, and
        # whenever the Jacobians commute (a diagonal linear network)
        "partly_wrong": Student(
            answers={"ch3-jacobian-product-norm": """
                W, net = cache["W"], cache["net"][:, seq]
                fprime = activations.get(cache["activation"]).df(net)
                T = net.shape[0]
                product = np.eye(W.shape[0])
                for s in range(T - 1, T - 1 - lag, -1):
                    product = (W * fprime[s - 1]) @ product
                return np.linalg.norm(product, 2)
            """},
            passes=("ch3-jacobian-product-norm-scalar", "ch3-jacobian-product-norm-linear")),
        # vanishgrad.jacobian, which the exercise forbids
        "cheat_jacobian_module": Student(
            answers={"ch3-jacobian-product-norm": """
                return jacobian.product_norms(jacobian.step_jacobians(cache, seq=seq))[lag]
            """}),
    },
    "04_clipping": {
        # each tensor clipped by its own norm (Keras's clipnorm), not by the global norm:
        # right for a single tensor
        "partly_wrong": Student(
            answers={"ch4-clip-global-norm": """
                norms = {k: float(np.sqrt(np.sum(np.square(v)))) for k, v in grads.items()}
                total = float(np.sqrt(sum(n * n for n in norms.values())))
                return {k: np.asarray(v) * min(1.0, theta / (norms[k] + 1e-6))
                        for k, v in grads.items()}, total
            """},
            passes=("ch4-clip-global-norm-structure", "ch4-clip-global-norm-single")),
        # the library's clipping, which the exercise forbids
        "cheat_library_clip": Student(
            answers={"ch4-clip-global-norm": """
                from vanishgrad.clip import by_global_norm
                return by_global_norm(grads, theta)
            """}),
        # the same, through the name the chapter's first cell imports
        "cheat_chapter_clip": Student(
            answers={"ch4-clip-global-norm": """
                return clip.by_global_norm(grads, theta)
            """}),
    },
    "05_residual": {
        # α left out of ∂L/∂net: right only when α = 1
        "partly_wrong": Student(
            answers={"ch5-block-backward": """
                dnet = dy * activations.get(activation).df(net)
                return {"x": dy + dnet @ W, "W": dnet.T @ x, "b": dnet.sum(axis=0),
                        "alpha": float(np.sum(dy * F))}
            """},
            passes=("ch5-block-backward-shapes", "ch5-block-backward-unit-scale")),
        # the library's block backward, which the exercise forbids, fed a rebuilt cache
        "cheat_library_backward": Student(
            answers={"ch5-block-backward": """
                from vanishgrad import residual as library
                _, rebuilt = library.block_forward(x, W, net[0] - x[0] @ W.T, alpha, activation)
                grads = library.block_backward(dy, rebuilt)
                return {key: grads[key] for key in ("x", "W", "b", "alpha")}
            """}),
    },
    "06_gates": {
        # the cell's gradient without the path through h_t = o_t ⊙ tanh(c_t): only dc flows in
        "partly_wrong": Student(
            answers={"ch6-step-backward": """
                into = dc
                gi = into * step["g"] * step["i"] * (1.0 - step["i"])
                gf = into * step["c_prev"] * step["f"] * (1.0 - step["f"])
                gg = into * step["i"] * (1.0 - step["g"] ** 2)
                go = dh * step["tanh_c"] * step["o"] * (1.0 - step["o"])
                d_all = np.concatenate([gi, gf, gg, go], axis=1)
                return d_all, d_all @ step["W"], into * step["f"], d_all @ step["U"]
            """},
            passes=("ch6-step-backward-shapes",)),
        # the right arithmetic, but with a call into vanishgrad.lstm, which the exercise forbids
        "cheat_lstm_module": Student(
            answers={"ch6-step-backward": """
                from vanishgrad import lstm as lstm_library
                lstm_library.init_params(1, 1, 1, rng=0)
                into = dc + dh * step["o"] * (1.0 - step["tanh_c"] ** 2)
                gi = into * step["g"] * step["i"] * (1.0 - step["i"])
                gf = into * step["c_prev"] * step["f"] * (1.0 - step["f"])
                gg = into * step["i"] * (1.0 - step["g"] ** 2)
                go = dh * step["tanh_c"] * step["o"] * (1.0 - step["o"])
                d_all = np.concatenate([gi, gf, gg, go], axis=1)
                return d_all, d_all @ step["W"], into * step["f"], d_all @ step["U"]
            """}),
    },
    "07_long_range": {
        # the first mark drawn from 0 … ⌊T/2⌋ instead of 0 … ⌊T/2⌋ − 1: an off-by-one that
        # sometimes puts both marks in the second half
        "partly_wrong": Student(
            answers={"ch7-adding-batch": """
                gen = np.random.default_rng(seed)
                middle = T // 2
                values = gen.uniform(0.0, 1.0, size=(T, B))
                first_mark = gen.integers(0, middle + 1, size=B)
                second_mark = gen.integers(middle, T, size=B)
                which = np.arange(B)
                markers = np.zeros((T, B))
                markers[first_mark, which] = 1.0
                markers[second_mark, which] = 1.0
                sums = values[first_mark, which] + values[second_mark, which]
                return np.stack([values, markers], axis=2), sums.reshape(B, 1)
            """},
            passes=("ch7-adding-batch-shapes",)),
        # a batch from the library's own generator, which the exercise forbids
        "cheat_tasks_module": Student(
            answers={"ch7-adding-batch": """
                from vanishgrad import tasks as tasks_library
                return tasks_library.adding(T, B, rng=seed)
            """}),
    },
    "08_next": {
        # λ where conj(λ) belongs: right whenever λ is real, wrong for a complex eigenvalue
        "partly_wrong": Student(
            answers={"ch8-lru-backward": """
                steps = len(dx)
                g = np.zeros(steps, dtype=complex)
                running = 0j
                for k in range(steps - 1, -1, -1):
                    g[k] = dx[k] + running
                    running = lam * g[k]
                before = np.concatenate([[x0], xs[:-1]])
                return g, np.sum(np.conj(before) * g)
            """},
            passes=("ch8-lru-backward-shapes",)),
        # the right recursion, but with a call into vanishgrad.lru, which the exercise forbids
        "cheat_lru_module": Student(
            answers={"ch8-lru-backward": """
                from vanishgrad import lru as lru_library
                lru_library.init_params(1, 1, 1, rng=0)
                steps = len(dx)
                g = np.zeros(steps, dtype=complex)
                running = 0j
                for k in range(steps - 1, -1, -1):
                    g[k] = dx[k] + running
                    running = np.conj(lam) * g[k]
                before = np.concatenate([[x0], xs[:-1]])
                return g, np.sum(np.conj(before) * g)
            """}),
    },
}


# ---------------------------------------------------------------------------------------
# Reading notebooks

def meta(cell):
    return cell.metadata.get("nbgrader", {})


def is_answer(cell):
    """A code answer cell: an nbgrader solution cell that is not graded itself."""
    return cell.cell_type == "code" and bool(meta(cell).get("solution")) and not meta(cell).get("grade")


def is_test(cell):
    """An autograded test cell: a graded code cell that is not an answer."""
    return cell.cell_type == "code" and bool(meta(cell).get("grade")) and not meta(cell).get("solution")


def is_written_answer(cell):
    """A manually graded answer cell: a markdown cell that is both graded and a solution."""
    return cell.cell_type == "markdown" and bool(meta(cell).get("grade")) and bool(meta(cell).get("solution"))


def is_check(cell):
    return cell.cell_type == "code" and cell.source.lstrip().startswith("# check:")


def solution_directives(cell):
    if cell.cell_type != "markdown":
        return []
    return [m.group(2) for m in map(SOLUTION_FENCE.match, cell.source.splitlines()) if m]


def read(path):
    return nbformat.read(path, as_version=4)


def exercises_start(nb):
    """Index of the cell with the '## Exercises' heading (None if there is none)."""
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown" and cell.source.lstrip().startswith("## Exercises"):
            return index
    return None


def misplaced_solutions(nb):
    """Cells with a solution directive that do not open with it (only the cell that closes a
    gated solution may hold text before its directive)."""
    misplaced, inside = [], False
    for index, cell in enumerate(nb.cells):
        directives = solution_directives(cell)
        if inside:
            inside = "solution-end" not in directives
            continue
        if directives and not SOLUTION_FENCE.match(cell.source.lstrip()):
            misplaced.append(index)
        inside = directives[:1] == ["solution-start"] and "solution-end" not in directives
    return misplaced


def written_solution_cells(nb):
    """Indices of the cells that make up written solutions: {solution} cells, and every
    cell of a gated solution from its {solution-start} cell to its {solution-end} cell."""
    found, inside = set(), False
    for index, cell in enumerate(nb.cells):
        directives = solution_directives(cell)
        if inside or directives:
            found.add(index)
        if inside:
            inside = "solution-end" not in directives
        elif directives and directives[0] == "solution-start":
            inside = "solution-end" not in directives
    return found


def exercises(nb):
    """[{label, cell, code: bool, answer, tests, solution}] for each {exercise} of the chapter.

    A code exercise is an exercise cell followed by a code answer cell; its tests are the
    test cells that follow the answer. The solution is the first cell after the exercise
    that opens a solution directive naming its label.
    """
    found = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown" or not any(EXERCISE_FENCE.match(l) for l in cell.source.splitlines()):
            continue
        label = re.search(r"^:label:\s*(\S+)", cell.source, flags=re.M)
        entry = {"label": label.group(1) if label else None, "cell": index, "code": False,
                 "answer": None, "tests": [], "solution": None}
        following = nb.cells[index + 1] if index + 1 < len(nb.cells) else None
        if following is not None and is_answer(following):
            entry.update(code=True, answer=index + 1)
            for later in range(index + 2, len(nb.cells)):
                if not is_test(nb.cells[later]):
                    break
                entry["tests"].append(later)
        opens_solution = re.compile(rf"^\s*(:{{3,}}|`{{3,}})\{{solution(-start)?\}}\s+{re.escape(str(entry['label']))}\s")
        entry["solution"] = next((later for later in range(index + 1, len(nb.cells))
                                  if nb.cells[later].cell_type == "markdown"
                                  and opens_solution.match(nb.cells[later].source)), None)
        found.append(entry)
    return found


def region_lines(source, kind):
    """The lines of ``source`` inside its regions of one kind (markers excluded)."""
    begin, end = REGIONS[kind]
    lines, inside = [], False
    for line in source.split("\n"):
        if begin in line:
            inside = True
        elif end in line:
            inside = False
        elif inside:
            lines.append(line)
    return lines


def outside_regions(source):
    lines, inside = [], False
    for line in source.split("\n"):
        if any(begin in line for begin, _ in REGIONS.values()):
            inside = True
        elif any(end in line for _, end in REGIONS.values()):
            inside = False
        elif not inside:
            lines.append(line)
    return "\n".join(lines)


def has_code_exercise(path):
    return any(is_answer(c) for c in read(path).cells)


GRADED = [p.stem for p in CHAPTERS if has_code_exercise(p)]


# ---------------------------------------------------------------------------------------
# Conventions a program can check (CONTRIBUTING.md, "Exercises")

@pytest.mark.parametrize("name", NAMES)
def test_exercises_follow_the_conventions(name):
    nb = read(ROOT / "chapters" / f"{name}.ipynb")
    start = exercises_start(nb)
    assert start is not None, f"{name}: no '## Exercises' heading"
    chapter_one = read(CHAPTERS[0])
    first = chapter_one.cells[exercises_start(chapter_one)].source
    assert nb.cells[start].source == first, (f"{name}: the Exercises heading cell must hold the paragraph "
                                             f"on working in the notebook, as in {CHAPTERS[0].name}")
    for words in ("Run All", "raises-exception", "NotImplementedError"):
        assert words in first, (f"{CHAPTERS[0].name}: the Exercises paragraph must tell students that Run All "
                                f"runs past a failing test cell (mention {words!r})")
    found = [e for e in exercises(nb) if e["cell"] > start]
    assert len(found) >= 3, f"{name}: {len(found)} exercises after the Exercises heading; expected at least 3"
    code = [e for e in found if e["code"]]
    assert code, (f"{name}: no code exercise graded automatically (an exercise cell followed by an "
                  f"answer cell with nbgrader metadata solution: true, then its test cells)")
    for e in code:
        points = [meta(nb.cells[i]).get("points", 0) for i in e["tests"]]
        assert len(points) >= 2 and all(p > 0 for p in points), (
            f"{name}: {e['label']} has {len(points)} test cells with points {points}; expected at least "
            f"two graded cells (shapes, the visible example, hidden cases), so that partial credit exists")
    for e in found:
        if e["code"]:
            continue
        assert e["solution"] is not None, f"{name}: {e['label']} has no written solution"
        cell = nb.cells[e["solution"]]
        assert is_written_answer(cell) and meta(cell).get("points", 0) > 0, (
            f"{name}: the solution of {e['label']} (cell {e['solution']}) must be a manually graded answer "
            f"cell, nbgrader metadata {{\"solution\": true, \"grade\": true, \"points\": N}}; got {meta(cell)}")
    misplaced = misplaced_solutions(nb)
    assert not misplaced, (f"{name}: cells {misplaced} hold a solution directive after other text; "
                           f"a written solution opens its own markdown cell")
    ids = [meta(c)["grade_id"] for c in nb.cells if "grade_id" in meta(c)]
    assert len(ids) == len(set(ids)), f"{name}: grade_ids used twice: {sorted({i for i in ids if ids.count(i) > 1})}"


def assigned_names(tree):
    """Every name a piece of code binds, in any scope."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, ast.alias):
            names.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
    return names


def top_level_names(tree):
    """The names a cell binds in the notebook's namespace (not those of its functions)."""
    names = set()

    def visit(node):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(child.name)
            elif isinstance(child, ast.alias):
                names.add((child.asname or child.name).split(".")[0])
            elif not isinstance(child, (ast.Lambda, ast.GeneratorExp, ast.ListComp, ast.SetComp, ast.DictComp)):
                if isinstance(child, ast.Name) and isinstance(child.ctx, ast.Store):
                    names.add(child.id)
                visit(child)

    visit(tree)
    return names


@pytest.mark.parametrize("name", NAMES)
def test_test_cells_trust_nothing_the_notebook_can_rebind(name):
    """Every name a test cell reads is its own (bound in the cell, private), a builtin, or
    the student's function under test; every assertion says what it got and expected."""
    nb = read(ROOT / "chapters" / f"{name}.ipynb")
    under_test = set()
    for cell in filter(is_answer, nb.cells):
        under_test |= {n.name for n in ast.parse(cell.source).body
                       if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    problems = []
    for cell in filter(is_test, nb.cells):
        grade_id = meta(cell)["grade_id"]
        tree = ast.parse(cell.source)
        bound = assigned_names(tree)
        read_names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
        foreign = sorted(read_names - bound - under_test - set(dir(builtins)))
        if foreign:
            problems.append(f"{grade_id} reads names it does not bind itself: {foreign} "
                            f"(import them inside the cell under private names, e.g. `import numpy as _np`)")
        public = sorted(n for n in top_level_names(tree) if not n.startswith("_"))
        if public:
            problems.append(f"{grade_id} binds public names in the notebook: {public}; start them with '_'")
        bare = [node.lineno for node in ast.walk(tree) if isinstance(node, ast.Assert) and node.msg is None]
        if bare:
            problems.append(f"{grade_id}: asserts without a message on lines {bare}; say what was "
                            f"got and what was expected")
    assert not problems, f"{name}:\n" + "\n".join(problems)


@pytest.mark.parametrize("name", NAMES)
def test_check_cells_define_nothing_later_cells_use(name):
    """The student copy leaves the check cells out, so no other cell may need them."""
    nb = read(ROOT / "chapters" / f"{name}.ipynb")
    defined = {}
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        tree = ast.parse(cell.source)
        if is_check(cell):
            defined.update((n, index) for n in top_level_names(tree))
            continue
        used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
        needed = sorted(n for n in used if n in defined and n not in assigned_names(tree))
        assert not needed, f"{name}: cell {index} uses {needed}, defined in check cell(s) {[defined[n] for n in needed]}"


@pytest.mark.parametrize("name", GRADED)
def test_every_chapter_has_its_simulated_students(name):
    if name not in STUDENTS:
        pytest.fail(f"{name} has a code exercise but no simulated students: add an entry STUDENTS[{name!r}] to "
                    f"tests/test_assignments.py with a 'partly_wrong' Student (a typical mistake and the test "
                    f"cells it still passes) and a 'cheat_...' Student for each shortcut the tests must not reward")
    nb = read(ROOT / "chapters" / f"{name}.ipynb")
    answers = {meta(c)["grade_id"] for c in nb.cells if is_answer(c)}
    tests = {meta(c)["grade_id"] for c in nb.cells if is_test(c)}
    assert "partly_wrong" in STUDENTS[name], f"STUDENTS[{name!r}] needs a 'partly_wrong' student"
    for who, student in STUDENTS[name].items():
        assert set(student.answers) <= answers, f"{name}/{who}: no answer cells {set(student.answers) - answers}"
        assert set(student.passes) <= tests, f"{name}/{who}: no test cells {set(student.passes) - tests}"


# ---------------------------------------------------------------------------------------
# The course directory and the student copy

def instructor(course, name):
    return course / "source" / name / f"{name}.ipynb"


def student(course, name):
    return course / "release" / name / f"{name}.ipynb"


@pytest.fixture(scope="session")
def course(tmp_path_factory):
    """The course directory `make assignments` writes, generated afresh for this run."""
    out = tmp_path_factory.mktemp("assignments") / "course"
    done = subprocess.run([sys.executable, str(MAKE), "--out", str(out)],
                          cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"make_assignments.py failed:\n{done.stdout}\n{done.stderr}"
    return out


@pytest.fixture(scope="session")
def text_stub(course):
    config = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
    return config.ClearSolutions.text_stub


@pytest.mark.parametrize("name", GRADED)
def test_student_copy_holds_prompts_and_no_solutions(course, text_stub, name):
    source, copy = read(instructor(course, name)), read(student(course, name))
    answers = [c for c in copy.cells if is_answer(c)]
    assert answers and all(STUB in c.source for c in answers)
    written = [c for c in copy.cells if is_written_answer(c)]
    assert len(written) == sum(map(is_written_answer, source.cells)) and all(c.source == text_stub for c in written)
    assert not [c for c in copy.cells if is_check(c)], "check cells belong in the instructor copy only"
    assert not [c for c in copy.cells if solution_directives(c)], "a written solution is in the student copy"
    text = "\n".join(c.source for c in copy.cells)
    for begin, end in REGIONS.values():
        assert begin not in text and end not in text
    assert not any(c.get("outputs") or c.get("execution_count") for c in copy.cells if c.cell_type == "code")
    kept = {meta(c)["grade_id"] for c in copy.cells if "grade_id" in meta(c)}
    assert kept == {meta(c)["grade_id"] for c in source.cells if "grade_id" in meta(c)}
    # Run All goes past an unfinished answer: its code cell and the test cells may raise
    may_raise = [c.cell_type == "code" and bool(meta(c).get("solution") or meta(c).get("grade")) for c in copy.cells]
    tagged = ["raises-exception" in c.metadata.get("tags", []) for c in copy.cells]
    assert any(may_raise) and tagged == may_raise, (
        f"{name}: the student copy's code answer and test cells, and only they, carry the tag raises-exception")


# ---------------------------------------------------------------------------------------
# No leaks

def code_of(line):
    """A line of code without its comment, spaces collapsed ('' for a comment alone)."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(line.strip() + "\n").readline))
        comments = [t for t in tokens if t.type == tokenize.COMMENT]
        if comments:
            line = line.strip()[:comments[0].start[1]]
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass
    return normal(line)


def normal(text):
    return " ".join(text.split())


def trivial(line):
    """A line of bare syntax (`else:`, `return`, `)`, `:::`), which says nothing about the answer."""
    words = re.findall(r"[A-Za-z_]\w*|\d+", line)
    return all(keyword.iskeyword(w) for w in words)


def secret_lines(nb):
    """[(kind, cell index, normalised line)]: each line of a solution region, of a hidden
    test, and of a written solution (its prose, and the code of a gated solution)."""
    found = []
    written = written_solution_cells(nb)
    for index, cell in enumerate(nb.cells):
        if index in written:
            lines = [("written solution", line) for line in cell.source.split("\n")]
        elif cell.cell_type == "code":
            lines = [(kind, line) for kind in REGIONS for line in region_lines(cell.source, kind)]
        else:
            continue
        for kind, line in lines:
            text = code_of(line) if cell.cell_type == "code" else normal(line)
            if cell.cell_type == "markdown" and (re.match(r"^(:{3,}|`{3,}|:[\w-]+:)", text)
                                                 or len(re.findall(r"[A-Za-z]{2,}", text)) < 5):
                continue  # a directive's fence or option, or a scrap of a sentence ("$x = 0$.")
            if text and not trivial(text):
                found.append((kind, index, text))
    return found


def public_code(nb):
    """The instructor copy's code outside every region and written solution, normalised:
    a secret line found there too (a shared idiom, a visible test line that a hidden test
    repeats) gives nothing away."""
    written = written_solution_cells(nb)
    return "\n".join(normal(outside_regions(c.source)) for i, c in enumerate(nb.cells)
                     if c.cell_type == "code" and i not in written)


def student_texts(nb):
    """[(cell index, normalised text)]: every cell's source and outputs, markdown included."""
    texts = []
    for index, cell in enumerate(nb.cells):
        parts = [cell.source]
        for output in cell.get("outputs", []):
            parts += [str(output.get("text", ""))] + [str(v) for v in output.get("data", {}).values()]
        texts.append((index, normal("\n".join(parts))))
    return texts


def leaks(instructor_nb, student_nb):
    """Secret lines that the student copy contains anywhere, as part of any text."""
    shared, texts = public_code(instructor_nb), student_texts(student_nb)
    found = []
    for kind, index, line in secret_lines(instructor_nb):
        if line in shared:
            continue
        where = [i for i, text in texts if line in text]
        if where:
            found.append(f"{kind} line {line!r} (instructor cell {index}) appears in student cell(s) {where}")
    return found


@pytest.mark.parametrize("name", GRADED)
def test_no_solution_or_hidden_test_leaks_into_the_student_copy(course, name):
    source = read(instructor(course, name))
    kinds = {kind for kind, _, _ in secret_lines(source)}
    assert {"solution", "hidden test", "written solution"} <= kinds, f"{name}: nothing to protect? {kinds}"
    found = leaks(source, read(student(course, name)))
    assert not found, f"{name}: the student copy gives away:\n" + "\n".join(found)


@pytest.mark.parametrize("name", GRADED)
def test_the_leak_check_catches_planted_leaks(course, name):
    source = read(instructor(course, name))
    shared = public_code(source)
    for kind in ("solution", "hidden test", "written solution"):
        line = next((text for k, _, text in secret_lines(source) if k == kind and text not in shared), None)
        if line is None:
            continue  # nothing of this kind to protect: the test above says so
        planted = read(student(course, name))
        # quoted in the prose, as a written solution might quote the code
        prose = exercises_start(planted) or len(planted.cells) - 1
        planted.cells[prose].source += f"\n\nThe answer: `{line}`, as above.\n"
        assert any(repr(line) in leak for leak in leaks(source, planted)), f"missed a planted {kind} line"


# ---------------------------------------------------------------------------------------
# make_assignments.py never destroys collected work

def load_make_assignments():
    spec = importlib.util.spec_from_file_location("make_assignments", MAKE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def snapshot(folder):
    """{relative path: digest} of every file under ``folder``."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def copied_course(course, tmp_path):
    shutil.copytree(course, tmp_path / "course")
    return tmp_path / "course"


def test_make_assignments_checks_its_arguments_before_touching_anything(copied_course, tmp_path):
    make = load_make_assignments()
    before = snapshot(copied_course)
    (tmp_path / "a_file").write_text("")
    (tmp_path / "not_a_course").mkdir()
    (tmp_path / "not_a_course" / "notes.txt").write_text("mine")
    chapter = CHAPTERS[0]
    bad = [
        ([ROOT / "chapters" / "no_such_chapter.ipynb"], copied_course, "not a notebook file"),
        ([ROOT / "README.md"], copied_course, "not a notebook file"),
        ([chapter, chapter], copied_course, "pass each chapter once"),
        ([chapter], tmp_path / "a_file", "a file is in the way"),
        ([chapter], tmp_path / "not_a_course", "not an nbgrader course directory"),
    ]
    for notebooks, out, message in bad:
        with pytest.raises(make.UsageError, match=message):
            make.make_assignments(notebooks, out)
    assert snapshot(copied_course) == before
    assert (tmp_path / "not_a_course" / "notes.txt").read_text() == "mine"


def test_make_assignments_keeps_collected_work(copied_course):
    """A planted submission survives a rerun: refused without the flag, kept with it."""
    make = load_make_assignments()
    name = CHAPTERS[0].stem
    handed_in = copied_course / "submitted" / "alice" / name / f"{name}.ipynb"
    handed_in.parent.mkdir(parents=True)
    handed_in.write_text("alice's work")
    (copied_course / "grades.csv").write_text("assignment,student_id,score\n")
    before = snapshot(copied_course)

    with pytest.raises(make.UsageError, match=r"holds collected work: submitted/, grades.csv.*--keep-collected-work"):
        make.make_assignments([CHAPTERS[0]], copied_course)
    assert snapshot(copied_course) == before

    release = student(copied_course, name)
    release.write_text("an out-of-date student copy")
    make.make_assignments([CHAPTERS[0]], copied_course, keep_collected_work=True)
    assert handed_in.read_text() == "alice's work"
    assert (copied_course / "grades.csv").read_text() == "assignment,student_id,score\n"
    assert STUB in release.read_text(), "the student copy was not rewritten"
    after = snapshot(copied_course)
    assert {p for p in before if p not in after} == set(), "files disappeared"


# nbgrader's own gradebook code trips this SQLAlchemy warning when a submission is added
@pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")
def test_make_assignments_keeps_a_gradebook_with_submissions(copied_course):
    make = load_make_assignments()
    name = CHAPTERS[0].stem
    config = PyFileConfigLoader("nbgrader_config.py", path=str(copied_course)).load_config()
    with Gradebook(f"sqlite:///{copied_course / 'gradebook.db'}", config.CourseDirectory.course_id) as gb:
        gb.update_or_create_student("bob")
        gb.update_or_create_submission(name, "bob")
    with pytest.raises(make.UsageError, match="gradebook.db with 1 submission"):
        make.make_assignments([CHAPTERS[0]], copied_course)
    make.make_assignments([CHAPTERS[0]], copied_course, keep_collected_work=True)
    with Gradebook(f"sqlite:///{copied_course / 'gradebook.db'}", config.CourseDirectory.course_id) as gb:
        assert [s.student.id for s in gb.find_assignment(name).submissions] == ["bob"]


# ---------------------------------------------------------------------------------------
# The simulated students, graded by nbgrader autograde

def write_answer(cell, code):
    """Put ``code`` in place of the stub of an answer cell, at the stub's indentation."""
    lines = cell.source.split("\n")
    at = next(i for i, line in enumerate(lines) if line.strip() == STUB)
    indent = lines[at][:len(lines[at]) - len(lines[at].lstrip())]
    start = at - 1 if at and lines[at - 1].strip() == "# YOUR CODE HERE" else at
    body = [indent + line if line else line for line in textwrap.dedent(code).strip("\n").split("\n")]
    cell.source = "\n".join(lines[:start] + body + lines[at + 1:])


def the_books_answers(source):
    """{grade_id: answer} from the instructor copy: the code of each solution region, and
    the text of each written answer."""
    answers = {}
    for cell in source.cells:
        if is_answer(cell):
            answers[meta(cell)["grade_id"]] = textwrap.dedent("\n".join(region_lines(cell.source, "solution")))
        elif is_written_answer(cell):
            answers[meta(cell)["grade_id"]] = cell.source
    return answers


def hand_in(copy, answers, added="", trim=False, tamper=False, delete_tests=False):
    """A student's notebook: the student copy ``copy`` with ``answers`` written in."""
    nb = nbformat.from_dict(copy)
    for cell in list(nb.cells):
        grade_id = meta(cell).get("grade_id")
        if grade_id in answers and is_answer(cell):
            write_answer(cell, answers[grade_id])
            if added:
                nb.cells.insert(nb.cells.index(cell) + 1, nbformat.v4.new_code_cell(textwrap.dedent(added).strip()))
        elif grade_id in answers and is_written_answer(cell):
            cell.source = answers[grade_id]
        elif is_test(cell) and tamper:
            cell.source = "pass  # every test passes"
            cell.metadata.nbgrader["points"] = 100
    if delete_tests:
        nb.cells = [c for c in nb.cells if not is_test(c)]
    if trim:
        first_code = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code")
        nb.cells = [nb.cells[first_code]] + nb.cells[exercises_start(nb):]
    return nb


def class_of(name, source, copy):
    """{student: (notebook, {grade_id: expected auto score, None = waits for the instructor})}."""
    points = {meta(c)["grade_id"]: float(meta(c)["points"]) for c in source.cells if meta(c).get("grade")}
    tests = [meta(c)["grade_id"] for c in source.cells if is_test(c)]
    written = [meta(c)["grade_id"] for c in source.cells if is_written_answer(c)]
    book = the_books_answers(source)
    code_answers = {k: v for k, v in book.items() if k not in written}

    def expect(passes, written_score=0.0):
        return {**{t: points[t] if t in passes else 0.0 for t in tests}, **{w: written_score for w in written}}

    partly = STUDENTS[name]["partly_wrong"]
    students = {
        "correct": (hand_in(copy, book), expect(tests, written_score=None)),
        "untouched": (hand_in(copy, {}), expect(())),
        "tampering": (hand_in(copy, partly.answers, partly.added, trim=True, tamper=True), expect(partly.passes)),
        "deleted_tests": (hand_in(copy, code_answers, trim=True, delete_tests=True), expect(tests)),
    }
    for who, simulated in STUDENTS[name].items():
        students[who] = (hand_in(copy, simulated.answers, simulated.added, trim=True), expect(simulated.passes))
    return students


def autograde(place, name):
    """Run nbgrader autograde and export in the course directory ``place``; return the log."""
    log = []
    for command in (["autograde", name, "--force"], ["export"]):
        done = subprocess.run([str(BIN / "nbgrader"), *command], cwd=place, env=ENV,
                              capture_output=True, text=True, timeout=900)
        log.append(done.stdout + done.stderr)
    return "\n".join(log)


@pytest.fixture(scope="session")
def graded(course, tmp_path_factory):
    """{chapter: {"students", "scores", "csv", "log", "place"}} after one autograde per chapter.

    Every simulated student of a chapter is handed in to one copy of the course directory
    and graded by a single `nbgrader autograde`; the chapters run side by side, one per core.
    """
    places = {}
    for name in [n for n in GRADED if n in STUDENTS]:  # the others fail the test that asks for an entry
        place = tmp_path_factory.mktemp(f"grading-{name}")
        shutil.copytree(course, place, dirs_exist_ok=True)
        source, copy = read(instructor(course, name)), read(student(course, name))
        students = class_of(name, source, copy)
        for who, (nb, _) in students.items():
            handed_in = place / "submitted" / who / name / f"{name}.ipynb"
            handed_in.parent.mkdir(parents=True)
            nbformat.write(nb, handed_in)
        places[name] = (place, students)
    workers = max(1, min(len(places), os.cpu_count() or 1))
    with ThreadPoolExecutor(workers) as pool:
        logs = dict(zip(places, pool.map(lambda n: autograde(places[n][0], n), places)))

    results = {}
    course_id = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config().CourseDirectory.course_id
    for name, (place, students) in places.items():
        scores = {}
        with Gradebook(f"sqlite:///{place / 'gradebook.db'}", course_id) as gb:
            for who in students:
                try:
                    notebook = gb.find_submission_notebook(name, name, who)
                except MissingEntry:  # not graded at all: the tests below show the log
                    scores[who] = None
                    continue
                scores[who] = {g.cell.name: (g.auto_score, g.max_score, g.needs_manual_grade) for g in notebook.grades}
        exported = place / "grades.csv"
        rows = list(csv.DictReader(exported.read_text().splitlines())) if exported.exists() else []
        results[name] = {"students": students, "scores": scores, "log": logs[name], "place": place,
                         "csv": {r["student_id"]: r for r in rows if r["assignment"] == name}}
    return results


def log_of(result, who):
    """The part of an autograde log about one student's submission."""
    sections = re.split(r"(?=\[AutogradeApp \| INFO\] Sanitizing )", result["log"])
    return "\n".join(s for s in sections if f"/submitted/{who}/" in s.split("\n", 1)[0])


def table(result):
    rows = []
    for who, scores in result["scores"].items():
        if scores:
            earned = {cell: "manual" if needs else f"{got:g}" for cell, (got, _, needs) in scores.items()}
            rows.append(f"  {who}: {earned}")
    return "\n".join(rows)


def graded_chapter(graded, name):
    if name not in graded:
        pytest.fail(f"{name} has no simulated students to grade: add STUDENTS[{name!r}]")
    return graded[name]


@pytest.mark.parametrize("name", GRADED)
def test_simulated_students_earn_what_they_should(graded, name):
    result = graded_chapter(graded, name)
    wrong = []
    for who, (_, expected) in result["students"].items():
        scores = result["scores"][who]
        if scores is None:
            wrong.append(f"{who}: not graded")
            continue
        got = {cell: (None if needs else score) for cell, (score, _, needs) in scores.items()}
        if got != expected:
            wrong.append(f"{who}: expected {expected}\n{' ' * len(who)}  got      {got}")
        maximum = {cell: top for cell, (_, top, _) in scores.items()}
        if maximum != {cell: top for cell, (_, top, _) in result["scores"]["untouched"].items()}:
            wrong.append(f"{who}: the points changed: {maximum}")
    assert not wrong, f"{name}:\n" + "\n".join(wrong) + f"\n\nlog:\n{result['log'][-4000:]}"


@pytest.mark.parametrize("name", GRADED)
def test_grades_csv_totals(graded, name):
    """What `nbgrader export` writes, one row per student: the sum of the automatic scores."""
    result = graded_chapter(graded, name)
    for who, (_, expected) in result["students"].items():
        row = result["csv"].get(who)
        assert row, f"{name}: no row for {who} in grades.csv"
        assert float(row["score"]) == sum(v or 0.0 for v in expected.values()), (who, row, table(result))
        assert float(row["max_score"]) == sum(top for _, top, _ in result["scores"]["untouched"].values())


@pytest.mark.parametrize("name", GRADED)
def test_the_correct_student_copy_runs_top_to_bottom(graded, name):
    """With the answers written in, the whole student copy runs without an error."""
    place = graded_chapter(graded, name)["place"]
    nb = read(place / "autograded" / "correct" / name / f"{name}.ipynb")
    errors = [(i, o.get("ename"), o.get("evalue", "")[:200]) for i, c in enumerate(nb.cells)
              if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors, f"{name}: the student copy with the book's answers fails in cells {errors}"


@pytest.mark.parametrize("name", GRADED)
def test_failing_tests_say_what_they_got_and_expected(graded, name):
    """The feedback a student reads for a wrong answer is an assertion with numbers."""
    place = graded_chapter(graded, name)["place"]
    bare = []
    for who in STUDENTS[name]:
        nb = read(place / "autograded" / who / name / f"{name}.ipynb")
        for cell in filter(is_test, nb.cells):
            for output in (o for o in cell.outputs if o.output_type == "error"):
                message = f"{output.ename}: {output.evalue}"
                if output.ename != "AssertionError" or "expected" not in output.evalue:
                    bare.append(f"{who}, {meta(cell)['grade_id']}: {message[:200]}")
    assert not bare, f"{name}: failing tests whose message does not say what was expected:\n" + "\n".join(bare)


@pytest.mark.parametrize("name", GRADED)
def test_autograde_warns_about_tampering_only(graded, name):
    """nbgrader logs no warning about an untouched submission; edited and deleted test cells
    are reported. (The kernel's own notice that it talks over TCP, printed whenever a kernel
    starts, says nothing about the submission.)"""
    result = graded_chapter(graded, name)
    untouched = log_of(result, "untouched")
    assert "Sanitizing" in untouched, f"{name}: the untouched submission is not in the log:\n{result['log'][-3000:]}"
    nbgrader_says = re.compile(r"\[\w+App \| (WARNING|ERROR|CRITICAL)\]")
    warnings = [line for line in untouched.splitlines() if nbgrader_says.match(line)]
    assert not warnings, f"{name}: autograde warns about an untouched submission:\n" + "\n".join(warnings)
    tests = [meta(c)["grade_id"] for c in read(instructor(result["place"], name)).cells if is_test(c)]
    tampered, deleted = log_of(result, "tampering"), log_of(result, "deleted_tests")
    for grade_id in tests:
        assert f"Attribute 'checksum' for cell {grade_id} has changed!" in tampered, (grade_id, tampered[-3000:])
        assert f"Attribute 'points' for cell {grade_id} has changed!" in tampered, (grade_id, tampered[-3000:])
        assert f"Missing grade cell {grade_id} encountered" in deleted, (grade_id, deleted[-3000:])
