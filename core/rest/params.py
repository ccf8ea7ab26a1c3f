"""Query parameters of the list endpoints, read once and checked: a value that cannot be
what the parameter means (a year that is no year, a version that is no number, a
status that does not exist) is a 400 naming the parameter, never a 500 and never a
silent fallback. Empty means "not given". (NUL characters and over-long values are
refused for every parameter by core.rest.base.check_query.)"""
import datetime
import re

from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError

_WHOLE_NUMBER = re.compile(r"[0-9]{1,18}")  # ASCII digits only: "²" is a digit to str.isdigit()
TRUE, FALSE = ("1", "true"), ("0", "false")


def _given(params, name):
    value = params.get(name)
    return None if value in (None, "") else value.strip()


def _refuse(name, message):
    raise ValidationError({name: [message]})


def text(params, name, *, max_length=100):
    """A free-text filter, stripped; None when empty."""
    value = _given(params, name)
    if value and len(value) > max_length:
        _refuse(name, _("At most %(n)s characters.") % {"n": max_length})
    return value or None


def choice(params, name, choices):
    """One of `choices` (strings); None when not given."""
    value = _given(params, name)
    if value is not None and value not in choices:
        _refuse(name, _("Choose one of: %(choices)s.") % {"choices": ", ".join(choices)})
    return value


def integer(params, name, *, min_value, max_value):
    """A whole number within [min_value, max_value]; None when not given."""
    value = _given(params, name)
    if value is None:
        return None
    if not _WHOLE_NUMBER.fullmatch(value) or not min_value <= int(value) <= max_value:
        _refuse(name, _("Enter a whole number from %(min)s to %(max)s.") % {"min": min_value, "max": max_value})
    return int(value)


def boolean(params, name):
    """True for 1/true, False for 0/false, None when not given."""
    value = _given(params, name)
    if value is None:
        return None
    if value.lower() not in TRUE + FALSE:
        _refuse(name, _("Use 1 or 0."))
    return value.lower() in TRUE


def date(params, name):
    """A date as YYYY-MM-DD; None when not given."""
    value = _given(params, name)
    if value is None:
        return None
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        _refuse(name, _("Enter a date as YYYY-MM-DD."))


def registry_search(params):
    """The records registry's filters (core.search.FILTERS and `sort`), checked for their
    shape: GET /api/records/ and the `search` of an evidence bundle. A `sort` the registry
    does not know falls back to its default, as on the registry page. Returns the cleaned dict."""
    cleaned = {}
    for name, max_length in (("q", 100), ("number", 40), ("customer", 200), ("product", 200), ("lot", 100),
                             ("signer", 100), ("type", 40), ("status", 32), ("sort", 20)):
        value = text(params, name, max_length=max_length)
        if value:
            cleaned[name] = value
    for name in ("date_from", "date_to"):
        value = date(params, name)
        if value:
            cleaned[name] = value.isoformat()
    return cleaned
