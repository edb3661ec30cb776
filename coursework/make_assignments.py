"""Write the coursework: a student copy and an instructor copy of every chapter.

    python coursework/make_assignments.py [--out DIR] [CHAPTER.ipynb ...]

(`make assignments` runs it.) The output directory (default ``_build/assignments``) is an
nbgrader course directory, one assignment per chapter, named after the notebook::

    nbgrader_config.py                 the course's configuration (from coursework/)
    source/<chapter>/<chapter>.ipynb   instructor copy: the chapter with its solutions
                                       and hidden tests, outputs cleared
    release/<chapter>/<chapter>.ipynb  student copy, written by nbgrader generate_assignment:
                                       solutions replaced by a stub that raises
                                       NotImplementedError, hidden tests removed,
                                       outputs cleared, test cells locked
    gradebook.db                       nbgrader's database: the assignments and their
                                       test cells, which autograde needs

Nothing here strips a notebook by hand: nbgrader does all of it, so its autograder
accepts what the book ships.
"""

import argparse
import os
import shutil
import sys
from pathlib import Path

import nbformat
from nbgrader.apps import NbGraderAPI
from nbgrader.coursedir import CourseDirectory
from traitlets.config.loader import PyFileConfigLoader

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CONFIG = HERE / "nbgrader_config.py"

# nbgrader runs `alembic` (its database migrations) as a command: find it beside this
# Python even when the virtual environment is not activated (as under make).
os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")


def chapters(root=ROOT):
    """The chapter notebooks, in order: chapters/*.ipynb."""
    return sorted(p for p in (root / "chapters").glob("*.ipynb"))


def load_config():
    return PyFileConfigLoader(CONFIG.name, path=str(CONFIG.parent)).load_config()


def instructor_copy(chapter, dest):
    """The chapter as nbgrader's source notebook: every cell, outputs cleared."""
    nb = nbformat.read(chapter, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    dest.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, dest)


def make_assignments(notebooks, out):
    """Write the course directory ``out``; return [(name, instructor, student)] paths."""
    out = Path(out)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    shutil.copy(CONFIG, out / "nbgrader_config.py")
    config = load_config()
    api = NbGraderAPI(coursedir=CourseDirectory(config=config, root=str(out)), config=config)
    written = []
    for chapter in notebooks:
        chapter = Path(chapter)
        name = chapter.stem
        source = out / "source" / name / chapter.name
        instructor_copy(chapter, source)
        result = api.generate_assignment(name, force=True, create=True)
        student = out / "release" / name / chapter.name
        if not result["success"] or not student.exists():
            raise RuntimeError(
                f"nbgrader generate_assignment failed for {chapter}:\n"
                f"{result.get('error') or ''}\n{result.get('log') or ''}"
            )
        written.append((name, source, student))
    return written


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="chapter notebooks (default: chapters/*.ipynb)")
    parser.add_argument("--out", type=Path, default=ROOT / "_build" / "assignments",
                        help="course directory to write (default: _build/assignments); replaced if it exists")
    args = parser.parse_args(argv)
    notebooks = args.notebooks or chapters()
    if not notebooks:
        print("no chapter notebooks under chapters/: nothing to do")
        return 0
    written = make_assignments(notebooks, args.out)

    def show(path):
        try:
            return path.resolve().relative_to(Path.cwd().resolve())
        except ValueError:
            return path

    plural = "" if len(written) == 1 else "s"
    print(f"nbgrader course directory: {show(args.out)}  ({len(written)} assignment{plural}, one per chapter)")
    for name, source, student in written:
        print(f"  {name}")
        print(f"    instructor copy: {show(source)}")
        print(f"    student copy:    {show(student)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
