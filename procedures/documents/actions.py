"""P4 — control of documents: the business actions. Each runs inside the step
transaction of the document-control flow and leaves a signed record version and
audit entries. Every rule of document control lives here once."""
import datetime

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.utils import timezone
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Membership, Role, User, department_label, department_permission, scheduler_user
from core import audit, records
from core.errors import InvalidInput, NotPermitted, WrongState
from core.i18n import english
from inbox.models import NotificationKind
from inbox.notify import notify
from inbox.signals import process_link

from . import records as record_types
from .access import can_edit_approval_matrix
from .models import (
    OPEN_STATUSES, Acknowledgement, ApprovalRule, ApproverGroup, DepartmentReview, Document, DocumentType,
    PeriodicReview, Revision, RevisionApproval, RevisionFile, RevisionStatus,
)


# --- snapshots -----------------------------------------------------------------------------------


def revision_snapshot(revision):
    document = revision.document
    approvals = list(revision.approvals.select_related("approver"))
    return {
        "record_number": revision.record.number,
        "document": {"number": document.number, "title_zh": document.title_zh, "title_en": document.title_en,
                     "type": document.doc_type, "type_zh": DocumentType(document.doc_type).zh,
                     "type_en": english(document.get_doc_type_display()),
                     "owner_department": document.owner_department,
                     "owner": department_label(document.owner_department),
                     "review_interval_months": document.review_interval_months,
                     "retention_years": document.retention_years, "distribution": document.distribution,
                     "external_issuer": document.external_issuer, "language": document.language,
                     "medium": document.medium},
        "revision": revision.label,
        "status": revision.status,
        "withdrawal": revision.withdrawal,
        "change_reason": revision.change_reason,
        "raised_from": revision.raised_from.number if revision.raised_from_id else None,
        "change_summary": revision.change_summary,
        "effective_date": revision.effective_date,
        "author": revision.author.printed_name if revision.author_id else "",
        "files": [{"kind": f.kind, "name": f.original_name, "size": f.size, "sha256": f.sha256}
                  for f in revision.files.all()],
        "reviews": [{"round": r.round, "department": r.department, "department_label": department_label(r.department),
                     "accepted": r.accepted, "comment": r.comment, "reviewer": r.reviewer.printed_name,
                     "reviewed_at": r.reviewed_at} for r in revision.reviews.select_related("reviewer")],
        "approved_by": revision.approved_by.printed_name if revision.approved_by_id else "",
        "approved_at": revision.approved_at,
        "effective_at": revision.effective_at,
        "ended_at": revision.ended_at,
        # a group approval (quorum rule): every approver's signed decision; absent for a single approver
        **({"approvals": [{"round": a.round, "approver": a.approver.printed_name,
                           "decision": "approved" if a.approved else "rejected",
                           "effective_date": a.effective_date, "comment": a.comment, "signed_at": a.signed_at}
                          for a in approvals]}
           if approvals else {}),
    }


def _version(revision, actor, reason):
    return records.add_version(revision.record, actor=actor, data=revision_snapshot(revision), reason=reason,
                               status=revision.status)


# --- labels ---------------------------------------------------------------------------------------------


def next_label(document):
    """A/0 for the first revision, then A/1, A/2 … (the letter changes with a re-issue,
    not handled automatically)."""
    last = document.revisions.exclude(status=RevisionStatus.CANCELLED).order_by("-sequence").first()
    if last is None:
        return "A/0"
    letter, number = last.label.split("/") if "/" in last.label else (last.label, "0")
    return f"{letter}/{int(number) + 1}"


def _open_revision(document, *, actor, reason, withdrawal, process):
    if document.revisions.filter(status__in=OPEN_STATUSES).exists():
        open_revision = document.revisions.get(status__in=OPEN_STATUSES)
        raise WrongState(_("Revision %(label)s of this document is already %(status)s; finish it first.")
                         % {"label": open_revision.label, "status": open_revision.get_status_display()},
                         current_state=open_revision.status)
    if withdrawal and document.effective_revision() is None:
        raise WrongState(_("Only a document in force can be withdrawn."))
    sequence = (document.revisions.order_by("-sequence").values_list("sequence", flat=True).first() or 0) + 1
    record = records.create_record(
        record_types.DOCUMENT_REVISION.code, actor=actor, status=RevisionStatus.DRAFT,
        title=f"{document.number} {document.title_zh} {document.title_en}", process=process,
        search_text=f"{document.number} {document.title_zh} {document.title_en}", reason="change requested",
    )
    revision = Revision.objects.create(
        document=document, label=next_label(document), sequence=sequence, withdrawal=withdrawal,
        change_reason=reason, record=record, process=process, author=actor,
    )
    audit.log("document.change_requested", revision, actor=actor, record=record, process_id=process.pk,
              new={"document": document.number, "revision": revision.label, "withdrawal": withdrawal}, reason=reason)
    _version(revision, actor, "change requested")
    return revision


def request_change(document, *, actor, reason, withdrawal=False, process, raised_from=None):
    """A change request with its reason opens the next revision as a draft (DOC-10).
    `raised_from` is the record that asked for it (a CAPA's D7), linked both ways."""
    if not reason or not reason.strip():
        raise InvalidInput(_("A reason is required."), field_errors={"reason": [_("Required.")]})
    revision = _open_revision(document, actor=actor, reason=reason, withdrawal=withdrawal, process=process)
    if raised_from is not None:
        revision.raised_from = raised_from
        revision.save(update_fields=["raised_from"])
        _version(revision, actor, f"raised from {raised_from.number}")
        audit.log("document.change_raised_from", revision, actor=actor, record=raised_from,
                  new={"document": document.number, "revision": revision.label, "from": raised_from.number})
    return revision


def register_document(*, actor, data, process):
    """A new controlled document: registered with its first revision A/0 as a draft."""
    document = Document.objects.create(
        number=data["number"], title_zh=data["title_zh"], title_en=data["title_en"], doc_type=data["doc_type"],
        owner_department=data["owner_department"], review_interval_months=data["review_interval_months"],
        retention_years=data["retention_years"], distribution=list(data.get("distribution") or []),
        external_issuer=data.get("external_issuer", ""),
        governs_record_type=data.get("governs_record_type", ""), governs_flow=data.get("governs_flow", ""),
    )
    audit.log("document.registered", document, actor=actor, process_id=process.pk,
              new={"number": document.number, "type": document.doc_type, "owner": document.owner_department})
    return _open_revision(document, actor=actor, reason=data["reason"], withdrawal=False, process=process)


# --- edit -----------------------------------------------------------------------------------------------


def submit_draft(revision, *, actor, data, sign):
    """The author uploads the controlled PDF (and sources), states what changed and the
    proposed effective date, and sends the draft to review."""
    if revision.status != RevisionStatus.DRAFT:
        raise WrongState(_("Only a draft can be edited."), current_state=revision.status)
    document = revision.document
    if data.get("pdf"):
        revision.files.filter(kind=RevisionFile.Kind.CONTROLLED).delete()
        upload, content_type, sha256 = data["pdf"]
        RevisionFile.store(upload, content_type=content_type, sha256=sha256, uploaded_by=actor, revision=revision,
                           kind=RevisionFile.Kind.CONTROLLED)
    for upload, content_type, sha256 in data.get("sources") or []:
        RevisionFile.store(upload, content_type=content_type, sha256=sha256, uploaded_by=actor, revision=revision,
                           kind=RevisionFile.Kind.SOURCE)
    if not revision.withdrawal and not revision.files.filter(kind=RevisionFile.Kind.CONTROLLED).exists():
        raise InvalidInput(_("Upload the controlled PDF of this revision."), field_errors={"pdf": [_("Required.")]})
    if data.get("distribution"):  # left empty: the distribution stays as it was
        document.distribution = list(data["distribution"])
        document.save(update_fields=["distribution"])
    revision.change_summary = data["change_summary"]
    revision.effective_date = data["effective_date"]
    revision.author = actor  # who prepared the draft (may not approve it)
    revision.status = RevisionStatus.IN_REVIEW
    revision.save()
    version = _version(revision, actor, "submitted for review")
    sign(version, role=department_label(document.owner_department))
    audit.log("document.submitted", revision, actor=actor, record=revision.record,
              process_id=revision.process_id, new={"effective_date": revision.effective_date})


def abandon_draft(revision, *, actor, reason):
    if revision.status not in (RevisionStatus.DRAFT, RevisionStatus.IN_REVIEW):
        raise WrongState(_("Only a draft can be abandoned."), current_state=revision.status)
    revision.status = RevisionStatus.CANCELLED
    revision.save(update_fields=["status"])
    _version(revision, actor, f"abandoned: {reason}")
    audit.log("document.change_abandoned", revision, actor=actor, record=revision.record,
              process_id=revision.process_id, reason=reason)


# --- review and approval (DOC-3, DOC-4) -------------------------------------------------------------------


def approval_rule(document):
    rule = ApprovalRule.objects.filter(document_type=document.doc_type).first()
    if rule is None:
        raise WrongState(_("No approval rule for %(type)s documents: the Quality manager must set one.")
                         % {"type": document.get_doc_type_display()})
    return rule


def reviewing_departments(revision):
    return list(approval_rule(revision.document).reviewing_departments)


def review_round(revision):
    return revision.record.versions.filter(reason="submitted for review").count()


def record_review(revision, *, department, actor, accepted, comment, sign):
    if revision.status != RevisionStatus.IN_REVIEW:
        raise WrongState(_("The revision is not in review."), current_state=revision.status)
    if not accepted and not comment.strip():
        raise InvalidInput(_("Say what must change."), field_errors={"comment": [_("Required to send it back.")]})
    rnd = review_round(revision)
    review = DepartmentReview(revision=revision, round=rnd, department=department, accepted=accepted,
                              comment=comment, reviewer=actor, reviewed_at=timezone.now())
    snapshot = revision_snapshot(revision)
    snapshot["reviews"].append({"round": rnd, "department": department, "department_label": department_label(department),
                                "accepted": accepted, "comment": comment, "reviewer": actor.printed_name,
                                "reviewed_at": review.reviewed_at})
    version = records.add_version(revision.record, actor=actor, data=snapshot, reason=f"reviewed by {department}")
    review.signature = sign(version, role=department_label(department))
    review.save()
    audit.log("document.reviewed", review, actor=actor, record=revision.record, process_id=revision.process_id,
              new={"department": department, "accepted": accepted, "round": rnd}, reason=comment)
    return review


def reviews_accepted(revision):
    rnd = review_round(revision)
    return all(r.accepted for r in revision.reviews.filter(round=rnd))


def back_to_draft(revision, *, actor=None):
    revision.status = RevisionStatus.DRAFT
    revision.save(update_fields=["status"])
    _version(revision, actor or revision.author, "sent back to the author")


def approver_permission(revision):
    rule = approval_rule(revision.document)
    return department_permission(rule.approver_department, rule.approver_role)


def approver_seats(revision):
    """DOC-3/DOC-4: who is asked to approve, per the approval matrix — one queue seat (a
    single approver holding the role), or one seat per person of the group (the members
    holding the role, or the managers of every department in the distribution). The
    author is never asked (no self-approval). Returns (seats, approvals needed or None
    for all, whether a rejection ends it)."""
    rule = approval_rule(revision.document)
    if rule.approver_group == ApproverGroup.ROLE:
        return [{"permission": approver_permission(revision), "label": department_label(rule.approver_department),
                 "department": rule.approver_department}], None, True
    if rule.approver_group == ApproverGroup.MEMBERS:
        pairs = [(rule.approver_department, rule.approver_role)]
    else:
        pairs = [(department, Role.MANAGER) for department in revision.document.distribution]
    seats, seen = [], {revision.author_id}
    for department, role in pairs:
        for user in User.objects.filter(is_active=True, memberships__department=department,
                                        memberships__role=role).distinct().order_by("pk"):
            if user.pk not in seen:
                seen.add(user.pk)
                seats.append({"user": user.pk, "label": user.printed_name, "department": department,
                              "permission": department_permission(department, role)})
    return seats, rule.approvals_needed, rule.rejection_ends


def self_approval_reason(revision, user):
    if revision.author_id == user.pk:
        return _("You wrote this revision; another approver must sign it.")
    return None


def decide(revision, *, actor, meaning, reason, effective_date, sign, department=None):
    """DOC-3: approval (signed) fixes the effective date; rejection (with a reason)
    sends the draft back to its author. `department`: the approver's department the seat was
    asked of (approver_seats), which the signature's role names; without it (a seat from before
    seats named it), the approval matrix's as it is now."""
    if revision.status != RevisionStatus.IN_REVIEW:
        raise WrongState(_("The revision is not in review."), current_state=revision.status)
    if self_approval_reason(revision, actor):
        raise NotPermitted(self_approval_reason(revision, actor))
    role = department_label(department or approval_rule(revision.document).approver_department)
    if meaning == "approved":
        if effective_date < timezone.localdate():
            raise InvalidInput(_("The effective date is in the past."),
                               field_errors={"effective_date": [_("Choose today or a later date.")]})
        revision.status = RevisionStatus.APPROVED
        revision.effective_date = effective_date
        revision.approved_by, revision.approved_at = actor, timezone.now()
        revision.save()
        sign(_version(revision, actor, "approved"), role=role)
    else:
        revision.status = RevisionStatus.DRAFT
        revision.save(update_fields=["status"])
        sign(_version(revision, actor, f"rejected: {reason}"), role=role)
    audit.log("document.decided", revision, actor=actor, record=revision.record, process_id=revision.process_id,
              new={"decision": meaning, "effective_date": revision.effective_date}, reason=reason)


def sign_group_approval(revision, *, actor, meaning, reason, effective_date, sign, outcome, department):
    """DOC-3 with a group rule: one approver of the group signs their decision. The
    signature is bound to a version that already shows it. `outcome` is the quorum's
    state counting this signature (workflows/quorum.py): when it settles the approval,
    the revision is approved (effective on the latest date the approvers chose) or goes
    back to its author, in the same version."""
    if revision.status != RevisionStatus.IN_REVIEW:
        raise WrongState(_("The revision is not in review."), current_state=revision.status)
    if self_approval_reason(revision, actor):
        raise NotPermitted(self_approval_reason(revision, actor))
    approved = meaning == "approved"
    if approved and effective_date < timezone.localdate():
        raise InvalidInput(_("The effective date is in the past."),
                           field_errors={"effective_date": [_("Choose today or a later date.")]})
    rnd = review_round(revision)
    if revision.approvals.filter(round=rnd, approver=actor).exists():
        raise WrongState(_("You have already signed this approval."))
    approval = RevisionApproval.objects.create(
        revision=revision, round=rnd, approver=actor, approved=approved,
        effective_date=effective_date if approved else None, comment=reason or "", signed_at=timezone.now())
    version_reason = f"{meaning} by {actor.printed_name} ({len(outcome.approvers)} of {outcome.policy.needed(outcome.n)})"
    if outcome.approved:
        dates = revision.approvals.filter(round=rnd, approved=True).values_list("effective_date", flat=True)
        revision.status = RevisionStatus.APPROVED
        revision.effective_date = max(d for d in dates if d)
        revision.approved_by, revision.approved_at = actor, timezone.now()
        revision.save()
        version_reason = "approved"
    elif outcome.rejected:
        revision.status = RevisionStatus.DRAFT
        revision.save(update_fields=["status"])
        version_reason = f"rejected: {reason}"
    role = department_label(department)
    approval.signature = sign(_version(revision, actor, version_reason), role=role)
    approval.save(update_fields=["signature"])
    audit.log("document.approval_signed", approval, actor=actor, record=revision.record,
              process_id=revision.process_id,
              new={"decision": meaning, "round": rnd, "effective_date": approval.effective_date,
                   "quorum": outcome.status}, reason=reason)
    if outcome.decided:
        audit.log("document.decided", revision, actor=actor, record=revision.record, process_id=revision.process_id,
                  new={"decision": outcome.status, "effective_date": revision.effective_date,
                       "approvers": [s["name"] for s in outcome.approvers]}, reason=reason)
    return approval


def effective_moment(revision):
    """Local midnight of the effective date: the moment the flow's timer fires."""
    tz = timezone.get_current_timezone()
    return datetime.datetime.combine(revision.effective_date, datetime.time.min, tzinfo=tz)


# --- taking effect (DOC-5), distribution and acknowledgement (DOC-7) -------------------------------------


def take_effect(revision, *, now=None):
    """Run by the flow on the effective date. The previous effective revision becomes
    SUPERSEDED (or, for a withdrawal, the document's revision becomes OBSOLETE).
    Refuses a revision that was not approved."""
    now = now or timezone.now()
    if revision.status != RevisionStatus.APPROVED or not revision.approved_by_id:
        raise WrongState(_("A revision takes effect only after its approval is recorded."),
                         current_state=revision.status)
    document = revision.document
    current = document.revisions.filter(status=RevisionStatus.EFFECTIVE).first()
    system = scheduler_user()  # the flow makes it take effect on its date, no person: the record says "System"
    if current is not None:
        current.status = RevisionStatus.OBSOLETE if revision.withdrawal else RevisionStatus.SUPERSEDED
        current.ended_at = now
        current.save(update_fields=["status", "ended_at"])
        _version(current, system, f"{current.status} by {revision.label}")
        audit.log("document.superseded" if not revision.withdrawal else "document.withdrawn", current,
                  record=current.record, new={"status": current.status, "by": revision.label})
    if revision.withdrawal:
        revision.status = RevisionStatus.OBSOLETE
        document.next_review_due = None
    else:
        revision.status = RevisionStatus.EFFECTIVE
        document.next_review_due = revision.effective_date + relativedelta(months=document.review_interval_months)
    revision.effective_at = now
    revision.save(update_fields=["status", "effective_at"])
    document.save(update_fields=["next_review_due"])
    _version(revision, system, "in force" if not revision.withdrawal else "withdrawn")
    audit.log("document.effective" if not revision.withdrawal else "document.obsolete", revision,
              record=revision.record, new={"status": revision.status, "effective_at": now})


def distribution_users(document):
    """Everyone active in the distribution departments (DOC-7)."""
    return list(User.objects.filter(is_active=True, memberships__department__in=document.distribution)
                .distinct().order_by("username"))


def open_acknowledgements(revision):
    """Acknowledgement rows for the distribution; returns the task data for the flow."""
    if revision.status != RevisionStatus.EFFECTIVE:
        return []
    due = timezone.localdate() + datetime.timedelta(days=settings.QMS["ACKNOWLEDGE_WITHIN_DAYS"])
    items = []
    for user in distribution_users(revision.document):
        ack, _created = Acknowledgement.objects.get_or_create(revision=revision, user=user,
                                                              defaults={"due_date": due})
        items.append({"acknowledgement": ack.pk, "user": user.pk})
    audit.log("document.distributed", revision, record=revision.record,
              new={"users": [i["user"] for i in items], "due": due})
    return items


def acknowledge(ack, *, actor, sign):
    if ack.user_id != actor.pk:
        raise NotPermitted(_("Only the person it is addressed to can acknowledge it."))
    if ack.acknowledged_at:
        raise WrongState(_("Already acknowledged."))
    ack.acknowledged_at = timezone.now()
    version = ack.revision.record.get_version()
    ack.signature = sign(version, role=_user_role(actor))
    ack.save(update_fields=["acknowledged_at", "signature"])
    audit.log("document.acknowledged", ack, actor=actor, record=ack.revision.record,
              new={"revision": ack.revision.label})


def _user_role(user):
    memberships = list(Membership.objects.filter(user=user).order_by("department"))
    return ", ".join(department_label(m.department) for m in memberships) or user.printed_name


def acknowledgement_matrix(revision):
    """Rows (user, due, acknowledged_at) for everyone asked to read this revision."""
    return list(revision.acknowledgements.select_related("user").order_by("user__username"))


def overdue_acknowledgements(today=None):
    today = today or timezone.localdate()
    return Acknowledgement.objects.filter(acknowledged_at__isnull=True, due_date__lt=today,
                                          revision__status=RevisionStatus.EFFECTIVE)


# --- periodic review (DOC-14) -------------------------------------------------------------------------------


def documents_due_for_review(today=None):
    """Documents in force whose periodic review falls due within the lead time and
    that have no review or change under way."""
    today = today or timezone.localdate()
    horizon = today + datetime.timedelta(days=settings.QMS["PERIODIC_REVIEW_LEAD_DAYS"])
    busy = Revision.objects.filter(status__in=OPEN_STATUSES).values("document")
    return (Document.objects.filter(next_review_due__lte=horizon, revisions__status=RevisionStatus.EFFECTIVE)
            .exclude(pk__in=busy)
            .exclude(pk__in=PeriodicReview.objects.filter(closed_at__isnull=True).values("document"))
            .distinct())


def open_periodic_review(document):
    """DOC-14: a periodic review of `document` is opened (by the beat job)."""
    review = PeriodicReview.objects.create(document=document, due_date=document.next_review_due)
    audit.log("document.periodic_review_opened", review, new={"document": document.number,
                                                              "due": document.next_review_due})
    return review


def conclude_periodic_review(review, *, actor, outcome, comment, sign, process):
    """'No change': signed, next date set. 'Change': a change request opens the next
    revision as a draft (returned)."""
    document = review.document
    revision = document.effective_revision()
    review.outcome, review.comment, review.reviewer, review.closed_at = outcome, comment, actor, timezone.now()
    review.save()
    if outcome == "change":
        sign(revision.record.get_version(), role=department_label(document.owner_department))
        return request_change(document, actor=actor, reason=comment, process=process)
    if outcome == "no_change":
        document.next_review_due = timezone.localdate() + relativedelta(months=document.review_interval_months)
        document.save(update_fields=["next_review_due"])
        snapshot = revision_snapshot(revision)
        snapshot["periodic_review"] = {"outcome": "no_change", "comment": comment, "reviewer": actor.printed_name,
                                       "next_review_due": document.next_review_due}
        version = records.add_version(revision.record, actor=actor, data=snapshot, reason="periodic review: no change")
        sign(version, role=department_label(document.owner_department))
        audit.log("document.periodic_review", document, actor=actor, record=revision.record,
                  new={"outcome": outcome, "next_review_due": document.next_review_due}, reason=comment)
        return None



# --- approval matrix (DOC-4) --------------------------------------------------------------------------------


RULE_FIELDS = ["reviewing_departments", "approver_department", "approver_role", "approver_group", "approvals_needed",
               "rejection_ends"]


def update_approval_rule(rule, *, actor, reviewing_departments, approver_department, approver_role, reason,
                         approver_group=None, approvals_needed=None, rejection_ends=None):
    """The Quality manager edits the matrix; the change is audited with old and new values.
    A rule names one approver holding a role (the default) or a group with a quorum:
    every member holding the role, or the managers of the distribution; all of them or
    `approvals_needed` of them must approve (workflows/quorum.py)."""
    if not can_edit_approval_matrix(actor):
        raise NotPermitted(_("Only the Quality manager edits the approval matrix."))
    if not reviewing_departments:
        raise InvalidInput(_("Name at least one reviewing department."),
                           field_errors={"reviewing_departments": [_("Required.")]})
    if not (reason or "").strip():
        raise InvalidInput(_("A reason is required."), field_errors={"reason": [_("Required.")]})
    group = approver_group or rule.approver_group
    if group not in ApproverGroup.values:
        raise InvalidInput(_("Choose who approves."), field_errors={"approver_group": [_("Not a valid choice.")]})
    if approvals_needed in ("", None) or group == ApproverGroup.ROLE:
        approvals_needed = None
    else:
        try:
            approvals_needed = int(approvals_needed)
        except (TypeError, ValueError):
            approvals_needed = 0
        if approvals_needed < 1:
            raise InvalidInput(_("Approvals needed must be a whole number of at least 1 (empty: all)."),
                               field_errors={"approvals_needed": [_("At least 1, or empty for all.")]})
        if group == ApproverGroup.MEMBERS:
            size = User.objects.filter(is_active=True, memberships__department=approver_department,
                                       memberships__role=approver_role).distinct().count()
            if approvals_needed > size:
                raise InvalidInput(
                    _("Only %(n)s people hold this role: %(k)s approvals can never be reached.")
                    % {"n": size, "k": approvals_needed},
                    field_errors={"approvals_needed": [_("At most %(n)s.") % {"n": size}]})
    old = {name: getattr(rule, name) for name in RULE_FIELDS}
    rule.reviewing_departments = sorted(set(reviewing_departments))
    rule.approver_department, rule.approver_role = approver_department, approver_role
    rule.approver_group, rule.approvals_needed = group, approvals_needed
    if rejection_ends is not None and not isinstance(rejection_ends, bool):
        raise InvalidInput(_("Say yes or no."), field_errors={"rejection_ends": [_("Must be true or false.")]})
    if rejection_ends is not None:
        rule.rejection_ends = rejection_ends
    rule.save()
    new = {name: getattr(rule, name) for name in RULE_FIELDS}
    audit.log("document.approval_rule_changed", rule, actor=actor, old=old, new=new, reason=reason)
    return rule


def record_download(revision_file, *, user):
    audit.log("document.downloaded", revision_file, actor=user, record=revision_file.revision.record,
              new={"document": revision_file.revision.document.number, "revision": revision_file.revision.label,
                   "status": revision_file.revision.status, "kind": revision_file.kind})


ACK_REMINDER_TITLE = gettext_lazy("Please read and acknowledge %(doc)s revision %(rev)s")
ACK_REMINDER_BODY = gettext_lazy("%(doc)s %(title)s revision %(rev)s has been in force since %(date)s. "
                                 "Please read it and acknowledge it in your inbox (due %(due)s).")


def remind_overdue_acknowledgements(*, every_days=7, now=None):
    """DOC-7: remind each person whose read-and-acknowledge is overdue, at most once every
    `every_days` per acknowledgement, through the notification centre (in-app and e-mail as the
    person chose, in their language); each reminder is audited. Returns how many were sent."""
    now = now or timezone.now()
    sent = 0
    for ack in overdue_acknowledgements().select_related("user", "revision__document", "revision__record"):
        if ack.last_reminded_at and (now - ack.last_reminded_at).days < every_days:
            continue
        revision = ack.revision
        params = {"doc": revision.document.number, "title": revision.document.title, "rev": revision.label,
                  "date": revision.effective_date, "due": ack.due_date}
        with transaction.atomic():
            notify(ack.user, NotificationKind.REMINDER, ACK_REMINDER_TITLE, ACK_REMINDER_BODY, params,
                   link=process_link(revision.record.process) if revision.record.process_id else "",
                   process=revision.record.process if revision.record.process_id else None)
            ack.last_reminded_at = now
            ack.save(update_fields=["last_reminded_at"])
            audit.log("document.acknowledgement_reminded", ack, record=revision.record,
                      new={"user": ack.user.username, "due": ack.due_date})
        sent += 1
    return sent
