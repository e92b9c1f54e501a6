"""Data page (headless): column kinds shown, changed, refused, and carried into the recipe."""

from __future__ import annotations

import json

import pandas as pd

SECRET = "4929123456781234"
JSON_TABLE = json.dumps(
    [
        {"zip": "02134", "visits": "7", "member": "yes", "card": SECRET},
        {"zip": "00501", "visits": "12", "member": "no", "card": "4929000000000001"},
        {"zip": "10115", "visits": "3", "member": "yes", "card": "4929000000000002"},
    ]
).encode()


def _upload(app):
    app.switch_page("pages/data.py").run()
    app.file_uploader(key="data_upload").upload("people.json", JSON_TABLE, "application/json")
    app.run()
    assert not app.exception
    return app


def _change(app, column, kind):
    app.selectbox(key="data_kind_column").set_value(column)
    app.selectbox(key="data_kind_value").set_value(kind)
    app.button(key="FormSubmitter:data_kind_form-Change kind").click().run()
    assert not app.exception


def _casts(app):
    """The kind changes recorded in the workspace (what the recipe replays first)."""
    return tuple(app.session_state["workspace"].casts)


def _kinds_table(app):
    (table,) = [d.value for d in app.dataframe if "stored as" in d.value.columns]
    return dict(zip(table["column"], table["kind"], strict=True))


def test_kinds_are_shown_and_a_change_is_applied_and_recorded(app):
    _upload(app)
    assert _kinds_table(app)["visits"] == "text"
    token = app.session_state["dataset_id"]
    _change(app, "visits", "integer")
    frame = app.session_state["dataset"]
    assert frame["visits"].tolist() == [7, 12, 3]
    assert pd.api.types.is_integer_dtype(frame["visits"].dtype)
    assert _kinds_table(app)["visits"] == "integer"
    assert _casts(app) == (("visits", "integer", None),)
    assert app.session_state["dataset_id"] != token  # caches keyed by the token move on
    assert any("is now integer" in s.value for s in app.success)
    # Other columns and the roles are kept.
    assert frame["zip"].tolist() == ["02134", "00501", "10115"]
    assert "card" in app.session_state["roles"]


def test_a_lossy_change_is_refused_and_keeps_the_table(app):
    _upload(app)
    before = app.session_state["dataset"]
    _change(app, "zip", "integer")
    assert app.session_state["dataset"] is before
    assert _casts(app) == ()
    (error,) = app.error
    assert "leading zeros" in error.value and "02134" not in error.value
    _change(app, "card", "boolean")
    assert SECRET not in app.error[0].value
    assert "3 value" in app.error[0].value


def test_the_change_leads_the_recipe_on_masking_and_export(app):
    _upload(app)
    _change(app, "visits", "integer")
    _change(app, "member", "boolean")
    app.switch_page("pages/export.py").run()
    assert not app.exception
    # Export exports the current recipe, whose first steps are the kind changes.
    exported = [s.to_dict() for s in app.session_state["hardening"][1].recipe.steps]
    assert exported[:2] == [
        {"transform": "cast", "column": "visits", "params": {"kind": "integer"}},
        {"transform": "cast", "column": "member", "params": {"kind": "boolean"}},
    ]
    app.switch_page("pages/masking.py").run()
    assert not app.exception
    assert "Change kind" not in app.selectbox(key="mask_t_0").options  # set on the Data page
    hardening = app.session_state["hardening"][1]  # (recipe key, Hardening)
    steps = [s.to_dict() for s in hardening.recipe.steps]
    assert steps[:2] == [
        {"transform": "cast", "column": "visits", "params": {"kind": "integer"}},
        {"transform": "cast", "column": "member", "params": {"kind": "boolean"}},
    ]
    # Replaying the recipe on the table as loaded gives the hardened table of the page
    # (the keys of the pseudonymization steps are the session's).
    from core.data import load
    from core.recipe import apply

    loaded = load(JSON_TABLE, filename="people.json").frame
    again = apply(
        loaded, hardening.recipe, secrets={"pseudonym_key": app.session_state["masking_key"]}
    )
    pd.testing.assert_frame_equal(again.frame, hardening.result.frame)


def test_a_recipe_with_the_same_kind_changes_loads_on_masking(app):
    _upload(app)
    _change(app, "visits", "integer")
    app.switch_page("pages/masking.py").run()
    doc = {
        "schema_version": 1,
        "steps": [
            {"transform": "cast", "column": "visits", "params": {"kind": "integer"}},
            {"transform": "round", "column": "visits", "params": {"base": 5}},
        ],
    }
    app.sidebar.file_uploader[0].upload("r.json", json.dumps(doc).encode(), "application/json")
    app.run()
    assert not app.exception
    assert not app.error
    other = {**doc, "steps": [{"transform": "cast", "column": "zip", "params": {"kind": "text"}}]}
    app.sidebar.file_uploader[0].upload("r2.json", json.dumps(other).encode(), "application/json")
    app.run()
    assert any("Make that change on the Data page" in e.value for e in app.error)


def test_every_page_renders_after_kind_changes(app):
    table = json.dumps(
        [
            {"zip": f"{i:05d}", "visits": str(i % 7), "member": ["yes", "no"][i % 2],
             "seen": f"2024-01-{i % 28 + 1:02d}", "score": f"{i / 3:.3f}"}
            for i in range(60)
        ]
    ).encode()  # fmt: skip
    app.switch_page("pages/data.py").run()
    app.file_uploader(key="data_upload").upload("t.json", table, "application/json").run()
    for column, kind in [
        ("zip", "category"),
        ("visits", "integer"),
        ("member", "boolean"),
        ("seen", "date"),
        ("score", "decimal"),
    ]:
        _change(app, column, kind)
        assert not app.error, column
    kinds = _kinds_table(app)
    assert kinds == {
        "zip": "category",
        "visits": "integer",
        "member": "boolean",
        "seen": "date",
        "score": "decimal",
    }
    for page in (
        "pages/home.py",
        "pages/correlations.py",
        "pages/risk.py",
        "pages/differential_privacy.py",
        "pages/masking.py",
        "pages/export.py",
        "pages/data.py",
    ):
        app.switch_page(page).run()
        assert not app.exception, page


def test_a_new_load_starts_without_kind_changes(app):
    _upload(app)
    _change(app, "visits", "integer")
    app.button(key="data_load_sample").click().run()  # another table: the Adult sample
    assert not app.exception
    assert _casts(app) == ()
    assert _kinds_table(app)["age"] == "integer"
    _change(app, "age", "text")
    assert _casts(app) == (("age", "text", None),)


def test_integer_codes_are_offered_as_categories_and_declared_in_one_click(app):
    app.switch_page("pages/data.py").run()
    rows = "".join(f"{i % 2 + 1},{(2, 4, 9)[i % 3]},{20 + i}\n" for i in range(40))
    app.file_uploader(key="data_upload").upload("s.csv", ("urbrur,roof,age\n" + rows).encode())
    app.run()
    assert not app.exception
    (offer,) = [i.value for i in app.info if "hold only a few codes" in i.value]
    assert "urbrur" in offer and "roof" in offer and "age" not in offer
    app.button(key="data_kind_declare").click().run()
    assert not app.exception
    kinds = _kinds_table(app)
    assert (kinds["urbrur"], kinds["roof"], kinds["age"]) == ("category", "category", "integer")
    assert _casts(app) == (("urbrur", "category", None), ("roof", "category", None))
    assert not any("hold only a few codes" in i.value for i in app.info)
    # A single column can also be declared category with the form (integer -> category).
    _change(app, "age", "category")
    assert _kinds_table(app)["age"] == "category"
