"""Due dates from the company calendar and step targets; reminders and escalations
fire at the right moments, once each, audited and shown on the task page."""
import datetime
import zoneinfo

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.test import Client
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from core.models import AuditEntry
from inbox import escalation
from inbox.calendar import Calendar, end_of_day
from inbox.models import CalendarDay, Escalation, Notification, StepTarget, TaskDeadline
from p1_driver import act, open_task, review_all, start
from procedures.order_review.flows import OrderReviewFlow

pytestmark = pytest.mark.django_db

TZ = zoneinfo.ZoneInfo("Asia/Shanghai")
MONDAY = datetime.datetime(2026, 11, 23, 10, 0, tzinfo=TZ)  # Monday 23 November 2026
D = datetime.date


def at(year, month, day, hour=0, minute=0):
    return time_machine.travel(datetime.datetime(year, month, day, hour, minute, tzinfo=TZ), tick=False)


# --- the calendar -------------------------------------------------------------------------------------


def test_working_days_skip_weekends():
    calendar = Calendar(D(2026, 11, 1))
    assert calendar.add_working_days(D(2026, 11, 20), 1) == D(2026, 11, 23)  # Friday + 1 → Monday
    assert calendar.add_working_days(D(2026, 11, 23), 3) == D(2026, 11, 26)
    assert calendar.add_working_days(D(2026, 11, 21), 0) == D(2026, 11, 23)  # Saturday → next working day


def test_holidays_are_skipped_and_make_up_workdays_count():
    CalendarDay.objects.create(date=D(2026, 10, 1), kind=CalendarDay.Kind.HOLIDAY, name_zh="国庆节", name_en="National Day")
    CalendarDay.objects.create(date=D(2026, 10, 2), kind=CalendarDay.Kind.HOLIDAY, name_zh="国庆节", name_en="National Day")
    CalendarDay.objects.create(date=D(2026, 10, 10), kind=CalendarDay.Kind.WORKDAY, name_zh="调休上班",
                               name_en="Make-up working day")
    calendar = Calendar(D(2026, 9, 1))
    # Wed 30 Sep + 1: Thu 1 and Fri 2 are holidays, the weekend too → Mon 5 Oct
    assert calendar.add_working_days(D(2026, 9, 30), 1) == D(2026, 10, 5)
    assert not calendar.is_working_day(D(2026, 10, 1))
    # Fri 9 Oct + 1 → Saturday 10 Oct is a make-up working day
    assert calendar.add_working_days(D(2026, 10, 9), 1) == D(2026, 10, 10)


# --- due dates of P1's human tasks ---------------------------------------------------------------------


def test_every_human_task_of_p1_gets_its_due_date_from_the_step_target(people, order_data):
    StepTarget.objects.create(flow="OrderReviewFlow", step="review_quality", working_days=1)
    with at(2026, 11, 23, 10):
        process = start(people["market"], order_data())
    reviews = {step: open_task(process, step) for step in
               ("review_quality", "review_production", "review_engineering", "review_materials")}
    deadlines = {step: TaskDeadline.objects.get(task=task) for step, task in reviews.items()}
    assert deadlines["review_quality"].due_date == D(2026, 11, 24)  # its own target: 1 working day
    for step in ("review_production", "review_engineering", "review_materials"):
        assert deadlines[step].due_date == D(2026, 11, 26)  # the default: 3 working days
        assert deadlines[step].source == "target"
    # only human tasks: the start, the split and the join get none
    others = Task.objects.filter(process=process).exclude(flow_task_type="HUMAN")
    assert others.exists() and not TaskDeadline.objects.filter(task__in=others).exists()
    with at(2026, 11, 24, 9):
        review_all(process, people)
    approve = open_task(process, "approve")
    assert TaskDeadline.objects.get(task=approve).due_date == D(2026, 11, 27)


def test_a_start_reads_the_step_targets_and_the_calendar_in_one_statement(people, order_data):
    """Issue 15.4: the first new human task of an engine call reads its flow's step targets and the calendar window
    together (one UNION ALL); the due dates are those of two separate reads: a holiday in the window is skipped,
    a make-up working day counts, a target's own figures win and the empty ones come from settings."""
    StepTarget.objects.create(flow="OrderReviewFlow", step="review_quality", working_days=2, l2_after_working_days=1,
                              l3_after_working_days=4)
    CalendarDay.objects.create(date=D(2026, 11, 24), kind=CalendarDay.Kind.HOLIDAY, name_zh="厂休", name_en="Plant day")
    CalendarDay.objects.create(date=D(2026, 11, 28), kind=CalendarDay.Kind.WORKDAY, name_zh="调休上班",
                               name_en="Make-up working day")
    with at(2026, 11, 23, 10), CaptureQueriesContext(connection) as queries:
        process = start(people["market"], order_data())
    reads = [q["sql"] for q in queries.captured_queries
             if '"inbox_steptarget"' in q["sql"] or '"inbox_calendarday"' in q["sql"]]
    assert len(reads) == 1 and "UNION ALL" in reads[0], reads
    quality = TaskDeadline.objects.get(task=open_task(process, "review_quality"))
    # Mon 23 + 2 working days, Tue 24 a holiday → Thu 26; level 2 one working day later, level 3 four: Fri 27,
    # Sat 28 (make-up day), Mon 30, Tue 1 December
    assert (quality.due_date, quality.l2_at, quality.l3_at) == (D(2026, 11, 26), end_of_day(D(2026, 11, 27)),
                                                              end_of_day(D(2026, 12, 1)))
    production = TaskDeadline.objects.get(task=open_task(process, "review_production"))
    assert production.due_date == D(2026, 11, 27)  # the default, 3 working days: Wed 25, Thu 26, Fri 27


def test_a_due_date_set_by_the_step_wins_over_the_target(people, order_data, monkeypatch):
    monkeypatch.setattr(OrderReviewFlow.review_engineering, "_due", lambda task: D(2026, 12, 18))
    with at(2026, 11, 23, 10):
        process = start(people["market"], order_data())
    deadline = TaskDeadline.objects.get(task=open_task(process, "review_engineering"))
    assert (deadline.due_date, deadline.source) == (D(2026, 12, 18), "step")
    assert TaskDeadline.objects.get(task=open_task(process, "review_quality")).due_date == D(2026, 11, 26)


# --- reminders and escalations -------------------------------------------------------------------------


def run(year, month, day, hour=0, minute=0):
    with at(year, month, day, hour, minute):
        return escalation.send_reminders_and_escalations()


def levels(task):
    return list(Escalation.objects.filter(task=task).order_by("level").values_list("level", flat=True))


def test_reminder_and_escalation_levels_fire_at_their_time_once_each(people, order_data):
    with at(2026, 11, 23, 10):
        process = start(people["market"], order_data())
    task = open_task(process, "review_quality")  # unclaimed, in the Quality queue; due Thu 26 Nov
    steps_claimed = open_task(process, "review_production")
    with at(2026, 11, 23, 11):
        from workflows import actions
        actions.claim_task(steps_claimed, actor=people["production"])

    assert run(2026, 11, 25, 23, 0) == {}  # more than 24 h before the end of the due day
    run(2026, 11, 26, 0, 15)  # reminder: 24 h before the due day ends
    assert levels(task) == [0]
    reminder = Escalation.objects.get(task=task, level=0)
    assert set(reminder.recipients) == {"quality", "quality_mgr"}  # the queue's members
    assert Escalation.objects.get(task=steps_claimed, level=0).recipients == ["production"]  # the assignee
    run(2026, 11, 26, 12, 0)
    assert levels(task) == [0]  # once

    run(2026, 11, 27, 0, 15)  # overdue since Friday 00:00: level 1
    assert levels(task) == [0, 1]
    run(2026, 11, 30, 9, 0)  # Monday: only one working day overdue
    assert levels(task) == [0, 1]
    run(2026, 12, 1, 0, 15)  # two working days (Fri, Mon) past due: level 2 to the department manager
    assert levels(task) == [0, 1, 2]
    assert Escalation.objects.get(task=task, level=2).recipients == ["quality_mgr"]
    assert Escalation.objects.get(task=steps_claimed, level=2).recipients == ["production_mgr"]
    run(2026, 12, 3, 12, 0)
    assert levels(task) == [0, 1, 2]
    run(2026, 12, 4, 0, 15)  # five working days past due: level 3
    assert levels(task) == [0, 1, 2, 3]
    assert set(Escalation.objects.get(task=task, level=3).recipients) == {"quality_mgr", "gm"}
    run(2026, 12, 20, 0, 0)
    assert levels(task) == [0, 1, 2, 3]

    deadline = TaskDeadline.objects.get(task=task)
    assert deadline.level == 3 and deadline.next_check_at is None
    audited = AuditEntry.objects.filter(object_type="viewflow.task", object_id=str(task.pk),
                                        action__in=["task.reminded", "task.escalated"]).order_by("seq")
    assert [e.new_values["level"] for e in audited] == [0, 1, 2, 3]
    assert Notification.objects.filter(recipient=people["gm"], task=task, kind="escalation").count() == 1


def test_nothing_fires_for_a_completed_task(people, order_data):
    with at(2026, 11, 23, 10):
        process = start(people["market"], order_data())
    with at(2026, 11, 24, 10):
        act(process, "review_quality", people["quality"], {"verdict": "can_meet", "comment": ""}, meaning="reviewed")
    done = Task.objects.get(process=process, flow_task=OrderReviewFlow.review_quality)
    assert done.status == STATUS.DONE
    run(2026, 12, 20)
    assert levels(done) == []
    assert TaskDeadline.objects.get(task=done).next_check_at is None  # retired by the scheduler's run
    assert levels(open_task(process, "review_production")) == [1, 2, 3]  # overdue at once: no reminder
    mail.outbox.clear()
    assert run(2026, 12, 21) == {}
    assert mail.outbox == []


def test_escalations_are_listed_on_the_task_page(people, order_data):
    with at(2026, 11, 23, 10):
        process = start(people["market"], order_data())
    task = open_task(process, "review_quality")
    run(2026, 12, 1, 1)
    client = Client()
    with at(2026, 12, 1, 2):
        client.force_login(people["quality"])
        client.post(f"/qms/flows/orderreview/{process.pk}/review_quality/{task.pk}/assign/")
        response = client.get(f"/qms/flows/orderreview/{process.pk}/review_quality/{task.pk}/execute/")
    assert response.status_code == 200, response.content[:300]
    page = response.content.decode()
    assert 'id="task-deadline"' in page
    assert "2026-11-26" in page
    assert page.count('class="qms-escalation"') == 2  # levels 1 and 2 (no reminder: already overdue)


def test_the_2026_calendar_seed_makes_national_day_week_a_holiday_and_is_idempotent():
    from inbox.calendar_seed import seed_2026

    assert seed_2026() > 0 and seed_2026() == 0
    calendar = Calendar(D(2026, 9, 1))
    assert calendar.add_working_days(D(2026, 9, 30), 1) == D(2026, 10, 8)  # 1-7 Oct off
    assert calendar.is_working_day(D(2026, 10, 10))  # a Saturday worked in exchange
    assert AuditEntry.objects.filter(action="inbox.calendar_day_added").count() == CalendarDay.objects.count()
