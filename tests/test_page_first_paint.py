"""Every page draws each bound widget with its value from the first paint.

A browser paints a new widget from its own default (the proto's ``default``) before it applies a
value set through the session state, so a widget bound without its default briefly shows its
minimum or first option (a limit reading 0.00, then 2.00), and a quick click acts on the wrong
value. The proto is what the browser receives: its default must be the value the page uses, on
the page's first render and on a return to it (Streamlit drops the keys of a page not drawn).
One app run walks every page with the Adult sample loaded.
"""

from __future__ import annotations

from datetime import date

import pytest

#: Every page with widgets bound to the workspace, and a page to step away to and back.
PAGES = [
    "pages/data.py",
    "pages/correlations.py",
    "pages/risk.py",
    "pages/differential_privacy.py",
    "pages/masking.py",
    "pages/anonymize.py",
    "pages/export.py",
    "pages/model.py",
]
AWAY = "pages/home.py"


def _number(n) -> float | None:
    return n.proto.default if n.proto.HasField("default") else None


def _choice(s) -> int | None:
    return s.proto.default if s.proto.HasField("default") else None


def _index(s) -> int | None:
    """The position of the choice among the options; ``None`` an option too (no column)."""
    try:
        shown = str(s.format_func(s.value))
    except (KeyError, TypeError):
        return None
    return s.options.index(shown) if shown in s.options else None


def _select_slider(s) -> tuple[list[int], list[int]]:
    values = s.value if isinstance(s.value, tuple | list) else [s.value]
    shown = [s.options.index(str(s.format_func(v))) for v in values]
    return list(s.proto.default), shown


def _date(d) -> tuple[list[str], list[str]]:
    values = d.value if isinstance(d.value, tuple | list) else [d.value]
    shown = [v.strftime("%Y/%m/%d") for v in values if isinstance(v, date)]
    return list(d.proto.default), shown


def first_paint_mismatches(at, prefix: str = "") -> list[str]:
    """Keyed widgets (keys starting with ``prefix``) whose first paint is not their value."""
    bad = []

    def check(kind, element, default, value) -> None:
        if element.key and element.key.startswith(prefix) and default != value:
            bad.append(f"{kind} {element.key}: first painted {default!r}, value {value!r}")

    for n in at.number_input:
        check("number_input", n, _number(n), n.value)
    for s in [*at.selectbox, *at.radio]:
        check("choice", s, _choice(s), _index(s))
    for m in at.multiselect:
        check("multiselect", m, list(m.proto.default), list(m.indices))
    for c in [*at.checkbox, *at.toggle]:
        check("checkbox", c, c.proto.default, c.value)
    for t in [*at.text_input, *at.text_area]:
        check("text", t, t.proto.default, t.value or "")
    for sl in at.slider:
        value = sl.value if isinstance(sl.value, tuple | list) else [sl.value]
        check("slider", sl, [float(v) for v in sl.proto.default], [float(v) for v in value])
    for ss in at.select_slider:
        check("select_slider", ss, *_select_slider(ss))
    for d in at.date_input:
        check("date_input", d, *_date(d))
    return bad


@pytest.fixture(scope="module")
def walk():
    """One app run (the Adult sample loaded) shared by the pages' checks, in page order."""
    from streamlit.testing.v1 import AppTest

    from tests.conftest import APP

    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception
    return at


@pytest.mark.parametrize("page", PAGES)
def test_each_bound_widget_is_first_painted_with_its_value(walk, page):
    at = walk
    at.switch_page(page).run()
    assert not at.exception
    keyed = [w for w in at.main if getattr(w, "key", None)]
    assert keyed, f"{page} drew no widget to check"
    assert first_paint_mismatches(at) == [], "first render"
    at.switch_page(AWAY).run()
    at.switch_page(page).run()
    assert not at.exception
    assert first_paint_mismatches(at) == [], "on a return to the page"


def _away_and_back(at, page: str) -> None:
    at.switch_page(AWAY).run()
    at.switch_page(page).run()
    assert not at.exception


def test_changed_values_are_first_painted_on_a_return(walk):
    """Values set by the user (not the defaults) come back in the first paint of each page."""
    at = walk
    at.switch_page("pages/data.py").run()
    at.text_input(key="data_na").set_value("?, -").run()
    _away_and_back(at, "pages/data.py")
    assert at.text_input(key="data_na").proto.default == "?, -"
    assert first_paint_mismatches(at) == []

    page = "pages/differential_privacy.py"
    at.switch_page(page).run()
    at.selectbox(key="dp_column").set_value("age").run()
    at.selectbox(key="dp_question").set_value("mean").run()
    at.number_input(key="dp_lower").set_value(17.0).run()
    at.number_input(key="dp_upper").set_value(90.0).run()
    _away_and_back(at, page)
    assert at.number_input(key="dp_lower").proto.default == 17.0  # not an empty box
    assert at.selectbox(key="dp_question").proto.default == at.selectbox(key="dp_question").index
    assert first_paint_mismatches(at) == []

    at.switch_page("pages/risk.py").run()
    at.number_input(key="risk_k").set_value(7).run()
    _away_and_back(at, "pages/risk.py")
    assert at.number_input(key="risk_k").proto.default == 7
    assert first_paint_mismatches(at) == []  # the guidance picker too (now "Custom")

    at.switch_page("pages/masking.py").run()
    box = next(n for n in at.number_input if n.key and n.key.startswith("mask_p_"))
    key, changed = box.key, box.value + 1
    box.set_value(changed).run()
    _away_and_back(at, "pages/masking.py")
    assert at.number_input(key=key).proto.default == changed
    assert first_paint_mismatches(at) == []
