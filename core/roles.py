"""Column roles: direct identifier, quasi-identifier, sensitive attribute, or other."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from core import limits
from core.profile import ColumnProfile, Kind


class Role(StrEnum):
    """The part a column plays in a privacy analysis."""

    IDENTIFIER = "identifier"
    QUASI_IDENTIFIER = "quasi_identifier"
    SENSITIVE = "sensitive"
    WEIGHT = "weight"
    OTHER = "other"

    @property
    def label(self) -> str:
        """Human-readable name shown in the role editor."""
        return _LABELS[self]


_LABELS = {
    Role.IDENTIFIER: "Direct identifier",
    Role.QUASI_IDENTIFIER: "Quasi-identifier",
    Role.SENSITIVE: "Sensitive attribute",
    Role.WEIGHT: "Sampling weight",
    Role.OTHER: "Other",
}


def columns_with_role(roles: dict[str, str], role: Role) -> list[str]:
    """Columns assigned ``role``, in the order of ``roles``.

    >>> columns_with_role({"age": "quasi_identifier", "zip": "quasi_identifier",
    ...                    "income": "sensitive"}, Role.QUASI_IDENTIFIER)
    ['age', 'zip']
    """
    return [col for col, r in roles.items() if r == role]


# --- suggestions ---------------------------------------------------------------------------


# Codes (identifiers, phone numbers, postal codes) are found by names_a_code; these are the
# other names of direct identifiers.
_NAME_IDENTIFIER = re.compile(
    r"(^|_)(social_?security|passport|licen[cs]e|e_?mail|card|credit_?card|ip|ip_?address|"
    r"url|username|user_?name|first_?name|last_?name|full_?name|surname|given_?name|name|"
    r"address|street)($|_)"
)
_NAME_QI = re.compile(
    r"(^|_)(age|sex|gender|birth|birth_?date|date_?of_?birth|dob|yob|birth_?year|race|"
    r"ethnicity|ethnic|marital|marital_?status|nationality|native_?country|country|"
    r"citizenship|education|occupation|job|profession|religion|city|town|county|state|region|"
    r"district|language|relationship|workclass|height|weight)($|_)"
)
# Household-survey key variables (sdcMicro's testdata; IHSN/World Bank SDC practice guide):
# location (urban/rural), dwelling characteristics and the relation to the household head.
# They name quasi-identifiers only when the column holds codes, not amounts.
_NAME_QI_CODED = re.compile(
    r"(^|_)(urbrur|urb_?rur|urban|rural|urban_?rural|roof|walls?|floor|water|toilet|"
    r"electricity|electcon|relat|relation|relation_?to_?head|dwelling|tenure)($|_)"
)
_NAME_SENSITIVE = re.compile(
    r"(^|_)(income|salary|wage|wages|earnings|diagnosis|disease|condition|illness|health|"
    r"hiv|cancer|medication|drug|treatment|charges|cost|debt|credit_?score|sexual|"
    r"orientation|political|party|religion_?belief|criminal|conviction|disability|"
    r"pregnan\w*|genetic|biometric|union|expend|expenditures?|expenses?|spending|savings|"
    r"wealth|assets)($|_)"
)
#: Words that name a survey weight on their own (``fnlwgt``, ``wgt``, ``pwgtp``).
_WEIGHT_WORDS = frozenset(
    {"wgt", "wgts", "fnlwgt", "finalwgt", "pweight", "perwt", "hhwt", "wgtp", "pwgtp", "sampw"}
)
#: Words that make ``weight``/``wt`` a survey weight, not a body weight.
_WEIGHT_QUALIFIERS = frozenset(
    {
        "sampling", "sample", "survey", "household", "hh", "final", "design", "person",
        "expansion", "base", "calibrated", "calibration", "raking", "inflation", "grossing",
        "population", "probability", "cross", "sectional", "longitudinal", "replicate",
    }
)  # fmt: skip
#: Postal-code words among the codes: a postal code is a quasi-identifier, not an identifier.
_POSTAL_WORDS = frozenset({"zip", "zipcode", "postcode", "postalcode", "postal", "plz", "cap"})


#: Name words of columns that hold codes, not quantities: postal codes, phone and fax numbers,
#: identifiers. The loader keeps such columns as text (see :func:`names_a_code`).
CODE_NAME_WORDS = frozenset(
    {
        "zip", "zipcode", "postcode", "postalcode", "postal", "plz", "phone", "phonenumber",
        "tel", "telephone", "mobile", "fax", "id", "uuid", "guid", "ssn", "nin", "nino",
        "iban", "account", "acct", "passport", "mrn", "nhs",
    }
)  # fmt: skip
#: Words that name a code only together with the number word after them (``licence_no``).
_CODE_NAME_HEADS = frozenset({"post", "licence", "license", "cap"})
#: Words that say "the code of": ``zip_code``, ``phone_no``, ``account_number``.
_CODE_NAME_TAILS = frozenset({"code", "number", "no", "nr", "num", "id"})


def name_tokens(name: str) -> tuple[str, ...]:
    """Lower-case words of a column name, split at ``_ - . space``, camelCase and digits.

    >>> name_tokens("customerID_2"), name_tokens("hours-per-week"), name_tokens("IDNumber")
    (('customer', 'id', '2'), ('hours', 'per', 'week'), ('id', 'number'))
    """
    spaced = re.sub(r"([^\W_])(?=[A-Z][a-z])|([a-z0-9])(?=[A-Z])", r"\1\2 ", str(name))
    return tuple(re.findall(r"[^\W\d_]+|\d+", spaced.lower()))


def names_a_code(name: str) -> bool:
    """Whether a column's name marks it as a postal code, phone/fax number or identifier.

    The last word decides (trailing digits aside), so ``account_balance`` and ``phone_count``
    are quantities while ``customer_id``, ``zip_code`` and ``licence_no`` are codes; ``cap``
    (the Italian postal code) counts only as the whole name.

    >>> [names_a_code(n) for n in ("zip", "PostCode", "patientId", "phone_2", "CAP", "nhs no")]
    [True, True, True, True, True, True]
    >>> [names_a_code(n) for n in ("age", "capital-gain", "market_cap", "education-num",
    ...                            "fnlwgt", "account_balance", "number")]
    [False, False, False, False, False, False, False]
    """
    tokens = list(name_tokens(name))
    while tokens and tokens[-1].isdigit():
        tokens.pop()
    if not tokens:
        return False
    if tokens == ["cap"] or tokens[-1] in CODE_NAME_WORDS:
        return True
    return (
        len(tokens) >= 2
        and tokens[-1] in _CODE_NAME_TAILS
        and (tokens[-2] in CODE_NAME_WORDS or tokens[-2] in _CODE_NAME_HEADS)
    )


def _normalize(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_")


@dataclass(frozen=True, slots=True, kw_only=True)
class RoleSuggestion:
    """A suggested role for one column and the reasons behind it (no values)."""

    column: str
    role: Role
    reasons: tuple[str, ...]


def suggest_role(profile: ColumnProfile) -> RoleSuggestion:
    """Suggest a role for one column from its name and profiled content.

    Content beats names: a column whose values are e-mail addresses is an identifier
    whatever it is called. Then, in order: a name that marks a code
    (:func:`names_a_code`; a postal code is a quasi-identifier, any other code an
    identifier) or a direct identifier; a numeric survey weight (:func:`names_a_weight`);
    a column of distinct codes (identifier; distinct *numbers* are an amount, not a code);
    a sensitive name; a quasi-identifier name (household-survey key variables such as
    ``roof`` or ``urbrur`` only when the column holds codes, see :func:`holds_codes`);
    dates.

    >>> from core.profile import profile_column
    >>> import pandas as pd
    >>> suggest_role(profile_column(pd.Series(["a@x.org", "b@y.com"], name="contact"))).role
    <Role.IDENTIFIER: 'identifier'>
    >>> suggest_role(profile_column(pd.Series([34, 51, 34], name="Age"))).role
    <Role.QUASI_IDENTIFIER: 'quasi_identifier'>
    >>> suggest_role(profile_column(pd.Series([100.0, 250.0], name="sampling_weight"))).role
    <Role.WEIGHT: 'weight'>
    """
    name = _normalize(profile.name)

    def suggestion(role: Role, why: str) -> RoleSuggestion:
        return RoleSuggestion(column=profile.name, role=role, reasons=(why,))

    reasons: list[str] = []
    for det, share in profile.detected:
        reasons.append(f"{100 * share:.0f}% of sampled values match: {det.label}")
    if profile.detected:
        det = profile.detected[0][0]
        role = Role.IDENTIFIER if det.identifier else Role.QUASI_IDENTIFIER
        return RoleSuggestion(column=profile.name, role=role, reasons=tuple(reasons))
    if names_a_code(profile.name):
        if _names_a_postal_code(profile.name):
            return suggestion(Role.QUASI_IDENTIFIER, "the column name is a postal code")
        return suggestion(Role.IDENTIFIER, "the column name marks an identifier or code")
    if _NAME_IDENTIFIER.search(name):
        return suggestion(Role.IDENTIFIER, "the column name suggests a direct identifier")
    if names_a_weight(profile.name):
        if _numeric(profile):
            return suggestion(
                Role.WEIGHT, "the column name is a survey weight (records each one stands for)"
            )
        return suggestion(Role.OTHER, "named as a survey weight, but it does not hold numbers")
    distinct = f"{100 * profile.uniqueness:.1f}% of its values are distinct"
    if (
        profile.kind == Kind.IDENTIFIER
        and profile.uniqueness >= limits.IDENTIFIER_UNIQUENESS
        and not _NAME_QI.search(name)
        and not _numeric(profile)
    ):
        return suggestion(Role.IDENTIFIER, f"{distinct}: it singles out records on its own")
    if _NAME_SENSITIVE.search(name):
        return suggestion(Role.SENSITIVE, "the column name suggests a sensitive attribute")
    if _NAME_QI.search(name):
        why = "the column name is a known quasi-identifier"
        if "birth" in name or name in ("dob", "yob"):
            why = "a date of birth is a strong quasi-identifier"
        return suggestion(Role.QUASI_IDENTIFIER, why)
    if _NAME_QI_CODED.search(name) and holds_codes(profile):
        return suggestion(
            Role.QUASI_IDENTIFIER,
            "a coded household or dwelling characteristic, a key variable of household surveys",
        )
    if profile.kind == Kind.DATETIME:
        return suggestion(
            Role.QUASI_IDENTIFIER, "dates can be linked to outside records (events, births)"
        )
    if profile.kind == Kind.IDENTIFIER and _numeric(profile):
        return suggestion(
            Role.OTHER,
            f"{distinct}, but they are numbers: an amount, not a code. Mark it sensitive if "
            "it must not be learned",
        )
    return suggestion(Role.OTHER, "no identifying pattern found")


def names_a_weight(name: str) -> bool:
    """Whether a column's name marks it as a survey (sampling) weight.

    A weight word of its own (``fnlwgt``, ``wgt``, ``pwgtp``) or ``weight``/``wt`` with a word
    that makes it a survey weight (``sampling_weight``, ``household_weights``,
    ``final weight``). A bare ``weight`` is a body weight.

    >>> [names_a_weight(n) for n in ("sampling_weight", "fnlwgt", "HH_WT", "final weight")]
    [True, True, True, True]
    >>> [names_a_weight(n) for n in ("weight", "weight_kg", "birth_weight", "wt")]
    [False, False, False, False]
    """
    tokens = set(name_tokens(name))
    if tokens & _WEIGHT_WORDS:
        return True
    return bool(tokens & {"weight", "weights", "wt", "wts"}) and bool(
        tokens & _WEIGHT_QUALIFIERS
    )


def holds_codes(profile: ColumnProfile) -> bool:
    """Whether a column holds a few category codes (text categories or whole-number codes).

    Whole numbers count as codes when there are at most
    :data:`core.limits.CODED_MAX_CODES` distinct values, at least two, each seen twice on
    average.

    >>> from core.profile import profile_column
    >>> import pandas as pd
    >>> holds_codes(profile_column(pd.Series([1, 2, 4, 4, 2, 1], name="roof")))
    True
    >>> holds_codes(profile_column(pd.Series([1.5, 2.25, 1.5, 2.25], name="x")))
    False
    """
    if profile.kind in (Kind.CATEGORICAL, Kind.BOOLEAN):
        return True
    return (
        profile.kind == Kind.INTEGER
        and 2 <= profile.n_distinct <= limits.CODED_MAX_CODES
        and profile.n - profile.missing >= 2 * profile.n_distinct
    )


def coded_columns(profiles: tuple[ColumnProfile, ...]) -> tuple[str, ...]:
    """Whole-number columns that hold category codes (:func:`holds_codes`), in table order.

    Such a column (``roof`` = 2, 4, 5, 9) is better declared ``category`` on the Data page:
    correlations, associations, charts and masking then treat it as categories, not as
    quantities. Survey weights are left out.

    >>> import pandas as pd
    >>> from core.profile import profile_frame
    >>> frame = pd.DataFrame({"roof": [2, 4, 9] * 4, "age": range(12)})
    >>> coded_columns(profile_frame(frame))
    ('roof',)
    """
    return tuple(
        p.name
        for p in profiles
        if p.kind == Kind.INTEGER and holds_codes(p) and not names_a_weight(p.name)
    )


def _numeric(profile: ColumnProfile) -> bool:
    """Whether the column is stored as numbers (int or float), not text or categories."""
    return profile.dtype.lower().startswith(("int", "uint", "float"))


def _names_a_postal_code(name: str) -> bool:
    tokens = [t for t in name_tokens(name) if not t.isdigit()]
    if tokens and tokens[-1] in _POSTAL_WORDS:
        return True
    return len(tokens) >= 2 and tokens[-1] in _CODE_NAME_TAILS and tokens[-2] in _POSTAL_WORDS | {
        "post"
    }


def suggest_roles(profiles: tuple[ColumnProfile, ...]) -> dict[str, RoleSuggestion]:
    """Suggest a role for every profiled column (see :func:`suggest_role`)."""
    return {p.name: suggest_role(p) for p in profiles}


def apply_role_edits(
    roles: dict[str, str], edited_rows: dict[int | str, dict[str, str]]
) -> dict[str, str]:
    """Fold a role editor's edited rows (row position -> changed cells) into ``roles``.

    Unknown role values are ignored, so a stale edit can never store an invalid role.

    >>> apply_role_edits({"age": "other", "zip": "other"}, {1: {"role": "quasi_identifier"}})
    {'age': 'other', 'zip': 'quasi_identifier'}
    """
    out = dict(roles)
    columns = list(roles)
    valid = {r.value for r in Role}
    for row, change in edited_rows.items():
        pos = int(row)
        if 0 <= pos < len(columns) and change.get("role") in valid:
            out[columns[pos]] = change["role"]
    return out
