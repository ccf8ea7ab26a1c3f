"""Task access for the API: the same rule the browser applies (workflows.steps.Step.refusal)."""
from django.http import Http404
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from core.registry import flows
from inbox import services


def inbox(user):
    """GET /api/tasks/: the browser's inbox, the same tasks (inbox.services.inbox_of)."""
    return services.inbox_of(user)


def queue(user):
    """GET /api/tasks/?queue=1: the browser's queue, the same tasks (inbox.services.queue_of)."""
    return services.queue_of(user)


def access_task(user, pk):
    """The task if `user` may see it (it is theirs, or waits in one of their queues), else 404."""
    task = Task.objects.select_related("process", "owner").filter(pk=pk).first()
    if task is None or task.process.flow_class not in flows():
        raise Http404("No such task")
    if task.owner_id == user.pk or user.is_superuser:
        return task
    if task.status == STATUS.NEW and task.owner_id is None and queue(user).filter(pk=task.pk).exists():
        return task
    raise Http404("No such task")
