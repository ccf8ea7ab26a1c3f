"""KANO and QFD, and the priority matrix: pure calculations (no database), REQUIREMENTS.md
KANO-1…3, QFD-1 and PM-1. The working models and screens call these; tests check them by hand."""
from collections import Counter
from dataclasses import dataclass
from fractions import Fraction

# --- KANO ----------------------------------------------------------------------------------------

#: the five answers of a functional ("if present?") or dysfunctional ("if absent?") question
LIKE, MUST_BE, NEUTRAL, LIVE_WITH, DISLIKE = "like", "must_be", "neutral", "live_with", "dislike"
ANSWERS = (LIKE, MUST_BE, NEUTRAL, LIVE_WITH, DISLIKE)

#: KANO-2: rows functional, columns dysfunctional, in the order of ANSWERS
_TABLE = (
    "QAAAO",  # like
    "RIIIM",  # must-be
    "RIIIM",  # neutral
    "RIIIM",  # live-with
    "RRRRQ",  # dislike
)
KANO_TABLE = {(f, d): _TABLE[i][j] for i, f in enumerate(ANSWERS) for j, d in enumerate(ANSWERS)}

#: when two categories are equally frequent, the one that matters more to the customer wins
#: (the usual M > O > A > I rule; R and Q last)
TIE_ORDER = "MOAIRQ"


def kano_category(functional, dysfunctional):
    """The category (A, O, M, I, R or Q) of one respondent's answer pair."""
    try:
        return KANO_TABLE[(functional, dysfunctional)]
    except KeyError:
        raise ValueError(f"not a KANO answer pair: {functional!r}, {dysfunctional!r}") from None


@dataclass(frozen=True)
class KanoResult:
    counts: dict  # {category: respondents}
    category: str  # the most frequent category ("" with no answers)
    better: Fraction  # (A+O)/(A+O+M+I)
    worse: Fraction  # −(O+M)/(A+O+M+I)


def kano_evaluate(pairs):
    """KANO-3 for one feature: `pairs` are the respondents' (functional, dysfunctional)
    answers. Better and Worse are exact fractions (0 when no respondent is A, O, M or I)."""
    counts = Counter(kano_category(f, d) for f, d in pairs)
    full = {c: counts.get(c, 0) for c in "AOMIRQ"}
    category = max(full, key=lambda c: (full[c], -TIE_ORDER.index(c))) if counts else ""
    base = full["A"] + full["O"] + full["M"] + full["I"]
    better = Fraction(full["A"] + full["O"], base) if base else Fraction(0)
    worse = -Fraction(full["O"] + full["M"], base) if base else Fraction(0)
    return KanoResult(counts=full, category=category, better=better, worse=worse)


# --- QFD house of quality ------------------------------------------------------------------------

STRENGTHS = (9, 3, 1)  # strong, medium, weak relationship


@dataclass(frozen=True)
class QfdRow:
    characteristic: str
    importance: float  # Σ weight × strength
    relative: float  # share of the total, 0…1
    rank: int  # 1 = most important; equal importance shares a rank


def qfd_importance(weights, characteristics, relationships):
    """QFD-1: `weights` {customer need: weight}, `characteristics` [technical characteristic, ...],
    `relationships` {(need, characteristic): 9 | 3 | 1} (absent = none). Returns the
    characteristics with technical importance = Σ weight × strength, most important first."""
    for (need, characteristic), strength in relationships.items():
        if strength not in STRENGTHS:
            raise ValueError(f"strength of {need!r} × {characteristic!r} must be 9, 3 or 1, not {strength!r}")
        if need not in weights or characteristic not in characteristics:
            raise ValueError(f"unknown need or characteristic: {need!r} × {characteristic!r}")
    totals = {c: sum(weights[n] * s for (n, ch), s in relationships.items() if ch == c) for c in characteristics}
    grand = sum(totals.values())
    ordered = sorted(characteristics, key=lambda c: (-totals[c], characteristics.index(c)))
    rows = []
    for c in ordered:
        rank = 1 + sum(1 for other in characteristics if totals[other] > totals[c])
        rows.append(QfdRow(c, totals[c], totals[c] / grand if grand else 0.0, rank))
    return rows


# --- priority matrix -----------------------------------------------------------------------------


def priority_class(importance, urgency, *, a_min, b_min, c_min):
    """PM-1: the class (A…D) of importance × urgency (each 1…5) under the thresholds."""
    for name, value in (("importance", importance), ("urgency", urgency)):
        if not isinstance(value, int) or not 1 <= value <= 5:
            raise ValueError(f"{name} must be a whole number from 1 to 5, not {value!r}")
    score = importance * urgency
    if score >= a_min:
        return "A"
    if score >= b_min:
        return "B"
    if score >= c_min:
        return "C"
    return "D"


def matrix_errors(a_min, b_min, c_min):
    """{field: message} of thresholds that do not make a matrix (1 ≤ C < B < A ≤ 25)."""
    errors = {}
    for name, value in (("a_min", a_min), ("b_min", b_min), ("c_min", c_min)):
        if not isinstance(value, int) or not 1 <= value <= 25:
            errors[name] = "1-25"
    if not errors:
        if not b_min < a_min:
            errors["a_min"] = "a_min > b_min"
        if not c_min < b_min:
            errors["b_min"] = "b_min > c_min"
    return errors
