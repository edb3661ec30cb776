"""Run the chapters with their initial parameters changed in the last bits; print what fails.

Another CPU, BLAS or numpy rounds the same arithmetic differently in the last bit, and a
training run amplifies such differences. A check cell that holds only for this machine's
rounding fails on a reader's machine, and the prose it guards is then false there.

This script runs each chapter's code cells, check cells included, in a fresh Python
process (not a kernel; figures are closed undrawn). Every array that an ``init_params`` or
``init_model`` of the library returns is multiplied elementwise by 1 + ε z, with z standard
normal and ε = 1e-15 (1e-7 for float32). z is drawn from the seed and the array's bytes, so
arrays that are equal stay equal, as they would on any one machine. Seed 0 leaves
everything as it is.

After the cells it reads the prose for bounds: "below", "at most", "within", "at least",
"above" and the like, followed by a quoted number ({eval}`num.name`). A quoted bound must
not be on the wrong side of the number it was computed from: "at most 33 %" for an
accuracy of 33.3 % is false, though 33 % is that accuracy rounded. (A number registered
with ``bound="upper"`` or ``"lower"`` is always on the safe side; a threshold the chapter
chose, shown exactly, is on neither.) "Never below" and the like reverse the direction;
"between a and b" bounds from below by a and from above by b.

It prints, per chapter and seed, the cells that raised and why and the bounds on the
wrong side, and exits 0: it measures, it does not judge.

    python benchmarks/perturbed_checks.py                  # every chapter, seeds 0 1 2
    python benchmarks/perturbed_checks.py 01 04 --seeds 1 2 3 4
"""
import argparse
import contextlib
import importlib
import io
import json
import os
import pathlib
import re
import subprocess
import sys
import traceback
import zlib

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent
CHAPTERS = ROOT / "chapters"
#: The library's functions whose results are perturbed: module -> function names.
INITIALISERS = {
    "mlp": ["init_params"], "rnn": ["init_params"], "lstm": ["init_params"],
    "gru": ["init_params"], "residual": ["init_params"], "lru": ["init_params", "init_model"],
    "experiments": ["init_params"],
}


def perturbed(value, seed):
    """``value`` with each float array (in dicts, lists and plain tuples) perturbed."""
    if isinstance(value, np.ndarray) and value.dtype.kind == "f" and value.size:
        z = np.random.default_rng([seed, zlib.crc32(value.tobytes())]).standard_normal(value.shape)
        eps = 1e-15 if value.dtype == np.float64 else 1e-7
        return value * (1 + eps * z).astype(value.dtype)
    if isinstance(value, dict):
        return {k: perturbed(v, seed) for k, v in value.items()}
    if isinstance(value, list):
        return [perturbed(v, seed) for v in value]
    if isinstance(value, tuple) and not hasattr(value, "_fields"):
        return tuple(perturbed(v, seed) for v in value)
    return value


def run_chapter(path, seed):
    """Run one chapter's code cells in this process; return the failures, one line each."""
    path = path.resolve()
    os.chdir(path.parent)
    sys.path.insert(0, str(ROOT / "lib"))
    import matplotlib
    matplotlib.use("agg")
    import matplotlib.pyplot as plt
    if seed:
        for module, names in INITIALISERS.items():
            module = importlib.import_module(f"vanishgrad.{module}")
            for name in names:
                original = getattr(module, name)
                setattr(module, name, lambda *a, _f=original, **k: perturbed(_f(*a, **k), seed))
    namespace, failures = {"__name__": "__main__"}, []
    for index, cell in enumerate(json.loads(path.read_text(encoding="utf-8"))["cells"]):
        if cell["cell_type"] != "code":
            continue
        lines = "".join(cell["source"]).splitlines()
        source = "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in lines)
        try:
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                exec(compile(source, f"cell {index}", "exec"), namespace)
        except Exception as error:  # a failing cell is what this script reports
            where = [f for f in traceback.extract_tb(error.__traceback__) if f.filename == f"cell {index}"]
            line = lines[where[-1].lineno - 1].strip() if where else ""
            failures.append(f"cell {index} (id {cell.get('id')}): {type(error).__name__}: "
                            f"{str(error)[:100]}\n      {line}")
        plt.close("all")
    return failures + misrounded_bounds(path, namespace.get("num"))


# Words that make the number after them an upper bound ("at most x": everything is ≤ x) or a
# lower bound ("at least x"); a negation a few words before, in the same clause, reverses them
# ("never below x").
UPPER = ("below", "under", "less than", "lower than", "at most", "no more than", "smaller than",
         "up to", "within")
LOWER = ("above", "over", "more than", "at least", "no less than", "greater than", "larger than",
         "higher than", "exceeds", "exceed", "beyond")
NEGATIONS = {"never", "none", "not", "no", "nor", "nothing"}
BOUND = re.compile(r"\b(" + "|".join(sorted(UPPER + LOWER, key=len, reverse=True)) + r")\s+"
                   r"(?:\$[^$=]*\$\s+)?\{eval\}`num\.(\w+)`")
# "between a and b" says every value lies in [a, b]: a is a lower bound, b an upper one
BETWEEN = re.compile(r"\bbetween\s+\{eval\}`num\.(\w+)`\s+and\s+\{eval\}`num\.(\w+)`")
def misrounded_bounds(path, num):
    """The prose's quoted bounds that are on the wrong side of their number, one line each."""
    if num is None:
        return []
    problems = []
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        text = " ".join("".join(cell["source"]).split())
        quoted_bounds = []  # (the words, the name, +1 for an upper bound or −1 for a lower one)
        for match in BOUND.finditer(text):
            word, name = match.groups()
            side = 1 if word in UPPER else -1
            clause = re.split(r"[.,;:()]", text[:match.start()])[-1]  # the words before, in its clause
            if NEGATIONS & set(re.findall(r"\w+", clause.lower())[-5:]):
                side = -side
            quoted_bounds.append((word, name, side))
        for match in BETWEEN.finditer(text):
            quoted_bounds += [("between", match[1], -1), ("and", match[2], 1)]
        for word, name, side in quoted_bounds:
            shown = getattr(num, name, None)
            value = getattr(shown, "value", None)
            quoted = getattr(shown, "number", None)  # the number the text shows (glue.Shown)
            if quoted is None or not isinstance(value, (int, float)) or isinstance(value, bool):
                continue
            if (quoted - value) * side < 0:
                problems.append(f"cell id {cell.get('id')}: \"{word} {shown}\" quotes {name} = {value:.6g}; "
                                f"register it with bound=\"{'upper' if side > 0 else 'lower'}\"")
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("chapters", nargs="*", help="chapter numbers, e.g. 01 04 (default: all)")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2],
                        help="perturbation seeds; 0 runs unperturbed (default: 0 1 2)")
    parser.add_argument("--one", nargs=2, metavar=("NOTEBOOK", "SEED"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:  # the child process: one chapter, one seed
        for failure in run_chapter(pathlib.Path(args.one[0]), int(args.one[1])):
            print(failure)
        return
    # the children's numpy starts after this; one BLAS thread, as in the chapters
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    paths = sorted(p for p in CHAPTERS.glob("[0-9][0-9]_*.ipynb")
                   if not args.chapters or p.name[:2] in args.chapters)
    for path in paths:
        for seed in args.seeds:
            child = subprocess.run([sys.executable, __file__, "--one", str(path), str(seed)],
                                   capture_output=True, text=True)
            report = child.stdout.strip() or (f"the run itself failed:\n{child.stderr[-500:]}"
                                              if child.returncode else "")
            print(f"{path.name}  seed {seed}: {'all cells ran' if not report else 'FAILED'}")
            for line in report.splitlines():
                print(f"    {line}")


if __name__ == "__main__":
    main()
