"""P5 — customer requirement management: the business actions.

Every rule of P5 lives here once. The flow (flows.py), the API and the seed call these
functions; each runs inside the caller's transaction and leaves a new immutable version
of the customer requirement review form with its audit entries."""
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import (
    DEPARTMENT_NAMES_ZH,
    GENERAL_MANAGER_PERMISSION,
    Department,
    Role,
    department_label,
    department_permission,
    scheduler_user,
)
from core import audit, records
from core.errors import InvalidInput, NotPermitted, WrongState
from inbox.delegation import holds_permission

from . import analysis
from .models import (
    OPEN_STATUSES,
    CustomerRequirement,
    LinkKind,
    PriorityMatrix,
    RequirementAttachment,
    RequirementLink,
    RequirementReview,
    RequirementStatus,
    RequirementType,
)
from .records import CUSTOMER_REQUIREMENT, requirement_snapshot

MARKET_ROLE = department_label(Department.MARKET)
MARKET_MANAGER_ROLE = f"{DEPARTMENT_NAMES_ZH[Department.MARKET]}经理 Market manager"
GENERAL_MANAGER_ROLE = "总经理 General Manager"


def _new_version(req, actor, reason):
    return records.add_version(req.record, actor=actor, data=requirement_snapshot(req), reason=reason,
                               status=req.status)


def _search_text(req):
    parts = [req.customer_name, req.customer.code if req.customer_id else "", req.product_text,
             req.customer_words[:300]]
    return " ".join(p for p in parts if p)


def _link(req, target, kind, *, actor, note=""):
    if target.pk == req.pk:
        raise InvalidInput(_("A requirement cannot be linked to itself."))
    link, created = RequirementLink.objects.get_or_create(source=req, target=target, kind=kind,
                                                          defaults={"note": note})
    if created:
        audit.log("requirement.linked", link, actor=actor, record=req.record, process_id=req.record.process_id,
                  new={"target": target.record.number, "kind": kind, "note": note})
    return link


# --- P5.1 collect (需求收集) ---------------------------------------------------------------------------


def register_requirement(*, process, actor, data):
    """P5.1: Market registers a requirement of a customer or a potential customer. A
    duplicate is registered too, linked to the requirement it repeats, and closed (CR-1:
    duplicates are linked, never lost)."""
    customer = data.get("customer")
    name = str(customer) if customer is not None else data["customer_name"].strip()
    product = data.get("product")
    duplicate_of = data.get("duplicate_of")
    status = RequirementStatus.DUPLICATE if duplicate_of is not None else RequirementStatus.REGISTERED
    product_text = data.get("product_text") or (f"{product.code} {product.name_zh}" if product else "")
    record = records.create_record(
        CUSTOMER_REQUIREMENT.code, actor=actor, status=status, customer_name=name,
        product_text=product_text, process=process, reason="requirement registered",
    )
    req = CustomerRequirement.objects.create(
        record=record, customer=customer, customer_name=name, potential_customer=customer is None,
        channel=data["channel"], requirement_type=data["requirement_type"], product=product,
        product_text=product_text, received_on=data["received_on"], customer_words=data["customer_words"],
        meaning=data.get("meaning", ""), duplicate_of=duplicate_of, status=status, started_by=actor,
        closed_at=timezone.now() if duplicate_of is not None else None,
    )
    for upload, content_type, sha256 in data.get("attachments") or []:
        RequirementAttachment.store(upload, content_type=content_type, sha256=sha256, uploaded_by=actor,
                                    requirement=req)
    record.search_text = _search_text(req)
    record.save(update_fields=["search_text"])
    audit.log("requirement.registered", req, actor=actor, record=record, process_id=process.pk,
              new={"customer": name, "customer_code": customer.code if customer else "", "type": req.requirement_type,
                   "channel": req.channel, "duplicate_of": duplicate_of.record.number if duplicate_of else "",
                   "attachments": [a.original_name for a in req.attachments.all()]})
    if duplicate_of is not None:
        _link(req, duplicate_of, LinkKind.DUPLICATE_OF, actor=actor)
    _new_version(req, actor, "requirement registered")
    return req


# --- P5.2 analyse (需求分析) ---------------------------------------------------------------------------


def classify(importance, urgency, matrix=None):
    """PM-1: the priority class under the matrix in force."""
    matrix = matrix or PriorityMatrix.current()
    return analysis.priority_class(importance, urgency, a_min=matrix.a_min, b_min=matrix.b_min, c_min=matrix.c_min)


def analyse_requirement(req, *, actor, data, sign):
    """P5.2: importance and urgency → priority class; KANO category where known; feasibility;
    conflicts and dependencies as links; the departments that review it."""
    if req.status != RequirementStatus.REGISTERED:
        raise WrongState(_("Only a registered requirement is analysed."), current_state=req.status)
    errors = {}
    for name in ("importance", "urgency"):
        value = data.get(name)
        if not isinstance(value, int) or not 1 <= value <= 5:
            errors[name] = [_("Enter a whole number from 1 to 5.")]
    if not data.get("review_departments"):
        errors["review_departments"] = [_("Choose the departments that review the requirement.")]
    if errors:
        raise InvalidInput(_("The analysis is incomplete."), field_errors=errors)
    req.importance, req.urgency = data["importance"], data["urgency"]
    req.priority = classify(req.importance, req.urgency)
    req.kano_category = data.get("kano_category") or ""
    req.feasibility = data["feasibility"]
    req.changes_product_or_process = bool(data.get("changes_product_or_process"))
    req.review_departments = sorted(set(data["review_departments"]))
    req.status = RequirementStatus.IN_REVIEW
    req.save()
    for kind, field in ((LinkKind.CONFLICTS_WITH, "conflicts_with"), (LinkKind.DEPENDS_ON, "depends_on")):
        for target in data.get(field) or []:
            _link(req, target, kind, actor=actor)
    audit.log("requirement.analysed", req, actor=actor, record=req.record, process_id=req.record.process_id,
              new={"importance": req.importance, "urgency": req.urgency, "priority": req.priority,
                   "kano_category": req.kano_category, "departments": req.review_departments,
                   "changes_product_or_process": req.changes_product_or_process})
    version = _new_version(req, actor, "requirement analysed")
    sign(version, role=MARKET_ROLE)
    return req


# --- P5.3 review (需求评审) ----------------------------------------------------------------------------


def departments_to_review(req):
    """One review task per department named at the analysis."""
    return [{"department": d} for d in req.review_departments]


def record_review(req, *, department, actor, data, sign):
    """P5.3: one department's signed verdict (可满足 / 有条件 / 不能满足) with its comment."""
    if req.status != RequirementStatus.IN_REVIEW:
        raise WrongState(_("The requirement is not in review."), current_state=req.status)
    if department not in req.review_departments:
        raise WrongState(_("%(dept)s is not asked to review this requirement.") % {"dept": Department(department).label})
    if req.reviews.filter(department=department).exists():
        raise WrongState(_("This department has already reviewed the requirement."))
    row = RequirementReview(requirement=req, department=department, verdict=data["verdict"],
                            comment=data.get("comment", ""), reviewer=actor, reviewed_at=timezone.now())
    version = records.add_version(req.record, actor=actor, data=requirement_snapshot(req, extra_review=row),
                                  reason=f"{department} review")
    row.signature = sign(version, role=department_label(department))
    row.save()
    audit.log("requirement.reviewed", row, actor=actor, record=req.record, process_id=req.record.process_id,
              new={"department": department, "verdict": row.verdict, "comment": row.comment})
    return row


def after_reviews(req):
    """All reviews in: the requirement waits for approval (the flow's own step: the system's)."""
    req.status = RequirementStatus.AWAITING_APPROVAL
    req.save(update_fields=["status"])
    _new_version(req, scheduler_user(), "reviews complete")


# --- P5.3 approve (需求批准) ---------------------------------------------------------------------------


def needs_general_manager(req):
    """A customer-specific requirement that changes a product or process is approved by the
    General Manager; every other by the Market manager."""
    return req.requirement_type == RequirementType.CUSTOMER_SPECIFIC and req.changes_product_or_process


def approval_permission(req):
    if needs_general_manager(req):
        return GENERAL_MANAGER_PERMISSION
    return department_permission(Department.MARKET, Role.MANAGER)


def self_approval_reason(req, user):
    if user.pk == req.started_by_id:
        return _("You registered this requirement; another approver must sign it.")
    return None


def decide_approval(req, *, actor, data, meaning, sign):
    """P5.3: approved — the company commits to meet the requirement, tracked by its owner to
    the due date; rejected — it will not be met, and the reason is what the customer is told."""
    if req.status != RequirementStatus.AWAITING_APPROVAL:
        raise WrongState(_("The requirement is not awaiting approval."), current_state=req.status)
    reason = self_approval_reason(req, actor)
    if reason:
        raise NotPermitted(reason)
    if meaning == "approved":
        errors = {}
        if data.get("owner") is None:
            errors["owner"] = [_("Name who implements the approved requirement.")]
        if data.get("due_date") is None:
            errors["due_date"] = [_("Set the date by which it is to be met.")]
        elif data["due_date"] < timezone.localdate():
            errors["due_date"] = [_("The due date is in the past.")]
        if errors:
            raise InvalidInput(_("An approved requirement needs an owner and a due date."), field_errors=errors)
        req.status = RequirementStatus.APPROVED
        req.owner, req.due_date = data["owner"], data["due_date"]
    else:
        req.status = RequirementStatus.REJECTED
        req.closed_at = timezone.now()
    req.decision, req.decision_reason = meaning, data["conclusion"]
    req.customer_acceptance = data.get("customer_acceptance", "")
    req.approved_by, req.decided_at = actor, timezone.now()
    req.save()
    version = _new_version(req, actor, meaning)
    sign(version, role=GENERAL_MANAGER_ROLE if needs_general_manager(req) else MARKET_MANAGER_ROLE)
    audit.log("requirement.decided", req, actor=actor, record=req.record, process_id=req.record.process_id,
              new={"decision": meaning, "owner": req.owner.username if req.owner_id else "",
                   "due_date": req.due_date}, reason=data["conclusion"])
    return meaning == "approved"


# --- P5.4 track (需求跟踪) -------------------------------------------------------------------------------

TRACK_OUTCOMES = ("in_implementation", "implemented", "withdrawn")


def record_progress(req, *, actor, data):
    """P5.4: the owner reports progress. in_implementation — keep tracking; implemented —
    ready for the evaluation; withdrawn — the customer withdrew it (closed)."""
    if req.status not in OPEN_STATUSES:
        raise WrongState(_("Only an approved requirement is tracked."), current_state=req.status)
    outcome = data["outcome"]
    if outcome not in TRACK_OUTCOMES:
        raise InvalidInput(_("Unknown outcome."), field_errors={"outcome": [_("Unknown outcome.")]})
    old = {"status": req.status, "progress": req.progress}
    req.progress = data["progress"]
    if outcome == "withdrawn":
        req.status = RequirementStatus.WITHDRAWN
        req.closed_at = timezone.now()
    else:
        req.status = RequirementStatus.IN_IMPLEMENTATION
    req.save()
    audit.log("requirement.tracked", req, actor=actor, record=req.record, process_id=req.record.process_id,
              old=old, new={"status": req.status, "progress": req.progress, "outcome": outcome})
    _new_version(req, actor, f"progress: {req.status}")
    return outcome


# --- P5.5 evaluate and answer (需求评估 / 需求反馈) ----------------------------------------------------------


def evaluate_and_answer(req, *, actor, data, sign):
    """P5.5: was it met, with evidence; the answer given to the customer (date, channel, content)."""
    if req.status != RequirementStatus.IN_IMPLEMENTATION:
        raise WrongState(_("Only an implemented requirement is evaluated."), current_state=req.status)
    if data["answer_date"] > timezone.localdate():
        raise InvalidInput(_("The answer date is in the future."),
                           field_errors={"answer_date": [_("The answer date is in the future.")]})
    req.fulfilment, req.evidence = data["fulfilment"], data["evidence"]
    req.answer_date, req.answer_channel, req.answer_content = (data["answer_date"], data["answer_channel"],
                                                                data["answer_content"])
    req.status = RequirementStatus.COMPLETED
    req.closed_at = timezone.now()
    req.save()
    version = _new_version(req, actor, "evaluated and answered")
    sign(version, role=MARKET_ROLE)
    audit.log("requirement.answered", req, actor=actor, record=req.record, process_id=req.record.process_id,
              new={"fulfilment": req.fulfilment, "answer_date": req.answer_date, "answer_channel": req.answer_channel})
    return req


# --- PM-1 the priority matrix -------------------------------------------------------------------------------


def may_change_priority_matrix(user):
    return bool(user and user.is_authenticated and user.is_active) and (
        holds_permission(user, department_permission(Department.MARKET, Role.MANAGER))
        or holds_permission(user, GENERAL_MANAGER_PERMISSION))


def set_priority_matrix(*, actor, data, reason):
    """PM-1: change the thresholds (Market manager or General Manager), with a reason, audited.
    Requirements already analysed keep the class they were given (their versions say so)."""
    if not may_change_priority_matrix(actor):
        raise NotPermitted(_("Only the Market manager or the General Manager changes the priority matrix."))
    if not (reason or "").strip():
        raise InvalidInput(_("Give the reason for the change."), field_errors={"reason": [_("Required.")]})
    values = {k: data.get(k) for k in ("a_min", "b_min", "c_min")}
    problems = analysis.matrix_errors(**values)
    if problems:
        message = _("Thresholds are whole numbers from 1 to 25 with class C < class B < class A.")
        raise InvalidInput(message, field_errors={k: [message] for k in problems})
    matrix = PriorityMatrix.objects.select_for_update().get_or_create(pk=1)[0]
    old = matrix.as_data()
    for key, value in values.items():
        setattr(matrix, key, value)
    matrix.save()
    audit.log("requirement.priority_matrix_changed", matrix, actor=actor, old=old, new=matrix.as_data(),
              reason=reason)
    return matrix
