"""What other procedures may ask of the customer satisfaction procedure (the declared entry points;
tests/test_architecture.py allows no other import of this package from another procedure)."""


def period_summary(start, end):
    """The customer-satisfaction input of a management review for `start`…`end` (results.period_summary:
    survey index and trend, response rate, P2's follow-up satisfaction)."""
    from .results import period_summary as summary  # noqa: PLC0415

    return summary(start, end)
