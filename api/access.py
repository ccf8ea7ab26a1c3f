"""Task access for the API, the same rules the viewflow UI applies."""
from django.http import Http404
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from workflows.registry import FLOWS

OPEN = [STATUS.NEW, STATUS.ASSIGNED, STATUS.STARTED]


def inbox(user):
    return Task.objects.filter(owner=user, status__in=[STATUS.ASSIGNED, STATUS.STARTED],
                               process__flow_class__in=FLOWS)


def queue(user):
    return Task.objects.user_queue(user).filter(status=STATUS.NEW, owner__isnull=True,
                                                process__flow_class__in=FLOWS)


def access_task(user, pk):
    """The task if `user` may see it (it is theirs, or in one of their queues), else 404."""
    task = Task.objects.select_related("process", "owner").filter(pk=pk).first()
    if task is None or task.process.flow_class not in FLOWS:
        raise Http404("No such task")
    node = task.flow_task
    if task.owner_id == user.pk or user.is_superuser:
        return task
    if task.owner_id is None and hasattr(node, "can_assign") and task.status == STATUS.NEW:
        permission = task.owner_permission
        if not permission or user.has_perm(permission):
            return task
    raise Http404("No such task")
