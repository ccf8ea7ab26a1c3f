"""Due dates of human tasks: a step may set its own (Step(..., due=...)); otherwise the
task is due the step's target number of working days after it was created."""
import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone

from .calendar import Calendar, days_between, end_of_day
from .memo import call_memo, process_of
from .models import DueSource, StepTarget, TaskDeadline

HUMAN = "HUMAN"
CALENDAR_WINDOW = 370  # days of the company calendar an engine call reads at once (Calendar's default)


def flow_name(node):
    return node.flow_class.__name__


def target_for(node, rows=None):
    """Effective timing of a step: its StepTarget row, each empty value from settings QMS.
    `rows` ({(flow, step): StepTarget}) saves the query when many steps are shown."""
    qms = settings.QMS
    if rows is None:
        row = StepTarget.objects.filter(flow=flow_name(node), step=node.name).first()
    else:
        row = rows.get((flow_name(node), node.name))

    def pick(field, key):
        value = getattr(row, field, None) if row is not None else None
        return qms[key] if value is None else value

    return {
        "working_days": pick("working_days", "DEFAULT_STEP_WORKING_DAYS"),
        "reminder_hours": pick("reminder_hours", "REMINDER_BEFORE_HOURS"),
        "l1_after_hours": pick("l1_after_hours", "ESCALATION_L1_AFTER_HOURS"),
        "l2_after_working_days": pick("l2_after_working_days", "ESCALATION_L2_AFTER_WORKING_DAYS"),
        "l3_after_working_days": pick("l3_after_working_days", "ESCALATION_L3_AFTER_WORKING_DAYS"),
    }


def _target(node, memo):
    """target_for(node), the StepTarget rows of its flow read once per engine call (a split to five
    departments' review steps reads the flow's few rows once, not one per step)."""
    flow = flow_name(node)
    if ("step_targets", flow) not in memo:
        memo["step_targets", flow] = {(flow, row.step): row for row in StepTarget.objects.filter(flow=flow)}
    return target_for(node, memo["step_targets", flow])


TARGET_FIELDS = ("working_days", "reminder_hours", "l1_after_hours", "l2_after_working_days", "l3_after_working_days")


def _read_together(memo, flow, start):
    """The flow's StepTarget rows and CALENDAR_WINDOW days of the company calendar from `start`, in one statement
    (UNION ALL) for an engine call that has read neither yet: its first new human task needs both. A step target
    row has no date; a calendar row has no target figures."""
    no_date, no_figure = models.Value(None, models.DateField()), models.Value(None, models.IntegerField())
    end = start + datetime.timedelta(days=CALENDAR_WINDOW)
    targets = StepTarget.objects.filter(flow=flow).order_by().values_list("step", no_date, *TARGET_FIELDS)
    days = days_between(start, end).order_by().values_list("kind", "date", *([no_figure] * len(TARGET_FIELDS)))
    rows, exceptions = {}, {}
    for name, date, *figures in targets.union(days, all=True):
        if date is None:
            rows[flow, name] = StepTarget(flow=flow, step=name, **dict(zip(TARGET_FIELDS, figures)))
        else:
            exceptions[date] = name
    memo["step_targets", flow] = rows
    memo["calendar"] = Calendar(start, days=CALENDAR_WINDOW, exceptions=exceptions)


def _calendar(memo, start, days):
    """A Calendar covering `start` … `start + days`: the engine call's, loaded once for at least
    CALENDAR_WINDOW days (the company calendar is a small table), or widened when a task needs more."""
    end = start + datetime.timedelta(days=days)
    calendar = memo.get("calendar")
    if calendar is None or not calendar.covers(start, end):
        if calendar is not None:
            start, end = min(start, calendar.start), max(end, calendar.end)
        calendar = memo["calendar"] = Calendar(start, days=max((end - start).days, CALENDAR_WINDOW))
    return calendar


def deadline_for(task):
    """An unsaved TaskDeadline for a new human task, or None for any other task."""
    node = task.flow_task
    if task.flow_task_type != HUMAN or node is None:
        return None
    memo = call_memo(process_of(task))  # the tasks of one engine call (e.g. a fan-out) read these once
    created = timezone.localtime(task.created or timezone.now()).date()
    step_due = node.due_date_for(task) if hasattr(node, "due_date_for") else None
    if isinstance(step_due, datetime.datetime):
        step_due = timezone.localtime(step_due).date()
    start = min(created, step_due or created)
    if "calendar" not in memo and ("step_targets", flow_name(node)) not in memo:
        _read_together(memo, flow_name(node), start)
    target = _target(node, memo)
    span = abs(((step_due or created) - created).days) + (target["working_days"] + target["l3_after_working_days"]) * 3 + 62
    calendar = _calendar(memo, start, span)  # one query for every date below
    if step_due is not None:
        due_date, source = step_due, DueSource.STEP
    else:
        due_date, source = calendar.add_working_days(created, target["working_days"]), DueSource.TARGET
    due_at = end_of_day(due_date)
    remind_at = due_at - datetime.timedelta(hours=target["reminder_hours"]) if target["reminder_hours"] else None
    l1_at = due_at + datetime.timedelta(hours=target["l1_after_hours"])
    l2_at = end_of_day(calendar.add_working_days(due_date, target["l2_after_working_days"]))
    l3_at = end_of_day(calendar.add_working_days(due_date, target["l3_after_working_days"]))
    l2_at, l3_at = max(l2_at, l1_at), max(l3_at, l2_at, l1_at)
    return TaskDeadline(task=task, due_date=due_date, due_at=due_at, source=source, remind_at=remind_at,
                        l1_at=l1_at, l2_at=l2_at, l3_at=l3_at,
                        next_check_at=remind_at if remind_at is not None else l1_at)


def overdue(deadline, now=None):
    return deadline is not None and (now or timezone.now()) >= deadline.due_at
