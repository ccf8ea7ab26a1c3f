"""The task tables (inbox/table.py) print their dates, addresses and HTML without the template's `date` filter, without
a reverse per row: each date must be the very string the filter prints ("Y-m-d", "Y-m-d H:i", in the current time
zone, in both languages) and each address the very string reverse() gives, under a script prefix too."""
import datetime
import zoneinfo

import pytest
from django.template import Context, Template
from django.urls import reverse, set_script_prefix
from django.utils import timezone, translation

from inbox import table

UTC = datetime.timezone.utc
MOMENTS = [
    datetime.datetime(2026, 12, 31, 16, 30, tzinfo=UTC),  # already 2027-01-01 00:30 in Shanghai
    datetime.datetime(2026, 3, 1, 15, 59, 59, tzinfo=UTC),
    datetime.datetime(2024, 2, 29, 0, 5, tzinfo=UTC),
    datetime.datetime(987, 7, 4, 9, 7, tzinfo=UTC),  # a year of three digits is printed with four, as the filter does
]


def date_filter(value, pattern):
    """What a template prints with {{ value|date:pattern }} (an aware value in the current time zone)."""
    return Template("{{ value|date:pattern }}").render(Context({"value": value, "pattern": pattern}))


DAYS = [datetime.date(2026, 1, 2), datetime.date(2027, 12, 31), datetime.date(999, 1, 1)]


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "UTC", "America/Los_Angeles"])
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_dates_are_printed_as_the_date_filter_prints_them(zone, language):
    with translation.override(language), timezone.override(zoneinfo.ZoneInfo(zone)):
        for moment in MOMENTS:
            assert table._minute(moment) == date_filter(moment, "Y-m-d H:i")
            assert table._day(moment) == date_filter(moment, "Y-m-d")
        for day in DAYS:
            assert table._day(day) == date_filter(day, "Y-m-d")
    with timezone.override(zoneinfo.ZoneInfo("Asia/Shanghai")):
        assert table._minute(MOMENTS[0]) == "2027-01-01 00:30"


@pytest.mark.parametrize("name", ["qms:dashboard:claim", "qms:dashboard:process", "qms:delegations:reassign"])
def test_each_rows_address_is_the_reverse_of_its_own_number(name):
    numbers = [1, 7, 42, 1003, 987654321]
    for language in ("zh-hans", "en"):
        with translation.override(language):
            address = table._address_of(name)
            assert [address(pk) for pk in numbers] == [reverse(name, args=[pk]) for pk in numbers]
    try:
        set_script_prefix("/plant/")
        address = table._address_of(name)
        assert [address(pk) for pk in numbers] == [reverse(name, args=[pk]) for pk in numbers]
        assert address(5).startswith("/plant/")
    finally:
        set_script_prefix("/")


class _Marked:
    """An object that prints itself as HTML (markupsafe's and Django's __html__ convention)."""

    def __html__(self):
        return "<b>kept</b>"


VALUES = ['<script>alert("x")</script> & \'quoted\'', "品质部 <经理>", 12, 0, None, 3.5, datetime.date(2026, 1, 2),
          translation.gettext_lazy("Queue: %(queue)s"), translation.gettext_lazy("Overdue"), _Marked(), "",
          "{braces} stay", "%s and %(name)s stay"]


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_tables_html_is_format_htmls_escaping_for_every_kind_of_value(language):
    from django.utils.html import format_html, format_html_join
    from django.utils.safestring import SafeString, mark_safe

    values = [*VALUES, mark_safe("<i>safe</i>"), format_html("<a>{}</a>", "<x>")]
    with translation.override(language):
        for value in values:
            ours, django_s = table._html('<td title="{}">{}</td>', value, value), \
                format_html('<td title="{}">{}</td>', value, value)
            assert ours == django_s and isinstance(ours, SafeString)
        rows_of = [(value, index) for index, value in enumerate(values)]
        row = "<li>{} #{}</li>"
        assert table._html_join("<br>", row, rows_of) == format_html_join("<br>", row, rows_of)
        assert table._html_join(mark_safe("<hr>"), "{}", [("a",), ("b",)]) == "a<hr>b"
        assert table._html_join("&", "{}", [("a",), ("b",)]) == "a&amp;b"
