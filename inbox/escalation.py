"""Reminders and escalations of overdue tasks (run by Celery beat, inbox.tasks).

For each open human task: a reminder before it is due (QMS REMINDER_BEFORE_HOURS), then
level 1 at due (to the assignee, or the members of its queue while nobody has claimed
it), level 2 after some working days (the department's managers), level 3 later (the
quality managers and the General Manager). Each fires once, is written as an
Escalation row and an audit entry in the same transaction, and notifies its recipients.
The work is selected by the indexed TaskDeadline.next_check_at, never by scanning tasks."""
from django.db import transaction
from django.urls import NoReverseMatch, get_resolver, get_script_prefix, get_urlconf
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from viewflow.workflow.status import STATUS

from accounts.models import Department, Membership, Role, active_members, parse_department_permission
from core import audit

from .models import Escalation, NotificationKind, TaskDeadline
from .queues import OPEN_TASK_STATUSES
from .notify import notify
from .rows import holder_text, lazy_subject

lazy_holder = lazy(holder_text, str)  # "Queue: 品质部" in the recipient's language

FINISHED = [STATUS.DONE, STATUS.CANCELED]
STAGES = (  # level, when (field), sent (field)
    (Escalation.Level.REMINDER, "remind_at", "reminder_sent_at"),
    (Escalation.Level.ASSIGNEE, "l1_at", "l1_sent_at"),
    (Escalation.Level.MANAGER, "l2_at", "l2_sent_at"),
    (Escalation.Level.TOP, "l3_at", "l3_sent_at"),
)
parse_permission = parse_department_permission  # (department, role) of a queue permission


def _members(**filters):
    return list(active_members(**filters).order_by("username"))


def queue_members(task):
    """People who may claim an unclaimed task: holders of its department permission
    (a manager also holds the staff permission)."""
    parsed = parse_permission(task.owner_permission)
    if parsed is None:
        return []
    department, role = parsed
    roles = [Role.STAFF, Role.MANAGER] if role == Role.STAFF else [role]
    return _members(department=department, role__in=roles)


def departments_of(task):
    parsed = parse_permission(task.owner_permission)
    if parsed is not None:
        return [parsed[0]]
    if task.owner_id:
        return list(Membership.objects.filter(user_id=task.owner_id).values_list("department", flat=True)
                    .distinct())
    return []


def recipients_for(level, task):
    if level in (Escalation.Level.REMINDER, Escalation.Level.ASSIGNEE):
        return [task.owner] if task.owner_id else queue_members(task)
    if level == Escalation.Level.MANAGER:
        return _members(department__in=departments_of(task), role=Role.MANAGER)
    return _members(role=Role.MANAGER, department__in=[Department.QUALITY, Department.MANAGEMENT])


def load_urls():
    """viewflow names its URLs once the site's URLconf is imported; a job or a signal may
    run before any request did that."""
    get_resolver().url_patterns  # noqa: B018 (imports ROOT_URLCONF once)


#: stand-ins for a task's process and task numbers in a step's address pattern (task_link): longer than
#: any id, so that neither occurs in the address's fixed parts nor in the other's digits
_PROCESS, _TASK = 10**17 + 1, 10**17 + 2
_LINK_PATTERNS = {}


def task_link(task):
    """The address of the task's own page (viewflow's step "index" view). Reversing a namespaced address costs
    about 0.15 ms, twice per row of a task list; a step's address differs from another task's of the same step
    only in its two numbers, so it is reversed once per step, URLconf, script prefix and language with
    stand-in numbers and then filled in (the same string as the reverse: test_task_links.py)."""
    node = getattr(task, "flow_task", None)
    if node is None or task.process_id is None or task.pk is None:
        return ""
    load_urls()
    key = (node, get_resolver(get_urlconf()), get_script_prefix(), get_language())
    pattern = _LINK_PATTERNS.get(key)
    if pattern is None:
        try:
            pattern = node.reverse("index", args=[_PROCESS, _TASK])
        except (NoReverseMatch, AttributeError):
            pattern = ""
        if len(_LINK_PATTERNS) > 10_000:  # URLconfs swapped many times over (tests): start again
            _LINK_PATTERNS.clear()
        _LINK_PATTERNS[key] = pattern
    return pattern.replace(str(_PROCESS), str(task.process_id)).replace(str(_TASK), str(task.pk))


def describe(task):
    """The parameters every task message names: the step, the procedure and what the task is
    about (its subject, made by the procedure, rendered in the recipient's language)."""
    node = task.flow_task
    return {"task": node.task_title or node.name, "process": node.flow_class.process_title,
            "number": task.process_id, "subject": lazy_subject(task)}


REMINDER_TITLE = _("Due soon: %(task)s – %(subject)s (%(process)s), due on %(due)s")
REMINDER_BODY = _("Please complete %(task)s for %(subject)s (%(process)s) by %(due)s.")
ESCALATION_TITLE = _("Overdue, level %(level)s: %(task)s – %(subject)s (%(process)s), due on %(due)s")
ESCALATION_BODY = _("%(task)s for %(subject)s (%(process)s) was due on %(due)s and is not done. "
                    "It is with %(holder)s.")


def _fire(deadline, level, now):
    task = deadline.task
    people = recipients_for(level, task)
    holder = lazy_holder(task)  # a name, or the queue as people name it (never a permission code)
    params = {**describe(task), "due": deadline.due_date.isoformat(), "level": int(level), "holder": holder}
    link = task_link(task)
    Escalation.objects.create(task=task, level=level, recipients=[p.username for p in people], sent_at=now)
    for person in people:
        if level == Escalation.Level.REMINDER:
            notify(person, NotificationKind.REMINDER, REMINDER_TITLE, REMINDER_BODY, params, link=link, task=task)
        else:
            notify(person, NotificationKind.ESCALATION, ESCALATION_TITLE, ESCALATION_BODY, params,
                   link=link, task=task)
    audit.log("task.reminded" if level == Escalation.Level.REMINDER else "task.escalated", task,
              process_id=task.process_id,
              new={"level": int(level), "recipients": [p.username for p in people],
                   "due": deadline.due_date, "step": task.flow_task.name})


def check_deadline(deadline_pk, now=None):
    """Send what has fallen due for one task (each stage once). Returns the levels sent."""
    now = now or timezone.now()
    with transaction.atomic():
        deadline = (TaskDeadline.objects.select_for_update(of=("self",))
                    .select_related("task", "task__owner", "task__process").filter(pk=deadline_pk).first())
        if deadline is None:
            return []
        if deadline.task.status not in OPEN_TASK_STATUSES:
            deadline.next_check_at = None
            deadline.save(update_fields=["next_check_at"])
            return []
        sent, later = [], []
        for level, when_field, sent_field in STAGES:
            when = getattr(deadline, when_field)
            if when is None or getattr(deadline, sent_field) is not None:
                continue
            if level == Escalation.Level.REMINDER and now >= deadline.due_at:
                continue  # already overdue: the escalation says more than a reminder would
            if when <= now:
                _fire(deadline, level, now)
                setattr(deadline, sent_field, now)
                deadline.level = max(deadline.level, int(level))
                sent.append(int(level))
            else:
                later.append(when)
        deadline.next_check_at = min(later) if later else None
        deadline.save(update_fields=[f for _l, _w, f in STAGES] + ["level", "next_check_at"])
    return sent


def send_reminders_and_escalations(now=None, batch=500):
    """Every open task whose next reminder or escalation has fallen due; returns
    {task id: [levels sent]} for the tasks that sent something."""
    now = now or timezone.now()
    # the deadlines of tasks finished since the last run are retired here, in one statement, rather than by
    # each step that finishes a task (inbox.signals): the scan below then meets open tasks only
    TaskDeadline.objects.filter(next_check_at__lte=now, task__status__in=FINISHED).update(next_check_at=None)
    due = list(TaskDeadline.objects.filter(next_check_at__lte=now, task__status__in=OPEN_TASK_STATUSES)
               .order_by("next_check_at").values_list("pk", flat=True)[:batch])
    results = {}
    for pk in due:
        sent = check_deadline(pk, now)
        if sent:
            results[pk] = sent
    return results
