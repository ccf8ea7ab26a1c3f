"""What every task row says, wherever it is shown (inbox, queue, dashboard, team tasks, the API,
notifications and e-mails): the subject (what the task is about), the step, the due date, the
days overdue, the age and the owner, in that order.

The subject is made by the procedure (`QmsFlow.subjects(processes)`, overridden in each
procedures/<name>/flows.py) and asked here once per flow for a whole list, so a list costs the
same number of queries with 5 rows as with 500 (the rows' processes, deadlines and owners come
with select_related)."""
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import GENERAL_MANAGER_PERMISSION, Department, Role, parse_department_permission

from .memo import call_memo

# Prefetch for a task list: the subject needs the process, the due and overdue columns the deadline.
ROW_RELATED = ("process", "deadline", "owner")


def _flow_class(process):
    try:
        return process.flow_class
    except (AttributeError, ImportError, ValueError):  # a flow removed from the code since
        return None


def process_subjects(processes):
    """{process pk: subject} of `processes` (one call of each flow's `subjects()`), every
    process named: by its procedure's subject, else by the procedure and its number."""
    by_flow = {}
    for process in processes:
        by_flow.setdefault(_flow_class(process), {})[process.pk] = process
    found = {}
    for flow_class, members in by_flow.items():
        subjects = getattr(flow_class, "subjects", None)
        made = subjects(list(members.values())) if subjects is not None else {}
        for pk, process in members.items():
            found[pk] = made.get(pk) or fallback_subject(process, flow_class)
    return found


def fallback_subject(process, flow_class=None):
    flow_class = flow_class or _flow_class(process)
    title = getattr(flow_class, "process_title", "") if flow_class is not None else ""
    return f"{title} #{process.pk}".strip()


def attach_subjects(tasks, processes=()):
    """Set `task.subject` on every task of `tasks` (an iterable of tasks whose process came with
    select_related) and return them as a list; with `processes` (the dashboard's processes I started),
    `process.subject` on each of them too, all in one call of each flow's `subjects()`."""
    tasks, processes = list(tasks), list(processes)
    subjects = process_subjects({**{task.process_id: task.process for task in tasks},
                                 **{process.pk: process for process in processes}}.values())
    for task in tasks:
        task.subject = subjects.get(task.process_id, "")
    for process in processes:
        process.subject = subjects[process.pk]
    return tasks


def subject_of(task):
    """The subject of one task, computed now (for a notification, in its recipient's language);
    once per language in an engine call (inbox.memo: the title and body of every message it sends)."""
    process = task.process
    memo = call_memo(process)
    key = ("subject", process.pk, get_language())
    if key not in memo:
        memo[key] = process_subjects([process]).get(task.process_id, "")
    return memo[key]


lazy_subject = lazy(subject_of, str)  # rendered when the notification text is, in the recipient's language


def attach_process_subjects(processes):
    """Set `process.subject` on every process of a list (the dashboard's "Processes I started")."""
    processes = list(processes)
    subjects = process_subjects(processes)
    for process in processes:
        process.subject = subjects[process.pk]
    return processes


# --- the other columns --------------------------------------------------------------------------------


def days_overdue(task, now=None):
    """Whole calendar days past the due date: None without a due date, 0 when not overdue."""
    deadline = getattr(task, "deadline", None)  # a task without a due date raises an AttributeError
    if deadline is None:
        return None
    now = now or timezone.now()
    if now < deadline.due_at:
        return 0
    return max(1, (timezone.localtime(now).date() - deadline.due_date).days)


def age_days(task, now=None):
    """Whole days since the task was created."""
    return max(0, ((now or timezone.now()) - task.created).days)


def age_text(task, now=None):
    """The age for a person: "3 days", "5 h", "< 1 h" (in the reader's language)."""
    delta = (now or timezone.now()) - task.created
    if delta.days >= 1:
        return ngettext("%(count)s day", "%(count)s days", delta.days) % {"count": delta.days}
    hours = int(delta.total_seconds() // 3600)
    if hours >= 1:
        return ngettext("%(count)s h", "%(count)s h", hours) % {"count": hours}
    return _("< 1 h")


def queue_label(permission):
    """A queue as people name it, in the reader's language: "品质部" / "Quality", "品质部经理" /
    "Quality manager", "总经理" / "General Manager"; never the raw permission code."""
    if permission == GENERAL_MANAGER_PERMISSION:
        return _("General Manager")
    parsed = parse_department_permission(permission)
    if parsed is None:
        return _("a queue") if permission else ""
    department, role = parsed
    if role == Role.MANAGER:
        return _("%(department)s manager") % {"department": Department(department).label}
    return str(Department(department).label)


def holder_text(task):
    """Who has the task: its owner's name, or the queue it waits in."""
    if task.owner_id:
        return task.owner.printed_name
    if not task.owner_permission:
        return "-"
    return _("Queue: %(queue)s") % {"queue": queue_label(task.owner_permission)}
