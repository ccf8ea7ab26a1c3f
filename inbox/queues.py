"""Queues: which open tasks a person may claim, and the process lock under which a task is
claimed, released, completed or reassigned."""
from contextlib import contextmanager

from django.utils.translation import gettext as _
from viewflow.workflow.exceptions import FlowLockFailed
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from accounts.backends import department_permissions
from core.errors import WrongState


def queue_for(user, flow_classes, tasks=None):
    """The tasks `user` may claim (of `tasks`, default all): open, unclaimed, in a queue
    whose permission they hold through a membership. A task without a queue is never in
    anyone's queue."""
    tasks = Task.objects.all() if tasks is None else tasks
    return tasks.filter(flow_task_type="HUMAN", status=STATUS.NEW, owner__isnull=True,
                        owner_permission__in=sorted(department_permissions(user)),
                        process__flow_class__in=flow_classes)


@contextmanager
def flow_lock(flow_class, process_pk):
    """The flow's lock on the process. A process still locked after viewflow's
    retries is reported as WrongState (409: try again), not as a server error."""
    try:
        with flow_class.lock(process_pk):
            yield
    except FlowLockFailed as exc:
        raise WrongState(_("Someone else is working on this process right now. Please try again.")) from exc


# --- claiming and releasing from the lists ----------------------------------------------------------
# The rule of who may claim or release a task, and the audit of it, are the engine's
# (workflows.actions.claim_task / release_task). The inbox sits below the engine in the import
# layers, so the engine hands its two actions over when it starts (WorkflowsConfig.ready()).

_TASK_ACTIONS = {}


def register_task_actions(*, claim, release):
    _TASK_ACTIONS.update(claim=claim, release=release)


def claim(task, *, actor):
    """Claim `task` for `actor` (workflows.actions.claim_task): NotPermitted or WrongState if not."""
    return _TASK_ACTIONS["claim"](task, actor=actor)


def release(task, *, actor):
    """Give `task` back (workflows.actions.release_task): NotPermitted or WrongState if not."""
    return _TASK_ACTIONS["release"](task, actor=actor)
