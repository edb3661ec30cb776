# nbgrader configuration of the book's course. `make assignments` copies this file into
# the course directory it writes (_build/assignments/); copy it into your own course
# directory to grade there. It is self-contained: the two small preprocessors below are
# defined here, so `nbgrader generate_assignment` and `nbgrader autograde` run in a course
# directory behave as `make assignments` and the tests expect.
# Reference: https://nbgrader.readthedocs.io/en/stable/configuration/
import re

from nbgrader.api import MissingEntry
from nbgrader.converters import Autograde, GenerateAssignment
from nbgrader.preprocessors import ClearHiddenTests, NbGraderPreprocessor, OverwriteCells

c = get_config()  # noqa: F821 (nbgrader provides it)

# Used by the exchange (release, fetch, submit, collect); change it to your course's name.
c.CourseDirectory.course_id = "vanishing-gradients"

# The student copy. A code answer's ### BEGIN SOLUTION ... ### END SOLUTION region becomes
# the code stub. A written answer is a manually graded answer cell (a markdown cell whose
# nbgrader metadata has "solution" and "grade" true): its whole text, the book's written
# solution, becomes the text stub, which JupyterLab renders as a prompt.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = ("*Write your answer here.* Double-click this cell to edit it; Markdown and "
                              "math between dollar signs both work. Add code cells below it for any "
                              "computation your answer shows.")
# A solution region outside a cell marked as a solution cell is an error, not a leak.
c.ClearSolutions.enforce_metadata = True

# Autograding executes a submission top to bottom; a chapter runs in about 20 s, so a
# cell that needs more than two minutes has hung (the website's build uses the same limit).
c.Execute.timeout = 120

# A test cell the student deleted is put back before grading, so deleting a failing test
# costs nothing and gains nothing (autograde's log says which cells it restored).
c.OverwriteCells.add_missing_cells = True

SOLUTION_FENCE = re.compile(r"^\s*(:{3,}|`{3,})\{(solution|solution-start|solution-end)\}")


def solution_directives(cell):
    """The sphinx-exercise solution directives a markdown cell opens, in order."""
    if cell.cell_type != "markdown":
        return []
    return [m.group(2) for m in map(SOLUTION_FENCE.match, cell.source.splitlines()) if m]


class StudentCopy(NbGraderPreprocessor):
    """Leave out of the student copy what is not the student's to see.

    - check cells (code cells whose first line is a ``# check:`` comment): they guard the
      book's claims at its default parameters, and a student who explores trips them;
    - written solutions that are not answer cells (a ``{solution}`` directive cell without
      nbgrader metadata, such as the explanation of a code exercise);
    - the rest of a gated solution: the cells after a ``{solution-start}`` cell, up to and
      including the one holding its ``{solution-end}``. The opening cell stays when it is
      an answer cell; ClearSolutions then replaces its text with the text stub.

    It also tags the student copy's code answer cells and test cells ``raises-exception``.
    Until an answer is written, its stub and its tests raise; with the tag, *Run All* in
    JupyterLab (and ``jupyter nbconvert --execute``) shows the error and goes on. Without
    it, Run All would stop at the first exercise, and the requests that fill in the prose's
    numbers (queued behind every cell) would be dropped with the rest of the queue.

    It runs first, on the notebook that becomes the student copy; the instructor copy and
    the gradebook keep every cell. A cell to leave out that nbgrader grades is an error.
    """

    def preprocess(self, nb, resources):
        kept, in_gated_solution = [], False
        for index, cell in enumerate(nb.cells):
            directives = solution_directives(cell)
            if in_gated_solution:
                in_gated_solution = "solution-end" not in directives
                self.check_not_graded(index, cell)
                continue
            if directives and not SOLUTION_FENCE.match(cell.source.lstrip()):
                raise ValueError(f"cell {index} holds a solution directive after other text; a written "
                                 f"solution must open its own markdown cell (CONTRIBUTING.md, Exercises)")
            if directives and directives[0] == "solution-start":
                in_gated_solution = "solution-end" not in directives
            is_check = cell.cell_type == "code" and cell.source.lstrip().startswith("# check:")
            is_answer = cell.metadata.get("nbgrader", {}).get("solution", False)
            if is_check or (directives and not is_answer):
                self.check_not_graded(index, cell)
                continue
            if cell.cell_type == "code" and (is_answer or cell.metadata.get("nbgrader", {}).get("grade")):
                tags = cell.metadata.setdefault("tags", [])
                if "raises-exception" not in tags:
                    tags.append("raises-exception")
            kept.append(cell)
        nb.cells = kept
        return nb, resources

    @staticmethod
    def check_not_graded(index, cell):
        grading = cell.metadata.get("nbgrader", {})
        if grading.get("grade") or grading.get("solution"):
            raise ValueError(f"cell {index} is graded by nbgrader ({grading.get('grade_id')}) but is a check "
                             f"cell or part of a written solution, which the student copy leaves out")


class RestoreTestCells(OverwriteCells):
    """nbgrader's OverwriteCells, silent about hidden tests that are simply missing.

    generate_assignment records a test cell's checksum with its hidden tests and then
    removes them from the student copy, so every untouched submission differs from the
    gradebook and autograde warns "Attribute 'checksum' ... has changed!" about each of its
    test cells (jupyter/nbgrader#1961): the warning stops meaning tampering. Here a locked
    cell that is exactly what the student copy held gets its hidden tests back without a
    word; any other change is still reported, and undone, by OverwriteCells.
    """

    def released_source(self, source):
        hidden = ClearHiddenTests(parent=self)
        lines, inside = [], False
        for line in source.split("\n"):
            if hidden.begin_test_delimeter in line:
                inside = True
            elif hidden.end_test_delimeter in line:
                inside = False
            elif not inside:
                lines.append(line)
        return "\n".join(lines)

    def preprocess_cell(self, cell, resources, cell_index):
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id is not None:
            try:
                original = self.gradebook.find_source_cell(grade_id, self.notebook_id, self.assignment_id)
            except MissingEntry:
                original = None  # OverwriteCells reports it
            if original is not None and original.locked and cell.source == self.released_source(original.source):
                cell.source = original.source
        return super().preprocess_cell(cell, resources, cell_index)


def default(app, option):
    return app.class_traits()[option].default()


c.GenerateAssignment.preprocessors = [StudentCopy, *default(GenerateAssignment, "preprocessors")]
c.Autograde.sanitize_preprocessors = [RestoreTestCells if p is OverwriteCells else p
                                      for p in default(Autograde, "sanitize_preprocessors")]
