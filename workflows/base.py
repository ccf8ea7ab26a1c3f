from viewflow.workflow import flow, lock

from accounts.models import Role, department_permission
from core.access import can_view_processes

from .cancel import with_cancel_reasons


def staff(department):
    """The permission that routes a task to a department's queue."""
    return department_permission(department, Role.STAFF)


def manager(department):
    return department_permission(department, Role.MANAGER)


def remember(process, **decisions):
    """Store a step's decisions on the process (process.data) for the gateways that follow
    (`decided`); saved at once when the process already exists."""
    process.data = {**(process.data or {}), **decisions}
    if process.pk:
        process.save(update_fields=["data"])


def decided(key, *values):
    """Gateway predicate: did the step that stored process.data[key] decide one of `values`?"""
    return lambda activation: (activation.process.data or {}).get(key) in values


class QmsFlow(flow.Flow):
    """Base of every procedure flow: PostgreSQL row lock on the process, and access
    by department membership (viewing) and superuser (managing failed jobs)."""

    lock_impl = lock.select_for_update_lock

    class Meta:
        abstract = True

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        with_cancel_reasons(cls)  # no task is cancelled without a reason (workflows.cancel)

    def has_view_permission(self, user, obj=None):
        return can_view_processes(user)

    def has_manage_permission(self, user, obj=None):
        return user.is_authenticated and user.is_superuser

    # --- what a process is about, for the task lists, notifications and e-mails --------------------

    @classmethod
    def subjects(cls, processes):
        """{process pk: one short line naming what the process is about}, in the reader's
        language (e.g. "OR-2026-0003 · 华东电子 · P-1001 精密轴承座 ×500"). Each procedure
        overrides it; it must cost a fixed number of queries however many processes it is
        given, since a task list asks it once per flow for all its rows. A process it cannot
        name yet (e.g. before its start step saved anything) is left out: the lists then show
        the procedure and the process number."""
        return {}

    @classmethod
    def subject(cls, process):
        """The subject of one process, or ""."""
        return cls.subjects([process]).get(process.pk, "")
