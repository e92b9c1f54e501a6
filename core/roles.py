"""Column roles: direct identifier, quasi-identifier, sensitive attribute, or other."""

from __future__ import annotations

from enum import StrEnum


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
