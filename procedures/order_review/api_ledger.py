"""The contract ledger (合同台账, QR-MK-003) over the REST API: the ledger (filters, paginated), its CSV and
XLSX exports, one line with its revisions and shipments, a shipment recorded by the finished-goods
store, and the ledger printed as its controlled form. Who sees what and the filters: ledger.py; the
changes: actions.py."""
from django.db import transaction
from django.http import Http404, HttpResponse
from django.urls import path
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

from core.downloads import attach_filename
from core.rest.base import APIView, json_object, reject_unknown
from forms import sheets

from . import actions as p1
from .ledger import can_view_ledger, filter_ledger, visible_entries, write_csv, write_xlsx
from .models import LedgerStatus
from .records import ledger_row_data

FILTER_PARAMETERS = [
    OpenApiParameter("customer", str, description="customer code or part of the name"),
    OpenApiParameter("status", str, enum=LedgerStatus.values),
    OpenApiParameter("period_from", OpenApiTypes.DATE, description="signed on or after"),
    OpenApiParameter("period_to", OpenApiTypes.DATE, description="signed on or before"),
    OpenApiParameter("number", str, description="part of the contract / order number or record number"),
]
SHIPMENT_FIELDS = {"shipped_on", "product", "quantity", "lot_number", "delivery_note", "remarks"}


def _entries(request):
    if not can_view_ledger(request.user):
        raise PermissionDenied()
    return filter_ledger(visible_entries(request.user), request.query_params)


class LedgerListView(APIView):
    @extend_schema(operation_id="ledger_list", summary="The contract ledger (P1.5, QR-MK-003)",
                   parameters=[*FILTER_PARAMETERS, OpenApiParameter("page", OpenApiTypes.INT)],
                   responses=OpenApiTypes.OBJECT)
    def get(self, request):
        entries = _entries(request)
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(entries, request, view=self)
        return paginator.get_paginated_response([ledger_row_data(e) for e in page])


class LedgerExportView(APIView):
    """The filtered ledger (every line, not one page) as CSV or XLSX."""

    kind = "csv"

    @extend_schema(summary="The contract ledger exported (CSV / XLSX)", parameters=FILTER_PARAMETERS,
                   responses={(200, "text/csv"): OpenApiTypes.BINARY})
    def get(self, request):
        rows = [ledger_row_data(e) for e in _entries(request)]
        name = f"contract-ledger-{timezone.localdate().isoformat()}.{self.kind}"
        if self.kind == "xlsx":
            response = HttpResponse(
                write_xlsx(rows), content_type=sheets.CONTENT_TYPE)
        else:
            response = HttpResponse(write_csv(rows), content_type="text/csv; charset=utf-8")
        return attach_filename(response, name, attachment=True)


class LedgerDetailView(APIView):
    @extend_schema(operation_id="ledger_retrieve", summary="One contract ledger line with revisions and shipments",
                   responses=OpenApiTypes.OBJECT)
    def get(self, request, pk):
        if not can_view_ledger(request.user):
            raise PermissionDenied()
        entry = visible_entries(request.user).filter(pk=pk).first()
        if entry is None:
            raise Http404("No such ledger line")
        return Response(ledger_row_data(entry))


class LedgerShipmentView(APIView):
    @extend_schema(operation_id="ledger_shipment_create",
                   summary="Record a shipment against a ledger line (finished-goods store)",
                   request=inline_serializer("LedgerShipment", {
                       "shipped_on": serializers.DateField(), "quantity": serializers.DecimalField(12, 3),
                       "product": serializers.CharField(required=False, help_text="product code (if several)"),
                       "lot_number": serializers.CharField(), "delivery_note": serializers.CharField(),
                       "remarks": serializers.CharField(required=False)}),
                   responses={201: OpenApiTypes.OBJECT})
    def post(self, request, pk):
        entry = visible_entries(request.user).filter(pk=pk).first() if can_view_ledger(request.user) else None
        if entry is None:
            raise Http404("No such ledger line")
        data, _files = json_object(request, allow_multipart=False)
        reject_unknown(data, SHIPMENT_FIELDS)
        with transaction.atomic():
            shipment = p1.record_shipment(entry, actor=request.user, data=data)
        entry = visible_entries(request.user).get(pk=pk)
        return Response({"shipment": shipment.pk, "line": ledger_row_data(entry)}, status=201)


class LedgerPrintView(APIView):
    @extend_schema(operation_id="ledger_print", summary="Print the contract ledger as its controlled form (PDF)",
                   parameters=FILTER_PARAMETERS, request=None, responses={201: OpenApiTypes.OBJECT})
    def post(self, request):
        entries = list(_entries(request))
        filters = {k: request.query_params.get(k, "") for k in ("customer", "status", "period_from", "period_to",
                                                                  "number")}
        with transaction.atomic():
            record = p1.print_ledger(actor=request.user, rows=entries, filters=filters)
        return Response({"record": record.number, "lines": len(entries)}, status=201)


urlpatterns = [
    path("ledger/", LedgerListView.as_view(), name="api-ledger"),
    path("ledger/export.csv", LedgerExportView.as_view(kind="csv"), name="api-ledger-csv"),
    path("ledger/export.xlsx", LedgerExportView.as_view(kind="xlsx"), name="api-ledger-xlsx"),
    path("ledger/print/", LedgerPrintView.as_view(), name="api-ledger-print"),
    path("ledger/<id:pk>/", LedgerDetailView.as_view(), name="api-ledger-detail"),
    path("ledger/<id:pk>/shipments/", LedgerShipmentView.as_view(), name="api-ledger-shipments"),
]
