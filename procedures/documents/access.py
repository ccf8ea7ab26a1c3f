"""Who may see and download what in document control (one entry point).

Auditors (evidence.access) read while their grant is current and never edit (evidence.middleware
refuses their writes): the register, each document's page and the approval matrix; of the files,
the controlled PDFs of released revisions whose revision record their grant covers (its record
types and dates, as in the records registry) — no drafts, no source files."""
from accounts.models import Role, department_permission
from core.access import can_view_processes, can_view_records, records_visible_to
from evidence.access import is_auditor

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


def can_view_documents(user):
    """The register, a document's page and the approval matrix: members, and auditors whose grant is current."""
    if is_auditor(user):
        return can_view_records(user)
    return can_view_processes(user)


def auditor_files(user, files):
    """The pks of `files` an auditor may download: controlled PDFs of released revisions whose
    record the grant covers (one query for all of them)."""
    candidates = [f for f in files if f.kind == RevisionFile.Kind.CONTROLLED and f.revision.status in RELEASED]
    if not candidates or not can_view_records(user):
        return set()
    covered = set(records_visible_to(user).filter(pk__in={f.revision.record_id for f in candidates})
                  .values_list("pk", flat=True))
    return {f.pk for f in candidates if f.revision.record_id in covered}


def downloadable(user, files):
    """The pks of `files` that `user` may download (can_download for each; one query for an auditor)."""
    files = list(files)
    if is_auditor(user):
        return auditor_files(user, files)
    return {f.pk for f in files if can_download(user, f)}


def can_download(user, revision_file):
    """Released controlled PDFs (in force, superseded, obsolete: DOC-5 keeps them
    retrievable, marked) for every member; drafts for the people involved; source
    files for the owner department and Quality. Auditors: see auditor_files."""
    if is_auditor(user):
        return revision_file.pk in auditor_files(user, [revision_file])
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
