"""P5 — CR-5 change of an approved requirement (需求变更): the business actions of the
RequirementChangeFlow. Market requests the change (old → new of the fields it alters, with a
reason), the departments concerned review it again (signed), the approver decides (signed);
an approved change alters the requirement and re-classifies its priority, a rejected one
leaves it as it was. Every step stores a new version of the requirement's record, whose
snapshot carries the whole change history."""
import datetime

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import GENERAL_MANAGER_PERMISSION, Department, department_label, scheduler_user
from core import audit, records
from core.errors import InvalidInput, NotPermitted, WrongState

from . import actions as p5
from .models import (
    CHANGEABLE_FIELDS,
    OPEN_CHANGE_STATUSES,
    OPEN_STATUSES,
    ChangeStatus,
    RequirementChange,
    RequirementChangeReview,
    RequirementType,
)
from .records import requirement_snapshot


def _new_version(req, actor, reason, **extra):
    return records.add_version(req.record, actor=actor, data=requirement_snapshot(req, **extra), reason=reason,
                               status=req.status)


def _log(event, change, actor, reason="", **new):
    req = change.requirement
    audit.log(f"requirement.{event}", change, actor=actor, record=req.record, process_id=req.record.process_id,
              new={"change": change.number, **new}, reason=reason)


def open_change(req):
    return req.changes.filter(status__in=OPEN_CHANGE_STATUSES).first()


def changeable_reason(req):
    """None when a change may be requested for `req`, else why not."""
    if req.status not in OPEN_STATUSES:
        return _("Only an approved requirement or one in implementation can be changed.")
    if open_change(req) is not None:
        return _("This requirement already has a change in review; decide that one first.")
    return None


def current_values(req):
    return {name: (list(req.review_departments) if name == "review_departments" else getattr(req, name))
            for name in CHANGEABLE_FIELDS}


def _differences(req, data):
    """{field: [old, new]} of the fields `data` proposes a different value for (absent, None,
    empty text or no departments means unchanged)."""
    old = current_values(req)
    changes = {}
    for name in CHANGEABLE_FIELDS:
        new = data.get(name)
        if isinstance(new, str):
            new = new.strip()
        elif name == "review_departments" and new:
            new = sorted(set(new))
        if new in (None, "", []):
            continue
        if new != old[name]:
            changes[name] = [old[name], new]
    return changes


def request_change(*, process, actor, data, sign):
    """CR-5: Market asks to change an approved requirement. Only one change is open at a time
    (409); a change that alters nothing is refused (400)."""
    req = data["requirement"]
    req = type(req).objects.select_for_update().select_related("record").get(pk=req.pk)
    reason = changeable_reason(req)
    if reason:
        raise WrongState(reason, current_state=req.status)
    if not (data.get("reason") or "").strip():
        raise InvalidInput(_("Give the reason for the change."), field_errors={"reason": [_("Required.")]})
    changes = _differences(req, data)
    errors = {}
    if not changes:
        errors["non_field_errors"] = [_("The change alters nothing: give at least one new value.")]
    due = changes.get("due_date", [None, None])[1]
    if due is not None and due < timezone.localdate():
        errors["due_date"] = [_("The due date is in the past.")]
    if errors:
        raise InvalidInput(_("The change request is incomplete."), field_errors=errors)
    departments = changes.get("review_departments", [None, req.review_departments])[1]
    if not departments:
        raise InvalidInput(_("Choose the departments that review the change."),
                           field_errors={"review_departments": [_("Required.")]})
    number = (req.changes.aggregate(n=Max("number"))["n"] or 0) + 1
    try:
        with transaction.atomic():
            change = RequirementChange.objects.create(
                requirement=req, number=number, changes=_jsonable(changes), review_departments=sorted(departments),
                reason=data["reason"].strip(), requested_by=actor)
    except IntegrityError:  # a change opened a moment earlier
        raise WrongState(_("This requirement already has a change in review; decide that one first.")) from None
    _log("change_requested", change, actor, reason=change.reason, fields=sorted(changes))
    version = _new_version(req, actor, f"change {number} requested")
    sign(version, role=p5.MARKET_ROLE)
    return change


def _jsonable(changes):
    return {k: [v.isoformat() if hasattr(v, "isoformat") else v for v in pair] for k, pair in changes.items()}


# --- the departments review the change again --------------------------------------------------------------


def departments_to_review(change):
    return [{"department": d} for d in change.review_departments]


def record_change_review(change, *, department, actor, data, sign):
    if change.status != ChangeStatus.IN_REVIEW:
        raise WrongState(_("The change is not in review."), current_state=change.status)
    if department not in change.review_departments:
        raise WrongState(_("%(dept)s is not asked to review this change.") % {"dept": Department(department).label})
    if change.reviews.filter(department=department).exists():
        raise WrongState(_("This department has already reviewed the change."))
    row = RequirementChangeReview(change=change, department=department, verdict=data["verdict"],
                                  comment=data.get("comment", ""), reviewer=actor, reviewed_at=timezone.now())
    req = change.requirement
    version = _new_version(req, actor, f"change {change.number}: {department} review", extra_change_review=row)
    row.signature = sign(version, role=department_label(department))
    row.save()
    _log("change_reviewed", change, actor, department=department, verdict=row.verdict, comment=row.comment)
    return row


def after_change_reviews(change):
    change.status = ChangeStatus.AWAITING_APPROVAL
    change.save(update_fields=["status"])
    _new_version(change.requirement, scheduler_user(), f"change {change.number}: reviews complete")


# --- the approver decides ---------------------------------------------------------------------------------


def _new_value(change, name):
    pair = change.changes.get(name)
    return pair[1] if pair else None


def needs_general_manager(change):
    """As for the requirement's own approval, judged on the requirement as it would be."""
    req = change.requirement
    changes_product = change.changes.get("changes_product_or_process", [None, req.changes_product_or_process])[1]
    return req.requirement_type == RequirementType.CUSTOMER_SPECIFIC and bool(changes_product)


def approval_permission(change):
    if needs_general_manager(change):
        return GENERAL_MANAGER_PERMISSION
    return p5.approval_permission(change.requirement)


def self_approval_reason(change, user):
    if user.pk == change.requested_by_id:
        return _("You requested this change; another approver must sign it.")
    return None


def _apply(req, change):
    for name, (_old, new) in change.changes.items():
        if name == "due_date":
            new = datetime.date.fromisoformat(new) if isinstance(new, str) else new
        setattr(req, name, new)
    if {"importance", "urgency"} & set(change.changes):
        req.priority = p5.classify(req.importance, req.urgency)
    req.save()


def decide_change(change, *, actor, data, meaning, sign):
    """Approved: the requirement takes the new values (priority re-classified; the owner's
    tracking task follows the new due date). Rejected: nothing changes; the change is kept."""
    if change.status != ChangeStatus.AWAITING_APPROVAL:
        raise WrongState(_("The change is not awaiting approval."), current_state=change.status)
    reason = self_approval_reason(change, actor)
    if reason:
        raise NotPermitted(reason)
    req = type(change.requirement).objects.select_for_update().select_related("record").get(pk=change.requirement_id)
    change.requirement = req
    if meaning == "approved" and req.status not in OPEN_STATUSES:
        raise WrongState(_("The requirement is no longer open; the change cannot be applied."),
                         current_state=req.status)
    change.status = ChangeStatus.APPROVED if meaning == "approved" else ChangeStatus.REJECTED
    change.decided_by, change.decided_at, change.decision_reason = actor, timezone.now(), data["conclusion"]
    change.save()
    old_priority = req.priority
    if meaning == "approved":
        _apply(req, change)
    version = _new_version(req, actor, f"change {change.number} {meaning}")
    sign(version, role=p5.GENERAL_MANAGER_ROLE if needs_general_manager(change) else p5.MARKET_MANAGER_ROLE)
    _log("change_decided", change, actor, reason=change.decision_reason, decision=meaning,
         priority=[old_priority, req.priority] if req.priority != old_priority else None)
    return meaning == "approved"
