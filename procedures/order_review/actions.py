"""P1 — order / contract review: the business actions.

Every rule of P1 lives here once. The flow (flows.py) calls these
functions from its steps; each call runs inside the step's transaction and leaves
a new immutable version of the order review record with its audit entries."""
import datetime
from decimal import Decimal, InvalidOperation

from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import (
    DEPARTMENT_NAMES_ZH, GENERAL_MANAGER_PERMISSION, Department, Role, department_label, department_permission,
    scheduler_user,
)
from core import audit, records
from core.models import Record
from core.search import CUT_MARK
from core.prefetch import keep_related
from core.i18n import english
from core.errors import InvalidInput, NotPermitted, WrongState
from forms.models import Product
from inbox.delegation import holds_permission
from procedures.requirements import entry as p5

from . import records as record_types
from .signals import goods_shipping
from .records import (
    _line, change_notice_snapshot, order_review_snapshot, production_plan_snapshot, review_row_data, review_rounds,
)
from .records import ledger_listing
from procedures.order_review.models import (
    Attachment, ChangeCategory, ChangeNotice, ChangeReceipt, DepartmentReview, LedgerEntry, LedgerRevision,
    LedgerShipment, LedgerStatus, OrderKind,
    FIRST_ROUND_DEPARTMENTS, OrderLine, OrderReview, OrderReviewStatus, PlanStatus, ProductionPlan, ReviewRound,
    CategoryAnswer, RequirementCategory, Verdict,
)


# --- versions: each change stores the snapshot (records.py) as a new version -------------------------


def _new_version(review, actor, reason, **known):
    """`known`: what order_review_snapshot() would otherwise read (statements, csrs, rounds), when the step has it."""
    return records.add_version(review.record, actor=actor, data=order_review_snapshot(review, **known),
                               reason=reason, status=review.status)


def _search_text(order_number, customer, lines):
    """What the registry's search finds the order review by: its order number, customer and products."""
    parts = [order_number, customer.code, customer.name_zh, customer.name_en]
    for line in lines:
        parts += [line["product"].code, line["product"].name_zh, line["product"].name_en, line["specification"]]
    return " ".join(p for p in parts if p)


def _product_text(lines, limit=Record._meta.get_field("product_text").max_length):
    """The products the registry finds the order by, "P-1001 精密轴承座, P-1002 铝合金端盖", each once in the order
    of the lines; when they do not all fit the column, cut after the last whole one that fits and marked
    (core.search.CUT_MARK: the registry's product filter then looks in the search text, which names them all)."""
    entries = list(dict.fromkeys(f"{line['product'].code} {line['product'].name_zh}" for line in lines))
    text = ", ".join(entries)
    if len(text) <= limit:
        return text
    while entries and len(", ".join(entries) + CUT_MARK) > limit:
        entries.pop()
    return ", ".join(entries) + CUT_MARK if entries else text[:limit - len(CUT_MARK)] + CUT_MARK


def _set_lines(review, lines, *, replace=True):
    """The order's lines become `lines` (`replace`: the ones it had go, and the registry finds the order by its
    new products; a new order has none, its record is made with them). They stay on `review` with their products
    for what reads them next in the step (OrderReview.keep_lines)."""
    if replace:
        review.lines.all().delete()
        record = review.record
        record.product_text = _product_text(lines)
        record.search_text = _search_text(review.order_number, review.customer, lines)
        record.save(update_fields=["product_text", "search_text"])
    rows = [OrderLine(order_review=review, position=i, product=line["product"], specification=line["specification"],
                      quantity=line["quantity"], unit=line["unit"], unit_price=line.get("unit_price"),
                      packaging=line.get("packaging", ""), delivery_date=line["delivery_date"])
            for i, line in enumerate(lines, start=1)]
    for row in rows:  # kept as the database would give them back (a restored line's quantity and date are text)
        for field in OrderLine._meta.concrete_fields:
            if not field.is_relation and not field.primary_key:
                setattr(row, field.attname, field.to_python(getattr(row, field.attname)))
    review.keep_lines(OrderLine.objects.bulk_create(rows))


def _sample_override(choice):
    return {"yes": True, "no": False}.get(choice)


# --- P1.1 intake -------------------------------------------------------------------------------


def receive_order(*, process, actor, data):
    """P1.1: Market registers the order/contract and opens review round 1 for all
    four reviewing departments. Returns the OrderReview."""
    # the record is written once with what it is found by (a later UPDATE of search_text would write the row and
    # every index of it, the trigram index among them, a second time)
    record = records.create_record(
        record_types.ORDER_REVIEW.code, actor=actor, status=OrderReviewStatus.IN_REVIEW,
        customer_name=str(data["customer"]), process=process, reason="order received",
        product_text=_product_text(data["lines"]),
        search_text=_search_text(data["order_number"], data["customer"], data["lines"]),
    )
    review = OrderReview.objects.create(
        record=record, kind=data["kind"], customer=data["customer"], order_number=data["order_number"],
        order_date=data["order_date"], verbal=data.get("verbal", False),
        verbal_confirmation=data.get("verbal_confirmation", ""), payment_terms=data.get("payment_terms", ""),
        delivery_place=data.get("delivery_place", ""), transport=data.get("transport", ""),
        special_requirements=data.get("special_requirements", ""),
        implied_requirements=data.get("implied_requirements", ""),
        company_requirements=data.get("company_requirements", ""),
        meeting_attendees=data.get("meeting_attendees", ""), meeting_minutes=data.get("meeting_minutes", ""),
        statutory_requirements=data.get("statutory_requirements", ""),
        after_delivery_requirements=data.get("after_delivery_requirements", ""),
        quote_reference=data.get("quote_reference", ""), quote_differences=data.get("quote_differences", ""),
        sample_override=_sample_override(data.get("sample")), review_method=data.get("review_method") or "relay",
        started_by=actor,
    )
    _set_lines(review, data["lines"], replace=False)
    keep_related(review, "attachments", [  # in the order of their keys, as review.attachments.all() gives them
        Attachment.store(upload, content_type=content_type, sha256=sha256, uploaded_by=actor, order_review=review)
        for upload, content_type, sha256 in data.get("attachments") or []])
    first_round = ReviewRound.objects.create(
        order_review=review, number=1, departments=[d.value for d in FIRST_ROUND_DEPARTMENTS], process=process)
    # CR-4: the customer's specific requirements in force now reach this review (frozen into it)
    frozen = p5.freeze_customer_specific_requirements(record, review.customer)
    audit.log("order_review.received", review, actor=actor, record=record, process_id=process.pk,
              new={"order_number": review.order_number, "kind": review.kind, "customer": review.customer.code,
                   "lines": len(data["lines"])})
    # the new review's first version from what was just written: no statement yet, one round without reviews
    _new_version(review, actor, "order received", statements={}, csrs=frozen,
                 rounds=[keep_related(first_round, "reviews", [])])
    return review


# --- P1.2 department reviews -----------------------------------------------------------------------


def current_round(review):
    return review.rounds.order_by("-number").first()


def department_in_round(rnd, department):
    """Is `department` asked in the review round `rnd` (None: no round yet)?"""
    return rnd is not None and department in rnd.departments


def record_department_review(review, *, department, actor, data, sign):
    """P1.2: one department's verdict + comment + signature on the current round."""
    rounds = review_rounds(review)  # read once: the checks below and the version's snapshot
    rnd = rounds[-1]
    if department not in rnd.departments:
        raise WrongState(_("%(dept)s is not asked to review in round %(round)s.")
                         % {"dept": Department(department).label, "round": rnd.number})
    if any(row.department == department for row in rnd.reviews.all()):
        raise WrongState(_("This department has already reviewed round %(round)s.") % {"round": rnd.number})
    categories, opinion = categories_addressed(department, data), market_opinion(department, data)
    if data.get("sample"):
        review.sample_override = _sample_override(data["sample"])
        review.save(update_fields=["sample_override"])
    # CR-4: how the order addresses the customer's specific requirements (required when it has some)
    csrs = p5.frozen_customer_specific_requirements(review.record)
    p5.state_customer_specific_requirements_addressed(review.record, round_number=rnd.number, department=department,
                                                      statement=data.get("csr_addressed", ""), actor=actor,
                                                      frozen=csrs)
    # The verdict is part of the version the reviewer signs.
    review_row = DepartmentReview(round=rnd, department=department, verdict=data["verdict"],
                                  comment=data.get("comment", ""),
                                  material_readiness=data.get("material_readiness", ""),
                                  categories=categories, market_opinion=opinion,
                                  reviewer=actor, reviewed_at=timezone.now())
    pending_version = _version_with(review, review_row, csrs, rounds)
    signature = sign(pending_version, role=department_label(department))
    review_row.signature = signature
    review_row.save()
    audit.log("order_review.department_reviewed", review_row, actor=actor, record=review.record,
              process_id=rnd.process_id,
              new={"round": rnd.number, "department": department, "verdict": data["verdict"],
                   "comment": data.get("comment", "")})
    return review_row


def categories_addressed(department, data):
    """REQ-2: every reviewer answers every requirement category (met / not applicable / issue);
    an issue needs the comment to say what it is. Missing → InvalidInput (400), nothing saved."""
    answers, errors = {}, {}
    for category in RequirementCategory:
        answer = data.get(f"category_{category.value}") or ""
        if answer not in CategoryAnswer.values:
            errors[f"category_{category.value}"] = [_("Answer for this requirement category.")]
        answers[category.value] = answer
    if errors:
        raise InvalidInput(_("Address each requirement category (REQ-2)."), field_errors=errors)
    if CategoryAnswer.ISSUE in answers.values() and not (data.get("comment") or "").strip():
        raise InvalidInput(_("Say in the comment what the issue is."),
                           field_errors={"comment": [_("Required: a requirement category has an issue.")]})
    return answers


MARKET_OPINION_FIELDS = ("delivery_date", "unit_price", "packaging")


def market_opinion(department, data):
    """src 6.3.8: Market's own opinion on the delivery date, the unit price and the packaging."""
    if department != Department.MARKET:
        return {}
    opinion = {key: (data.get(f"opinion_{key}") or "").strip() for key in MARKET_OPINION_FIELDS}
    missing = [key for key, value in opinion.items() if not value]
    if missing:
        raise InvalidInput(_("Market's review gives its opinion on the delivery date, unit price and packaging."),
                           field_errors={f"opinion_{key}": [_("Required.")] for key in missing})
    return opinion


def _version_with(review, review_row, csrs=None, rounds=None):
    """Store the version that includes a not-yet-saved department review: the row
    needs the signature, and the signature needs the version that shows the row."""
    statements = p5.customer_specific_statements(review.record)
    snapshot = order_review_snapshot(review, statements, csrs, rounds)
    rnd = snapshot["rounds"][-1]
    rnd["reviews"].append(review_row_data(review_row, statements))
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
        refuse_conditions_accepted_over_cannot_meet(review)
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


def latest_verdicts(review):
    """{department: its verdict in the last round it reviewed} — a re-review replaces the earlier verdict."""
    verdicts = {}
    for rnd in review.rounds.prefetch_related("reviews").order_by("number"):
        for row in rnd.reviews.all():
            verdicts[row.department] = row.verdict
    return verdicts


def cannot_meet_departments(review):
    return sorted(d for d, v in latest_verdicts(review).items() if v == Verdict.CANNOT_MEET)


def refuse_conditions_accepted_over_cannot_meet(review):
    """REQ-1 / P1.3: "the customer accepts the stated conditions" settles only "can meet with
    conditions". A "cannot meet" is resolved by a change notice that the department reviews
    again, or the order is declined."""
    blocking = cannot_meet_departments(review)
    if blocking:
        names = ", ".join(str(Department(d).label) for d in blocking)
        raise InvalidInput(
            _("%(departments)s cannot meet the order: the customer accepting conditions does not resolve that. "
              "Issue a change notice for those departments to review again, or decline the order.")
            % {"departments": names},
            field_errors={"outcome": [_("Not allowed while a department says 'cannot meet': %(departments)s.")
                                      % {"departments": names}]})


# --- P1.3 / P1.6 change notices -----------------------------------------------------------------------------


def issue_change_notice(review, *, actor, data, process, after_approval, sign):
    """合同变更通知单: record the change, apply the new lines to the order under
    review and open a review round for the affected departments. A cancellation says that
    nothing remains (no lines after it); the order keeps its lines as they were ordered."""
    before = [_line(l) for l in review.lines_with_products()]
    if data["category"] == ChangeCategory.CANCEL:
        if not after_approval:
            raise InvalidInput(_("An order not yet accepted is declined, not cancelled."),
                               field_errors={"category": [_("Choose the outcome 'order declined' instead.")]})
        after = []
    else:
        _set_lines(review, data["lines"])
        after = [_line(l) for l in review.lines_with_products()]
    notice_record = records.create_record(
        record_types.CHANGE_NOTICE.code, actor=actor, status="in_review",
        customer_name=str(review.customer), product_text=review.record.product_text, process=process,
        # the order's search text names every product, also those past a cut products column (core.search)
        search_text=records.search_text_from(review.record), reason="change notice issued",
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
    return [{"department": d, "notice": notice.pk} for d in receiving_departments(notice)]


def receiving_departments(notice):
    """The departments that sign for an approved change: those it concerns; a cancellation also tells
    production and materials to stop, and each signs for it (签收)."""
    departments = list(notice.affected_departments)
    if notice.category == ChangeCategory.CANCEL:
        departments += [d.value for d in (Department.PRODUCTION, Department.MATERIALS) if d not in departments]
    return departments


def cancelled_in(review, process):
    """Is the change approved in `process` a cancellation (then no production plan is asked for)?"""
    return review.status == OrderReviewStatus.CANCELLED and review.change_notices.filter(
        status="approved", category=ChangeCategory.CANCEL, record__process=process).exists()


def acknowledge_change(notice, *, department, actor, data, sign):
    """接收人/签收: the department confirms it has received the approved change."""
    if notice.status != "approved":
        raise WrongState(_("Only an approved change is signed for."), current_state=notice.status)
    if department not in receiving_departments(notice):
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
            if notice.category == ChangeCategory.CANCEL:
                review.status = OrderReviewStatus.CANCELLED  # P1.6: the approved cancellation
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


def _ledger_status(*, cancelled, ordered, shipped):
    """The ledger line's status: cancelled by an approved cancellation; shipped (closed) once
    everything ordered has shipped; else open."""
    if cancelled:
        return LedgerStatus.CANCELLED
    if ordered > 0 and shipped >= ordered:
        return LedgerStatus.SHIPPED
    return LedgerStatus.OPEN


def enter_in_ledger(review, *, actor=None):
    """P1.5 / src 7: the accepted order enters the contract ledger (合同台账); an approved
    change adds a revision line with what it changed (old → new). An approved cancellation
    sets the line to cancelled: what was already shipped stays, nothing remains open."""
    lines = list(review.lines.all())
    total = sum(((l.unit_price or 0) * l.quantity for l in lines), 0)
    entry = LedgerEntry.objects.select_for_update().filter(order_review=review).first()
    shipped = entry.shipped_quantity if entry is not None else Decimal("0")
    cancelled = review.status == OrderReviewStatus.CANCELLED
    ordered = sum((l.quantity for l in lines), Decimal("0"))
    values = dict(contract_number=review.order_number, kind=review.kind, customer_name=str(review.customer),
                  signed_date=entry.signed_date if entry is not None else (
                      timezone.localdate(review.approved_at) if review.approved_at else timezone.localdate()),
                  delivery_date=max(l.delivery_date for l in lines), total_amount=total,
                  ordered_quantity=ordered, open_quantity=Decimal("0") if cancelled else max(ordered - shipped, 0),
                  revision=review.revision,
                  status=_ledger_status(cancelled=cancelled, ordered=ordered, shipped=shipped))
    notice = review.change_notices.filter(status="approved").order_by("-id").first()
    if entry is None:
        entry = LedgerEntry.objects.create(order_review=review, **values)
        LedgerRevision.objects.create(entry=entry, revision=0, summary="accepted 已接受")
        audit.log("ledger.entered", entry, actor=actor, record=review.record, process_id=review.record.process_id,
                  new=values)
    else:
        old = {k: getattr(entry, k) for k in values}
        for key, value in values.items():
            setattr(entry, key, value)
        entry.save()
        changed_old, changed_new = audit.changed_values(records.jsonable(old), records.jsonable(values))
        LedgerRevision.objects.create(
            entry=entry, revision=review.revision, change_notice=notice,
            changes={key: [changed_old.get(key), changed_new[key]] for key in changed_new if key != "revision"},
            summary=(f"{notice.record.number}: {ChangeCategory(notice.category).zh} "
                     f"{ChangeCategory(notice.category).en} — {notice.reason}") if notice else "revised")
        audit.log("ledger.revised", entry, actor=actor, record=review.record, process_id=review.record.process_id,
                  old=changed_old, new=changed_new)
    return entry


def may_record_shipments(user):
    """Only the finished-goods store (成品库) records shipments against the ledger."""
    return bool(user and user.is_authenticated and user.is_active) and holds_permission(
        user, department_permission(Department.WAREHOUSE, Role.STAFF))


def _shipment_input(entry, data):
    """The shipment's fields, checked; InvalidInput (400) naming each bad field."""
    errors = {}
    lines = list(entry.order_review.lines.select_related("product"))
    products = {l.product.code: l.product for l in lines}
    code = str(data.get("product") or "").strip()
    if not code and len(products) == 1:
        code = next(iter(products))
    product = products.get(code)
    if product is None:
        errors["product"] = [_("Choose a product of this order: %(codes)s.") % {"codes": ", ".join(products)}]
    shipped_on = data.get("shipped_on")
    if isinstance(shipped_on, str):
        try:
            shipped_on = datetime.date.fromisoformat(shipped_on.strip())
        except ValueError:
            shipped_on = None
    if not isinstance(shipped_on, datetime.date):
        errors["shipped_on"] = [_("Enter a date as YYYY-MM-DD.")]
    elif shipped_on > timezone.localdate():
        errors["shipped_on"] = [_("A shipment is recorded once it has left: the date cannot be in the future.")]
    try:
        quantity = Decimal(str(data.get("quantity", "")).strip())
        if not quantity.is_finite() or quantity <= 0 or quantity.as_tuple().exponent < -3:
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        quantity = None
        errors["quantity"] = [_("Enter a quantity greater than 0 (at most 3 decimals).")]
    lot_number = str(data.get("lot_number") or "").strip()
    delivery_note = str(data.get("delivery_note") or "").strip()
    for name, value, limit in (("lot_number", lot_number, 60), ("delivery_note", delivery_note, 60)):
        if not value:
            errors[name] = [_("Required.")]
        elif len(value) > limit:
            errors[name] = [_("At most %(n)s characters.") % {"n": limit}]
    remarks = str(data.get("remarks") or "").strip()
    if errors:
        raise InvalidInput(_("The shipment could not be recorded."), field_errors=errors)
    ordered = sum((l.quantity for l in lines if l.product.code == code), Decimal("0"))
    return {"product": product, "shipped_on": shipped_on, "quantity": quantity, "lot_number": lot_number,
            "delivery_note": delivery_note, "remarks": remarks, "ordered": ordered}


def plain_number(value):
    """800.000 → "800", 12.500 → "12.5" (never "8E+2")."""
    return format(Decimal(value).normalize(), "f")


def record_shipment(entry, *, actor, data):
    """合同台账 发货: the finished-goods store records a shipment against a ledger line (date, product,
    quantity, lot, delivery note). Refused: by anyone but the store (403); on a cancelled or closed line
    (409); a lot on hold (NC-1, 409 naming the hold and its report); more than remains to ship of the
    product (400). Updates the shipped / open quantities and closes the line once all has shipped."""
    if not may_record_shipments(actor):
        raise NotPermitted(_("Only the finished-goods store records shipments."))
    entry = LedgerEntry.objects.select_for_update().select_related("order_review__record").get(pk=entry.pk)
    if entry.status != LedgerStatus.OPEN:
        raise WrongState(_("Contract %(number)s is %(status)s: no shipment can be recorded against it.")
                         % {"number": entry.contract_number, "status": entry.get_status_display()},
                         current_state=entry.status)
    given = _shipment_input(entry, data)
    # NC-1: a lot on hold is not shipped (P2 listens and refuses with a 409 naming the hold and its report)
    goods_shipping.send(sender=LedgerShipment, product=given["product"], lot_number=given["lot_number"])
    already = sum((s.quantity for s in entry.shipments.filter(product=given["product"])), Decimal("0"))
    remaining = given["ordered"] - already
    if given["quantity"] > remaining:
        raise InvalidInput(
            _("Over-shipment: %(remaining)s of %(product)s remain to ship on contract %(number)s.")
            % {"remaining": plain_number(remaining), "product": given["product"].code,
               "number": entry.contract_number},
            field_errors={"quantity": [_("At most %(remaining)s.") % {"remaining": plain_number(remaining)}]})
    shipment = LedgerShipment.objects.create(
        entry=entry, shipped_on=given["shipped_on"], product=given["product"], quantity=given["quantity"],
        lot_number=given["lot_number"], delivery_note=given["delivery_note"], remarks=given["remarks"],
        recorded_by=actor)
    old = {"shipped_quantity": entry.shipped_quantity, "open_quantity": entry.open_quantity, "status": entry.status}
    entry.shipped_quantity += given["quantity"]
    entry.open_quantity = max(entry.ordered_quantity - entry.shipped_quantity, Decimal("0"))
    entry.status = _ledger_status(cancelled=False, ordered=entry.ordered_quantity, shipped=entry.shipped_quantity)
    entry.save(update_fields=["shipped_quantity", "open_quantity", "status", "updated_at"])
    review = entry.order_review
    audit.log("ledger.shipment_recorded", shipment, actor=actor, record=review.record,
              process_id=review.record.process_id,
              old=records.jsonable(old),
              new=records.jsonable({"contract_number": entry.contract_number, "shipped_on": shipment.shipped_on,
                                    "product": given["product"].code, "quantity": shipment.quantity,
                                    "lot_number": shipment.lot_number, "delivery_note": shipment.delivery_note,
                                    "shipped_quantity": entry.shipped_quantity, "open_quantity": entry.open_quantity,
                                    "status": entry.status}))
    return shipment


def print_ledger(*, actor, rows, filters):
    """合同台账 QR-MK-003 printed as its controlled form: the listing (`rows`, already filtered to what
    `actor` may see) becomes a record of its own (frozen: the ledger moves on), rendered to PDF by
    the worker. Returns the record."""
    from forms.pdf import queue_render  # noqa: PLC0415 — looked up per call: tests stub forms.pdf.queue_render

    data = ledger_listing(rows, filters=filters, actor=actor)
    period = " – ".join(p for p in (filters.get("period_from", ""), filters.get("period_to", "")) if p)
    record = records.create_record(
        record_types.CONTRACT_LEDGER.code, actor=actor, status="issued",
        title=f"{record_types.CONTRACT_LEDGER.title} {period}".strip(),
        search_text=" ".join(r["contract_number"] for r in data["rows"])[:2000], reason="ledger printed")
    version = records.add_version(record, actor=actor, data={**data, "record_number": record.number},
                                  reason="ledger printed", status="issued")
    audit.log("ledger.printed", record, actor=actor, record=record,
              new={"lines": len(data["rows"]), "filters": filters})
    queue_render(version)
    return record


def write_production_plan(review, *, actor, data, process, sign):
    """P1.5 / src 6.3.7: Materials writes the production/work plan following the review."""
    plan_record = records.create_record(
        record_types.PRODUCTION_PLAN.code, actor=actor, status=PlanStatus.ISSUED, customer_name=str(review.customer),
        product_text=review.record.product_text, process=process,
        search_text=records.search_text_from(review.record), reason="plan written",
    )
    plan = ProductionPlan.objects.create(
        record=plan_record, order_review=review, order_revision=review.revision,
        planned_start=data["planned_start"], planned_finish=data["planned_finish"],
        material_readiness=data["material_readiness"], notes=data.get("notes", ""), author=actor,
        lines=records.jsonable([_line(l) for l in review.lines_with_products()]),
    )
    version = records.add_version(plan_record, actor=actor, data=production_plan_snapshot(plan), reason="plan written")
    sign(version, role=department_label(Department.MATERIALS))
    audit.log("production_plan.written", plan, actor=actor, record=plan_record, process_id=process.pk,
              new={"order": review.record.number, "start": plan.planned_start, "finish": plan.planned_finish})
    supersede_earlier_plans(plan, actor=actor)
    return plan


def supersede_earlier_plans(plan, *, actor):
    """REQ-6 (linked documents updated): the plans written for an earlier revision of the order
    are marked superseded by `plan` — a new version of each (its signed versions stay as they
    were) and an audit entry."""
    earlier = (ProductionPlan.objects.select_for_update().select_related("record", "order_review__customer", "author")
               .filter(order_review=plan.order_review, status=PlanStatus.ISSUED).exclude(pk=plan.pk))
    for old in earlier:
        old.status, old.superseded_by = PlanStatus.SUPERSEDED, plan
        old.save(update_fields=["status", "superseded_by"])
        records.add_version(old.record, actor=actor, data=production_plan_snapshot(old),
                            reason=f"superseded by {plan.record.number}", status=PlanStatus.SUPERSEDED)
        audit.log("production_plan.superseded", old, actor=actor, record=old.record,
                  process_id=plan.record.process_id, old={"status": PlanStatus.ISSUED},
                  new={"status": PlanStatus.SUPERSEDED, "superseded_by": plan.record.number})


