"""NC-1: a lot on hold blocks its use and shipment. The one check every place that moves goods
calls — P2's material receipt / issue (actions.record_material_movement) and, through
procedures.complaints.entry, P1's shipments. Reads the models only, so another procedure may
reach it through entry.py without importing P2's actions."""
from django.utils.translation import gettext as _

from core.errors import WrongState

from .models import ComplaintCase, Lot, LotStatus


def holding_reports(lot):
    """The record numbers of the quality anomaly reports (or, before the inspection, the feedback
    forms) of the cases that hold `lot`."""
    numbers = []
    for case in ComplaintCase.objects.filter(lot=lot, lot_held=True).select_related(
            "record", "anomaly_report__record").order_by("pk"):
        report = getattr(case, "anomaly_report", None)
        numbers.append(report.record.number if report is not None else case.record.number)
    return numbers


def assert_lot_usable(product, lot_number):
    """NC-1: refuse to use or ship a lot that is on hold — the material receipt / issue here, the
    P1 shipments through procedures.complaints.entry. The refusal (409) names the hold and the
    anomaly report(s) that hold the lot."""
    lot = Lot.objects.filter(product=product, number=(lot_number or "").strip()).first()
    if lot is not None and lot.status == LotStatus.ON_HOLD:
        reports = ", ".join(holding_reports(lot)) or "—"
        raise WrongState(_("Lot %(lot)s of %(product)s is on hold (%(reason)s; quality anomaly report "
                           "%(reports)s): it may not be used or shipped until its disposition is complete.")
                         % {"lot": lot.number, "product": product.code, "reason": lot.hold_reason or "—",
                            "reports": reports},
                         current_state=lot.status,
                         field_errors={"lot_number": [_("On hold: %(reports)s.") % {"reports": reports}]})
