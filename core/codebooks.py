"""Published category lists (codebooks) that a DP release may use as its public domain.

A differentially private histogram, mode or randomized response must not take its list of
categories from the data: a category that appears only when one person's record is present
would reveal that record. The list has to be known without looking at the data: declared by
the user, or taken from a published codebook such as the one below.

References
----------
.. [BK96] Becker, B., Kohavi, R. "Adult" [Dataset], UCI Machine Learning Repository, 1996.
   https://doi.org/10.24432/C5XW20 — the file ``adult.names`` lists every category of every
   categorical attribute (spelled as in the data, ``?`` for a missing value).
"""

from __future__ import annotations

#: The categories of the Adult census attributes as published in ``adult.names`` [BK96]_.
ADULT: dict[str, tuple[str, ...]] = {
    "workclass": (
        "Private", "Self-emp-not-inc", "Self-emp-inc", "Federal-gov", "Local-gov",
        "State-gov", "Without-pay", "Never-worked",
    ),
    "education": (
        "Bachelors", "Some-college", "11th", "HS-grad", "Prof-school", "Assoc-acdm",
        "Assoc-voc", "9th", "7th-8th", "12th", "Masters", "1st-4th", "10th", "Doctorate",
        "5th-6th", "Preschool",
    ),
    "marital-status": (
        "Married-civ-spouse", "Divorced", "Never-married", "Separated", "Widowed",
        "Married-spouse-absent", "Married-AF-spouse",
    ),
    "occupation": (
        "Tech-support", "Craft-repair", "Other-service", "Sales", "Exec-managerial",
        "Prof-specialty", "Handlers-cleaners", "Machine-op-inspct", "Adm-clerical",
        "Farming-fishing", "Transport-moving", "Priv-house-serv", "Protective-serv",
        "Armed-Forces",
    ),
    "relationship": (
        "Wife", "Own-child", "Husband", "Not-in-family", "Other-relative", "Unmarried",
    ),
    "race": ("White", "Asian-Pac-Islander", "Amer-Indian-Eskimo", "Other", "Black"),
    "sex": ("Female", "Male"),
    "native-country": (
        "United-States", "Cambodia", "England", "Puerto-Rico", "Canada", "Germany",
        "Outlying-US(Guam-USVI-etc)", "India", "Japan", "Greece", "South", "China", "Cuba",
        "Iran", "Honduras", "Philippines", "Italy", "Poland", "Jamaica", "Vietnam", "Mexico",
        "Portugal", "Ireland", "France", "Dominican-Republic", "Laos", "Ecuador", "Taiwan",
        "Haiti", "Columbia", "Hungary", "Guatemala", "Nicaragua", "Scotland", "Thailand",
        "Yugoslavia", "El-Salvador", "Trinadad&Tobago", "Peru", "Hong", "Holand-Netherlands",
    ),
    "income": (">50K", "<=50K"),
}  # fmt: skip

#: Where each codebook comes from, for the page that offers it.
SOURCES = {"adult": "UCI Adult census codebook (adult.names), Becker & Kohavi 1996"}


def categories_for(column: str) -> tuple[str, ...] | None:
    """The published categories of a column of that name, or ``None`` if no codebook has it.

    The lookup uses the column's name only, never its values.

    >>> categories_for("sex")
    ('Female', 'Male')
    >>> categories_for("salary") is None
    True
    """
    return ADULT.get(column)
