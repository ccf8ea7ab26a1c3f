"""The company calendar: working weekdays (QMS["WORKING_WEEKDAYS"]) with holidays and
make-up working days (CalendarDay). All date arithmetic of due dates and escalations
counts working days through this module."""
import datetime

from django.conf import settings
from django.utils import timezone

from .models import CalendarDay


class Calendar:
    """Working-day arithmetic over a window of dates loaded in one query."""

    def __init__(self, start, days=370, *, exceptions=None):
        """`exceptions`: {date: kind} of the window, when the caller has read them (`days_between()`)."""
        self.weekdays = set(settings.QMS.get("WORKING_WEEKDAYS", [0, 1, 2, 3, 4]))
        self.start, self.end = start, start + datetime.timedelta(days=days)  # the window loaded
        self.exceptions = dict(days_between(self.start, self.end)) if exceptions is None else exceptions

    def covers(self, start, end):
        return self.start <= start and end <= self.end

    def is_working_day(self, day):
        kind = self.exceptions.get(day)
        if kind == CalendarDay.Kind.HOLIDAY:
            return False
        if kind == CalendarDay.Kind.WORKDAY:
            return True
        return day.weekday() in self.weekdays

    def add_working_days(self, day, count):
        """The `count`-th working day after `day` (`day` itself never counts);
        0 gives `day` if it is a working day, else the next working day."""
        if count <= 0:
            while not self.is_working_day(day):
                day += datetime.timedelta(days=1)
            return day
        while count:
            day += datetime.timedelta(days=1)
            if self.is_working_day(day):
                count -= 1
        return day


def days_between(start, end):
    """The company calendar's entries from `start` to `end` (both included): (date, kind) rows."""
    return CalendarDay.objects.filter(date__gte=start, date__lte=end).values_list("date", "kind")


def add_working_days(day, count):
    return Calendar(day, days=max(31, count * 3 + 31)).add_working_days(day, count)


def end_of_day(day):
    """The first moment after `day` in the company's time zone (when a task due that day is overdue)."""
    next_day = day + datetime.timedelta(days=1)
    return timezone.make_aware(datetime.datetime.combine(next_day, datetime.time.min))
