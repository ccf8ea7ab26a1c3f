"""P1 — order / contract review: the business actions.

Every rule of P1 lives here once. The flow (flows.py) calls these
functions from its steps; each call runs inside the step's transaction and leaves
a new immutable version of the order review record with its audit entries."""
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import (
    DEPARTMENT_NAMES_ZH, GENERAL_MANAGER_PERMISSION, Department, Role, department_label, department_permission,
    scheduler_user,
)
from core import audit, records
from core.i18n import english
from core.errors import InvalidInput, NotPermitted, WrongState
from forms.models import Product
from procedures.requirements import entry as p5

from . import records as record_types
from .records import _line, change_notice_snapshot, order_review_snapshot, production_plan_snapshot, review_row_data
from procedures.order_review.models import (
    Attachment, ChangeNotice, ChangeReceipt, DepartmentReview, LedgerEntry, LedgerRevision, OrderKind,
    OrderLine, OrderReview, OrderReviewStatus, ProductionPlan, REVIEWING_DEPARTMENTS, ReviewRound, Verdict,
)


# --- versions: each change stores the snapshot (records.py) as a new version -------------------------


def _new_version(review, actor, reason):
    return records.add_version(review.record, actor=actor, data=order_review_snapshot(review), reason=reason,
                               status=review.status)


def _search_text(review):
    parts = [review.order_number, review.customer.code, review.customer.name_zh, review.customer.name_en]
    for line in review.lines.select_related("product"):
        parts += [line.product.code, line.product.name_zh, line.product.name_en, line.specification]
    return " ".join(p for p in parts if p)


def _set_lines(review, lines):
    review.lines.all().delete()
    OrderLine.objects.bulk_create([
        OrderLine(order_review=review, position=i, product=line["product"], specification=line["specification"],
                  quantity=line["quantity"], unit=line["unit"], unit_price=line.get("unit_price"),
                  packaging=line.get("packaging", ""), delivery_date=line["delivery_date"])
        for i, line in enumerate(lines, start=1)
    ])


def _sample_override(choice):
    return {"yes": True, "no": False}.get(choice)


# --- P1.1 intake -------------------------------------------------------------------------------


def receive_order(*, process, actor, data):
    """P1.1: Market registers the order/contract and opens review round 1 for all
    four reviewing departments. Returns the OrderReview."""
    record = records.create_record(
        record_types.ORDER_REVIEW.code, actor=actor, data={}, status=OrderReviewStatus.IN_REVIEW,
        customer_name=str(data["customer"]), process=process, reason="order received",
    )
    review = OrderReview.objects.create(
        record=record, kind=data["kind"], customer=data["customer"], order_number=data["order_number"],
        order_date=data["order_date"], verbal=data.get("verbal", False),
        verbal_confirmation=data.get("verbal_confirmation", ""), payment_terms=data.get("payment_terms", ""),
        delivery_place=data.get("delivery_place", ""), transport=data.get("transport", ""),
        special_requirements=data.get("special_requirements", ""),
        implied_requirements=data.get("implied_requirements", ""),
        statutory_requirements=data.get("statutory_requirements", ""),
        after_delivery_requirements=data.get("after_delivery_requirements", ""),
        quote_reference=data.get("quote_reference", ""), quote_differences=data.get("quote_differences", ""),
        sample_override=_sample_override(data.get("sample")), review_method=data.get("review_method") or "relay",
        started_by=actor,
    )
    _set_lines(review, data["lines"])
    for upload, content_type, sha256 in data.get("attachments") or []:
        Attachment.store(upload, content_type=content_type, sha256=sha256, uploaded_by=actor, order_review=review)
    ReviewRound.objects.create(order_review=review, number=1, departments=[d.value for d in REVIEWING_DEPARTMENTS],
                               process=process)
    # CR-4: the customer's specific requirements in force now reach this review (frozen into it)
    p5.freeze_customer_specific_requirements(record, review.customer)
    record.product_text = ", ".join(f"{l.product.code} {l.product.name_zh}" for l in review.lines.all())
    record.search_text = _search_text(review)
    record.save(update_fields=["product_text", "search_text"])
    audit.log("order_review.received", review, actor=actor, record=record, process_id=process.pk,
              new={"order_number": review.order_number, "kind": review.kind, "customer": review.customer.code,
                   "lines": len(data["lines"])})
    _new_version(review, actor, "order received")
    return review


# --- P1.2 department reviews -----------------------------------------------------------------------


def current_round(review):
    return review.rounds.order_by("-number").first()


def department_in_round(review, department):
    rnd = current_round(review)
    return rnd is not None and department in rnd.departments


def record_department_review(review, *, department, actor, data, sign):
    """P1.2: one department's verdict + comment + signature on the current round."""
    rnd = current_round(review)
    if department not in rnd.departments:
        raise WrongState(_("%(dept)s is not asked to review in round %(round)s.")
                         % {"dept": Department(department).label, "round": rnd.number})
    if rnd.reviews.filter(department=department).exists():
        raise WrongState(_("This department has already reviewed round %(round)s.") % {"round": rnd.number})
    if data.get("sample"):
        review.sample_override = _sample_override(data["sample"])
        review.save(update_fields=["sample_override"])
    # CR-4: how the order addresses the customer's specific requirements (required when it has some)
    p5.state_customer_specific_requirements_addressed(review.record, round_number=rnd.number, department=department,
                                                      statement=data.get("csr_addressed", ""), actor=actor)
    # The verdict is part of the version the reviewer signs.
    review_row = DepartmentReview(round=rnd, department=department, verdict=data["verdict"],
                                  comment=data.get("comment", ""),
                                  material_readiness=data.get("material_readiness", ""),
                                  reviewer=actor, reviewed_at=timezone.now())
    pending_version = _version_with(review, review_row)
    signature = sign(pending_version, role=department_label(department))
    review_row.signature = signature
    review_row.save()
    audit.log("order_review.department_reviewed", review_row, actor=actor, record=review.record,
              process_id=rnd.process_id,
              new={"round": rnd.number, "department": department, "verdict": data["verdict"],
                   "comment": data.get("comment", "")})
    return review_row


def _version_with(review, review_row):
    """Store the version that includes a not-yet-saved department review: the row
    needs the signature, and the signature needs the version that shows the row."""
    snapshot = order_review_snapshot(review)
    rnd = snapshot["rounds"][-1]
    rnd["reviews"].append(review_row_data(review_row))
    rnd["reviews"].sort(key=lambda r: r["department"])
    return records.add_version(review.record, actor=review_row.reviewer, data=snapshot,
                               reason=f"{review_row.department} review, round {rnd['number']}")


def all_can_meet(review):
    rnd = current_round(review)
    return all(r.verdict == Verdict.CAN_MEET for r in rnd.reviews.all())


def after_reviews(review, *, actor=None):
    """Join reached: to approval when every verdict is 'can meet', else to negotiation."""
    review.status = OrderReviewStatus.AWAITING_APPROVAL if all_can_meet(review) else OrderReviewStatus.NEGOTIATION
    review.save(update_fields=["status"])
    _new_version(review, actor or scheduler_user(), "reviews complete")  # the flow's own step: the system's


# --- P1.3 negotiation ------------------------------------------------------------------------------------


def record_negotiation(review, *, actor, data, process, sign):
    """P1.3: the outcome of negotiating with the customer.
    change → change notice + new review round of the affected departments;
    conditions_accepted → approval; declined → closed with the reason."""
    if review.status != OrderReviewStatus.NEGOTIATION:
        raise WrongState(_("The order is not in negotiation."), current_state=review.status)
    outcome = data["outcome"]
    if outcome == "change":
        open_departments = {r.department for r in current_round(review).reviews.all() if r.verdict != Verdict.CAN_MEET}
        missing = open_departments - set(data["affected_departments"])
        if missing:
            raise InvalidInput(_("Departments that did not say 'can meet' must review the change."),
                               field_errors={"affected_departments": [
                                   _("Include: %(d)s") % {"d": ", ".join(str(Department(d).label) for d in sorted(missing))}]})
        notice = issue_change_notice(review, actor=actor, data={**data, "reason": data["notes"]}, process=process,
                                     after_approval=False, sign=sign)
        audit.log("order_review.negotiated", review, actor=actor, record=review.record, process_id=process.pk,
                  new={"outcome": outcome, "change_notice": notice.record.number}, reason=data["notes"])
        return
    notice = review.change_notices.filter(status="in_review", after_approval=True).first()
    if outcome == "declined" and notice is not None:
        # a declined change to an approved order: the order stands as approved
        close_declined_change(review, actor=actor)
        audit.log("order_review.negotiated", review, actor=actor, record=review.record, process_id=process.pk,
                  new={"outcome": outcome, "change_notice": notice.record.number}, reason=data["notes"])
        sign(review.record.get_version(), role=department_label(Department.MARKET))
        return
    if outcome == "conditions_accepted":
        review.status = OrderReviewStatus.AWAITING_APPROVAL
        review.conclusion = data["notes"]
    else:
        review.status = OrderReviewStatus.DECLINED
        review.declined_reason = data["notes"]
    review.save(update_fields=["status", "conclusion", "declined_reason"])
    audit.log("order_review.negotiated", review, actor=actor, record=review.record, process_id=process.pk,
              new={"outcome": outcome}, reason=data["notes"])
    version = _new_version(review, actor, f"negotiation: {outcome}")
    sign(version, role=department_label(Department.MARKET))


# --- P1.3 / P1.6 change notices -----------------------------------------------------------------------------


def issue_change_notice(review, *, actor, data, process, after_approval, sign):
    """合同变更通知单: record the change, apply the new lines to the order under
    review and open a review round for the affected departments."""
    before = [_line(l) for l in review.lines.select_related("product")]
    _set_lines(review, data["lines"])
    after = [_line(l) for l in review.lines.select_related("product")]
    notice_record = records.create_record(
        record_types.CHANGE_NOTICE.code, actor=actor, data={}, status="in_review",
        customer_name=str(review.customer), product_text=review.record.product_text, process=process,
        search_text=f"{review.order_number} {review.record.number}", reason="change notice issued",
    )
    notice = ChangeNotice.objects.create(
        record=notice_record, order_review=review, category=data["category"], reason=data["reason"],
        before=records.jsonable(before), after=records.jsonable(after),
        affected_departments=list(data["affected_departments"]),
        customer_confirmed=bool(data.get("customer_confirmed")), after_approval=after_approval, issued_by=actor,
    )
    number = current_round(review).number + 1
    ReviewRound.objects.create(order_review=review, number=number, departments=list(data["affected_departments"]),
                               change_notice=notice, process=process)
    review.status = OrderReviewStatus.CHANGE_IN_REVIEW if after_approval else OrderReviewStatus.IN_REVIEW
    review.save(update_fields=["status"])
    notice_version = records.add_version(notice_record, actor=actor, data=change_notice_snapshot(notice),
                                         reason="change notice issued")
    sign(notice_version, role=department_label(Department.MARKET))
    _new_version(review, actor, f"change notice {notice_record.number}: {data['reason']}")
    audit.log("change_notice.issued", notice, actor=actor, record=notice_record, process_id=process.pk,
              new={"order": review.record.number, "category": notice.category,
                   "departments": notice.affected_departments}, reason=data["reason"])
    return notice


def departments_to_acknowledge(review, process):
    """The departments that must sign for an approved change made in `process` (REQ-6)."""
    notice = review.change_notices.filter(status="approved", record__process=process).first()
    if notice is None:
        return []
    return [{"department": d, "notice": notice.pk} for d in notice.affected_departments]


def acknowledge_change(notice, *, department, actor, data, sign):
    """接收人/签收: the department confirms it has received the approved change."""
    if notice.status != "approved":
        raise WrongState(_("Only an approved change is signed for."), current_state=notice.status)
    if department not in notice.affected_departments:
        raise WrongState(_("This department is not concerned by the change."))
    if notice.receipts.filter(department=department).exists():
        raise WrongState(_("This department has already signed for the change."))
    receipt = ChangeReceipt(notice=notice, department=department, receiver=actor, received_at=timezone.now(),
                            comment=data.get("comment", ""))
    snapshot = change_notice_snapshot(notice)
    snapshot["receipts"].append({"department": department, "department_zh": DEPARTMENT_NAMES_ZH[department],
                                 "department_en": english(Department(department).label), "receiver": actor.printed_name,
                                 "received_at": receipt.received_at, "comment": receipt.comment})
    version = records.add_version(notice.record, actor=actor, data=snapshot, reason=f"received by {department}")
    receipt.signature = sign(version, role=department_label(department))
    receipt.save()
    audit.log("change_notice.acknowledged", receipt, actor=actor, record=notice.record,
              process_id=notice.record.process_id, new={"department": department})
    return receipt


def request_change(*, process, actor, data, sign):
    """P1.6: a change to an approved order or contract (its own process)."""
    review = OrderReview.objects.select_for_update().select_related("record", "customer").get(pk=data["order"].pk)
    if review.status != OrderReviewStatus.APPROVED:
        raise WrongState(_("Only an approved order can be changed; this one is %(s)s.")
                         % {"s": review.get_status_display()}, current_state=review.status)
    notice = issue_change_notice(review, actor=actor, data=data, process=process, after_approval=True, sign=sign)
    return review, notice


# --- P1.4 approval ---------------------------------------------------------------------------------------


def approval_permission(review):
    """src 4.3: a contract is approved by the General Manager (or an authorised deputy);
    a plain order by the Market manager."""
    if review.kind == OrderKind.CONTRACT:
        return GENERAL_MANAGER_PERMISSION
    return department_permission(Department.MARKET, Role.MANAGER)


def self_approval_reason(review, process, user):
    """The person who started the review (or the change) may not approve it."""
    starter = review.started_by_id
    notice = review.change_notices.filter(status="in_review").select_related("issued_by").first()
    if user.pk == starter or (notice is not None and notice.issued_by_id == user.pk):
        return _("You started this review; another approver must sign it.")
    return None


def decide_approval(review, *, actor, data, meaning, sign):
    """P1.4: approve (→ ledger, record PDF, production plan) or reject with a reason."""
    if review.status != OrderReviewStatus.AWAITING_APPROVAL:
        raise WrongState(_("The order is not awaiting approval."), current_state=review.status)
    if self_approval_reason(review, None, actor):
        raise NotPermitted(self_approval_reason(review, None, actor))
    review.conclusion = data["conclusion"]
    notice = review.change_notices.filter(status="in_review").first()
    if meaning == "approved" and review.quote_differences and not (data.get("differences_resolution") or "").strip():
        raise InvalidInput(_("Record how the differences from the quotation were resolved before accepting (REQ-3)."),
                           field_errors={"differences_resolution": [_("Required: the order differs from the quotation.")]})
    if data.get("differences_resolution"):
        review.differences_resolution = data["differences_resolution"]
    if meaning == "approved":
        review.status = OrderReviewStatus.APPROVED
        review.approved_by, review.approved_at = actor, timezone.now()
        if notice is not None:
            review.revision += 1
    else:
        review.status = OrderReviewStatus.REJECTED
        review.declined_reason = data["conclusion"]
        if notice is not None and notice.after_approval:
            # the approved order stands as it was: restore its lines
            _restore_lines(review, notice.before)
            review.status = OrderReviewStatus.APPROVED
    review.save()
    role = ("总经理 General Manager" if review.kind == OrderKind.CONTRACT
            else f"{DEPARTMENT_NAMES_ZH[Department.MARKET]}经理 Market manager")
    version = _new_version(review, actor, f"{meaning}: {data['conclusion']}")
    sign(version, role=role)
    if notice is not None:
        notice.status = "approved" if meaning == "approved" else "rejected"
        notice.save(update_fields=["status"])
        notice_version = records.add_version(notice.record, actor=actor, data=change_notice_snapshot(notice),
                                             reason=meaning, status=notice.status)
        sign(notice_version, role=role)
    audit.log("order_review.decided", review, actor=actor, record=review.record, process_id=review.record.process_id,
              new={"decision": meaning, "revision": review.revision}, reason=data["conclusion"])
    return meaning == "approved"


def _restore_lines(review, lines):
    products = {p.code: p for p in Product.objects.filter(code__in=[l["product_code"] for l in lines])}
    _set_lines(review, [{**l, "product": products[l["product_code"]]} for l in lines])


def close_declined_change(review, *, actor, notice_status="declined"):
    notice = review.change_notices.filter(status="in_review").first()
    if notice is not None and notice.after_approval:
        _restore_lines(review, notice.before)
        review.status = OrderReviewStatus.APPROVED
        review.save(update_fields=["status"])
        notice.status = notice_status
        notice.save(update_fields=["status"])
        records.add_version(notice.record, actor=actor, data=change_notice_snapshot(notice),
                            reason=notice_status, status=notice_status)
        _new_version(review, actor, f"change {notice.record.number} {notice_status}; order stands as approved")


# --- P1.5 ledger and plan ------------------------------------------------------------------------------


def enter_in_ledger(review, *, actor=None):
    """P1.5 / src 7: the accepted order enters the contract ledger (合同台账); an approved
    change adds a revision line."""
    lines = list(review.lines.all())
    total = sum(((l.unit_price or 0) * l.quantity for l in lines), 0)
    values = dict(contract_number=review.order_number, kind=review.kind, customer_name=str(review.customer),
                  signed_date=review.approved_at.date() if review.approved_at else timezone.localdate(),
                  delivery_date=max(l.delivery_date for l in lines), total_amount=total,
                  open_quantity=sum((l.quantity for l in lines), 0), revision=review.revision, status="open")
    entry = LedgerEntry.objects.filter(order_review=review).first()
    notice = review.change_notices.filter(status="approved").order_by("-id").first()
    if entry is None:
        entry = LedgerEntry.objects.create(order_review=review, **values)
        LedgerRevision.objects.create(entry=entry, revision=0, summary="accepted")
        audit.log("ledger.entered", entry, actor=actor, record=review.record, process_id=review.record.process_id,
                  new=values)
    else:
        old = {k: getattr(entry, k) for k in values}
        for key, value in values.items():
            setattr(entry, key, value)
        entry.save()
        LedgerRevision.objects.create(
            entry=entry, revision=review.revision, change_notice=notice,
            summary=f"{notice.record.number}: {notice.get_category_display()} — {notice.reason}" if notice else "revised")
        changed_old, changed_new = audit.changed_values(records.jsonable(old), records.jsonable(values))
        audit.log("ledger.revised", entry, actor=actor, record=review.record, process_id=review.record.process_id,
                  old=changed_old, new=changed_new)
    return entry


def write_production_plan(review, *, actor, data, process, sign):
    """P1.5 / src 6.3.7: Materials writes the production/work plan following the review."""
    plan_record = records.create_record(
        record_types.PRODUCTION_PLAN.code, actor=actor, data={}, status="issued", customer_name=str(review.customer),
        product_text=review.record.product_text, process=process, search_text=review.order_number,
        reason="plan written",
    )
    plan = ProductionPlan.objects.create(
        record=plan_record, order_review=review, order_revision=review.revision,
        planned_start=data["planned_start"], planned_finish=data["planned_finish"],
        material_readiness=data["material_readiness"], notes=data.get("notes", ""), author=actor,
    )
    version = records.add_version(plan_record, actor=actor, data=production_plan_snapshot(plan), reason="plan written")
    sign(version, role=department_label(Department.MATERIALS))
    audit.log("production_plan.written", plan, actor=actor, record=plan_record, process_id=process.pk,
              new={"order": review.record.number, "start": plan.planned_start, "finish": plan.planned_finish})
    return plan


