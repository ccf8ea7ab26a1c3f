"""The contract ledger (合同台账, QR-MK-003; P1.5, src 7): who sees it and its filters — one function used
by the API (GET /api/ledger/), the ledger page, its CSV / XLSX exports and its print, so each rule lives
once. A value that cannot be what its parameter means is refused (DRF's ValidationError naming the
parameter: a 400 in the API, an error beside the filters on the page)."""
import io

from django.db.models import Prefetch, Q
from django.utils.translation import gettext as _

from core.access import can_view_processes, can_view_records, records_visible_to
from core.rest import params
from evidence.access import is_auditor
from forms import sheets

from .models import LedgerEntry, LedgerRevision, LedgerShipment, LedgerStatus, OrderKind

FILTERS = ("customer", "status", "period_from", "period_to", "number")


def can_view_ledger(user):
    """Department members (a quality system is transparent inside the company), and auditors (read-only)
    while their grant is current; an auditor sees the lines of the order reviews the grant covers."""
    if is_auditor(user):
        return can_view_records(user)
    return can_view_processes(user)


def visible_entries(user):
    return LedgerEntry.objects.filter(order_review__record__in=records_visible_to(user)).select_related(
        "order_review__record", "order_review__customer").prefetch_related(
        Prefetch("revisions", LedgerRevision.objects.select_related("change_notice__record")),
        Prefetch("shipments", LedgerShipment.objects.select_related("product", "recorded_by")))


def filter_ledger(qs, query):
    """`qs` filtered by the ledger's parameters (a QueryDict or dict): customer (code, or part of the
    name), status (LedgerStatus), period_from / period_to (the date signed, YYYY-MM-DD), number (part of
    the contract / order number or of the order review's record number). Newest first."""
    customer = params.text(query, "customer", max_length=200)
    state = params.choice(query, "status", LedgerStatus.values)
    period_from, period_to = params.date(query, "period_from"), params.date(query, "period_to")
    number = params.text(query, "number", max_length=50)
    if customer:
        qs = qs.filter(Q(order_review__customer__code=customer) | Q(customer_name__icontains=customer))
    if state:
        qs = qs.filter(status=state)
    if period_from:
        qs = qs.filter(signed_date__gte=period_from)
    if period_to:
        qs = qs.filter(signed_date__lte=period_to)
    if number:
        qs = qs.filter(Q(contract_number__icontains=number) | Q(order_review__record__number__icontains=number))
    return qs.order_by("-signed_date", "-pk")


def _changes_text(revision):
    if revision["change_notice"] is None:
        return f"{revision['revision']}: {revision['summary']}"
    changed = "; ".join(f"{key}: {old} → {new}" for key, (old, new) in revision["changes"].items())
    return f"{revision['revision']}: {revision['summary']}" + (f" ({changed})" if changed else "")


def _plain(value):
    """A Decimal as a spreadsheet reads it: 800.000 → 800, 12.50 → 12.5."""
    return format(value.normalize(), "f")


def export_header():
    return [_("Contract / order number"), _("Type"), _("Order review record"), _("Customer"), _("Customer code"),
            _("Status"), _("Date signed"), _("Delivery date"), _("Total amount"), _("Ordered"), _("Shipped"),
            _("Not shipped"), _("Revision"), _("Revisions (change notice: old → new)"),
            _("Shipments (date, product, quantity, lot, delivery note)")]


def export_row(row):
    """One ledger line (records.ledger_row_data) as a row of the CSV / XLSX export."""
    return [row["contract_number"], str(OrderKind(row["kind"]).label), row["order_record_number"], row["customer"],
            row["customer_code"], str(LedgerStatus(row["status"]).label), row["signed_date"].isoformat(),
            row["delivery_date"].isoformat(), _plain(row["total_amount"]), _plain(row["ordered_quantity"]),
            _plain(row["shipped_quantity"]), _plain(row["open_quantity"]), row["revision"],
            "\n".join(f"{r['date']:%Y-%m-%d} {_changes_text(r)}" for r in row["revisions"]),
            "\n".join(f"{s['shipped_on']} {s['product']} {_plain(s['quantity'])} {s['lot_number']} "
                      f"{s['delivery_note']}" for s in row["shipments"])]


def write_csv(rows):
    out = io.StringIO()
    out.write("\ufeff")  # a spreadsheet then reads the file as UTF-8
    writer = sheets.csv_writer(out)
    writer.writerow(export_header())
    for row in rows:
        writer.writerow(export_row(row))
    return out.getvalue().encode("utf-8")


def write_xlsx(rows):
    book, sheet = sheets.workbook("合同台账")
    sheets.append(sheet, export_header())
    for row in rows:
        values = export_row(row)
        numeric = {8, 9, 10, 11}  # total amount, ordered, shipped, not shipped
        sheets.append(sheet, [float(v) if i in numeric else v for i, v in enumerate(values)])
    for column, width in zip("ABCDEFGHIJKLMNO", (18, 8, 16, 28, 10, 14, 12, 12, 12, 10, 10, 10, 8, 50, 50)):
        sheet.column_dimensions[column].width = width
    return sheets.save(book)
