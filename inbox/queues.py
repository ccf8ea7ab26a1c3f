"""Queues: which open tasks a person may claim, and the process lock under which a task is
claimed, released, completed or reassigned."""
import random
import time
from contextlib import contextmanager
from functools import lru_cache

from django.db import DatabaseError, transaction
from django.db.models import Exists, F, OuterRef
from django.utils.translation import gettext as _
from viewflow.workflow.base import Flow
from viewflow.workflow.exceptions import FlowLockFailed
from viewflow.workflow.fields import get_task_ref
from viewflow.workflow.lock import SelectForUpdateLock, lock_scope
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from accounts.backends import department_permissions
from core.errors import WrongState
from core.lookups import AnyOf

from .models import TaskDraft


#: a task still to be done: waiting in a queue or an inbox, or being worked on (the one spelling of it)
OPEN_TASK_STATUSES = (STATUS.NEW, STATUS.ASSIGNED, STATUS.STARTED)


@lru_cache(maxsize=32)
def _task_refs(flow_classes):
    return sorted({get_task_ref(node) for flow_class in flow_classes for node in flow_class.instance.nodes()})


def task_refs(flow_classes):
    """The stored references (Task.flow_task) of every node of `flow_classes`: from the code,
    never from the data."""
    return _task_refs(tuple(flow_classes))


def of_flows(tasks, flow_classes):
    """The tasks of `tasks` that belong to one of `flow_classes`. The same rows as
    `process__flow_class__in=flow_classes` (a task's node belongs to its process's flow), but
    read from the task's own row: no join with the process table on every list and count, and
    the task lists' partial indexes (workflows migration 0007) serve it."""
    return tasks.filter(AnyOf(F("flow_task"), task_refs(flow_classes)))  # one parameter (core.lookups)


def queue_for(user, flow_classes, tasks=None):
    """The tasks `user` may claim (of `tasks`, default all): open, unclaimed, in a queue
    whose permission they hold through a membership. A task without a queue is never in
    anyone's queue."""
    tasks = Task.objects.all() if tasks is None else tasks
    return of_flows(tasks.filter(flow_task_type="HUMAN", status=STATUS.NEW, owner__isnull=True,
                                 owner_permission__in=sorted(department_permissions(user))), flow_classes)


@contextmanager
def flow_lock(flow_class, process_pk):
    """The flow's lock on the process. A process still locked after viewflow's
    retries is reported as WrongState (409: try again), not as a server error."""
    try:
        with flow_class.lock(process_pk):
            yield
    except FlowLockFailed as exc:
        raise WrongState(_("Someone else is working on this process right now. Please try again.")) from exc


class _TaskRowLock(SelectForUpdateLock):
    """viewflow's SelectForUpdateLock (the same process row, the same attempts and waits between them), whose
    locking statement also re-reads the task with its process: `SELECT task.*, process.* … FOR UPDATE OF task,
    process NOWAIT` where viewflow's is `SELECT 1 FROM process … FOR UPDATE NOWAIT`. The task row is locked
    too so that PostgreSQL returns its newest committed version: a row the statement only joins is read as it
    was when the statement began, and a step that committed between that moment and the lock would be read as
    not yet done. The loop is viewflow's own.

    For a completion (`drafts`), the same statement tells whether the task has saved drafts
    (`task._qms_has_drafts`), which a completed step deletes (inbox.drafts.drafts_completed: no DELETE when
    there are none). A draft is saved under the task row's lock (inbox.drafts.save_draft), and NOWAIT means
    this statement never waits for it: a draft committed before the statement began is seen, one saved after
    the lock finds the task done; one committed in the instant between the two (PostgreSQL) stays behind the
    done task, unused."""

    def __init__(self, task, lock_impl, drafts=False):
        super().__init__(nowait=lock_impl.nowait, attempts=lock_impl.attempts)
        self.task = task
        self.drafts = drafts

    @contextmanager
    def __call__(self, flow_class, process_pk):
        task = self.task
        locking = type(task)._base_manager.select_related("process").select_for_update(
            nowait=self.nowait, of=("self", "process"))
        if self.drafts:
            locking = locking.annotate(qms_has_drafts=Exists(TaskDraft.objects.filter(task=OuterRef("pk"))))
        for attempt in range(self.attempts):
            with transaction.atomic():
                try:
                    if self.drafts:
                        _reread(task, locking)
                    else:
                        task.refresh_from_db(from_queryset=locking)
                except DatabaseError:
                    if attempt != self.attempts - 1:
                        time.sleep((((attempt + 1) * random.random()) + 2 ** attempt) / 2.5)
                    else:
                        raise FlowLockFailed(f"Lock failed for {flow_class}") from None
                else:
                    yield
                    break


def _reread(task, queryset):
    """task.refresh_from_db(from_queryset=queryset) for a queryset with select_related("process") and the
    qms_has_drafts annotation, which refresh_from_db would drop: every field, the process read with it, no
    other cached relation or prefetch kept."""
    fresh = queryset.get(pk=task.pk)
    for field in type(task)._meta.concrete_fields:
        task.__dict__[field.attname] = fresh.__dict__[field.attname]
    task._state.fields_cache = dict(fresh._state.fields_cache)  # the process; every other relation read again
    task._prefetched_objects_cache = {}
    task._state.db, task._state.adding = fresh._state.db, False
    task._qms_has_drafts = fresh.qms_has_drafts


@contextmanager
def task_lock(task, *, drafts=False):
    """The flow lock on `task`'s process (`flow_lock`), taken by the statement that re-reads the task and its
    process (a replay may have raced us): one statement where the lock and the re-read took two. For a flow
    whose lock is not exactly viewflow's row lock (another lock, a subclass of it, its own `lock()`), that lock
    and then the re-read. `drafts`: a completion, which asks whether the task has drafts in the same statement."""
    flow_class = task.flow_task.flow_class
    if type(flow_class.lock_impl) is not SelectForUpdateLock or flow_class.lock.__func__ is not Flow.lock.__func__:
        with flow_lock(flow_class, task.process_id):
            task.refresh_from_db(from_queryset=type(task)._base_manager.select_related("process"))
            yield
        return
    try:
        with lock_scope(_TaskRowLock(task, flow_class.lock_impl, drafts), flow_class, task.process_id):
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
