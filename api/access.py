"""Task access for the API: the same rule the browser applies (workflows.steps.Step.refusal)."""
from django.http import Http404
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from core.registry import flows
from inbox.queues import of_flows, queue_for

OPEN = [STATUS.NEW, STATUS.ASSIGNED, STATUS.STARTED]


def inbox(user):
    return of_flows(Task.objects.filter(owner=user, status__in=[STATUS.ASSIGNED, STATUS.STARTED]), flows())


def queue(user):
    return queue_for(user, flows())


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
