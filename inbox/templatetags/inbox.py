from django import template
from django.urls import reverse
from django.utils import timezone
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from core.models import Record
from inbox import rows, table
from inbox.escalation import task_link
from inbox.models import Escalation, TaskDeadline
from inbox.notify import unread_count

register = template.Library()


@register.simple_tag
def task_deadline(task):
    """{"deadline", "overdue", "escalations"} of a task for the step page (two queries)."""
    if task is None or not getattr(task, "pk", None):
        return None
    deadline = TaskDeadline.objects.filter(task_id=task.pk).first()
    if deadline is None:
        return None
    return {"deadline": deadline, "overdue": timezone.now() >= deadline.due_at,
            "escalations": list(Escalation.objects.filter(task_id=task.pk).order_by("sent_at", "level"))}


@register.simple_tag(takes_context=True)
def unread_notifications(context):
    """The count of the signed-in user's unread notifications (the menu's badge): the page's own, when it counted them
    in this request (the notifications page), else one query."""
    if "unread_notifications" in context:
        return context["unread_notifications"]
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return 0
    return unread_count(user)


# --- the columns of a task row (templates/inbox/_task_rows.html; inbox/rows.py) ----------------------


@register.filter
def holder(task):
    """The owner's name, or the queue the task waits in ("Queue: 品质部"), never a permission code."""
    return rows.holder_text(task)


@register.simple_tag(takes_context=True)
def task_table(context, tasks, table_id, now=None, action=None, due_sort=None, empty=None):
    """The table of open tasks (inbox/table.py) for the page's reader, with the page's CSRF token for its claim
    buttons: {% task_table tasks table_id now=now action=action due_sort=due_sort empty=empty %}."""
    request = context.get("request")
    return table.task_table(tasks or [], table_id=table_id, now=now, user=getattr(request, "user", None),
                            csrf_token=context.get("csrf_token"), action=action or None, due_sort=due_sort or None,
                            empty=empty or None)


@register.simple_tag
def completed_table(tasks, table_id):
    """The tasks a person completed (inbox/table.py): {% completed_table tasks table_id %}."""
    return table.completed_table(tasks or [], table_id=table_id)


@register.simple_tag
def process_table(processes, table_id, now=None):
    """The processes a person started, where each stands (inbox/table.py): {% process_table processes table_id %}."""
    return table.process_table(processes or [], table_id=table_id, now=now or None)


@register.filter
def task_url(task):
    """The task's own page: its form for its owner, the claim page for one who may claim it."""
    return task_link(task)


@register.simple_tag
def board_cards(tasks, closed=False, empty=None):
    """The cards of a column of a flow's board (inbox/table.py): {% board_cards column.tasks %}, and
    {% board_cards finished closed=True %} for the recently closed processes."""
    return table.board_cards(tasks or [], closed=closed, empty=empty)


@register.simple_tag
def task_release(task, user):
    """The step page's release button: {"url", "queue"} or {"url", "person"} when `user` holds the
    task and it has somewhere to go back to (its queue, or the absent colleague it belongs to);
    None otherwise (e.g. a task bound to the user personally: their manager reassigns it)."""
    if task is None or not getattr(task, "pk", None) or user is None or not user.is_authenticated:
        return None
    # the page's activation may have moved the task in memory (viewflow starts it): ask the stored row
    task = Task.objects.filter(pk=task.pk).first()
    if task is None or task.status != STATUS.ASSIGNED or task.owner_id != user.pk:
        return None
    target = task.flow_task.release_target(task) if hasattr(task.flow_task, "release_target") else None
    if target is None:
        return None
    info = {"url": reverse("qms:dashboard:release", args=[task.pk])}
    if isinstance(target, str):  # back to its queue (workflows.actions.QUEUE)
        info["queue"] = rows.queue_label(task.owner_permission)
    else:
        info["person"] = target
    return info


@register.simple_tag
def process_subject(process):
    """What a process is about, as its procedure names it (QmsFlow.subjects), or ""."""
    subject = getattr(process.flow_class, "subject", None)
    return subject(process) if subject else ""


@register.simple_tag
def process_records(process):
    """The controlled records a process made, oldest first (for the process page)."""
    return Record.objects.filter(process_id=process.pk).order_by("id")


@register.simple_tag
def can_manage_process(process, user):
    """Whether `user` may cancel or manage `process` (the flow's own rule: has_manage_permission)."""
    return bool(process.flow_class.instance.has_manage_permission(user, process))
