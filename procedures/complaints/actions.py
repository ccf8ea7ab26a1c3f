"""P2 — complaints and returns (客户投诉与退货), nonconforming product: the business actions.

Every rule of P2 lives here once. The flow (flows.py) calls these
functions from its steps; each call runs inside the step's transaction, changes the
working models, stores new versions of the records concerned and writes its audit
entries. The records of a case:

- 质量信息反馈单  quality information feedback form  (the case itself, Market)
- 品质异常处理报告 quality anomaly handling report  (the NC record: inspection,
  judgement, disposition, re-inspection — Quality)
- 物料入库单      material receipt of the returned goods (Materials, three copies)

and, per period, the 客诉与退货分析 complaint and return analysis.
"""
import datetime
from collections import defaultdict
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Subquery, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Department, Role, department_label, department_permission, role_label
from core import audit, records
from core.errors import InvalidInput, NotPermitted, WrongState
from core.prefetch import keep_related
from forms.charts import pareto_svg, trend_svg
from inbox.delegation import holds_permission
from workflows.models import LockedCopies

from . import records as record_types
from .records import (
    INSPECTOR, ZERO, analysis_snapshot, anomaly_snapshot, case_photos,
    current_disposition, customer_label, feedback_snapshot, receipt_snapshot, repeat_window_days,
    report_dispositions,
)
from .defaults import DEFAULT_DISPOSITION_RULES
from .holds import assert_lot_usable, holding_reports  # noqa: F401 — NC-1's one home, re-exported
from procedures.complaints.models import (
    NOT_JUSTIFIED_OUTCOMES, SETTLEMENT_OUTCOMES, AnomalyReport, AnomalySource, CaseOrigin, ComplaintAnalysis,
    ComplaintCase, ComplaintChannel, ComplaintKind, ComplaintPhoto, ComplaintStatus, CustomerAcceptance,
    DefectCategory, Disposition, DispositionCode, DispositionLine, DispositionRule, DispositionSignoff,
    DispositionStatus, Lot, LotStatus, MaterialMovement, MaterialReceipt, MaterialReceiptLine, MovementKind,
    ReceiptStatus, Reinspection,
)
from procedures.capa.entry import raise_capa_from_complaint
from procedures.order_review.entry import find_order_review


# --- bilingual labels (record data is stored in both languages, whatever the request language) -------------


def signer_key(department, role):
    return f"{department}:{role}"


def signer_label(key):
    """'management:manager' → '总经理 General Manager'; 'materials:staff' → '资材部 Materials / Procurement staff'."""
    return role_label(*key.split(":"))


def signer_permission(key):
    department, role = key.split(":")
    return department_permission(department, role)


SIGNER_CHOICES = [(signer_key(d, r), signer_key(d, r)) for d in Department.values for r in Role.values]


# --- snapshots: what the record versions hold ------------------------------------------------------------------


def _versions(case, actor, reason, *, feedback=True, report=True, dispositions=None):
    """New versions of the case's feedback form and anomaly report; returns them. `dispositions`: the report's,
    as report_dispositions() reads them, when the step already has them."""
    if case.internal:  # an internal inspection's case is its anomaly report: one record, no feedback form
        feedback = False
    anomaly = getattr(case, "anomaly_report", None)
    report = report and anomaly is not None
    if not (feedback or report):
        return {}
    # read once for both snapshots: the photos, and the report's dispositions (with lines and sign-offs)
    photos = case_photos(case)
    if dispositions is None and anomaly is not None:
        dispositions = report_dispositions(anomaly)
    changes = {}
    if feedback:
        changes["feedback"] = (case.record, feedback_snapshot(case, photos=photos, dispositions=dispositions))
    if report:
        changes["report"] = (anomaly.record, anomaly_snapshot(anomaly, photos=photos, dispositions=dispositions))
    # versioned together: locked, inserted and moved in three statements (core.records.add_versions)
    return dict(zip(changes, records.add_versions(list(changes.values()), actor=actor, reason=reason,
                                                  status=case.status)))


def _set_status(case, status):
    case.status = status
    case.save(update_fields=["status"])


def _expect(case, *statuses):
    if case.status not in statuses:
        raise WrongState(_("The case is %(state)s; this step is not possible now.")
                         % {"state": case.get_status_display()}, current_state=case.status)


LOCKS = LockedCopies()  # the case each _lock() took, for the gateways that follow (flows.case_of)


LOCKED_WITH_CASE = ("record", "customer", "product", "lot", "order_review__record", "started_by", "judged_by",
                    "capa_decided_by", "anomaly_report__record", "anomaly_report__inspector", "material_receipt__record")


def _lock(case):
    """Re-read the case row under a lock (the flow lock serialises steps of one process;
    this also guards two cases sharing a lot). The anomaly report and the material receipt come in the
    same query (with the rows the snapshots print of them); a step that creates one sets it on this copy."""
    locked = ComplaintCase.objects.select_for_update(of=("self",)).select_related(*LOCKED_WITH_CASE).get(pk=case.pk)
    return LOCKS.keep(case, locked)


def _lock_with_lot_on_hold(case):
    """_lock() for the disposition, in the same one statement: the case and its lot both locked, when the lot is on
    hold (the condition on the lot's status makes its join an inner one, which PostgreSQL needs to lock the row
    of a joined table), with the quantity on the material receipt (`received_total`, None without a receipt)
    and whether the anomaly report has a disposition yet (`disposed_before`). None when the lot is not on hold
    or the case has none: the caller then takes _lock() and says why."""
    received = MaterialReceiptLine.objects.filter(receipt__case=OuterRef("pk")).order_by() \
        .values("receipt__case").annotate(total=Sum("quantity")).values("total")
    locked = ComplaintCase.objects.select_for_update(of=("self", "lot")).select_related(*LOCKED_WITH_CASE).annotate(
        received_total=Subquery(received, output_field=MaterialReceiptLine._meta.get_field("quantity")),
        disposed_before=Exists(Disposition.objects.filter(report__case=OuterRef("pk"))),
    ).filter(pk=case.pk, lot__status=LotStatus.ON_HOLD).first()
    return None if locked is None else LOCKS.keep(case, locked)


# --- P2.1 intake: Market registers the complaint / return ------------------------------------------------------


def earlier_complaints(customer, product, defect_category, received_on):
    """Complaints of the same customer about the same product and defect class within
    the repeat window (settings.QMS["REPEAT_COMPLAINT_DAYS"], default 180) before
    `received_on`."""
    since = received_on - datetime.timedelta(days=repeat_window_days())
    return ComplaintCase.objects.filter(origin=CaseOrigin.CUSTOMER, customer=customer, product=product, defect_category=defect_category,
                                        received_on__gte=since, received_on__lte=received_on)


def find_order(customer, reference, product):
    """The P1 order review a complaint refers to (by record number or by the customer's
    order number), or None. A reference to another customer's order is an error."""
    review = find_order_review(customer=customer, reference=reference)
    if review is None:
        return None
    if review.customer_id != customer.pk:
        raise InvalidInput(_("Order %(order)s belongs to another customer.") % {"order": reference},
                           field_errors={"order_reference": [_("This order is %(customer)s's.")
                                                             % {"customer": review.customer}]})
    if not review.lines.filter(product=product).exists():
        raise InvalidInput(_("Product %(product)s is not on order %(order)s.")
                           % {"product": product.code, "order": reference},
                           field_errors={"product": [_("Not on order %(order)s.") % {"order": reference}]})
    return review


def _save_photos(case, uploads, stage, actor):
    for upload, content_type, sha256 in uploads or []:
        ComplaintPhoto.store(upload, content_type=content_type, sha256=sha256, uploaded_by=actor, case=case,
                             stage=stage)


def _search_text(case):
    customer = case.customer
    parts = [customer.code if customer else "", customer.name_zh if customer else "",
             customer.name_en if customer else "", case.supplier, case.product.code,
             case.product.name_zh, case.product.name_en, case.lot_number, case.order_reference, case.delivery_note,
             case.order_review.record.number if case.order_review_id else ""]
    return " ".join(p for p in parts if p)


def register_complaint(*, process, actor, data):
    """P2.1 [src 7]: Market registers a complaint, a return or both on the quality
    information feedback form. Links the P1 order where one exists and counts earlier
    complaints of the same customer, product and defect class (repeat flag)."""
    customer, product = data["customer"], data["product"]
    order = find_order(customer, data.get("order_reference"), product)
    repeats = earlier_complaints(customer, product, data["defect_category"], data["received_on"]).count()
    record = records.create_record(
        record_types.QUALITY_FEEDBACK.code, actor=actor, status=ComplaintStatus.INSPECTION,
        customer_name=str(customer), product_text=f"{product.code} {product.name_zh} {product.name_en}",
        lot_text=data.get("lot_number", ""), process=process, reason="complaint registered",
    )
    case = ComplaintCase.objects.create(
        record=record, kind=data["kind"], customer=customer, contact=data.get("contact", ""),
        phone=data.get("phone", ""), channel=data.get("channel") or ComplaintChannel.EMAIL,
        received_on=data["received_on"], order_review=order, order_reference=data.get("order_reference", ""),
        delivery_note=data.get("delivery_note", ""), delivery_date=data.get("delivery_date"), product=product,
        specification=data.get("specification") or product.specification, lot_number=data.get("lot_number", ""),
        quantity_delivered=data["quantity_delivered"], quantity_affected=data["quantity_affected"],
        defect_category=data["defect_category"], description=data["description"],
        customer_request=data["customer_request"], customer_request_detail=data.get("customer_request_detail", ""),
        contract_requires_acceptance=bool(data.get("contract_requires_acceptance")), repeat_count=repeats,
        started_by=actor,
    )
    _save_photos(case, data.get("photos"), "intake", actor)
    record.search_text = _search_text(case)
    record.save(update_fields=["search_text"])
    audit.log("complaint.registered", case, actor=actor, record=record, process_id=process.pk,
              new={"kind": case.kind, "customer": customer.code, "product": product.code, "lot": case.lot_number,
                   "quantity_affected": case.quantity_affected, "defect_category": case.defect_category,
                   "order": order.record.number if order else None, "repeat_count": repeats,
                   "photos": [p.sha256 for p in case.photos.all()]})
    records.add_version(record, actor=actor, data=feedback_snapshot(case), reason="complaint registered")
    return case


# --- NC-1: lots on hold ------------------------------------------------------------------------------------------


def hold_lot(case, *, actor, reason):
    """NC-1: put the case's lot on hold (blocks use and shipment until its disposition
    is complete). A lot already on hold for another case stays held; this case joins
    the hold."""
    lot, created = Lot.objects.select_for_update().get_or_create(
        product=case.product, number=case.lot_number,
        defaults={"quantity": case.quantity_affected, "status": LotStatus.ON_HOLD, "hold_reason": reason,
                  "held_at": timezone.now(), "held_by": actor})
    old = {"status": None if created else lot.status, "quantity": None if created else lot.quantity}
    if not created and lot.status != LotStatus.ON_HOLD:
        lot.status, lot.hold_reason, lot.held_at, lot.held_by = LotStatus.ON_HOLD, reason, timezone.now(), actor
        lot.released_at, lot.released_by, lot.release_note = None, None, ""
    case.lot, case.lot_held = lot, True
    case.save(update_fields=["lot", "lot_held"])
    lot.quantity = held_quantity(lot)
    lot.save()
    audit.log("lot.held", lot, actor=actor, record=case.record, process_id=case.record.process_id,
              old=old, new={"status": lot.status, "quantity": lot.quantity, "case": case.record.number},
              reason=reason)
    return lot


def held_quantity(lot):
    """The quantity on hold: what each case holding the lot received (or, before its
    receipt, the quantity the customer returned)."""
    total = ZERO
    for case in ComplaintCase.objects.filter(lot=lot, lot_held=True).select_related("material_receipt"):
        receipt = getattr(case, "material_receipt", None)
        total += receipt.total_quantity if receipt is not None else case.quantity_affected
    return total


def release_lot(case, *, actor, note):
    """Release the hold this case put on its lot. The lot itself is released only when
    no other open case holds it. Returns the lot."""
    lot = Lot.objects.select_for_update().get(pk=case.lot_id)
    case.lot_held = False
    case.save(update_fields=["lot_held"])
    others = ComplaintCase.objects.filter(lot=lot, lot_held=True).exclude(pk=case.pk)
    if others.exists():
        audit.log("lot.hold_kept", lot, actor=actor, record=case.record, process_id=case.record.process_id,
                  new={"status": lot.status, "held_for": [c.record.number for c in others.select_related("record")]},
                  reason=note)
        return lot
    old = {"status": lot.status}
    lot.status, lot.released_at, lot.released_by, lot.release_note = (
        LotStatus.RELEASED, timezone.now(), actor, note)
    lot.save(update_fields=["status", "released_at", "released_by", "release_note"])
    audit.log("lot.released", lot, actor=actor, record=case.record, process_id=case.record.process_id,
              old=old, new={"status": lot.status, "case": case.record.number}, reason=note)
    return lot


def _refresh_lot_records(lot, actor, reason):
    """A held / released lot shows as such on every record that names it."""
    for other in ComplaintCase.objects.filter(lot=lot).select_related("record", "lot"):
        _versions(other, actor, reason)
        receipt = getattr(other, "material_receipt", None)
        if receipt is not None:
            records.add_version(receipt.record, actor=actor, data=receipt_snapshot(receipt), reason=reason)


# --- P2.2 inspection [src 6.6.5] ----------------------------------------------------------------------------------


def record_inspection(case, *, actor, data, sign):
    """P2.2: a quality inspector inspects the returned goods (or, for a complaint
    without goods, investigates it) and fills the quality anomaly handling report.
    Returned goods put the lot on hold (NC-1)."""
    case = _lock(case)
    _expect(case, ComplaintStatus.INSPECTION)
    inspected, defective = data.get("quantity_inspected"), data.get("quantity_defective")
    if case.goods_returned and (inspected is None or defective is None):
        raise InvalidInput(_("Returned goods need the quantities inspected and found defective."),
                           field_errors={k: [_("Required for returned goods.")] for k, v in
                                         (("quantity_inspected", inspected), ("quantity_defective", defective))
                                         if v is None})
    if inspected is not None and defective is not None and defective > inspected:
        raise InvalidInput(_("More defective than inspected."),
                           field_errors={"quantity_defective": [_("Cannot exceed the quantity inspected.")]})
    _save_photos(case, data.get("photos"), "inspection", actor)
    if case.goods_returned:
        # stored in the record data: both languages, whatever the request language
        hold_lot(case, actor=actor, reason=f"客户退货 {case.record.number} 检验中 "
                                           f"Customer return {case.record.number} under inspection")
    report_record = records.create_record(
        record_types.ANOMALY_REPORT.code, actor=actor, status=ComplaintStatus.JUDGEMENT,
        customer_name=case.record.customer_name, product_text=case.record.product_text, lot_text=case.lot_number,
        process=case.record.process, search_text=records.search_text_from(case.record),
        reason="inspection recorded",
    )
    report = AnomalyReport.objects.create(
        record=report_record, case=case,
        source="customer_return" if case.goods_returned else "customer_complaint",
        quantity_inspected=inspected, quantity_defective=defective, defect_grade=data["defect_grade"],
        phenomenon=data["phenomenon"], cause_man=data.get("cause_man", ""),
        cause_machine=data.get("cause_machine", ""), cause_material=data.get("cause_material", ""),
        cause_method=data.get("cause_method", ""), cause_environment=data.get("cause_environment", ""),
        cause_measurement=data.get("cause_measurement", ""), cause_summary=data["cause_summary"],
        interim_measure=data["interim_measure"], actions=list(data.get("actions") or []), inspector=actor,
        inspected_at=timezone.now(),
    )
    _set_status(case, ComplaintStatus.JUDGEMENT)
    audit.log("complaint.inspected", report, actor=actor, record=report_record, process_id=case.record.process_id,
              new={"case": case.record.number, "inspected": inspected, "defective": defective,
                   "grade": report.defect_grade, "lot_on_hold": case.lot_held})
    versions = _versions(case, actor, "inspection recorded")
    sign(versions["report"], role=INSPECTOR)
    return report


# --- P2.2 from an internal inspection: IQC / IPQC / OQC [PROCEDURES P2.2 sources, src 6.6.5] ---------------


INTERNAL_LABELS = {CaseOrigin.IQC: "来料检验 IQC", CaseOrigin.IPQC: "制程检验 IPQC", CaseOrigin.OQC: "出货检验 OQC"}


def open_internal_report(*, process, actor, data, sign):
    """P2.2 from our own inspection: a quality inspector who finds a nonconforming lot at incoming
    (IQC, names the supplier), in-process (IPQC) or outgoing (OQC) inspection opens the quality
    anomaly handling report at once (品质异常处理报告: lot size, quantity inspected, sample size,
    defects found, causes, measures, NC-3 actions) and signs it. The lot goes on hold (NC-1); the
    case then runs the customer path's judgement → disposition → re-inspection → CAPA decision."""
    origin, product, customer = data["origin"], data["product"], data.get("customer")
    supplier = (data.get("supplier") or "").strip()
    lot_size, inspected, defective = data["lot_size"], data["quantity_inspected"], data["quantity_defective"]
    sample = data.get("sample_size")
    errors = {}
    if origin not in (CaseOrigin.IQC, CaseOrigin.IPQC, CaseOrigin.OQC):
        errors["origin"] = [_("Choose incoming, in-process or outgoing inspection.")]
    if origin == CaseOrigin.IQC and not supplier:
        errors["supplier"] = [_("An incoming inspection names the supplier.")]
    if inspected > lot_size:
        errors["quantity_inspected"] = [_("Cannot exceed the lot size.")]
    if sample is not None and sample > lot_size:
        errors["sample_size"] = [_("Cannot exceed the lot size.")]
    if defective > inspected:
        errors["quantity_defective"] = [_("Cannot exceed the quantity inspected.")]
    elif defective <= 0:
        errors["quantity_defective"] = [_("An anomaly report records the defects found.")]
    if not (data.get("lot_number") or "").strip():
        errors["lot_number"] = [_("The lot number is required (the lot is put on hold).")]
    if errors:
        raise InvalidInput(_("Please correct the errors below."), field_errors=errors)
    lot_number = data["lot_number"].strip()
    party = str(customer) if customer else supplier
    record = records.create_record(
        record_types.ANOMALY_REPORT.code, actor=actor, status=ComplaintStatus.JUDGEMENT,
        customer_name=party, product_text=f"{product.code} {product.name_zh} {product.name_en}", lot_text=lot_number,
        process=process, reason="internal anomaly reported")
    case = ComplaintCase.objects.create(
        record=record, origin=origin, supplier=supplier, kind="", customer=customer,
        received_on=data["inspected_on"], order_reference=data.get("order_reference", ""), product=product,
        specification=data.get("specification") or product.specification, lot_number=lot_number,
        quantity_delivered=lot_size, quantity_affected=lot_size, defect_category=data["defect_category"],
        description=data["phenomenon"], customer_request="", status=ComplaintStatus.JUDGEMENT, started_by=actor)
    hold_lot(case, actor=actor, reason=f"{INTERNAL_LABELS[origin]} {record.number} 不合格 "
                                       f"{CaseOrigin(origin).en} {record.number}: nonconforming")
    report = AnomalyReport.objects.create(
        record=record, case=case, source=AnomalySource(origin).value, quantity_inspected=inspected,
        quantity_defective=defective, sample_size=sample, defect_grade=data["defect_grade"],
        phenomenon=data["phenomenon"], cause_man=data.get("cause_man", ""), cause_machine=data.get("cause_machine", ""),
        cause_material=data.get("cause_material", ""), cause_method=data.get("cause_method", ""),
        cause_environment=data.get("cause_environment", ""), cause_measurement=data.get("cause_measurement", ""),
        cause_summary=data["cause_summary"], interim_measure=data["interim_measure"],
        actions=list(data.get("actions") or []), inspector=actor, inspected_at=timezone.now())
    _save_photos(case, data.get("photos"), "inspection", actor)
    record.search_text = f"{_search_text(case)} {record.number}"
    record.save(update_fields=["search_text"])
    audit.log("complaint.internal_reported", report, actor=actor, record=record, process_id=process.pk,
              new={"origin": origin, "supplier": supplier or None, "customer": customer.code if customer else None,
                   "product": product.code, "lot": lot_number, "lot_size": lot_size, "inspected": inspected,
                   "sample_size": sample, "defective": defective, "grade": report.defect_grade,
                   "actions": report.actions, "photos": [p.sha256 for p in case.photos.all()]})
    versions = _versions(case, actor, "internal anomaly reported")
    sign(versions["report"], role=INSPECTOR)
    return case


# --- NC-1 at the store: material receipt of a supplier lot / issue to production ---------------------------------


MOVEMENT_PERMISSIONS = (department_permission(Department.MATERIALS, Role.STAFF),
                        department_permission(Department.WAREHOUSE, Role.STAFF))


def may_record_movements(user):
    return bool(user and user.is_authenticated and any(holds_permission(user, p) for p in MOVEMENT_PERMISSIONS))


def record_material_movement(*, actor, data):
    """Materials / the store records the receipt of a supplier lot into stock or the issue of a lot
    to production. NC-1: a lot on hold is refused (409 naming the hold and the anomaly report)."""
    if not may_record_movements(actor):
        raise NotPermitted(_("Only Materials or the store record material receipts and issues."))
    kind, product = data["kind"], data["product"]
    errors = {}
    if kind == MovementKind.RECEIPT and not (data.get("supplier") or "").strip():
        errors["supplier"] = [_("A receipt names the supplier.")]
    if kind == MovementKind.ISSUE and not (data.get("work_order") or "").strip():
        errors["work_order"] = [_("An issue names the work order or production line.")]
    if errors:
        raise InvalidInput(_("Please correct the errors below."), field_errors=errors)
    lot_number = data["lot_number"].strip()
    with transaction.atomic():
        Lot.objects.select_for_update().filter(product=product, number=lot_number).first()  # a hold waits for us
        assert_lot_usable(product, lot_number)
        movement = MaterialMovement.objects.create(
            kind=kind, product=product, lot_number=lot_number, quantity=data["quantity"],
            supplier=(data.get("supplier") or "").strip(), work_order=(data.get("work_order") or "").strip(),
            document=(data.get("document") or "").strip(), store_location=(data.get("store_location") or "").strip(),
            note=data.get("note") or "", moved_on=data["moved_on"], recorded_by=actor, recorded_at=timezone.now())
        audit.log(f"material.{'received' if kind == MovementKind.RECEIPT else 'issued'}", movement, actor=actor,
                  new={"product": product.code, "lot": lot_number, "quantity": movement.quantity,
                       "supplier": movement.supplier or None, "work_order": movement.work_order or None,
                       "document": movement.document or None, "date": movement.moved_on})
    return movement


# --- P2.3 judgement -------------------------------------------------------------------------------------------------


def judgement_forbidden_reason(case, user):
    """SIG-17 second check: the inspector does not judge their own report."""
    report = getattr(case, "anomaly_report", None)
    if report is not None and report.inspector_id == user.pk:
        return _("You inspected these goods; another Quality manager must judge the report.")
    return None


def judge_case(case, *, actor, data, sign):
    """P2.3: the Quality manager decides whether the complaint / return is justified
    (成立) and signs the report. Not justified → Market negotiates [src 6.6.6];
    justified → the goods go to Materials [src 6.6.7] (or, without goods, Market
    settles with the customer)."""
    case = _lock(case)
    _expect(case, ComplaintStatus.JUDGEMENT)
    refusal = judgement_forbidden_reason(case, actor)
    if refusal:
        raise NotPermitted(refusal)
    case.justified = data["justified"]
    case.judgement, case.judged_by, case.judged_at = data["judgement"], actor, timezone.now()
    if case.internal:
        # internal inspection: confirmed → the Quality manager disposes the held lot at once (no goods
        # come back); not confirmed → the lot conforms, the case closes and the hold is released
        case.status = ComplaintStatus.DISPOSITION if case.justified else ComplaintStatus.JUDGEMENT
    elif not case.justified:
        case.status = ComplaintStatus.NEGOTIATION
    elif case.goods_returned:
        case.status = ComplaintStatus.HANDOVER
    else:
        case.status = ComplaintStatus.SETTLEMENT
    case.save(update_fields=["justified", "judgement", "judged_by", "judged_at", "status"])
    audit.log("complaint.judged", case, actor=actor, record=case.record, process_id=case.record.process_id,
              new={"justified": case.justified, "next": case.status}, reason=case.judgement)
    versions = _versions(case, actor, "justified" if case.justified else "not justified")
    sign([versions[name] for name in ("report", "feedback") if name in versions],
         role=role_label(Department.QUALITY, Role.MANAGER))
    return case.justified


# --- P2.3 negotiation (not justified) / settlement (justified, no goods) ------------------------------------------


def record_outcome(case, *, actor, data, sign):
    """[src 6.6.6] Market records the outcome agreed with the customer: for a return
    that is not justified (goods sent back, price agreement, …; the case then closes),
    or for a justified complaint without returned goods (replacement, discount, …)."""
    case = _lock(case)
    _expect(case, ComplaintStatus.NEGOTIATION, ComplaintStatus.SETTLEMENT)
    allowed = NOT_JUSTIFIED_OUTCOMES if case.status == ComplaintStatus.NEGOTIATION else SETTLEMENT_OUTCOMES
    if data["outcome"] not in allowed:
        raise InvalidInput(_("Not an outcome of this step."),
                           field_errors={"outcome": [_("Choose one of the listed outcomes.")]})
    amount = data.get("amount") or ZERO
    case.outcome, case.outcome_notes, case.settlement_amount = data["outcome"], data["notes"], amount
    case.cost = amount + (current_disposition(case).cost if current_disposition(case) else ZERO)
    if case.status == ComplaintStatus.SETTLEMENT:
        case.status = ComplaintStatus.CAPA_DECISION
    case.save(update_fields=["outcome", "outcome_notes", "settlement_amount", "cost", "status"])
    audit.log("complaint.outcome_recorded", case, actor=actor, record=case.record, process_id=case.record.process_id,
              new={"outcome": case.outcome, "amount": amount}, reason=case.outcome_notes)
    versions = _versions(case, actor, f"outcome: {case.outcome}", report=False)
    sign(versions["feedback"], role=department_label(Department.MARKET))


# --- P2.3 / P2.4 handover and material receipt [src 6.6.7, 6.6.8] -----------------------------------------------


def hand_over_goods(case, *, actor, data):
    """[src 6.6.7] Market hands the returned goods, with the anomaly report, to Materials."""
    case = _lock(case)
    _expect(case, ComplaintStatus.HANDOVER)
    case.handed_over_at, case.handed_over_by = timezone.now(), actor
    case.handover_note, case.status = data.get("note", ""), ComplaintStatus.RECEIPT
    case.save(update_fields=["handed_over_at", "handed_over_by", "handover_note", "status"])
    audit.log("complaint.goods_handed_over", case, actor=actor, record=case.record,
              process_id=case.record.process_id, new={"to": Department.MATERIALS, "note": case.handover_note})
    _versions(case, actor, "goods handed over to Materials")


def receive_returned_goods(case, *, actor, data, sign):
    """[src 6.6.8] Materials receives the returned goods into stock on a material
    receipt (three copies: finance, market, finished-goods store); the goods then go
    to Quality for disposition. Every line is the case's product and lot."""
    from forms.pdf import queue_render  # noqa: PLC0415 — looked up per call: tests stub forms.pdf.queue_render

    case = _lock(case)
    _expect(case, ComplaintStatus.RECEIPT)
    errors = {}
    for index, line in enumerate(data["lines"]):
        if line["product"].pk != case.product_id:
            errors[f"lines[{index}].product"] = [_("This case concerns %(product)s; other products are "
                                                   "returned in their own case.") % {"product": case.product.code}]
        if line["lot_number"] != case.lot_number:
            errors[f"lines[{index}].lot_number"] = [_("This case concerns lot %(lot)s.") % {"lot": case.lot_number}]
    if errors:
        raise InvalidInput(_("The receipt does not match the returned lot."), field_errors=errors)
    receipt_record = records.create_record(
        record_types.MATERIAL_RECEIPT.code, actor=actor, status=ReceiptStatus.RECEIVED,
        customer_name=case.record.customer_name, product_text=case.record.product_text, lot_text=case.lot_number,
        process=case.record.process, search_text=records.search_text_from(case.record),
        reason="goods received",
    )
    receipt = MaterialReceipt.objects.create(
        record=receipt_record, case=case, store_location=data["store_location"],
        acceptance_result=data.get("acceptance_result", ""), receiver=actor, received_at=timezone.now())
    MaterialReceiptLine.objects.bulk_create([
        MaterialReceiptLine(receipt=receipt, position=i, product=line["product"],
                            specification=line.get("specification") or case.specification,
                            unit=line.get("unit") or line["product"].unit, quantity=line["quantity"],
                            lot_number=line["lot_number"])
        for i, line in enumerate(data["lines"], start=1)])
    lot = Lot.objects.select_for_update().get(pk=case.lot_id)
    old_quantity, lot.quantity = lot.quantity, held_quantity(lot)
    lot.save(update_fields=["quantity"])
    _set_status(case, ComplaintStatus.DISPOSITION)
    audit.log("complaint.goods_received", receipt, actor=actor, record=receipt_record,
              process_id=case.record.process_id,
              new={"case": case.record.number, "quantity": receipt.total_quantity, "store": receipt.store_location})
    audit.log("lot.quantity_counted", lot, actor=actor, record=receipt_record, process_id=case.record.process_id,
              old={"quantity": old_quantity}, new={"quantity": lot.quantity}, reason="material receipt")
    version = records.add_version(receipt_record, actor=actor, data=receipt_snapshot(receipt), reason="goods received")
    sign(version, role=department_label(Department.MATERIALS))
    _versions(case, actor, f"received on {receipt_record.number}")
    queue_render(version)  # the three copies are printed at once
    return receipt


# --- P2.5 disposition [ISO 8.7; NC-3…NC-8, SIG-17] --------------------------------------------------------------


# NC-8 defaults, from their one home (procedures.complaints.defaults, entered on post_migrate; the admin
# edits the stored rows): the Quality manager signs every disposition; these are the further requirements.
DEFAULT_RULES = {code: (signers, acceptance, reinspection)
                 for code, signers, acceptance, reinspection in DEFAULT_DISPOSITION_RULES}


def rules_for(codes):
    """{code: DispositionRule} in force for the codes chosen: the stored (edited) rule,
    or the default where none is stored."""
    stored = {rule.code: rule for rule in DispositionRule.objects.filter(code__in=codes)}
    rules = {}
    for code in codes:
        if code in stored:
            rules[code] = stored[code]
        else:
            signers, acceptance, reinspection = DEFAULT_RULES.get(code, ([], False, False))
            rules[code] = DispositionRule(code=code, signers=list(signers), customer_acceptance=acceptance,
                                          reinspection=reinspection)
    return rules


def rules_summary():
    """The disposition rules in force, one line per code with further requirements (shown
    to the Quality manager on the disposition form)."""
    lines = []
    for rule in rules_for(DispositionCode.values).values():
        needs = [signer_label(key) for key in rule.signers]
        if rule.customer_acceptance:
            needs.append(_("the customer's acceptance where the contract requires it"))
        if rule.reinspection:
            needs.append(_("a re-inspection"))
        if needs:
            lines.append(f"{rule.get_code_display()}: {', '.join(str(n) for n in needs)}")
    return lines


def required_signers(codes, rules=None):
    """NC-8: the further signers the chosen codes need, in a stable order (`rules`: rules_for(codes),
    when the caller has it)."""
    keys = []
    for rule in (rules_for(codes) if rules is None else rules).values():
        for key in rule.signers:
            if key not in keys:
                keys.append(key)
    return sorted(keys)


def dispose_lot(case, *, actor, data, sign):
    """P2.5: the Quality manager disposes the received lot — split across codes, the
    quantities summing exactly to the quantity received (NC-7, SIG-17). The
    signatures, customer acceptance and re-inspection the codes need come from the
    disposition rules in force (NC-8)."""
    locked = _lock_with_lot_on_hold(case)
    case = locked or _lock(case)
    _expect(case, ComplaintStatus.DISPOSITION)
    if locked is None or not case.lot_held:
        raise InvalidInput(_("The lot is not on hold: a disposition is made only for a lot on hold."),
                           field_errors={"lot": [_("Lot %(lot)s is not on hold.") % {"lot": case.lot_number}]})
    received = quantity_to_dispose(case)
    lines = data["lines"]
    total = sum((line["quantity"] for line in lines), ZERO)
    if total != received:
        raise InvalidInput(
            _("The disposed quantities add up to %(total)s; the lot received is %(received)s.")
            % {"total": _plain(total), "received": _plain(received)},
            field_errors={"lines": [_("The quantities must add up to %(received)s (now %(total)s).")
                                    % {"received": _plain(received), "total": _plain(total)}]})
    codes = [line["code"] for line in lines]
    rules = rules_for(codes)
    report = case.anomaly_report
    # for the new revision's number and, with it, the snapshots below (a first disposition has none to read)
    earlier = report_dispositions(report) if case.disposed_before else []
    signers = required_signers(codes, rules)
    disposition = Disposition.objects.create(
        report=report, revision=(earlier[-1].revision + 1) if earlier else 1, lot_quantity=received,
        cost=data.get("cost") or ZERO, notes=data.get("notes", ""), decided_by=actor, decided_at=timezone.now(),
        required_signers=signers,
        needs_customer_acceptance=case.contract_requires_acceptance and any(
            r.customer_acceptance for r in rules.values()),
        needs_reinspection=any(r.reinspection for r in rules.values()),
        # no further signer: approved by the Quality manager's signature alone
        status=DispositionStatus.SIGNOFF if signers else DispositionStatus.APPROVED,
    )
    made_lines = DispositionLine.objects.bulk_create([
        DispositionLine(disposition=disposition, code=line["code"], quantity=line["quantity"],
                        note=line.get("note", "")) for line in lines])
    # the current disposition of the locked copy's report from now on (the gateways after this step ask it of
    # the copy, flows.case_of): the latest revision, just made, under the lock
    report.__dict__["_qms_new_disposition"] = disposition
    case.cost = case.settlement_amount + disposition.cost
    case.status = ComplaintStatus.SIGNOFF if disposition.required_signers else \
        next_after_approval(disposition, new=True)
    case.save(update_fields=["cost", "status"])
    audit.log("complaint.disposed", disposition, actor=actor, record=report.record, process_id=case.record.process_id,
              new={"revision": disposition.revision, "lines": {l["code"]: l["quantity"] for l in lines},
                   "signers": disposition.required_signers,
                   "customer_acceptance": disposition.needs_customer_acceptance,
                   "reinspection": disposition.needs_reinspection, "cost": disposition.cost},
              reason=disposition.notes)
    versions = _versions(case, actor, f"disposition rev. {disposition.revision}",
                         dispositions=[*earlier, _as_read(disposition, made_lines)])
    sign(versions["report"], role=role_label(Department.QUALITY, Role.MANAGER))
    return disposition


def _as_read(disposition, lines):
    """The disposition just made as report_dispositions() would read it back: its lines, no sign-off, no
    customer acceptance or re-inspection yet (the snapshots print it without reading it again)."""
    keep_related(disposition, "lines", lines)
    keep_related(disposition, "signoffs", [])
    for name in ("customer_acceptance", "reinspection"):
        getattr(Disposition, name).related.set_cached_value(disposition, None)
    return disposition


def quantity_to_dispose(case):
    """What the disposition splits: the quantity received on the material receipt (a return), or
    the lot held by an internal inspection (its lot size). A case locked by _lock_with_lot_on_hold() has the
    receipt's total summed in the same statement."""
    receipt = getattr(case, "material_receipt", None)
    if receipt is None:
        return case.quantity_affected
    if hasattr(case, "received_total"):
        return case.received_total or ZERO  # no line: nothing received
    return receipt.total_quantity


def _plain(number):
    text = format(Decimal(number).normalize(), "f")
    return text


def next_after_approval(disposition, *, new=False):
    """Where an approved disposition goes next: the customer's acceptance (NC-4), a
    re-inspection (NC-5), or release and the CAPA decision. `new`: the disposition was
    created just now, so it has neither an acceptance nor a re-inspection yet."""
    if disposition.needs_customer_acceptance and (new or not CustomerAcceptance.objects.filter(
            disposition=disposition, accepted=True).exists()):
        return ComplaintStatus.CUSTOMER_ACCEPTANCE
    if disposition.needs_reinspection and (new or not Reinspection.objects.filter(
            disposition=disposition).exists()):
        return ComplaintStatus.REINSPECTION
    return ComplaintStatus.CAPA_DECISION


def signoffs_to_collect(case):
    """One signing task per further signer the current disposition needs (FanOut data)."""
    disposition = current_disposition(case)
    return [{"signer": key, "disposition": disposition.pk} for key in disposition.required_signers]


def signoff_forbidden_reason(disposition, user):
    """SIG-17: the second signature comes from someone other than the Quality manager
    who made the disposition."""
    if disposition.decided_by_id == user.pk:
        return _("You made this disposition; its further signature must come from someone else.")
    return None


def sign_disposition(disposition, *, signer_role, actor, data, meaning, sign, reason=""):
    """NC-8: a further signer approves the disposition, or rejects it with a reason
    (→ the Quality manager disposes again)."""
    disposition = Disposition.objects.select_for_update(of=("self",)).select_related("report__case") \
        .get(pk=disposition.pk)
    case = _lock(disposition.report.case)
    _expect(case, ComplaintStatus.SIGNOFF)
    if disposition.status not in (DispositionStatus.SIGNOFF, DispositionStatus.REJECTED) or \
            disposition != current_disposition(case):
        raise WrongState(_("This disposition is no longer awaiting signatures."), current_state=disposition.status)
    if signer_role not in disposition.required_signers:
        raise WrongState(_("This disposition does not need a signature of %(role)s.")
                         % {"role": signer_label(signer_role)})
    if disposition.signoffs.filter(signer_role=signer_role).exists():
        raise WrongState(_("%(role)s has already signed this disposition.") % {"role": signer_label(signer_role)})
    refusal = signoff_forbidden_reason(disposition, actor)
    if refusal:
        raise NotPermitted(refusal)
    approved = meaning == "approved"
    row = DispositionSignoff(disposition=disposition, signer_role=signer_role, approved=approved,
                             comment=data.get("comment", ""), signer=actor, signed_at=timezone.now())
    # the version the signer signs already shows their decision
    snapshot = anomaly_snapshot(case.anomaly_report)
    for entry in snapshot["dispositions"][-1]["required_signers"]:
        if entry["role"] == signer_role:
            entry.update(decision="approved" if approved else "rejected", signer=actor.printed_name,
                         signed_at=row.signed_at, comment=row.comment)
    version = records.add_version(case.anomaly_report.record, actor=actor, data=snapshot,
                                  reason=f"disposition rev. {disposition.revision}: {meaning} "
                                         f"by {signer_label(signer_role)}")
    row.signature = sign(version, role=signer_label(signer_role))
    row.save()
    signed = {s.signer_role: s.approved for s in disposition.signoffs.all()}
    if not approved:
        disposition.status = DispositionStatus.REJECTED
        case.status = ComplaintStatus.DISPOSITION
    elif set(signed) >= set(disposition.required_signers) and all(signed.values()):
        disposition.status = DispositionStatus.APPROVED
        case.status = next_after_approval(disposition)
    disposition.save(update_fields=["status"])
    case.save(update_fields=["status"])
    audit.log("complaint.disposition_signed", row, actor=actor, record=case.anomaly_report.record,
              process_id=case.record.process_id,
              new={"revision": disposition.revision, "role": signer_role, "decision": meaning},
              reason=reason or row.comment)
    _versions(case, actor, f"disposition rev. {disposition.revision} {disposition.status}")
    return row


def record_customer_acceptance(case, *, actor, data, sign):
    """NC-4: Market records the customer's acceptance of a concession (who, when,
    reference) where the contract requires it; a refusal sends the lot back to
    disposition."""
    case = _lock(case)
    _expect(case, ComplaintStatus.CUSTOMER_ACCEPTANCE)
    disposition = current_disposition(case)
    acceptance = CustomerAcceptance(
        disposition=disposition, accepted=data["accepted"], customer_person=data["customer_person"],
        accepted_on=data["accepted_on"], reference=data["reference"], notes=data.get("notes", ""),
        recorded_by=actor, recorded_at=timezone.now())
    if not acceptance.accepted and not acceptance.notes.strip():
        raise InvalidInput(_("Record why the customer refused the concession."),
                           field_errors={"notes": [_("Required when the customer refuses.")]})
    # the signed version shows the acceptance: save it first, sign, then attach the signature
    version_data = anomaly_snapshot(case.anomaly_report)
    version_data["dispositions"][-1]["customer_acceptance"] = {
        "accepted": acceptance.accepted, "customer_person": acceptance.customer_person,
        "accepted_on": acceptance.accepted_on, "reference": acceptance.reference, "notes": acceptance.notes,
        "recorded_by": actor.printed_name}
    version = records.add_version(case.anomaly_report.record, actor=actor, data=version_data,
                                  reason="customer accepts the concession" if acceptance.accepted
                                  else "customer refuses the concession")
    acceptance.signature = sign(version, role=department_label(Department.MARKET))
    acceptance.save()
    if acceptance.accepted:
        case.status = next_after_approval(disposition)
    else:
        disposition.status = DispositionStatus.REFUSED
        disposition.save(update_fields=["status"])
        case.status = ComplaintStatus.DISPOSITION
    case.save(update_fields=["status"])
    audit.log("complaint.customer_acceptance", acceptance, actor=actor, record=case.anomaly_report.record,
              process_id=case.record.process_id,
              new={"accepted": acceptance.accepted, "customer_person": acceptance.customer_person,
                   "date": acceptance.accepted_on, "reference": acceptance.reference}, reason=acceptance.notes)
    _versions(case, actor, "customer acceptance recorded")
    return acceptance


def reworked_quantity(disposition):
    return sum((l.quantity for l in disposition.lines.all()
                if l.code in (DispositionCode.REWORK, DispositionCode.REPAIR)), ZERO)


def record_reinspection(case, *, actor, data, sign):
    """NC-5: the reworked / repaired goods are re-inspected and the result recorded
    before the hold is released. Anything that fails goes back to disposition."""
    case = _lock(case)
    _expect(case, ComplaintStatus.REINSPECTION)
    disposition = current_disposition(case)
    expected = reworked_quantity(disposition) if any(
        l.code in (DispositionCode.REWORK, DispositionCode.REPAIR) for l in disposition.lines.all()) \
        else disposition.lot_quantity
    passed, failed = data["quantity_passed"], data["quantity_failed"]
    if passed + failed != expected:
        raise InvalidInput(_("Passed and failed add up to %(total)s; %(expected)s were reworked or repaired.")
                           % {"total": _plain(passed + failed), "expected": _plain(expected)},
                           field_errors={"quantity_passed": [_("Passed + failed must equal %(expected)s.")
                                                             % {"expected": _plain(expected)}]})
    row = Reinspection(disposition=disposition, quantity_passed=passed, quantity_failed=failed,
                       result=data["result"], inspector=actor, inspected_at=timezone.now())
    snapshot = anomaly_snapshot(case.anomaly_report)
    snapshot["dispositions"][-1]["reinspection"] = {
        "quantity_passed": passed, "quantity_failed": failed, "result": row.result,
        "inspector": actor.printed_name, "inspected_at": row.inspected_at, "passed": not failed}
    version = records.add_version(case.anomaly_report.record, actor=actor, data=snapshot,
                                  reason="re-inspection " + ("passed" if not failed else "failed"))
    row.signature = sign(version, role=INSPECTOR)
    row.save()
    if failed:
        disposition.status = DispositionStatus.FAILED
        disposition.save(update_fields=["status"])
        case.status = ComplaintStatus.DISPOSITION
    else:
        case.status = next_after_approval(disposition)
    case.save(update_fields=["status"])
    audit.log("complaint.reinspected", row, actor=actor, record=case.anomaly_report.record,
              process_id=case.record.process_id, new={"passed": passed, "failed": failed}, reason=row.result)
    _versions(case, actor, "re-inspection recorded")
    return row


def disposition_complete_problems(case):
    """Why the hold may not be released yet ([] when the disposition is complete)."""
    disposition = current_disposition(case)
    if disposition is None:
        return [_("no disposition")]
    problems = []
    if disposition.status != DispositionStatus.APPROVED:
        problems.append(_("the disposition is %(status)s") % {"status": disposition.get_status_display()})
    signed = {s.signer_role: s.approved for s in disposition.signoffs.all()}
    missing = [signer_label(k) for k in disposition.required_signers if not signed.get(k)]
    if missing:
        problems.append(_("signatures missing: %(who)s") % {"who": ", ".join(missing)})
    if disposition.needs_customer_acceptance and not CustomerAcceptance.objects.filter(
            disposition=disposition, accepted=True).exists():
        problems.append(_("the customer's acceptance of the concession is not recorded"))
    if disposition.needs_reinspection and not Reinspection.objects.filter(
            disposition=disposition, quantity_failed=0).exists():
        problems.append(_("the re-inspection is not recorded"))
    return problems


def release_after_disposition(case, *, actor):
    """NC-1, NC-5: once the disposition is complete (every signature, the customer's
    acceptance and the re-inspection where needed), the hold on the lot is released."""
    case = _lock(case)
    _expect(case, ComplaintStatus.CAPA_DECISION)
    problems = disposition_complete_problems(case)
    if problems:
        raise WrongState(_("The hold cannot be released yet: %(why)s.") % {"why": "; ".join(problems)},
                         current_state=case.status)
    disposition = current_disposition(case)
    disposition.status = DispositionStatus.COMPLETED
    disposition.save(update_fields=["status"])
    report_number = case.anomaly_report.record.number
    lot = release_lot(case, actor=actor, note=f"{report_number} 第 {disposition.revision} 版处置完成 "
                                              f"disposition rev. {disposition.revision} of {report_number} complete")
    audit.log("complaint.disposition_completed", disposition, actor=actor, record=case.anomaly_report.record,
              process_id=case.record.process_id, new={"revision": disposition.revision, "lot": lot.status})
    _refresh_lot_records(lot, actor, "lot released" if lot.status == LotStatus.RELEASED else "disposition complete")
    return lot


# --- P2.6 corrective action [src 6.6.9] ---------------------------------------------------------------------------


def capa_default(case):
    """CAPA is the default for a justified case."""
    return bool(case.justified)


def request_capa(case, *, actor):
    """Hook for P3 (issue 4): start the corrective / preventive action flow for `case`,
    link both ways (set case.capa_reference to the CAPA record number; the CAPA flow
    sets case.capa_closed_at when it closes) and return the CAPA record number.

    The CAPA (P3, procedures/capa) names the case as its source and links back to it."""
    if case.internal:  # an IQC rejection is the supplier's; IPQC / OQC are internal nonconformities
        source = "supplier" if case.origin == CaseOrigin.IQC else "internal_nc"
        return raise_capa_from_complaint(case, is_complaint=False, actor=actor, source=source)
    return raise_capa_from_complaint(case, is_complaint=case.kind == ComplaintKind.COMPLAINT, actor=actor)


def decide_capa(case, *, actor, data, sign):
    """P2.6: the Quality manager decides whether corrective / preventive action is
    needed (default yes for a justified case; "no" needs a reason); "yes" requests it
    through request_capa()."""
    case = _lock(case)
    _expect(case, ComplaintStatus.CAPA_DECISION)
    required, reason = data["capa_required"], (data.get("reason") or "").strip()
    if not required and not reason:
        raise InvalidInput(_("Give the reason why no corrective action is needed."),
                           field_errors={"reason": [_("Required when no corrective action is taken.")]})
    case.capa_required, case.capa_reason = required, reason
    case.capa_decided_by, case.capa_decided_at = actor, timezone.now()
    case.save(update_fields=["capa_required", "capa_reason", "capa_decided_by", "capa_decided_at"])
    reference = request_capa(case, actor=actor) if required else None
    if reference:
        case.capa_reference = reference
        case.save(update_fields=["capa_reference"])
    audit.log("complaint.capa_decided", case, actor=actor, record=case.record, process_id=case.record.process_id,
              new={"capa_required": required, "capa_reference": case.capa_reference or None}, reason=reason)
    versions = _versions(case, actor, "CAPA " + ("requested" if required else "not needed"))
    sign(versions.get("feedback") or versions["report"], role=role_label(Department.QUALITY, Role.MANAGER))


def close_case(case, *, actor):
    """The case closes. A return judged not justified releases its hold: the goods
    conform."""
    case = _lock(case)
    if case.internal and case.justified is False:
        _expect(case, ComplaintStatus.JUDGEMENT)
    else:
        _expect(case, ComplaintStatus.NEGOTIATION, ComplaintStatus.CAPA_DECISION)
    if case.lot_held and case.internal:
        lot = release_lot(case, actor=actor, note=f"{case.record.number} 不合格不成立，批次合格 "
                                                  f"{case.record.number} not confirmed: the lot conforms")
    elif case.lot_held:
        lot = release_lot(case, actor=actor, note=f"退货 {case.record.number} 不成立，货物合格 "
                                                  f"return {case.record.number} not justified: the goods conform")
    else:
        lot = case.lot
    case.status, case.closed_at = ComplaintStatus.CLOSED, timezone.now()
    case.save(update_fields=["status", "closed_at"])
    audit.log("complaint.closed", case, actor=actor, record=case.record, process_id=case.record.process_id,
              new={"justified": case.justified, "cost": case.cost, "capa_required": case.capa_required})
    if lot is not None:
        _refresh_lot_records(lot, actor, "case closed")
    else:
        _versions(case, actor, "case closed")


FOLLOW_UP_SCALE = 5  # 回访满意度 1 (very dissatisfied) … 5 (very satisfied)


def may_record_follow_up(user):
    return bool(user and user.is_authenticated and user.is_active) and holds_permission(
        user, department_permission(Department.MARKET, Role.STAFF))


def record_follow_up(case, *, actor, data):
    """回访满意度 (issue 17): once the case is closed, Market records how satisfied the customer is
    with its handling — a score 1…FOLLOW_UP_SCALE and a remark; a new version of the feedback
    form, audited. Recording it again replaces it (the earlier version keeps the earlier one)."""
    if not may_record_follow_up(actor):
        raise NotPermitted(_("Only Market records the follow-up satisfaction."))
    case = _lock(case)
    _expect(case, ComplaintStatus.CLOSED)
    errors = {}
    score = data.get("score")
    if isinstance(score, str) and score.strip().isdigit():
        score = int(score.strip())
    if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= FOLLOW_UP_SCALE:
        errors["score"] = [_("Enter a whole number from %(min)s to %(max)s.") % {"min": 1, "max": FOLLOW_UP_SCALE}]
    remark = data.get("remark") or ""
    if not isinstance(remark, str) or len(remark) > 2000:
        errors["remark"] = [_("At most %(n)s characters.") % {"n": 2000}]
    if errors:
        raise InvalidInput(_("The follow-up satisfaction is incomplete."), field_errors=errors)
    old = {"score": case.follow_up_score, "remark": case.follow_up_remark}
    case.follow_up_score, case.follow_up_remark = score, remark.strip()
    case.follow_up_by, case.follow_up_at = actor, timezone.now()
    case.save(update_fields=["follow_up_score", "follow_up_remark", "follow_up_by", "follow_up_at"])
    audit.log("complaint.follow_up_recorded", case, actor=actor, record=case.record,
              process_id=case.record.process_id, old=old, new={"score": score, "remark": case.follow_up_remark})
    return _versions(case, actor, "follow-up satisfaction recorded", report=False)["feedback"]


def case_records(case):
    """The records of a case, for rendering: feedback form, anomaly report, receipt."""
    found = [case.record]
    for name in ("anomaly_report", "material_receipt"):
        related = getattr(case, name, None)
        if related is not None and related.record_id != case.record_id:  # internal: the case is its report
            found.append(related.record)
    return found


# --- P2.7 periodic analysis [src 6.6.10; CA-6] -----------------------------------------------------------------------


def previous_period(today=None, months=None):
    """The full calendar months before `today` (default: settings.QMS
    ["COMPLAINT_ANALYSIS_MONTHS"], 1): (first day, last day)."""
    months = months or int(settings.QMS.get("COMPLAINT_ANALYSIS_MONTHS", 1))
    today = today or timezone.localdate()
    end = today.replace(day=1) - datetime.timedelta(days=1)
    start = end.replace(day=1)
    for _month in range(months - 1):
        start = (start - datetime.timedelta(days=1)).replace(day=1)
    return start, end


def _pareto(rows):
    """rows: [(key, label, count, quantity, cost, justified)] → sorted with shares."""
    rows = sorted(rows, key=lambda r: (-r["count"], -r["cost"], r["label"]))
    total = sum(r["count"] for r in rows) or 1
    cumulative = 0
    for rank, row in enumerate(rows, start=1):
        cumulative += row["count"]
        row["rank"] = rank
        row["share"] = (Decimal(row["count"] * 100) / total).quantize(Decimal("0.1"))
        row["cumulative"] = (Decimal(cumulative * 100) / total).quantize(Decimal("0.1"))
    return rows


def _group(cases, key, label):
    groups = {}
    for case in cases:
        k = key(case)
        row = groups.setdefault(k, {"key": k, "label": label(case), "count": 0, "justified": 0, "quantity": ZERO,
                                    "cost": ZERO})
        row["count"] += 1
        row["justified"] += 1 if case.justified else 0
        row["quantity"] += case.quantity_affected
        row["cost"] += case.cost
    return _pareto(list(groups.values()))


def _months_back(end, count):
    months, year, month = [], end.year, end.month
    for _month in range(count):
        months.append((year, month))
        month -= 1
        if month == 0:
            year, month = year - 1, 12
    return list(reversed(months))


def compute_analysis(period_start, period_end):
    """The figures of the complaint and return analysis for a period (by the date each
    complaint was received): counts, Pareto by customer / product / defect class, cost,
    justified vs not, dispositions, open CAPA requests, a 12-month trend."""
    customer_cases = ComplaintCase.objects.filter(origin=CaseOrigin.CUSTOMER)  # internal NCs are not complaints
    cases = list(customer_cases.filter(received_on__gte=period_start, received_on__lte=period_end)
                 .select_related("record", "customer", "product").order_by("received_on", "pk"))
    dispositions = defaultdict(lambda: ZERO)
    latest = {}
    for d in Disposition.objects.filter(report__case__in=[c.pk for c in cases]).exclude(
            status__in=[DispositionStatus.REJECTED, DispositionStatus.REFUSED, DispositionStatus.FAILED]
    ).prefetch_related("lines").select_related("report").order_by("revision"):
        latest[d.report.case_id] = d
    for d in latest.values():
        for line in d.lines.all():
            dispositions[line.code] += line.quantity
    trend_months = _months_back(period_end, 12)
    trend_start = datetime.date(trend_months[0][0], trend_months[0][1], 1)
    trend_counts = defaultdict(lambda: {"complaints": 0, "returns": 0})
    for kind, received_on in customer_cases.filter(
            received_on__gte=trend_start, received_on__lte=period_end).values_list("kind", "received_on"):
        bucket = trend_counts[(received_on.year, received_on.month)]
        bucket["returns" if kind in (ComplaintKind.RETURN, ComplaintKind.BOTH) else "complaints"] += 1
    open_capa = customer_cases.filter(capa_required=True, capa_closed_at__isnull=True)
    figures = {
        "totals": {
            "cases": len(cases),
            "complaints": sum(1 for c in cases if c.kind == ComplaintKind.COMPLAINT),
            "returns": sum(1 for c in cases if c.kind == ComplaintKind.RETURN),
            "both": sum(1 for c in cases if c.kind == ComplaintKind.BOTH),
            "justified": sum(1 for c in cases if c.justified is True),
            "not_justified": sum(1 for c in cases if c.justified is False),
            "undecided": sum(1 for c in cases if c.justified is None),
            "repeats": sum(1 for c in cases if c.repeat_count),
            "closed": sum(1 for c in cases if c.status == ComplaintStatus.CLOSED),
            "quantity_affected": sum((c.quantity_affected for c in cases), ZERO),
            "cost": sum((c.cost for c in cases), ZERO),
        },
        "by_customer": _group(cases, lambda c: c.customer.code, lambda c: customer_label(c.customer)),
        "by_product": _group(cases, lambda c: c.product.code,
                             lambda c: f"{c.product.code} {c.product.name_zh} {c.product.name_en}".strip()),
        "by_defect": _group(cases, lambda c: c.defect_category,
                            lambda c: DefectCategory.bilingual_of(c.defect_category)),
        "dispositions": [{"code": code, "label": DispositionCode.bilingual_of(code),
                          "quantity": dispositions[code]} for code in DispositionCode.values if code in dispositions],
        "capa": {
            "requested_in_period": sum(1 for c in cases if c.capa_required),
            "open": open_capa.count(),
            "open_cases": list(open_capa.order_by("received_on", "pk").values_list("record__number", flat=True)[:50]),
        },
        "trend": [{"month": f"{y}-{m:02d}", **trend_counts[(y, m)]} for y, m in trend_months],
        "cases": [{"number": c.record.number, "received_on": c.received_on, "customer": c.customer.code,
                   "product": c.product.code, "lot": c.lot_number, "kind": c.kind,
                   "kind_label": ComplaintKind.bilingual_of(c.kind),
                   "defect": DefectCategory.bilingual_of(c.defect_category), "justified": c.justified,
                   "cost": c.cost, "status": ComplaintStatus.bilingual_of(c.status)} for c in cases],
    }
    figures["charts"] = {
        "by_customer": pareto_svg([(r["label"], r["count"]) for r in figures["by_customer"]],
                                  title="按客户排列图 Pareto by customer", y_label="次数 Count"),
        "by_product": pareto_svg([(r["label"], r["count"]) for r in figures["by_product"]],
                                 title="按产品排列图 Pareto by product", y_label="次数 Count"),
        "by_defect": pareto_svg([(r["label"], r["count"]) for r in figures["by_defect"]],
                                title="按缺陷分类排列图 Pareto by defect class", y_label="次数 Count"),
        "trend": trend_svg([t["month"] for t in figures["trend"]],
                           {"投诉 Complaints": [t["complaints"] for t in figures["trend"]],
                            "退货 Returns": [t["returns"] for t in figures["trend"]]},
                           title="12个月趋势 12-month trend"),
    }
    return records.jsonable(figures)


def compile_analysis(*, period_start, period_end, actor, process, trigger):
    """P2.7 [src 6.6.10]: compile the complaint and return analysis of a period as a
    record (with charts) for the Market manager to sign as management-review input."""
    from forms.pdf import queue_render  # noqa: PLC0415 — looked up per call: tests stub forms.pdf.queue_render

    if period_end < period_start:
        raise InvalidInput(_("The period ends before it starts."),
                           field_errors={"period_end": [_("Must not be before the start.")]})
    figures = compute_analysis(period_start, period_end)
    record = records.create_record(
        record_types.COMPLAINT_ANALYSIS.code, actor=actor, status="awaiting_approval",
        title=f"{record_types.COMPLAINT_ANALYSIS.title} {period_start}–{period_end}", process=process,
        search_text=f"{period_start} {period_end}", reason="analysis compiled")
    analysis = ComplaintAnalysis.objects.create(
        record=record, period_start=period_start, period_end=period_end, trigger=trigger, figures=figures,
        compiled_by=actor, compiled_at=timezone.now())
    audit.log("complaint_analysis.compiled", analysis, actor=actor, record=record, process_id=process.pk,
              new={"period": [period_start, period_end], "cases": figures["totals"]["cases"], "trigger": trigger})
    version = records.add_version(record, actor=actor, data=analysis_snapshot(analysis), reason="analysis compiled")
    queue_render(version)  # the draft PDF the Market manager reads before signing
    return analysis


def approve_analysis(analysis, *, actor, data, sign):
    """P2.7: the Market manager signs the analysis as a management-review input (CA-7)."""
    analysis = ComplaintAnalysis.objects.select_for_update(of=("self",)).select_related("record").get(pk=analysis.pk)
    if analysis.approved_by_id:
        raise WrongState(_("This analysis is already signed."), current_state="approved")
    analysis.comment, analysis.approved_by, analysis.approved_at = data.get("comment", ""), actor, timezone.now()
    analysis.save(update_fields=["comment", "approved_by", "approved_at"])
    version = records.add_version(analysis.record, actor=actor, data=analysis_snapshot(analysis),
                                  reason="approved as management-review input", status="approved")
    sign(version, role=signer_label(signer_key(Department.MARKET, Role.MANAGER)))
    audit.log("complaint_analysis.approved", analysis, actor=actor, record=analysis.record,
              process_id=analysis.record.process_id, new={"period": [analysis.period_start, analysis.period_end]},
              reason=analysis.comment)
    return analysis


def analysis_exists(period_start, period_end):
    return ComplaintAnalysis.objects.filter(period_start=period_start, period_end=period_end,
                                            trigger="scheduled").exists()


def complaint_analysis_number(process):
    analysis = ComplaintAnalysis.objects.filter(record__process=process).select_related("record").first()
    return analysis.record.number if analysis else None


# --- NC-8: the disposition rules (admin) --------------------------------------------------------------------


def save_disposition_rule(rule, *, actor, signers, customer_acceptance, reinspection, reason):
    """Create or change the further requirements of one disposition code, audited with old and
    new values and the reason (rules are never deleted). The admin's one way to write them."""
    if not (reason or "").strip():
        raise InvalidInput(_("A reason is required."), field_errors={"reason": [_("Required.")]})
    unknown = sorted(set(signers) - {key for key, _label in SIGNER_CHOICES})
    if unknown:
        raise InvalidInput(_("Unknown signer."), field_errors={"signers": [", ".join(unknown)]})
    fields = ["signers", "customer_acceptance", "reinspection"]
    with transaction.atomic():
        before = DispositionRule.objects.filter(pk=rule.pk).values(*fields).first() if rule.pk else None
        rule.signers, rule.customer_acceptance, rule.reinspection = sorted(signers), customer_acceptance, reinspection
        rule.full_clean()
        rule.save()
        after = {field: getattr(rule, field) for field in fields}
        if before is None:
            audit.log("disposition_rule.created", rule, actor=actor, new=after, reason=reason)
        else:
            old, new = audit.changed_values(before, after)
            audit.log("disposition_rule.changed", rule, actor=actor, old=old, new=new, reason=reason)
    return rule


def corrective_action_closed(sender, case, **kwargs):
    """P3 closed the corrective action a complaint / return asked for (procedures.capa.signals,
    connected in apps.py): the case shows when."""
    if case.complaint_case_id:
        ComplaintCase.objects.filter(pk=case.complaint_case_id).update(capa_closed_at=case.closed_at)
