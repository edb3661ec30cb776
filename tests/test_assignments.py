"""Coursework: nbgrader turns every chapter into a student copy that its own autograder grades.

For each chapter under chapters/ (nothing here names one), `coursework/make_assignments.py`
writes an nbgrader course directory into a temporary folder. Then, in a throw-away copy
of that course per chapter, two submissions are autograded by `nbgrader autograde`:

- the instructor copy, handed in as a student's work, must earn full marks on every
  autograded test cell;
- the untouched student copy must earn zero on every one of them.

And no line of a solution region or of a hidden-test region may appear in a student copy.
"""

import json
import keyword
import os
import re
import shutil
import subprocess
import sys
import time
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
STUDENTS = {"instructor_copy": "source", "untouched_student_copy": "release"}

REGIONS = {
    "solution": ("### BEGIN SOLUTION", "### END SOLUTION"),
    "hidden tests": ("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"),
}


def nbgrader_meta(cell):
    return cell.metadata.get("nbgrader", {})


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
def grades(course, tmp_path_factory):
    """{chapter: {student: {grade_id: (auto_score, max_score)}}} from nbgrader autograde.

    Each chapter is graded in its own copy of the course (its own gradebook), so that the
    chapters can be graded side by side, one per core.
    """
    course_id = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config() \
        .CourseDirectory.course_id
    pending, running, logs = list(NAMES), [], {}
    workers = max(1, min(len(NAMES), os.cpu_count() or 1))  # one autograde per core
    while pending or running:
        while pending and len(running) < workers:
            name = pending.pop(0)
            place = tmp_path_factory.mktemp(f"grading-{name}")
            shutil.copytree(course, place, dirs_exist_ok=True)
            for who, version in STUDENTS.items():
                handed_in = place / "submitted" / who / name / f"{name}.ipynb"
                handed_in.parent.mkdir(parents=True)
                shutil.copy(place / version / name / f"{name}.ipynb", handed_in)
            log = open(place / "autograde.log", "w")
            process = subprocess.Popen([str(BIN / "nbgrader"), "autograde", name, "--force"],
                                       cwd=place, env=ENV, stdout=log, stderr=subprocess.STDOUT)
            running.append((name, log, process, time.monotonic()))
            logs[name] = place / "autograde.log"
        for item in list(running):
            name, log, process, started = item
            if process.poll() is None:
                if time.monotonic() - started > 600:  # hung: its tests then show the log
                    process.kill()
                continue
            log.close()
            running.remove(item)
        time.sleep(0.2)

    results = {}
    for name in NAMES:
        place = logs[name].parent
        results[name] = {}
        with Gradebook(f"sqlite:///{place / 'gradebook.db'}", course_id) as gb:
            for who in STUDENTS:
                try:
                    notebook = gb.find_submission_notebook(name, name, who)
                except MissingEntry:  # not graded at all: the tests below show the log
                    results[name][who] = None
                    continue
                results[name][who] = {g.cell.name: (g.auto_score, g.max_score)
                                      for g in notebook.grades if g.max_score}
        results[name]["log"] = logs[name].read_text()
    return results


@pytest.mark.parametrize("name", NAMES)
def test_chapter_has_an_autograded_code_exercise(name):
    nb = nbformat.read(ROOT / "chapters" / f"{name}.ipynb", as_version=4)
    answers = [c for c in nb.cells if c.cell_type == "code" and nbgrader_meta(c).get("solution")]
    tests = [c for c in nb.cells if c.cell_type == "code" and nbgrader_meta(c).get("grade")
             and nbgrader_meta(c).get("points", 0) > 0]
    assert answers and tests, (
        f"{name}: needs a code exercise graded automatically: an answer cell with nbgrader "
        f"metadata solution: true and a test cell with grade: true and points (CONTRIBUTING.md)")


@pytest.mark.parametrize("name", NAMES)
def test_student_copy_has_stubs_and_no_outputs(course, name):
    nb = nbformat.read(student(course, name), as_version=4)
    answers = [c for c in nb.cells if nbgrader_meta(c).get("solution") and c.cell_type == "code"]
    assert answers and all("raise NotImplementedError()" in c.source for c in answers)
    text = "\n".join(c.source for c in nb.cells)
    for begin, end in REGIONS.values():
        assert begin not in text and end not in text
    assert not any(c.get("outputs") or c.get("execution_count")
                   for c in nb.cells if c.cell_type == "code")


@pytest.mark.parametrize("name", NAMES)
def test_instructor_copy_earns_full_marks(grades, name):
    scores = grades[name]["instructor_copy"]
    assert scores, f"{name}: autograde recorded no grades:\n{grades[name]['log'][-3000:]}"
    short = {cell: f"{got}/{out_of}" for cell, (got, out_of) in scores.items() if got != out_of}
    assert not short, f"{name}: the instructor copy lost marks on {short}:\n{grades[name]['log'][-3000:]}"


@pytest.mark.parametrize("name", NAMES)
def test_untouched_student_copy_earns_zero(grades, name):
    scores = grades[name]["untouched_student_copy"]
    assert scores, f"{name}: autograde recorded no grades:\n{grades[name]['log'][-3000:]}"
    earned = {cell: f"{got}/{out_of}" for cell, (got, out_of) in scores.items() if got}
    assert not earned, (f"{name}: an empty answer earns marks on {earned}; "
                        f"its tests must call the student's code")


# ---------------------------------------------------------------------------------------
# No leaks

def trivial(line):
    """A line of bare syntax (`else:`, `return`, `)`), which says nothing about the answer."""
    words = re.findall(r"[A-Za-z_]\w*|\d+", line)
    return all(keyword.iskeyword(w) for w in words)


def secret_lines(nb):
    """[(region kind, cell index, stripped line)] for every line inside a marked region."""
    found = []
    for index, cell in enumerate(nb.cells):
        inside = None
        for line in cell.source.splitlines():
            text = line.strip()
            for kind, (begin, end) in REGIONS.items():
                if text.startswith(begin):
                    inside = kind
                    break
                if text.startswith(end):
                    inside = None
                    break
            else:
                if inside and text and not trivial(text):
                    found.append((inside, index, text))
    return found


def visible_lines(nb):
    """{stripped line: [cell indices]} over every cell's source and outputs."""
    lines = {}
    for index, cell in enumerate(nb.cells):
        texts = [cell.source]
        if cell.cell_type == "code":
            texts.append(json.dumps(cell.get("outputs", []), indent=1).replace("\\n", "\n"))
        for text in texts:
            for line in text.splitlines():
                lines.setdefault(line.strip(), []).append(index)
    return lines


def leaks(instructor_nb, student_nb):
    """Lines of solution or hidden-test regions that the student copy contains."""
    seen = visible_lines(student_nb)
    return [f"{kind} line {text!r} (instructor cell {i}) appears in student cell(s) {seen[text]}"
            for kind, i, text in secret_lines(instructor_nb) if text in seen]


@pytest.mark.parametrize("name", NAMES)
def test_no_solution_or_hidden_test_leaks_into_the_student_copy(course, name):
    source = nbformat.read(instructor(course, name), as_version=4)
    assert secret_lines(source), f"{name}: no solution or hidden-test region to protect"
    found = leaks(source, nbformat.read(student(course, name), as_version=4))
    assert not found, f"{name}: the student copy gives away:\n" + "\n".join(found)


@pytest.mark.parametrize("name", NAMES)
def test_the_leak_check_catches_a_planted_leak(course, name):
    source = nbformat.read(instructor(course, name), as_version=4)
    copy = nbformat.read(student(course, name), as_version=4)
    for kind, _, line in secret_lines(source)[:1] + [s for s in secret_lines(source) if s[0] == "hidden tests"][:1]:
        planted = nbformat.read(student(course, name), as_version=4)
        planted.cells[-1].source += f"\n{line}\n"
        assert any(repr(line) in leak for leak in leaks(source, planted)), f"missed a planted {kind} line"
    assert not leaks(source, copy)
