"""Numbers from a notebook into its prose, in one format.

A chapter never types a number it measured. It computes the number, hands it to a
:class:`Numbers` register under a name, and the prose quotes it with MyST's inline
``{eval}`` role::

    num = Numbers()                                  # once, in the first code cell
    ratio = num("ratio", 3.2e-7, ".1e")              # returns 3.2e-7 unchanged

    The first layer's gradient is {eval}`num.ratio` of the last one's.

On the website the role is evaluated while the book is built (MyST-NB's inline
execution); in JupyterLab, ``jupyterlab-myst`` evaluates it when the markdown cell is
run. Both show the same text, ``3.2 × 10⁻⁷``, because the register stores the formatted
text, not the number. Check cells assert on the number itself.

:func:`fmt` is the book's one number format: a Python format spec, except that an
exponent is written as a power of ten (``3.2 × 10⁻⁷``, never ``3.2e-07``, with no-break
spaces around the ×) and a minus sign is the typographic one (``−0.66``).

A number the prose uses as a bound is rounded towards the safe side. "Every ratio stays
below {eval}`num.worst`" is false if the largest ratio, 4.24e-5, is rounded to nearest,
4.2 × 10⁻⁵; ``num("worst", 4.24e-5, ".1e", bound="upper")`` shows 4.3 × 10⁻⁵, and
``bound="lower"`` rounds down, for "at least" and "above".
"""

import decimal
import numbers
import re

import numpy as np

_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")
_FROM_SUPERSCRIPT = str.maketrans("⁻⁰¹²³⁴⁵⁶⁷⁸⁹", "-0123456789")
# a number as fmt shows it, once its power of ten is written e±n again
_SHOWN = re.compile(r"(?P<number>-?\d[\d.]*)(?P<percent>%)|(?P<number_e>-?\d[\d.]*(?:e-?\d+)?)")
_EXPONENT = re.compile(r"^(?P<mantissa>[^e]*)e(?P<exponent>[+-]\d+)(?P<rest>.*)$")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# what Python's format() writes for a finite number: sign, digits (with any thousands
# separators), decimals, exponent, percent
_FORMATTED = re.compile(r"^(?P<number>[-+ ]?[\d,]*(?:\.(?P<decimals>\d*))?)(?:e(?P<exponent>[+-]\d+))?(?P<percent>%?)$")
#: The directions :func:`fmt` can round a bound in.
BOUNDS = ("upper", "lower")


class Shown:
    """A number as the prose shows it: displays as its text, with no quotes.

    ``str(shown)`` and ``repr(shown)`` are both the text, so an ``{eval}`` role, a
    f-string and a figure title all show the same characters.
    """

    __slots__ = ("text", "value")

    def __init__(self, text, value=None):
        self.text = text
        self.value = value

    def __str__(self):
        return self.text

    @property
    def number(self):
        """The number the text shows, or None if it shows none: ``3.2 × 10⁻⁶`` is 3.2e-06,
        ``−0.66`` is -0.66, ``33%`` is 0.33, ``1,000`` is 1000.0. It differs from ``value``
        by the rounding."""
        text = self.text.replace("\u00a0×\u00a010", "e").replace("−", "-").replace(",", "")
        match = _SHOWN.fullmatch(text.translate(_FROM_SUPERSCRIPT))
        if match is None:
            return None
        if match["percent"]:  # 33.3% is 33.3e-2, read as one decimal number (not 33.3 / 100)
            return float(match["number"] + "e-2")
        return float(match["number_e"])

    def __repr__(self):
        return self.text

    def _repr_pretty_(self, printer, cycle):
        printer.text(self.text)

    def __format__(self, spec):
        return format(self.text, spec)

    def __eq__(self, other):
        return str(other) == self.text

    def __hash__(self):
        return hash(self.text)


def fmt(value, spec="", bound=None):
    """Format ``value`` the book's way; return a :class:`Shown`.

    value: a real number (int, float, numpy scalar) or a string, shown as it is.
    spec:  a Python format spec such as ``".2f"``, ``".1e"``, ``",d"``, ``".0%"``;
           ``""`` uses ``str``. An exponent becomes a power of ten:
           ``fmt(2.04e-6, ".1e")`` is ``2.0 × 10⁻⁶``; ``fmt(5e12, ".0e")`` is ``5 × 10¹²``.
    bound: ``None`` rounds to nearest, as ``format`` does. ``"upper"`` shows the smallest
           number at the spec's precision that is at least ``value`` (for "at most",
           "below", "up to", "within"): ``fmt(0.3334, ".0%", bound="upper")`` is ``34%``.
           ``"lower"`` shows the largest that is at most ``value`` (for "at least",
           "above"). Only for a finite number.
    """
    if isinstance(value, Shown):
        return value
    if isinstance(value, str):
        return Shown(value, value)
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]  # a 0-d array, as numpy reductions sometimes return: its scalar
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real, np.floating, np.integer)):
        raise ValueError(f"value must be a real number or a string; got {type(value).__name__} {value!r}")
    if not isinstance(spec, str):
        raise ValueError(f"spec must be a format spec string such as '.2f'; got {spec!r}")
    if isinstance(value, (np.floating, np.integer)):
        value = value.item()
    if bound is not None and bound not in BOUNDS:
        raise ValueError(f"bound must be None, 'upper' or 'lower'; got {bound!r}")
    try:
        text = format(value, spec)
    except ValueError as exc:
        raise ValueError(f"spec {spec!r} cannot format {value!r}: {exc}") from None
    if bound is not None:
        text = _rounded_towards(bound, value, spec, text)
    match = _EXPONENT.match(text)
    if match and "inf" not in text and "nan" not in text:
        exponent = int(match["exponent"])
        mantissa = match["mantissa"]
        # no-break spaces: "2.0 × 10⁻⁶" never breaks across lines
        text = f"{mantissa}\u00a0×\u00a010{str(exponent).translate(_SUPERSCRIPT)}{match['rest']}"
        if exponent == 0:
            text = f"{mantissa}{match['rest']}"
    return Shown(text.replace("-", "−"), value)


def _shown_number(text):
    """The number ``format`` wrote as ``text``, and the power of ten of one unit of its last
    digit (``"4.3e-05"``: 4.3e-05 and -6; ``"34%"``: 0.34 and -2), or None."""
    match = _FORMATTED.match(text)
    if match is None or not any(ch.isdigit() for ch in match["number"]):
        return None
    exponent = int(match["exponent"] or 0) - (2 if match["percent"] else 0)
    shown = float(match["number"].replace(",", "")) * 10.0 ** exponent
    return shown, exponent - len(match["decimals"] or "")


def _rounded_towards(bound, value, spec, text):
    """``text`` (``format(value, spec)``), or, if the number it shows is on the wrong side of
    ``value``, ``value`` rounded up (``bound="upper"``) or down (``"lower"``) at the last
    digit the spec shows."""
    if not np.isfinite(value):
        raise ValueError(f"a bound must be a finite number; got {value!r}")
    parsed = _shown_number(text)
    if parsed is None:
        raise ValueError(f"spec {spec!r} does not write a plain number ({text!r}); "
                         "a bound needs one, such as '.2f', '.1e', '.0%' or ',d'")
    shown, last_digit = parsed
    side = 1 if bound == "upper" else -1
    if (shown - value) * side >= 0:
        return text
    exact = decimal.Decimal(value)
    if spec[-1:] in ("e", "E", "g", "G"):
        # significant digits: the last digit's place follows the value's own power of ten
        # (9.96e-6 to ".1e" rounds to "1.0e-05", but its lower bound is 9.9e-6)
        precision = int(re.search(r"\.(\d+)", spec)[1]) if "." in spec else 6
        digits = precision + 1 if spec[-1:] in ("e", "E") else max(precision, 1)
        last_digit = exact.adjusted() - digits + 1
    rounding = decimal.ROUND_CEILING if bound == "upper" else decimal.ROUND_FLOOR
    rounded = exact.quantize(decimal.Decimal((0, (1,), last_digit)), rounding=rounding)
    return format(float(rounded), spec)


class Numbers:
    """The register of numbers a chapter's prose quotes.

    ``num(name, value, spec)`` stores ``fmt(value, spec)`` as the attribute ``name`` and
    returns ``value`` unchanged, so a computation and its registration read as one line:
    ``ratio = num("ratio", first / last, ".1e")``. The prose then says ``{eval}`num.ratio```.
    ``bound="upper"`` or ``"lower"`` rounds a number the prose uses as a bound towards the
    safe side (see :func:`fmt`).
    Reading a name that was never stored raises an ``AttributeError`` that says so.
    """

    def __call__(self, name, value, spec="", bound=None):
        if not isinstance(name, str) or not _NAME.match(name) or name.startswith("_"):
            raise ValueError(f"name must be a Python identifier not starting with '_'; got {name!r}")
        setattr(self, name, fmt(value, spec, bound))
        return value

    def __getattr__(self, name):
        raise AttributeError(f"no number named {name!r} has been computed yet; run the cells above")

    def names(self):
        """The stored names, in the order they were stored."""
        return list(vars(self))


try:  # the old glue role, kept until every chapter quotes through Numbers
    from myst_nb import glue as _myst_glue
except ImportError:  # pragma: no cover
    _myst_glue = None


def glue(name, value, fmt=None):
    """Store ``value`` under ``name`` for myst-nb's ``{glue:text}`` role; return ``value``."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"glue name must be a non-empty string; got {name!r}")
    shown = fmt.format(value) if fmt is not None else value
    if _myst_glue is not None:
        _myst_glue(name, shown, display=False)
    return value
