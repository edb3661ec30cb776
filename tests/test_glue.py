"""The book's one number format, and the register the prose quotes from."""

import numpy as np
import pytest

from vanishgrad.glue import Numbers, Shown, fmt


@pytest.mark.parametrize("value, spec, text", [
    (0.25, ".2f", "0.25"),
    (2.04e-6, ".1e", "2.0 × 10⁻⁶"),
    (5e12, ".0e", "5 × 10¹²"),
    (1.5, ".1e", "1.5"),                    # 1.5e+00: no power of ten for exponent 0
    (-0.66, ".2f", "−0.66"),                # a typographic minus
    (-3.1e-17, ".1e", "−3.1 × 10⁻¹⁷"),
    (74000, ",d", "74,000"),
    (0.634, ".0%", "63%"),
    (np.float32(0.5), ".1f", "0.5"),
    (np.int64(7), "", "7"),
    (np.array(2.5), ".1f", "2.5"),          # a 0-d array is its scalar
    (3, "", "3"),
    ("tanh", "", "tanh"),
])
def test_fmt_writes_numbers_as_the_book_does(value, spec, text):
    text = text.replace(" × ", "\u00a0×\u00a0")   # a power of ten never breaks across lines
    shown = fmt(value, spec)
    assert isinstance(shown, Shown)
    assert str(shown) == text and repr(shown) == text and f"{shown}" == text


def test_fmt_keeps_inf_and_nan_readable():
    assert str(fmt(float("inf"), ".1e")) == "inf"
    assert str(fmt(float("nan"), ".2f")) == "nan"


@pytest.mark.parametrize("value, spec", [(1j, ".2f"), ([1.0], ".2f"), (True, ""), (None, ""), (0.5, 3), (0.5, ".2q")])
def test_fmt_rejects_what_it_cannot_show(value, spec):
    with pytest.raises(ValueError):
        fmt(value, spec)


def test_shown_displays_without_quotes_in_ipython():
    from IPython.lib.pretty import pretty
    assert pretty(fmt(1e-9, ".0e")) == "1\u00a0×\u00a010⁻⁹"


def test_numbers_register_returns_the_value_and_stores_the_text():
    num = Numbers()
    ratio = num("ratio", 3.2e-7, ".1e")
    assert ratio == 3.2e-7
    assert str(num.ratio) == "3.2\u00a0×\u00a010⁻⁷"
    assert num.ratio.value == 3.2e-7
    num("ratio", 0.5, ".1f")                # re-running a cell replaces the number
    assert str(num.ratio) == "0.5"
    assert num.names() == ["ratio"]


def test_numbers_say_which_name_is_missing():
    num = Numbers()
    with pytest.raises(AttributeError, match="'gap'.*run the cells above"):
        num.gap


@pytest.mark.parametrize("name", ["", "1x", "a b", "_private", None, "a.b"])
def test_numbers_reject_names_the_prose_cannot_quote(name):
    with pytest.raises(ValueError, match="name"):
        Numbers()(name, 1.0)
