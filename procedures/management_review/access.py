"""Who may read the management-review packs (one entry point for the pages, the API and the flow):
the Quality department and general management, auditors while their grant covers the record, and an
action's owner (for their task). Compiling and signing are the flow steps' permissions (flows.py)."""
from accounts.models import Department, Role
from core.access import can_view_records, membership_pairs, records_visible_to
from evidence.access import is_auditor

from .models import ManagementReview

READERS = (Department.QUALITY, Department.MANAGEMENT)


def _member_of(user, departments, role=None):
    return any(department in departments and (not role or held == role)
               for department, held in membership_pairs(user))


def can_read_reviews(user):
    if not user.is_authenticated:
        return False
    if is_auditor(user):
        return can_view_records(user)
    return user.is_superuser or _member_of(user, READERS) or user.review_actions.exists()


def can_compile(user):
    return user.is_authenticated and _member_of(user, [Department.QUALITY], Role.MANAGER)


def visible_reviews(user):
    """The packs `user` may read: every pack for the Quality department and general management, the
    packs an auditor's grant covers, the packs naming an owner's own actions."""
    reviews = ManagementReview.objects.select_related("record", "compiled_by")
    if not user.is_authenticated:
        return reviews.none()
    if is_auditor(user):
        return reviews.filter(record__in=records_visible_to(user))
    if user.is_superuser or _member_of(user, READERS):
        return reviews
    return reviews.filter(actions__owner=user).distinct()
