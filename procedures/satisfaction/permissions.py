"""Who may see and who may change the satisfaction surveys (one rule for the pages and the API):
Market staff and the Market manager work on them (the manager closes and signs); Quality and the
General Manager read them; auditors read what their current grant covers; others see nothing."""
from accounts.models import Department, Role, department_permission
from core.access import can_view_records
from evidence.access import is_auditor
from inbox.delegation import holds_permission

READERS = (Department.MARKET, Department.QUALITY, Department.MANAGEMENT)


def _active(user):
    return bool(user and user.is_authenticated and user.is_active)


def may_work_on(user):
    """Market (staff and manager): plan, responses, import, links, raise from a low indicator."""
    return _active(user) and holds_permission(user, department_permission(Department.MARKET, Role.STAFF))


def may_close(user):
    """The Market manager closes a survey and signs its report."""
    return _active(user) and holds_permission(user, department_permission(Department.MARKET, Role.MANAGER))


def can_view(user):
    if not _active(user):
        return False
    if is_auditor(user):
        return can_view_records(user)
    return user.is_superuser or any(
        holds_permission(user, department_permission(d, Role.STAFF)) for d in READERS)
