"""Write the coursework: a student copy and an instructor copy of every chapter.

    python coursework/make_assignments.py [--out DIR] [--keep-collected-work] [CHAPTER.ipynb ...]

(`make assignments` runs it.) The output directory (default ``_build/assignments``) is an
nbgrader course directory, one assignment per chapter, named after the notebook::

    nbgrader_config.py                 the course's configuration (from coursework/)
    source/<chapter>/<chapter>.ipynb   instructor copy: the chapter with its solutions
                                       and hidden tests, outputs cleared
    release/<chapter>/<chapter>.ipynb  student copy, written by nbgrader generate_assignment:
                                       code solutions replaced by a stub that raises
                                       NotImplementedError, written solutions by a prompt,
                                       hidden tests and check cells removed, outputs
                                       cleared, test cells locked
    gradebook.db                       nbgrader's database: the assignments and their
                                       test cells, which autograde needs

nbgrader makes the copies; the book's nbgrader_config.py adds the few rules of its own
(which cells a student copy leaves out, test cells restored on autograde).

An instructor's collected work is never lost to a rerun. The arguments are checked before
anything is written. A course directory that holds submitted/, autograded/, feedback/,
grades.csv or a gradebook with submissions is left untouched unless --keep-collected-work
is given; then the chapters' source/ and release/ copies are rewritten and the gradebook
updated in place, and everything else (the collected work, the gradebook's submissions and
grades, your nbgrader_config.py) is kept.
"""

import argparse
import filecmp
import os
import shutil
import sqlite3
import sys
import tempfile
from pathlib import Path

import nbformat
from nbgrader.apps import NbGraderAPI
from nbgrader.coursedir import CourseDirectory
from traitlets.config.loader import PyFileConfigLoader

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CONFIG = HERE / "nbgrader_config.py"
#: What an instructor collects into a course directory; a rerun must never remove it.
COLLECTED = ("submitted", "autograded", "feedback", "grades.csv")
KEEP_FLAG = "--keep-collected-work"

# nbgrader runs `alembic` (its database migrations) as a command: find it beside this
# Python even when the virtual environment is not activated (as under make).
os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")


class UsageError(Exception):
    """A bad argument or a course directory this script must not touch; nothing was written."""


def chapters(root=ROOT):
    """The chapter notebooks, in order: chapters/*.ipynb."""
    return sorted(p for p in (root / "chapters").glob("*.ipynb"))


def load_config(path=CONFIG):
    path = Path(path)
    return PyFileConfigLoader(path.name, path=str(path.parent)).load_config()


def gradebook_submissions(db):
    """How many submissions the gradebook ``db`` records (read-only); None if it cannot be read."""
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as connection:
            tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            if "submitted_assignment" not in tables:
                return 0
            return connection.execute("SELECT COUNT(*) FROM submitted_assignment").fetchone()[0]
    except sqlite3.Error:
        return None


def collected_work(out):
    """What in the course directory ``out`` is an instructor's collected work, in words."""
    found = [f"{name}/" if (out / name).is_dir() else name for name in COLLECTED if (out / name).exists()]
    submissions = gradebook_submissions(out / "gradebook.db")
    if submissions is None:
        found.append("gradebook.db (unreadable, so it may hold grades)")
    elif submissions:
        found.append(f"gradebook.db with {submissions} submission{'s' if submissions != 1 else ''}")
    return found


def check_arguments(notebooks, out, keep):
    """Raise UsageError unless every notebook can be read and ``out`` may be written."""
    if not notebooks:
        raise UsageError("no chapter notebooks: pass CHAPTER.ipynb files, or run from the book's root")
    names = {}
    for notebook in notebooks:
        if notebook.suffix != ".ipynb" or not notebook.is_file():
            raise UsageError(f"{notebook}: not a notebook file (expected a chapter such as chapters/01_...ipynb)")
        try:
            nbformat.read(notebook, as_version=4)
        except (OSError, ValueError) as error:  # ValueError: not JSON, or not a notebook
            raise UsageError(f"{notebook}: cannot be read as a notebook ({error})") from None
        if notebook.stem in names:
            raise UsageError(f"{notebook} and {names[notebook.stem]} would be the same assignment "
                             f"{notebook.stem!r}: pass each chapter once")
        names[notebook.stem] = notebook
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out}: a file is in the way; choose a directory")
    if out.is_dir() and any(out.iterdir()) and not (out / "nbgrader_config.py").exists():
        raise UsageError(f"--out {out}: exists and is not an nbgrader course directory (no "
                         f"nbgrader_config.py); choose a new or empty directory")
    if out.is_dir():
        found = collected_work(out)
        if found and not keep:
            raise UsageError(f"--out {out} holds collected work: {', '.join(found)}. Nothing was changed. "
                             f"To update its assignments and keep all of that, rerun with {KEEP_FLAG}; "
                             f"or choose another --out.")


def instructor_copy(chapter, dest):
    """The chapter as nbgrader's source notebook: every cell, outputs cleared."""
    nb = nbformat.read(chapter, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    dest.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, dest)


def make_assignments(notebooks, out, keep_collected_work=False):
    """Write the course directory ``out``; return [(name, instructor, student)] paths.

    Raises UsageError, having written nothing, when an argument is wrong or ``out`` holds
    collected work and ``keep_collected_work`` is false.
    """
    notebooks, out = [Path(n) for n in notebooks], Path(out)
    check_arguments(notebooks, out, keep_collected_work)
    notes = []
    out.mkdir(parents=True, exist_ok=True)
    config = load_config()
    course_config = out / "nbgrader_config.py"
    if collected_work(out):
        # The gradebook holds submissions: update it in place, under the course's own settings.
        if course_config.exists():
            config.merge(load_config(course_config))
            if not filecmp.cmp(course_config, CONFIG, shallow=False):
                notes.append(f"kept {course_config}, which differs from {CONFIG}; autograde reads yours "
                             f"(compare them: diff {course_config} {CONFIG})")
        else:
            shutil.copy(CONFIG, course_config)
    else:
        # Nothing collected yet: the directory is a build product, rewritten from scratch.
        if course_config.exists() and not filecmp.cmp(course_config, CONFIG, shallow=False):
            shutil.copy(course_config, out / "nbgrader_config.py.old")
            notes.append(f"replaced {course_config}; the previous one is nbgrader_config.py.old")
        shutil.copy(CONFIG, course_config)
        (out / "gradebook.db").unlink(missing_ok=True)
    api = NbGraderAPI(coursedir=CourseDirectory(config=config, root=str(out)), config=config)
    written = []
    for chapter in notebooks:
        name = chapter.stem
        source = out / "source" / name / chapter.name
        student = out / "release" / name / chapter.name
        with tempfile.TemporaryDirectory() as backup:
            saved = {}
            for copy in (source, student):  # put back if nbgrader refuses the new version
                if copy.exists():
                    saved[copy] = Path(backup) / f"{len(saved)}.ipynb"
                    shutil.copy(copy, saved[copy])
            instructor_copy(chapter, source)
            result = api.generate_assignment(name, force=True, create=True)
            if not result["success"] or not student.exists():
                for copy, kept in saved.items():
                    shutil.copy(kept, copy)
                raise RuntimeError(
                    f"nbgrader generate_assignment failed for {chapter}:\n"
                    f"{result.get('error') or ''}\n{result.get('log') or ''}")
        written.append((name, source, student))
    for note in notes:
        print(f"note: {note}")
    return written


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="chapter notebooks (default: chapters/*.ipynb)")
    parser.add_argument("--out", type=Path, default=ROOT / "_build" / "assignments",
                        help="course directory to write (default: _build/assignments)")
    parser.add_argument(KEEP_FLAG, action="store_true",
                        help="update a course directory that holds collected work (submitted/, "
                             "autograded/, feedback/, grades.csv, graded submissions), keeping all of it")
    args = parser.parse_args(argv)
    notebooks = args.notebooks or chapters()
    try:
        written = make_assignments(notebooks, args.out, keep_collected_work=args.keep_collected_work)
    except UsageError as error:
        print(f"make_assignments.py: {error}", file=sys.stderr)
        return 2

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
