from viewflow.workflow import flow, lock

from core.access import can_view_processes


class QmsFlow(flow.Flow):
    """Base of every procedure flow: PostgreSQL row lock on the process, and access
    by department membership (viewing) and superuser (managing failed jobs)."""

    lock_impl = lock.select_for_update_lock

    class Meta:
        abstract = True

    def has_view_permission(self, user, obj=None):
        return can_view_processes(user)

    def has_manage_permission(self, user, obj=None):
        return user.is_authenticated and user.is_superuser
