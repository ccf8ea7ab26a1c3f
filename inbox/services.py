"""Queries and actions behind the inbox pages and the API: a person's dashboard, the
due/overdue filters of task lists, and editing step targets and the calendar (Quality
manager only, audited)."""
import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from viewflow.workflow.models import Process, Task
from viewflow.workflow.status import STATUS

from accounts.models import Department, Role, department_permission, quality_managers
from core import audit
from core.deferred import first_keys_and_totals, first_rows_and_total, rows_of_lists
from core.errors import InvalidInput, NotPermitted
from core.rest.keyset import Key, Keyset
from core.models import AuditEntry
from core.registry import flows
from .queues import OPEN_TASK_STATUSES, of_flows, queue_for

from .calendar import end_of_day
from .deadlines import target_for
from .due import by_due, with_due
from .rows import ROW_RELATED, attach_process_subjects, attach_subjects
from .models import CalendarDay, NotificationKind, StepTarget
from .notify import notify

TARGET_FIELDS = ("working_days", "reminder_hours", "l1_after_hours", "l2_after_working_days",
                 "l3_after_working_days")


# --- due and overdue filters -------------------------------------------------------------------------


def filter_due(tasks, *, overdue=None, due_before=None, ordering=None, now=None):
    """Task queryset filtered and ordered by its due date, read from the task's own row (inbox.due:
    no join with the deadline table; tasks without a due date sort last and are never overdue).
    overdue: True/False; due_before: a date (due on or before it); ordering: "due" or "-due"."""
    now = now or timezone.now()
    tasks = with_due(tasks)
    if overdue is True:
        tasks = tasks.filter(due_at__lte=now)
    elif overdue is False:
        tasks = tasks.filter(Q(due_at__gt=now) | Q(due_at__isnull=True))  # no due date: never overdue
    if due_before is not None:
        tasks = tasks.filter(due_at__lte=end_of_day(due_before))  # due_at is the end of its due date
    if ordering in ("due", "-due"):
        tasks = by_due(tasks, descending=ordering == "-due")
    return tasks


def parse_date(value, field):
    try:
        return datetime.date.fromisoformat(value)
    except (TypeError, ValueError):
        raise InvalidInput(_("Enter a date as YYYY-MM-DD."), field_errors={field: [_("Enter a date as YYYY-MM-DD.")]})


# --- the dashboard -----------------------------------------------------------------------------------


def _with_deadline(tasks):
    return by_due(tasks.select_related(*ROW_RELATED))


def _is_late(task, now):
    """Overdue at `now` by the due date its list was chosen and counted by (the task row's `due_at`)."""
    return task.due_at is not None and task.due_at <= now


def _due_key(task):
    deadline = getattr(task, "deadline", None)
    return (deadline is None, deadline.due_at if deadline is not None else None, task.pk)


def available_flows(user, flow_classes=None):
    """The flows whose tasks `user` may see (viewflow's inbox rule: the flow's view permission)."""
    return [flow_class for flow_class in (flow_classes or flows()) if flow_class.instance.has_view_permission(user)]


#: the states of a task in its holder's inbox: claimed or assigned to them, or begun
MINE = (STATUS.ASSIGNED, STATUS.STARTED)


def inbox_of(user, flow_classes=None):
    """A person's inbox (the tasks they hold, in a flow they may view), without viewflow's join with the
    process table (inbox.queues.of_flows): the one definition behind the inbox page, its menu count, the
    dashboard and GET /api/tasks/, so that each shows the same tasks and the same number."""
    return of_flows(Task.objects.filter(owner=user, status__in=MINE), available_flows(user, flow_classes))


def queue_of(user, flow_classes=None):
    """The tasks `user` may claim in the flows they may view (inbox.queues.queue_for): the queue page,
    its menu count, the dashboard and GET /api/tasks/?queue=1."""
    return queue_for(user, available_flows(user, flow_classes))


# --- the menu's counts: taken from the page's own lists where it counted them -----------------------------

_LIST_TOTALS = "_qms_task_list_totals"
_LISTS = {"inbox": inbox_of, "queue": queue_of}


def _totals_key(name, flow_classes):
    return name, frozenset(flow_classes or flows())


def remember_total(request, name, total, flow_classes=None):
    """The whole total of `user`'s list `name` ("inbox" or "queue", of `flow_classes`) that this request's page has
    just counted (an unfiltered list page's paginator, the dashboard's scans), for the menu to show (MenuCount)
    rather than count the same list again in the same request."""
    request.__dict__.setdefault(_LIST_TOTALS, {})[_totals_key(name, flow_classes)] = total


class MenuCount:
    """The number beside "Inbox" and "Queue" in the menu ({{ user_inbox.count }}): the total this request's page
    took of the very same list (remember_total), else the list's own COUNT(*). Asked when the menu is drawn, after
    the page's own lists were counted."""

    def __init__(self, request, name, flow_classes=None):
        self.request, self.name, self.flow_classes = request, name, flow_classes

    def count(self):
        known = getattr(self.request, _LIST_TOTALS, {}).get(_totals_key(self.name, self.flow_classes))
        if known is not None:
            return known
        return _LISTS[self.name](self.request.user, self.flow_classes).count()


def menu_counts(request, flow_classes=None):
    """The menu's two badges ({{ user_inbox.count }}, {{ user_queue.count }}), lazy: nothing is counted unless
    the menu is drawn."""
    return {"user_inbox": MenuCount(request, "inbox", flow_classes),
            "user_queue": MenuCount(request, "queue", flow_classes)}


#: how many rows each list of the dashboard shows (the API's ?limit= may ask up to DASHBOARD_MAX_ROWS);
#: each list says how many it has in all and links to the whole list, paged (inbox, queue, archive)
DASHBOARD_ROWS = 10
DASHBOARD_MAX_ROWS = 50
#: the processes I started, newest first, paged by keyset (GET /qms/dashboard/started/, /api/dashboard/started/)
STARTED_ORDER = Keyset("started", [Key("created", descending=True), Key("pk", descending=True)])
#: the tasks I completed, last finished first, paged by keyset (GET /api/dashboard/completed/)
COMPLETED_ORDER = Keyset("completed", [Key("finished", descending=True), Key("pk", descending=True)],
                         deferred_join=True)


def dashboard(user, *, limit=DASHBOARD_ROWS, now=None):
    """Everything on a person's dashboard: the first `limit` rows of each list, soonest due first, and
    how many each list has in all (`totals`), in a fixed number of queries, each served by an index
    (workflows migration 0007): no join with the process table to filter by flow (inbox.queues.of_flows);
    each list's total comes with its page's keys (core.deferred.first_rows_and_totals). "Overdue" (mine and my
    queues: disjoint) is read from those two lists and counted in their scans, not scanned again."""
    now = now or timezone.now()
    late = Q(due_at__lte=now)
    mine_keys, mine_totals = first_keys_and_totals(_with_deadline(inbox_of(user)), limit, late=late)
    queued_keys, queued_totals = first_keys_and_totals(_with_deadline(queue_of(user)), limit, late=late)
    completed_keys, completed_totals = first_keys_and_totals(COMPLETED_ORDER.order(completed_by(user)), limit)
    # the three task lists' rows in one query (each list's keys were chosen, and counted, by its own scan)
    mine, queued, completed = rows_of_lists(_with_deadline(Task.objects.all()), mine_keys, queued_keys,
                                            completed_keys)
    mine_total, late_mine_total = mine_totals["all"], mine_totals["late"]
    queued_total, late_queued_total = queued_totals["all"], queued_totals["late"]
    completed_total = completed_totals["all"]
    # Both lists are soonest due first (tasks without a due date last), so each list's overdue tasks come first
    # in it: the first `limit` overdue tasks of each are among its first `limit` rows, already read. Their
    # counts came with the lists' keys.
    overdue = sorted([task for task in [*mine, *queued] if _is_late(task, now)], key=_due_key)[:limit]
    processes, processes_total = first_rows_and_total(started_by(user), limit)
    # what each task and process is about: one call per flow for all of them, the lists' tasks and the processes
    # I started alike (inbox/rows.py)
    attach_subjects([*mine, *queued, *overdue, *completed], processes)
    where_they_stand(processes, subjects_attached=True)
    return {"mine": mine, "queued": queued, "overdue": overdue, "completed": completed,
            "processes": processes, "now": now, "limit": limit,
            "totals": {"mine": mine_total, "queued": queued_total, "overdue": late_mine_total + late_queued_total,
                       "overdue_mine": late_mine_total, "overdue_queued": late_queued_total,
                       "completed": completed_total, "processes": processes_total}}


def completed_by(user, flow_classes=None):
    """The tasks `user` completed (the done tasks' partial index by owner and finish time, workflows migrations
    0007 and 0008), with their process; in COMPLETED_ORDER, last finished first. The dashboard's "Recently
    completed by me", its API and the archive page list these."""
    return of_flows(Task.objects.filter(owner=user, status=STATUS.DONE, finished__isnull=False),
                    flow_classes or flows()).select_related("process")


def started_by(user):
    """The processes `user` started, newest first: picked by their start task's own node and owner (the
    start tasks' partial index, workflows migration 0007), no join with the process table inside."""
    started_ids = of_flows(Task.objects.filter(owner=user, flow_task_type="HUMAN_START"), flows()).values("process_id")
    return Process.objects.filter(pk__in=started_ids).order_by("-created", "-pk")


def where_they_stand(processes, *, subjects_attached=False):
    """Set on each process its subject (unless `subjects_attached`: inbox.rows.attach_subjects set them) and
    its open steps (`open_steps`: each with its holder and deadline, and the process's subject): two queries
    and one call per flow for the whole list."""
    processes = list(processes)
    open_steps = {}
    for task in (Task.objects.filter(process__in=[p.pk for p in processes], status__in=OPEN_TASK_STATUSES,
                                     flow_task_type="HUMAN").select_related("owner", "deadline").order_by("pk")):
        open_steps.setdefault(task.process_id, []).append(task)
    for process in processes if subjects_attached else attach_process_subjects(processes):
        process.open_steps = open_steps.get(process.pk, [])
        for task in process.open_steps:
            task.subject = process.subject
    return processes


# --- step targets and the calendar (Quality manager) ---------------------------------------------------


def can_edit_targets(user):
    return user.is_authenticated and (
        user.is_superuser or user.has_perm(department_permission(Department.QUALITY, Role.MANAGER)))


def human_steps():
    """(flow name, node) of every human step of every flow."""
    for flow_class in flows():
        for node in flow_class.instance.nodes():
            if getattr(node, "task_type", "") == "HUMAN":
                yield flow_class.__name__, node


def target_table():
    rows = {(t.flow, t.step): t for t in StepTarget.objects.all()}
    table = []
    for flow, node in human_steps():
        table.append({"flow": flow, "step": node.name, "title": node.task_title or node.name,
                      "process_title": node.flow_class.process_title,
                      "row": rows.get((flow, node.name)), "effective": target_for(node, rows)})
    return table


def _require_editor(actor):
    if not can_edit_targets(actor):
        raise NotPermitted(_("Only the Quality manager changes step targets and the company calendar."))


def set_step_target(*, actor, flow, step, values, reason=""):
    """Set (or clear, with None) the timing of one step. Values are whole numbers >= 0."""
    _require_editor(actor)
    if (flow, step) not in {(f, n.name) for f, n in human_steps()}:
        raise InvalidInput(_("No such step: %(step)s") % {"step": f"{flow}.{step}"})
    errors, clean = {}, {}
    for field in TARGET_FIELDS:
        value = values.get(field)
        if value in (None, ""):
            clean[field] = None
            continue
        try:
            number = int(value)
            if number < 0 or number > 365:
                raise ValueError
            clean[field] = number
        except (TypeError, ValueError):
            errors[field] = [_("Enter a whole number from 0 to 365, or leave it empty for the default.")]
    if errors:
        raise InvalidInput(_("Please correct the errors below."), field_errors=errors)
    with transaction.atomic():
        target, _created = StepTarget.objects.select_for_update().get_or_create(flow=flow, step=step)
        old = {f: getattr(target, f) for f in TARGET_FIELDS}
        for field, value in clean.items():
            setattr(target, field, value)
        target.full_clean()
        target.save()
        audit.log("inbox.step_target_changed", target, actor=actor, old=old, new=clean, reason=reason)
    return target


def add_calendar_day(*, actor, date, kind, name_zh="", name_en=""):
    _require_editor(actor)
    if kind not in CalendarDay.Kind.values:
        raise InvalidInput(_("Choose holiday or make-up working day."), field_errors={"kind": [_("Choose holiday or make-up working day.")]})
    with transaction.atomic():
        if CalendarDay.objects.filter(date=date).exists():
            raise InvalidInput(_("%(date)s is already in the calendar.") % {"date": date})
        day = CalendarDay(date=date, kind=kind, name_zh=name_zh.strip(), name_en=name_en.strip())
        day.full_clean()
        day.save()
        audit.log("inbox.calendar_day_added", day, actor=actor,
                  new={"date": date, "kind": kind, "name_zh": day.name_zh, "name_en": day.name_en})
    return day


def calendar_gaps(today=None):
    """Years in which due dates may fall but no holiday is entered: this year, and next year
    from QMS["CALENDAR_WARN_DAYS"] days before it begins. Due dates in such a year count the
    plain working week, so 春节 or 国庆 would count as working days."""
    today = today or timezone.localdate()
    years = [today.year]
    if (datetime.date(today.year + 1, 1, 1) - today).days <= settings.QMS["CALENDAR_WARN_DAYS"]:
        years.append(today.year + 1)
    entered = {day.year for day in CalendarDay.objects.filter(
        kind=CalendarDay.Kind.HOLIDAY, date__year__in=years).dates("date", "year")}
    return [year for year in years if year not in entered]


def warn_about_calendar_gaps(today=None):
    """Notify the Quality managers once per year missing from the calendar (audited, which is
    also how "once" is known). Returns the years warned about now."""
    warned = []
    for year in calendar_gaps(today):
        with transaction.atomic():
            if AuditEntry.objects.filter(action="inbox.calendar_gap_warned", new_values__year=year).exists():
                continue
            recipients = list(quality_managers())
            for user in recipients:
                notify(user, NotificationKind.CALENDAR,
                       gettext_lazy("Enter the holidays of %(year)s in the company calendar"),
                       gettext_lazy("No public holiday of %(year)s is in the company calendar, so due dates in "
                                    "%(year)s count every working weekday. Enter the holidays and make-up working "
                                    "days of the State Council's notice on the Due dates and calendar page."),
                       {"year": year}, link=reverse("qms:targets:index"))
            audit.log("inbox.calendar_gap_warned", ("calendar", str(year), f"company calendar {year}"),
                      new={"year": year, "recipients": [u.username for u in recipients]})
            warned.append(year)
    return warned


def remove_calendar_day(*, actor, pk):
    _require_editor(actor)
    with transaction.atomic():
        day = CalendarDay.objects.select_for_update().filter(pk=pk).first()
        if day is None:
            raise InvalidInput(_("No such calendar day."))
        audit.log("inbox.calendar_day_removed", day, actor=actor,
                  old={"date": day.date, "kind": day.kind, "name_zh": day.name_zh, "name_en": day.name_en})
        day.delete()
