"""Browser pages of the contract ledger (合同台账, QR-MK-003): the ledger (filters, paginated, CSV / XLSX,
print), one line with its revisions and shipments, and the finished-goods store's shipment form.
Thin: who sees what and the filters in ledger.py, changes through actions.py."""
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin, UserPassesTestMixin
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView
from rest_framework.exceptions import ValidationError
from viewflow.urls import AppMenuMixin, Viewset

from core.downloads import attach_filename
from core.errors import DomainError
from forms import sheets

from . import actions as p1
from .ledger import FILTERS, can_view_ledger, filter_ledger, visible_entries, write_csv, write_xlsx
from .models import LedgerStatus
from .records import ledger_row_data

PAGE_SIZE = 50


class LedgerAccess(LoginRequiredMixin, UserPassesTestMixin):
    """Members, and auditors whose grant is current (read-only: evidence.middleware refuses their writes)."""

    def test_func(self):
        return can_view_ledger(self.request.user)


def _errors(error):
    detail = error.detail if isinstance(error.detail, dict) else {"": error.detail}
    return {name: " ".join(str(m) for m in (msgs if isinstance(msgs, list) else [msgs]))
            for name, msgs in detail.items()}


def _ledger(request):
    """(filtered queryset, {parameter: error}) of the page's query; nothing listed on a bad filter."""
    entries = visible_entries(request.user)
    try:
        return filter_ledger(entries, request.GET), {}
    except ValidationError as error:
        return entries.none(), _errors(error)


class LedgerView(LedgerAccess, TemplateView):
    template_name = "order_review/ledger.html"

    def get(self, request, *args, **kwargs):
        entries, errors = _ledger(request)
        page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
        kept = {k: v for k, v in request.GET.items() if k in FILTERS and v}
        context = self.get_context_data(page=page, rows=page.object_list, errors=errors, filters=kept,
                                        query=urlencode(kept), statuses=LedgerStatus.choices)
        return self.render_to_response(context, status=400 if errors else 200)


def _export(kind):
    def export(request):
        if not request.user.is_authenticated or not can_view_ledger(request.user):
            return HttpResponse(_("You may not see the contract ledger."), status=403)
        entries, errors = _ledger(request)
        if errors:
            return HttpResponse("\n".join(f"{k}: {v}" for k, v in errors.items()), status=400,
                                content_type="text/plain; charset=utf-8")
        rows = [ledger_row_data(e) for e in entries]
        name = f"contract-ledger-{timezone.localdate().isoformat()}.{kind}"
        if kind == "xlsx":
            response = HttpResponse(
                write_xlsx(rows), content_type=sheets.CONTENT_TYPE)
        else:
            response = HttpResponse(write_csv(rows), content_type="text/csv; charset=utf-8")
        return attach_filename(response, name, attachment=True)
    return export


class _PostedFilters:
    """The print form posts the page's filters: read them as the page reads its query."""

    def __init__(self, request):
        self.user, self.GET = request.user, request.POST


def print_view(request):
    """POST: the filtered ledger printed as its controlled form (a record; its PDF on the record page)."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    if not request.user.is_authenticated or not can_view_ledger(request.user):
        return HttpResponse(_("You may not see the contract ledger."), status=403)
    entries, errors = _ledger(_PostedFilters(request))
    if errors:
        messages.error(request, "; ".join(f"{k}: {v}" for k, v in errors.items()))
        return HttpResponseRedirect(reverse("qms:ledger:index"))
    filters = {k: request.POST.get(k, "") for k in FILTERS}
    with transaction.atomic():
        record = p1.print_ledger(actor=request.user, rows=list(entries), filters=filters)
    messages.success(request, _("The contract ledger was printed as %(number)s; its PDF follows on the record page.")
                     % {"number": record.number})
    return HttpResponseRedirect(reverse("qms:records:detail", args=[record.number]))


class LedgerLineView(LedgerAccess, TemplateView):
    """One ledger line: its revisions (change notice, old → new, date), its shipments and, for the
    finished-goods store while the line is open, the shipment form."""

    template_name = "order_review/ledger_line.html"

    def get(self, request, pk, *args, errors=None, values=None, status=200, **kwargs):
        entry = visible_entries(request.user).filter(pk=pk).first()
        if entry is None:
            raise Http404("No such ledger line")
        row = ledger_row_data(entry)
        may_ship = p1.may_record_shipments(request.user) and entry.status == LedgerStatus.OPEN
        products = [(l.product.code, str(l.product)) for l in entry.order_review.lines.select_related(
            "product")]
        context = self.get_context_data(
            entry=entry, row=row, may_ship=may_ship, products=products, errors=errors or {}, values=values or {},
            today=timezone.localdate().isoformat(), notices=entry.order_review.change_notices.select_related(
                "record").order_by("pk"))
        return self.render_to_response(context, status=status)

    def post(self, request, pk, *args, **kwargs):
        entry = visible_entries(request.user).filter(pk=pk).first()
        if entry is None:
            raise Http404("No such ledger line")
        data = {k: request.POST.get(k, "") for k in ("shipped_on", "product", "quantity", "lot_number",
                                                      "delivery_note", "remarks")}
        try:
            with transaction.atomic():
                shipment = p1.record_shipment(entry, actor=request.user, data=data)
        except DomainError as error:
            errors = {"": error.message, **{k: " ".join(str(m) for m in v) for k, v in error.field_errors.items()}}
            return self.get(request, pk, errors=errors, values=data, status=error.status_code)
        messages.success(request, _("Shipment %(note)s recorded.") % {"note": shipment.delivery_note})
        return HttpResponseRedirect(reverse("qms:ledger:line", args=[pk]))


class LedgerViewset(AppMenuMixin, Viewset):
    """The contract ledger (P1) in the site menu."""

    title = gettext_lazy("Contract ledger")
    icon = "menu_book"

    def has_view_permission(self, user, obj=None):
        return can_view_ledger(user)

    @property
    def index_path(self):
        return path("", LedgerView.as_view(), name="index")

    @property
    def csv_path(self):
        return path("export.csv", _export("csv"), name="csv")

    @property
    def xlsx_path(self):
        return path("export.xlsx", _export("xlsx"), name="xlsx")

    @property
    def print_path(self):
        return path("print/", print_view, name="print")

    @property
    def line_path(self):
        return path("<int:pk>/", LedgerLineView.as_view(), name="line")
