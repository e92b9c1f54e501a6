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
    OTHER = "other"

    @property
    def label(self) -> str:
        """Human-readable name shown in the role editor."""
        return _LABELS[self]


_LABELS = {
    Role.IDENTIFIER: "Direct identifier",
    Role.QUASI_IDENTIFIER: "Quasi-identifier",
    Role.SENSITIVE: "Sensitive attribute",
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


_NAME_IDENTIFIER = re.compile(
    r"(^|_)(id|uuid|guid|ssn|social_?security|passport|licen[cs]e|e_?mail|phone|mobile|"
    r"telephone|fax|iban|account|card|credit_?card|ip|ip_?address|url|username|user_?name|"
    r"first_?name|last_?name|full_?name|surname|given_?name|name|address|street|mrn|"
    r"patient_?id|customer_?id|employee_?id|national_?id)($|_)"
)
_NAME_QI = re.compile(
    r"(^|_)(age|sex|gender|zip|zip_?code|postcode|post_?code|postal_?code|plz|birth|"
    r"birth_?date|date_?of_?birth|dob|yob|birth_?year|race|ethnicity|ethnic|marital|"
    r"marital_?status|nationality|native_?country|country|citizenship|education|occupation|"
    r"job|profession|religion|city|town|county|state|region|district|language|relationship|"
    r"workclass|height|weight)($|_)"
)
_NAME_SENSITIVE = re.compile(
    r"(^|_)(income|salary|wage|wages|earnings|diagnosis|disease|condition|illness|health|"
    r"hiv|cancer|medication|drug|treatment|charges|cost|debt|credit_?score|sexual|"
    r"orientation|political|party|religion_?belief|criminal|conviction|disability|"
    r"pregnan\w*|genetic|biometric|union)($|_)"
)


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
    whatever it is called.

    >>> from core.profile import profile_column
    >>> import pandas as pd
    >>> suggest_role(profile_column(pd.Series(["a@x.org", "b@y.com"], name="contact"))).role
    <Role.IDENTIFIER: 'identifier'>
    >>> suggest_role(profile_column(pd.Series([34, 51, 34], name="Age"))).role
    <Role.QUASI_IDENTIFIER: 'quasi_identifier'>
    """
    name = _normalize(profile.name)
    reasons: list[str] = []
    for det, share in profile.detected:
        reasons.append(f"{100 * share:.0f}% of sampled values match: {det.label}")
    if profile.detected:
        det = profile.detected[0][0]
        role = Role.IDENTIFIER if det.identifier else Role.QUASI_IDENTIFIER
        return RoleSuggestion(column=profile.name, role=role, reasons=tuple(reasons))
    if _NAME_IDENTIFIER.search(name):
        return RoleSuggestion(
            column=profile.name,
            role=Role.IDENTIFIER,
            reasons=("the column name suggests a direct identifier",),
        )
    if (
        profile.kind in (Kind.IDENTIFIER,)
        and profile.uniqueness >= limits.IDENTIFIER_UNIQUENESS
        and not _NAME_QI.search(name)
    ):
        return RoleSuggestion(
            column=profile.name,
            role=Role.IDENTIFIER,
            reasons=(
                f"{100 * profile.uniqueness:.1f}% of its values are distinct: it singles out "
                "records on its own",
            ),
        )
    if _NAME_SENSITIVE.search(name):
        return RoleSuggestion(
            column=profile.name,
            role=Role.SENSITIVE,
            reasons=("the column name suggests a sensitive attribute",),
        )
    if _NAME_QI.search(name):
        why = "the column name is a known quasi-identifier"
        if "birth" in name or name in ("dob", "yob"):
            why = "a date of birth is a strong quasi-identifier"
        return RoleSuggestion(column=profile.name, role=Role.QUASI_IDENTIFIER, reasons=(why,))
    if profile.kind == Kind.DATETIME:
        return RoleSuggestion(
            column=profile.name,
            role=Role.QUASI_IDENTIFIER,
            reasons=("dates can be linked to outside records (events, births)",),
        )
    return RoleSuggestion(
        column=profile.name, role=Role.OTHER, reasons=("no identifying pattern found",)
    )


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
