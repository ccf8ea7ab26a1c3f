"""Who may see and download what in document control (one entry point)."""
from accounts.models import Role, department_permission
from core.access import can_view_processes

from .models import ApprovalRule, RevisionFile, RevisionStatus

RELEASED = [RevisionStatus.EFFECTIVE, RevisionStatus.SUPERSEDED, RevisionStatus.OBSOLETE]


def involved_departments(revision):
    rule = ApprovalRule.objects.filter(document_type=revision.document.doc_type).first()
    departments = {revision.document.owner_department, "quality"}
    if rule is not None:
        departments |= set(rule.reviewing_departments) | {rule.approver_department}
        if rule.approver_group == "distribution_managers":  # the managers who approve it
            departments |= set(revision.document.distribution)
    return departments


def _in_any(user, departments):
    return any(user.has_perm(department_permission(d, Role.STAFF)) for d in departments)


def can_download(user, revision_file):
    """Released controlled PDFs (in force, superseded, obsolete: DOC-5 keeps them
    retrievable, marked) for every member; drafts for the people involved; source
    files for the owner department and Quality."""
    if not can_view_processes(user):
        return False
    revision = revision_file.revision
    if revision_file.kind == RevisionFile.Kind.SOURCE:
        return user.is_superuser or _in_any(user, {revision.document.owner_department, "quality"})
    if revision.status in RELEASED:
        return True
    return user.is_superuser or _in_any(user, involved_departments(revision))


def can_edit_approval_matrix(user):
    return user.is_superuser or user.has_perm(department_permission("quality", Role.MANAGER))
