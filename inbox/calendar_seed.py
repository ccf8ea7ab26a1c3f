"""China's public holidays and make-up working days (调休) of 2026, as the State Council's
notice published them; the demo seeds them (`manage.py seed_calendar`). Check each new
year's notice and enter it on the "Due dates and calendar" page or in the admin."""
import datetime

from django.db import transaction

from core import audit

from .models import CalendarDay

D = datetime.date
HOLIDAYS_2026 = [
    (D(2026, 1, 1), D(2026, 1, 3), "元旦", "New Year's Day"),
    (D(2026, 2, 15), D(2026, 2, 23), "春节", "Spring Festival"),
    (D(2026, 4, 4), D(2026, 4, 6), "清明节", "Qingming Festival"),
    (D(2026, 5, 1), D(2026, 5, 5), "劳动节", "Labour Day"),
    (D(2026, 6, 19), D(2026, 6, 21), "端午节", "Dragon Boat Festival"),
    (D(2026, 9, 25), D(2026, 9, 27), "中秋节", "Mid-Autumn Festival"),
    (D(2026, 10, 1), D(2026, 10, 7), "国庆节", "National Day"),
]
WORKDAYS_2026 = [D(2026, 1, 4), D(2026, 2, 14), D(2026, 2, 28), D(2026, 5, 9), D(2026, 9, 20), D(2026, 10, 10)]


def seed_2026():
    """Add the 2026 days not in the calendar yet (audited); returns how many were added."""
    added = 0
    with transaction.atomic():
        for first, last, zh, en in HOLIDAYS_2026:
            day = first
            while day <= last:
                added += _add(day, CalendarDay.Kind.HOLIDAY, zh, en)
                day += datetime.timedelta(days=1)
        for day in WORKDAYS_2026:
            added += _add(day, CalendarDay.Kind.WORKDAY, "调休上班", "Make-up working day")
    return added


def _add(day, kind, zh, en):
    if CalendarDay.objects.filter(date=day).exists():
        return 0
    row = CalendarDay.objects.create(date=day, kind=kind, name_zh=zh, name_en=en)
    audit.log("inbox.calendar_day_added", row, new={"date": day, "kind": kind, "name_zh": zh, "name_en": en},
              reason="seed_calendar")
    return 1
