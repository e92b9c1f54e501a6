"""Find a safe table: every bound widget is drawn with the value the search will use.

A browser paints a new widget from its own default (the proto's ``default``) before it applies
a value set through the session state, so a number box bound without its default showed its
minimum (a suppression limit of 0.00 where the search uses 2 %) on the page's first render. The
proto is what the browser receives: its default must be the value shown, on the first render
and on a return to the page (Streamlit drops the keys of a page that is not drawn).
"""

from __future__ import annotations

import pytest

PAGE = "pages/anonymize.py"
OPT = "ws:anonymize.options."


def first_paint_mismatches(at, prefix: str = OPT) -> list[str]:
    """Bound widgets (keys starting with ``prefix``) whose proto default is not their value."""
    bad = []

    def check(kind, element, default, value) -> None:
        if element.key and element.key.startswith(prefix) and default != value:
            bad.append(f"{kind} {element.key}: first painted {default!r}, value {value!r}")

    for n in at.number_input:
        check("number_input", n, n.proto.default, n.value)
    for s in [*at.selectbox, *at.radio]:
        check("choice", s, s.proto.default, s.index)
    for m in at.multiselect:
        check("multiselect", m, list(m.proto.default), list(m.indices))
    for c in [*at.checkbox, *at.toggle]:
        check("checkbox", c, c.proto.default, c.value)
    for t in [*at.text_input, *at.text_area]:
        check("text", t, t.proto.default, t.value or "")
    for sl in at.slider:
        value = sl.value if isinstance(sl.value, tuple | list) else [sl.value]
        check("slider", sl, [float(v) for v in sl.proto.default], [float(v) for v in value])
    return bad


@pytest.fixture
def page(app):
    app.switch_page(PAGE).run()
    assert not app.exception
    return app


def test_first_render_draws_the_suppression_limit_the_search_uses(page):
    box = page.number_input(key=OPT + "suppression")
    assert box.value == 2.0  # percent; the search uses the workspace's 0.02
    assert box.proto.default == 2.0  # what the browser paints first
    assert page.number_input(key=OPT + "k").proto.default == 5
    assert page.number_input(key=OPT + "time_limit").proto.default == 60.0
    assert first_paint_mismatches(page) == []


def test_a_changed_value_is_drawn_first_on_a_return_to_the_page(page):
    at = page
    at.number_input(key=OPT + "suppression").set_value(5.5).run()
    at.number_input(key=OPT + "k").set_value(12).run()
    assert not at.exception
    assert at.session_state["workspace"].anonymize.options["suppression"] == 0.055
    at.switch_page("pages/risk.py").run()
    at.switch_page(PAGE).run()
    assert not at.exception
    assert at.number_input(key=OPT + "suppression").value == 5.5
    assert at.number_input(key=OPT + "suppression").proto.default == 5.5
    assert at.number_input(key=OPT + "k").proto.default == 12
    assert first_paint_mismatches(at) == []


def test_every_rerun_carries_the_value_a_widget_mounted_anew_paints(page):
    """Clearing the quasi-identifiers and picking them again moves the model widgets (the
    elements above them change), and the browser mounts a moved widget anew from its proto
    default: on every run, not only the first, that default must be the value shown."""
    at = page
    qis = list(at.multiselect(key=OPT + "qis").value)
    assert qis
    at.number_input(key=OPT + "k").set_value(12).run()
    assert first_paint_mismatches(at) == []  # a rerun with every key in the session state
    at.multiselect(key=OPT + "qis").set_value([]).run()
    assert not at.exception
    assert first_paint_mismatches(at) == []
    at.multiselect(key=OPT + "qis").set_value(qis).run()
    assert not at.exception
    assert at.number_input(key=OPT + "time_limit").proto.default == 60.0
    assert at.number_input(key=OPT + "k").proto.default == 12
    assert first_paint_mismatches(at) == []
