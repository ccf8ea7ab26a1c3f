from django import template
from django.utils import timezone

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
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return 0
    return unread_count(user)
