"""Step targets and the company calendar through the API (the Quality manager only, as on
the "Due dates and calendar" page), and the warning that a year's holidays are missing."""
import datetime
import zoneinfo

import pytest
import time_machine
from django.conf import settings
from django.test import Client

from api_driver import client_for
from core.models import AuditEntry
from inbox import services
from inbox.calendar_seed import seed_2026
from inbox.models import CalendarDay, Notification, NotificationKind, StepTarget
from inbox.tasks import warn_about_calendar_gaps

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]
TZ = zoneinfo.ZoneInfo("Asia/Shanghai")
D = datetime.date


def on(day):
    return time_machine.travel(datetime.datetime.combine(day, datetime.time(9), tzinfo=TZ), tick=False)


# --- step targets --------------------------------------------------------------------------------------


def test_the_quality_manager_reads_and_sets_a_steps_timing_through_the_api(people):
    client = client_for("quality_mgr")
    rows = client.get("/api/step-targets/").json()
    assert len(rows) == len(list(services.human_steps()))
    review = next(r for r in rows if (r["flow"], r["step"]) == ("OrderReviewFlow", "review_quality"))
    assert review["set"]["working_days"] is None
    assert review["effective"]["working_days"] == settings.QMS["DEFAULT_STEP_WORKING_DAYS"]

    answer = client.put("/api/step-targets/OrderReviewFlow/review_quality/",
                        {"working_days": 5, "l2_after_working_days": 1, "reason": "客户要求加快 faster reviews"},
                        format="json")
    assert answer.status_code == 200, answer.content
    assert answer.json()["set"]["working_days"] == 5
    assert answer.json()["effective"]["working_days"] == 5
    assert answer.json()["effective"]["reminder_hours"] == settings.QMS["REMINDER_BEFORE_HOURS"]  # left out: default
    entry = AuditEntry.objects.get(action="inbox.step_target_changed")
    assert entry.actor == people["quality_mgr"] and entry.new_values["working_days"] == 5
    assert entry.reason == "客户要求加快 faster reviews"


def test_bad_step_timings_are_refused_with_the_field_named_and_nothing_saved(people):
    client = client_for("quality_mgr")
    answer = client.put("/api/step-targets/OrderReviewFlow/review_quality/",
                        {"working_days": -1, "reminder_hours": "soon"}, format="json")
    assert answer.status_code == 400
    assert set(answer.json()["errors"]) == {"working_days", "reminder_hours"}
    answer = client.put("/api/step-targets/OrderReviewFlow/no_such_step/", {"working_days": 2}, format="json")
    assert answer.status_code == 400 and "No such step" in answer.json()["detail"]
    assert not StepTarget.objects.exists()
    assert not AuditEntry.objects.filter(action="inbox.step_target_changed").exists()


@pytest.mark.parametrize("username", ["quality", "market_mgr", "gm", "production"])
def test_only_the_quality_manager_reads_or_changes_targets_and_the_calendar(people, username):
    client = client_for(username)
    assert client.get("/api/step-targets/").status_code == 403
    assert client.put("/api/step-targets/OrderReviewFlow/review_quality/", {"working_days": 1},
                      format="json").status_code == 403
    assert client.get("/api/calendar/").status_code == 403
    assert client.post("/api/calendar/", {"date": "2027-01-01", "kind": "holiday"}, format="json").status_code == 403
    day = CalendarDay.objects.create(date=D(2027, 1, 1), kind="holiday")
    assert client.delete(f"/api/calendar/{day.pk}/").status_code == 403
    assert CalendarDay.objects.count() == 1 and not StepTarget.objects.exists()


# --- the calendar --------------------------------------------------------------------------------------


def test_the_quality_manager_keeps_the_calendar_through_the_api_and_each_change_is_audited(people):
    client = client_for("quality_mgr")
    answer = client.post("/api/calendar/", {"date": "2027-02-08", "kind": "holiday", "name_zh": "春节",
                                             "name_en": "Spring Festival"}, format="json")
    assert answer.status_code == 201, answer.content
    made = answer.json()
    assert (made["date"], made["kind"], made["name_zh"]) == ("2027-02-08", "holiday", "春节")
    client.post("/api/calendar/", {"date": "2027-02-20", "kind": "workday"}, format="json")
    client.post("/api/calendar/", {"date": "2026-10-01", "kind": "holiday"}, format="json")
    listed = client.get("/api/calendar/?year=2027").json()
    assert [d["date"] for d in listed["days"]] == ["2027-02-08", "2027-02-20"]
    assert len(client.get("/api/calendar/").json()["days"]) == 3

    assert client.delete(f"/api/calendar/{made['id']}/").status_code == 204
    assert not CalendarDay.objects.filter(date=D(2027, 2, 8)).exists()
    actions = list(AuditEntry.objects.filter(action__startswith="inbox.calendar_day").values_list("action", flat=True))
    assert actions.count("inbox.calendar_day_added") == 3 and actions.count("inbox.calendar_day_removed") == 1


def test_bad_calendar_input_is_refused_with_a_clear_error_and_nothing_saved(people):
    client = client_for("quality_mgr")
    CalendarDay.objects.create(date=D(2027, 1, 1), kind="holiday")
    cases = [({"date": "2027-01-01", "kind": "holiday"}, "already in the calendar"),
             ({"date": "1/1/2027", "kind": "holiday"}, "YYYY-MM-DD"),
             ({"kind": "holiday"}, "YYYY-MM-DD"),
             ({"date": "2027-01-02", "kind": "vacation"}, "holiday or make-up working day")]
    for body, message in cases:
        answer = client.post("/api/calendar/", body, format="json")
        assert answer.status_code == 400, body
        assert message in answer.json()["detail"], answer.json()
    assert client.get("/api/calendar/?year=next").status_code == 400
    assert client.delete("/api/calendar/999999/").status_code == 400
    assert CalendarDay.objects.count() == 1
    assert not AuditEntry.objects.filter(action__startswith="inbox.calendar_day").exists()


# --- a year without holidays ----------------------------------------------------------------------------


def test_next_years_missing_holidays_are_flagged_from_45_days_before_it_begins():
    seed_2026()
    assert services.calendar_gaps(D(2026, 6, 1)) == []
    assert services.calendar_gaps(D(2026, 11, 16)) == []  # 46 days before 2027
    assert services.calendar_gaps(D(2026, 11, 17)) == [2027]
    CalendarDay.objects.create(date=D(2027, 1, 1), kind="workday")  # a make-up day is not a holiday
    assert services.calendar_gaps(D(2026, 12, 31)) == [2027]
    CalendarDay.objects.create(date=D(2027, 2, 8), kind="holiday")
    assert services.calendar_gaps(D(2026, 12, 31)) == []
    assert services.calendar_gaps(D(2028, 3, 1)) == [2028]  # the current year too


def test_the_quality_managers_are_told_once_per_missing_year_and_it_is_audited(people, django_capture_on_commit_callbacks,
                                                                              mailoutbox):
    seed_2026()
    with on(D(2026, 11, 23)), django_capture_on_commit_callbacks(execute=True):
        assert warn_about_calendar_gaps.delay().get() == [2027]
        assert warn_about_calendar_gaps.delay().get() == []  # once
    notes = Notification.objects.filter(kind=NotificationKind.CALENDAR)
    assert [n.recipient.username for n in notes] == ["quality_mgr"]
    assert "2027" in notes[0].title and notes[0].link == "/qms/targets/"
    assert [m.to for m in mailoutbox] == [[people["quality_mgr"].email]]
    entry = AuditEntry.objects.get(action="inbox.calendar_gap_warned")
    assert entry.new_values == {"year": 2027, "recipients": ["quality_mgr"]}
    assert "inbox-calendar-coverage" in settings.CELERY_BEAT_SCHEDULE


def test_the_dashboard_and_the_calendar_page_show_the_missing_year_to_the_quality_manager_only(people):
    seed_2026()
    manager, staff = Client(), Client()
    manager.force_login(people["quality_mgr"])
    staff.force_login(people["quality"])
    with on(D(2026, 11, 23)):
        for page in ("/qms/dashboard/", "/qms/targets/"):
            html = manager.get(page).content.decode()
            assert 'id="calendar-gaps"' in html and "No public holiday of 2027" in html
        assert 'id="calendar-gaps"' not in staff.get("/qms/dashboard/").content.decode()
        CalendarDay.objects.create(date=D(2027, 1, 1), kind="holiday", name_zh="元旦")
        assert 'id="calendar-gaps"' not in manager.get("/qms/dashboard/").content.decode()
