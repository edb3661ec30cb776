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


@pytest.mark.parametrize("value, spec, upper, lower", [
    (1 / 3, ".0%", "34%", "33%"),
    (4.27e-5, ".1e", "4.3\u00a0×\u00a010⁻⁵", "4.2\u00a0×\u00a010⁻⁵"),
    (5.3e-14, ".0e", "6\u00a0×\u00a010⁻¹⁴", "5\u00a0×\u00a010⁻¹⁴"),
    (0.15114, ".2f", "0.16", "0.15"),
    (0.0334, ".2g", "0.034", "0.033"),
    (9.96e-6, ".1e", "1.0\u00a0×\u00a010⁻⁵", "9.9\u00a0×\u00a010⁻⁶"),   # the upper bound rolls over
    (-0.10536, ".3f", "−0.105", "−0.106"),
    (1234.6, ",.0f", "1,235", "1,234"),
    (0.25, ".2f", "0.25", "0.25"),                                   # exactly shown: unchanged
    (7, "d", "7", "7"),
])
def test_fmt_rounds_a_bound_towards_the_safe_side(value, spec, upper, lower):
    assert str(fmt(value, spec, bound="upper")) == upper
    assert str(fmt(value, spec, bound="lower")) == lower
    # the number shown is on the right side of the value
    assert fmt(value, spec, bound="upper").value == value


@pytest.mark.parametrize("seed", range(5))
def test_fmt_bounds_hold_for_any_value(seed):
    rng = np.random.default_rng(seed)
    for value in rng.lognormal(0, 8, 200) * rng.choice([-1, 1], 200):
        for spec, scale in ((".1e", 1), (".2f", 1), (".0%", 100), (".3g", 1)):
            for bound, side in (("upper", 1), ("lower", -1)):
                text = str(fmt(value, spec, bound)).replace("\u00a0×\u00a010", "e").replace("−", "-")
                text = text.translate(str.maketrans("⁻⁰¹²³⁴⁵⁶⁷⁸⁹", "-0123456789"))
                shown = float(text.rstrip("%")) / scale
                assert (shown - value) * side >= 0, (value, spec, bound, text)


@pytest.mark.parametrize("value, spec, bound, match", [
    (0.5, ".2f", "up", "bound must be"),
    (float("inf"), ".2f", "upper", "finite"),
    (0.5, ".2f%", "upper", "cannot format"),
    (1000.25, "_.1f", "upper", "plain number"),
])
def test_fmt_rejects_a_bound_it_cannot_honour(value, spec, bound, match):
    with pytest.raises(ValueError, match=match):
        fmt(value, spec, bound)


def test_numbers_pass_the_bound_on():
    num = Numbers()
    assert num("worst", 0.15114, ".2f", bound="upper") == 0.15114
    assert str(num.worst) == "0.16"


@pytest.mark.parametrize("value, spec, number", [
    (3.2e-6, ".1e", 3.2e-6), (-0.66, ".2f", -0.66), (0.333, ".1%", 0.333), (1000, ",d", 1000.0),
    (5e12, ".0e", 5e12), (0.3334, ".0%", 0.33), (float("inf"), ".1e", None), ("fast", "", None),
])
def test_shown_reads_back_the_number_its_text_shows(value, spec, number):
    assert fmt(value, spec).number == number


def test_a_bound_reads_back_on_its_side():
    assert fmt(1 / 3, ".0%", bound="upper").number == 0.34 > 1 / 3
    assert fmt(1 / 3, ".0%", bound="lower").number == 0.33 < 1 / 3
