"""Role detection: each detector with positive and negative examples, and role suggestions."""

from __future__ import annotations

import pandas as pd
import pytest

from core.detectors import DETECTORS, detect, iban_valid, luhn_valid
from core.profile import Kind, profile_column, profile_frame
from core.roles import (
    Role,
    apply_role_edits,
    coded_columns,
    columns_with_role,
    suggest_role,
    suggest_roles,
)
from core.samples import adult, patients
from tests.conftest import ROOT

BY_NAME = {d.name: d for d in DETECTORS}


@pytest.mark.parametrize(
    ("detector", "positive", "negative"),
    [
        (
            "email",
            ["jane.doe@example.org", "a+b@mail.co.uk"],
            ["jane.doe@", "at example.org", "a@b"],
        ),
        # 4111... passes Luhn; the same digits with the last one changed do not.
        (
            "card",
            ["4111111111111111", "4111 1111 1111 1111", "5500-0000-0000-0004", "378282246310005"],
            ["4111111111111112", "1234567812345678", "4111", "41111111111111111111"],
        ),
        (
            "iban",
            ["DE89370400440532013000", "GB82 WEST 1234 5698 7654 32"],
            ["DE89370400440532013001", "GB82WEST"],
        ),
        (
            "ssn",
            ["123-45-6789", "078-05-1120"],
            ["000-12-3456", "666-12-3456", "912-12-3456", "123-00-6789", "123456789"],
        ),
        (
            "ip",
            ["192.168.0.1", "8.8.8.8", "2001:db8::1", "::1"],
            ["256.1.1.1", "1.2.3", "12:34", "abc"],
        ),
        (
            "url",
            ["https://example.org/a?b=1", "http://x.io", "www.example.com/page"],
            ["example", "ftp:/x", "https//x"],
        ),
        (
            "phone",
            ["+1 (555) 123-4567", "+49 30 1234567", "030/1234567"],
            ["1990-05-17", "123-45-6789", "12345678", "12-34"],
        ),
        ("postcode", ["10115-1234", "SW1A 1AA", "K1A 0B1"], ["ABCDE", "1234"]),
    ],
)
def test_detector_positive_and_negative(detector, positive, negative):
    check = BY_NAME[detector].check
    assert check(pd.Series(positive)).all(), positive
    assert not check(pd.Series(negative)).any(), negative


def test_luhn_reference_values():
    # Published test numbers (Visa, Mastercard, Amex) are valid; every one-digit change is not.
    good = pd.Series(["4012888888881881", "5105105105105100", "371449635398431"])
    assert luhn_valid(good).all()
    for number in good:
        for i in range(len(number)):
            changed = number[:i] + str((int(number[i]) + 1) % 10) + number[i + 1 :]
            assert not luhn_valid(pd.Series([changed]))[0]


def test_iban_mod97_reference_values():
    # Examples from the IBAN registry (ISO 13616).
    good = pd.Series(
        ["GB29NWBK60161331926819", "FR1420041010050500013M02606", "NL91ABNA0417164300"]
    )
    assert iban_valid(good).all()
    assert not iban_valid(pd.Series(["GB29NWBK60161331926818"])).any()


def test_detect_needs_a_majority_share():
    values = pd.Series(["a@example.org"] * 3 + ["no mail"] * 7)
    assert detect(values, min_share=0.8) == []
    assert detect(values, min_share=0.3)[0][0].name == "email"


@pytest.mark.parametrize(
    ("name", "values", "role"),
    [
        ("contact", ["ann@x.org", "bob@y.com", "cy@z.net"], Role.IDENTIFIER),  # content beats name
        ("Age", [34, 51, 34, 29], Role.QUASI_IDENTIFIER),
        ("ZIP Code", ["10115", "10117", "10115"], Role.QUASI_IDENTIFIER),
        ("date_of_birth", ["1990-01-02", "1985-05-06", "1990-01-02"], Role.QUASI_IDENTIFIER),
        ("Marital Status", ["single", "married", "single"], Role.QUASI_IDENTIFIER),
        ("diagnosis", ["flu", "cold", "flu"], Role.SENSITIVE),
        ("salary", [100.0, 200.5, 300.0], Role.SENSITIVE),
        ("first_name", ["Ann", "Bob", "Ann"], Role.IDENTIFIER),
        ("colour", ["red", "blue", "red"], Role.OTHER),
        ("amount", [1.5, 2.5, 1.5], Role.OTHER),
        # Survey weights are weights, whatever their abbreviation; a bare "weight" is a body
        # weight (a quasi-identifier in health data).
        ("sampling_weight", [100, 100, 100], Role.WEIGHT),
        ("household_weights", [8.3, 25.0, 100.0], Role.WEIGHT),
        ("fnlwgt", [77516, 83311, 215646], Role.WEIGHT),
        ("PWGTP", [12, 40, 7], Role.WEIGHT),
        ("final weight", [1.2, 3.4, 1.2], Role.WEIGHT),
        ("weight", [70.5, 82.1, 64.0], Role.QUASI_IDENTIFIER),
        ("sampling_weight", ["a", "b", "a"], Role.OTHER),  # not numbers: not a weight
        # Codes are found by core.roles.names_a_code: the last word decides.
        ("customer_id", ["a1", "b2", "a1"], Role.IDENTIFIER),
        ("phone_count", [1, 2, 1], Role.OTHER),
        ("account_balance", [10.5, 20.25, 10.5], Role.OTHER),
        ("post_code", ["SW1A", "K1A", "SW1A"], Role.QUASI_IDENTIFIER),
        # Household-survey key variables (dwelling, location, household relation) when coded.
        ("urbrur", [1, 2, 1, 2], Role.QUASI_IDENTIFIER),
        ("roof", [2, 4, 9, 4, 2, 9], Role.QUASI_IDENTIFIER),
        ("water", [12.5, 30.25, 7.75, 8.0], Role.OTHER),  # an amount of water, not a code
    ],
)
def test_suggested_role(name, values, role):
    assert suggest_role(profile_column(pd.Series(values, name=name))).role == role


def test_unique_codes_are_identifiers_but_continuous_floats_are_not():
    codes = pd.Series([f"K{i:05d}X" for i in range(100)], name="ref")
    assert suggest_role(profile_column(codes)).role == Role.IDENTIFIER
    floats = pd.Series([i * 1.37 + 0.01 for i in range(100)], name="measurement")
    assert suggest_role(profile_column(floats)).role == Role.OTHER


def test_a_continuous_unique_amount_is_not_an_identifier():
    # 100 distinct whole amounts: the profile calls them identifier-like, the role does not.
    spread = pd.Series([3_377 + 21_911 * i for i in range(100)])
    assert profile_column(spread.rename("expend")).kind == Kind.IDENTIFIER
    assert suggest_role(profile_column(spread.rename("expend"))).role == Role.SENSITIVE
    other = suggest_role(profile_column(spread.rename("value")))
    assert other.role == Role.OTHER
    assert "amount" in " ".join(other.reasons)
    # A unique code named as one stays an identifier.
    assert suggest_role(profile_column(spread.rename("record_id"))).role == Role.IDENTIFIER


TESTDATA = ROOT.parent / "shared" / "datasets" / "sdcmicro_testdata.csv"
#: sdcMicro's documented set-up for ``testdata`` (createSdcObj examples, sdcMicro 5.x):
#: keyVars = urbrur, roof, walls, water, electcon, relat, sex; numVars = expend, income,
#: savings; w = sampling_weight.
SDC_KEY_VARS = ["urbrur", "roof", "walls", "water", "electcon", "relat", "sex"]


@pytest.fixture(scope="module")
def testdata():
    if not TESTDATA.exists():
        pytest.skip("sdcMicro testdata CSV not available")
    from core.data import load

    return load(TESTDATA.read_bytes(), filename=TESTDATA.name).frame


def test_sdcmicro_testdata_roles(testdata):
    roles = {c: s.role for c, s in suggest_roles(profile_frame(testdata)).items()}
    assert set(SDC_KEY_VARS) <= set(columns_with_role(roles, Role.QUASI_IDENTIFIER))
    assert columns_with_role(roles, Role.WEIGHT) == ["sampling_weight", "household_weights"]
    # The continuous amounts (sdcMicro's numVars) are sensitive, never direct identifiers.
    assert {roles[c] for c in ("expend", "income", "savings")} == {Role.SENSITIVE}
    assert Role.IDENTIFIER not in {roles[c] for c in ("expend", "income", "savings")}


def test_sdcmicro_testdata_coded_columns(testdata):
    # Few distinct whole-number codes: categories, not quantities (age has 88 values; the
    # one-valued weight and the fractional household weights are not codes).
    assert coded_columns(profile_frame(testdata)) == (*SDC_KEY_VARS, "hhcivil")


def test_coded_columns_need_few_codes_and_enough_rows():
    frame = pd.DataFrame({"code": [1, 2, 3] * 10, "count": range(30), "tiny": [1, 2] + [None] * 28})
    assert coded_columns(profile_frame(frame)) == ("code",)


def test_sixteen_digit_number_failing_luhn_is_not_a_card():
    values = pd.Series([f"{4000000000000000 + 7 * i}" for i in range(50)], name="ref")
    values = values[~luhn_valid(values)]
    profile = profile_column(values.rename("ref"))
    assert all(d.name != "card" for d, _ in profile.detected)


@pytest.mark.parametrize(
    ("values", "kind"),
    [
        ([1.5, 2.25, None], Kind.NUMERIC),
        ([1, 2, 2], Kind.INTEGER),
        ([True, False, True], Kind.BOOLEAN),
        (["yes", "no", "yes"], Kind.BOOLEAN),
        (["a", "b", "a", "a"], Kind.CATEGORICAL),
        (["2024-01-02", "2023-12-31", "2024-02-29"], Kind.DATETIME),
        ([None, None], Kind.EMPTY),
        ([f"this is free text number {i} with words" for i in range(40)], Kind.TEXT),
        (list(range(1000, 1040)), Kind.IDENTIFIER),
    ],
)
def test_kinds(values, kind):
    assert profile_column(pd.Series(values, name="x")).kind == kind


def test_profile_counts():
    p = profile_column(pd.Series(["a", "b", None, "a"], name="x"))
    assert (p.n, p.missing, p.n_distinct) == (4, 1, 2)
    assert p.missing_share == 0.25 and p.uniqueness == pytest.approx(2 / 3)


def test_adult_sample_roles():
    roles = {c: s.role for c, s in suggest_roles(profile_frame(adult().frame)).items()}
    assert {c for c, r in roles.items() if r == Role.QUASI_IDENTIFIER} >= {
        "age",
        "sex",
        "race",
        "marital-status",
        "native-country",
        "education",
    }
    assert roles["income"] == Role.SENSITIVE
    assert roles["fnlwgt"] == Role.WEIGHT  # the CPS final weight (adult.names)
    assert Role.IDENTIFIER not in roles.values()


def test_patients_sample_roles():
    roles = {c: s.role for c, s in suggest_roles(profile_frame(patients())).items()}
    assert columns_with_role(roles, Role.IDENTIFIER) == [
        "patient_id",
        "name",
        "email",
        "phone",
        "ssn",
        "card_number",
    ]
    assert columns_with_role(roles, Role.QUASI_IDENTIFIER) == ["birth_date", "zip", "sex"]
    assert columns_with_role(roles, Role.SENSITIVE) == ["diagnosis", "charges"]


def test_adult_sample_shape_and_missing_policy():
    frame = adult().frame
    assert frame.shape == (32_561, 15)
    assert frame["workclass"].isna().sum() == 1_836  # the '?' markers
    assert frame["occupation"].isna().sum() == 1_843
    assert frame["native-country"].isna().sum() == 583


def test_patients_is_deterministic_and_cards_pass_luhn():
    a, b = patients(300), patients(300)
    pd.testing.assert_frame_equal(a, b)
    assert luhn_valid(a["card_number"]).all()
    assert not patients(300, seed=1).equals(a)


def test_role_edits_fold_in_and_ignore_invalid_values():
    roles = {"age": "other", "zip": "other", "sex": "other"}
    edited = {"0": {"role": "quasi_identifier"}, 2: {"role": "not-a-role"}, 7: {"role": "other"}}
    assert apply_role_edits(roles, edited) == {
        "age": "quasi_identifier",
        "zip": "other",
        "sex": "other",
    }
    assert roles["age"] == "other"  # the input is not changed
