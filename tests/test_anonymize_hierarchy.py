"""Hierarchies: ARX's CSV format, builders, validation messages and integer codes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.anonymize import (
    Hierarchy,
    date_hierarchy,
    encode_hierarchy,
    hierarchy_to_csv,
    interval_hierarchy,
    mapping_hierarchy,
    read_hierarchy,
    redaction_hierarchy,
    validate_hierarchy,
    write_hierarchy,
)
from core.errors import HierarchyError, PrivLensError

ADULT_QIS = [
    "sex",
    "age",
    "race",
    "marital-status",
    "education",
    "native-country",
    "workclass",
    "occupation",
]


def test_arx_adult_hierarchies_read_and_cover_the_extract(arx_adult):
    df = pd.read_csv(arx_adult / "adult.csv", sep=";")
    levels = {}
    for q in ADULT_QIS:
        h = read_hierarchy(arx_adult / f"adult_hierarchy_{q}.csv")
        assert {r[-1] for r in h.rows} == {"*"}
        e = encode_hierarchy(h, df[q], name=q)
        levels[q] = h.n_levels
        # level codes reproduce the file's labels for every record
        lv = h.n_levels - 2
        labels = np.array(e.labels[lv], dtype=object)[e.gen[e.record_codes, lv]]
        expected = df[q].astype(str).map({r[0]: r[lv] for r in h.rows}).to_numpy()
        assert (labels == expected).all()
    # ARX's 6,480-node lattice
    assert np.prod(list(levels.values())) == 6480


def test_csv_round_trip_semicolon_and_comma(tmp_path):
    h = validate_hierarchy(Hierarchy(rows=(("1", "0-4", "*"), ("7", "5-9", "*"))))
    for delim in (";", ","):
        path = tmp_path / f"h{delim == ','}.csv"
        write_hierarchy(h, path, delimiter=delim)
        assert read_hierarchy(path).rows == h.rows
        assert read_hierarchy(path.read_bytes()).rows == h.rows
    # a value holding the delimiter is quoted and read back whole
    q = Hierarchy(rows=(("a,b", "x", "*"), ("c", "x", "*")))
    assert read_hierarchy(hierarchy_to_csv(q, delimiter=",").encode(), delimiter=",").rows == q.rows


@pytest.mark.parametrize(
    ("text", "match"),
    [
        # a row shorter than the first
        (b"a;x;*\nb;*\n", r"1 row\(s\) do not have the 3 cell\(s\).*line 2"),
        # an empty cell
        (b"a;x;*\nb;;*\n", r"1 empty cell\(s\) \(first at line 2, level 1\)"),
        # an original value listed twice
        (b"a;x;*\na;y;*\n", r"appear on more than one row \(first repeat at line 2\)"),
        # level 1 group 'x' goes to two different level-2 groups
        (b"a;x;p;*\nb;x;q;*\nc;y;q;*\n", r"level 2 is not monotone.*line 2"),
        (b"", r"no rows"),
    ],
)
def test_validation_names_each_problem_without_values(text, match):
    with pytest.raises(HierarchyError, match=match) as err:
        read_hierarchy(text, name="the hierarchy of 'zip'")
    assert isinstance(err.value, PrivLensError)
    for value in (b"a", b"b", b"x", b"p", b"q"):
        assert f"'{value.decode()}'" not in str(err.value)


def test_several_problems_are_all_listed():
    with pytest.raises(HierarchyError, match=r"has 2 problems: .*empty cell.*more than one row"):
        read_hierarchy(b"a;;*\na;x;*\n")


def test_level_that_does_not_coarsen_is_a_warning():
    h = read_hierarchy(b"a;a1;x;*\nb;b1;x;*\n")
    assert any("level 1 does not coarsen level 0" in w for w in h.warnings)
    top = read_hierarchy(b"a;x\nb;y\n")
    assert any("top level 1 has 2 distinct values" in w for w in top.warnings)


def test_value_missing_from_hierarchy_is_counted_not_shown():
    h = Hierarchy(rows=(("alpha", "*"), ("beta", "*")))
    col = pd.Series(["alpha", "secret-1", "beta", "secret-2", "secret-1"])
    with pytest.raises(HierarchyError, match=r"2 distinct value\(s\).*3 record\(s\).*data row 2"):
        encode_hierarchy(h, col, name="code")
    with pytest.raises(HierarchyError) as err:
        encode_hierarchy(h, col, name="code")
    assert "secret" not in str(err.value)


def test_missing_values_match_the_null_row():
    h = Hierarchy(rows=(("1", "*"), ("NULL", "*")))
    e = encode_hierarchy(h, pd.Series([1.0, None, 1.0]), name="n")
    assert e.record_codes.tolist() == [0, 1, 0]
    with pytest.raises(HierarchyError, match="missing values"):
        encode_hierarchy(Hierarchy(rows=(("1", "*"),)), pd.Series([1.0, None]), name="n")


def test_interval_builder_groups_as_arx_adult_age_levels(arx_adult):
    # ARX's file groups 1-5, 6-10, ... (labelled "0-4", "5-9"): intervals from origin 1
    arx = read_hierarchy(arx_adult / "adult_hierarchy_age.csv")
    ages = [int(r[0]) for r in arx.rows]
    ours = interval_hierarchy(ages, widths=[5, 10, 20], origin=1)
    assert ours.n_levels == arx.n_levels
    for lv in range(arx.n_levels):
        a = pd.factorize(pd.Series([r[lv] for r in arx.rows]))[0]
        b = pd.factorize(pd.Series([r[lv] for r in ours.rows]))[0]
        assert (a == b).all(), lv
    assert ours.rows[0][1:] == ("1-5", "1-10", "1-20", "*")


def test_interval_builder_refuses_widths_that_do_not_nest():
    with pytest.raises(HierarchyError, match="whole multiple"):
        interval_hierarchy([1, 2], widths=[5, 7])
    with pytest.raises(HierarchyError, match="positive"):
        interval_hierarchy([1, 2], widths=[])
    with pytest.raises(HierarchyError, match="need numbers"):
        interval_hierarchy(["a", "1"], widths=[5])
    h = interval_hierarchy([0.5, 1.7], widths=[0.5])
    assert h.rows[1][1] == "[1.5, 2)"


def test_date_builder_levels():
    h = date_hierarchy(pd.Series(["2024-03-05", "2024-11-30", None]))
    assert [list(r) for r in h.rows] == [
        ["2024-03-05", "2024-03", "2024-Q1", "2024", "*"],
        ["2024-11-30", "2024-11", "2024-Q4", "2024", "*"],
        ["NULL", "NULL", "NULL", "NULL", "*"],
    ]
    with pytest.raises(HierarchyError, match="1 value\\(s\\) do not parse"):
        date_hierarchy(["2024-01-01", "not a date"])


def test_redaction_builder_keeps_leading_zeros_and_is_monotone():
    h = redaction_hierarchy(pd.Series(["02134", "02139", "0213"]))
    assert h.rows[0] == ("02134", "0213*", "021**", "02***", "0****", "*")
    assert h.rows[2] == ("0213", "021*", "02**", "0***", "****", "*")
    with pytest.raises(HierarchyError, match="single character"):
        redaction_hierarchy(["1"], fill="**")


def test_mapping_builder_and_unmapped_values():
    m1 = {"Divorced": "alone", "Widowed": "alone", "Married": "together"}
    m2 = {"alone": "any", "together": "any"}
    h = mapping_hierarchy(["Married", "Divorced", "Widowed"], levels=[m1, m2])
    assert h.rows[0] == ("Married", "together", "any")
    assert h.n_levels == 3  # the last level has one value: no extra '*'
    with pytest.raises(HierarchyError, match=r"mapping 1 does not list 1 of the 2 value"):
        mapping_hierarchy(["Married", "Single"], levels=[{"Married": "together"}])


def test_mixed_types_match_their_own_rows_as_the_risk_engine_keeps_them_apart():
    # 1, True, 1.0 and "1" are four values for core.risk; each finds the row of its text
    h = Hierarchy(rows=(("1", "a", "*"), ("True", "b", "*"), ("1.0", "a", "*"), ("NULL", "n", "*")))
    col = pd.Series([1, True, 1.0, "1", None], dtype=object)
    assert encode_hierarchy(h, col, name="x").record_codes.tolist() == [0, 1, 2, 0, 3]


def test_unreadable_hierarchy_files(tmp_path):
    with pytest.raises(HierarchyError, match="^The hierarchy of 'age' could not be read"):
        read_hierarchy(tmp_path / "missing.csv", name="the hierarchy of 'age'")
    with pytest.raises(HierarchyError, match="not UTF-8"):
        read_hierarchy(b"\xff\xfe;\x00*\n")
