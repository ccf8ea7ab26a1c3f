"""What any input may be, whichever door it comes through (step forms, API serializers, API
query parameters): a business date lies between QMS["EARLIEST_DATE"] (2000-01-01) and today +
QMS["MAX_FUTURE_YEARS"] (5) years, free text is at most TEXT_MAX_LENGTH characters unless the
field sets its own, no NUL character, no field the receiver does not take."""
import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext_lazy as _

TEXT_MAX_LENGTH = 4000
#: the smallest and largest whole number a field without its own bounds accepts (a database integer)
INTEGER_MIN, INTEGER_MAX = -(2**31), 2**31 - 1
DEFAULT_EARLIEST_DATE = "2000-01-01"
DEFAULT_MAX_FUTURE_YEARS = 5


def earliest_business_date():
    """QMS["EARLIEST_DATE"] (ISO date, default 2000-01-01): no business date lies before it."""
    value = settings.QMS.get("EARLIEST_DATE", DEFAULT_EARLIEST_DATE)
    return value if isinstance(value, datetime.date) else datetime.date.fromisoformat(str(value))


def latest_business_date(today=None):
    """Today + QMS["MAX_FUTURE_YEARS"] years (default 5): no business date lies after it."""
    today = today or timezone.localdate()
    year = min(today.year + int(settings.QMS.get("MAX_FUTURE_YEARS", DEFAULT_MAX_FUTURE_YEARS)), 9999)
    return today.replace(year=year, day=28) if (today.month, today.day) == (2, 29) else today.replace(year=year)


@deconstructible
class BusinessDateValidator:
    """Refuses a date outside [earliest_business_date(), latest_business_date()]: an order
    dated 1800 or an absence in 9999 is a typing error, not a business fact."""

    code = "date_out_of_range"

    def __call__(self, value):
        if isinstance(value, datetime.datetime):
            value = value.date()
        earliest, latest = earliest_business_date(), latest_business_date()
        if not earliest <= value <= latest:
            raise ValidationError(_("Enter a date from %(earliest)s to %(latest)s."), code=self.code,
                                  params={"earliest": earliest.isoformat(), "latest": latest.isoformat()})

    def __eq__(self, other):
        return isinstance(other, BusinessDateValidator)


NULL_CHARACTER_MESSAGE = _("Null characters are not allowed.")


def unknown_field_errors(data, known, prefix=""):
    """{"<prefix>name": ["Unknown field: name."]} for each key of `data` not in `known`."""
    return {f"{prefix}{key}": [str(_("Unknown field: %(name)s.") % {"name": key})]
            for key in data if key not in known}
