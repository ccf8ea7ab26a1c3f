"""P2 over the REST API: register a complaint / return, compile an analysis, read the lots and
their hold status. The steps themselves run through /api/tasks/ (api/views.py)."""
from django.http import Http404
from django.utils.translation import gettext as _
from django.urls import path
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from core.access import can_view_processes
from core.errors import InvalidInput, NotPermitted
from core.rest import params
from core.rest.base import ViewSet, json_object, reject_unknown
from forms.stepforms import form_errors
from workflows.rest import STARTED, StartProcessView

from . import actions
from .flows import ComplaintFlow
from .forms import MaterialMovementForm
from .models import CaseOrigin, Lot, LotStatus, MaterialMovement, MovementKind


class ComplaintStartView(StartProcessView):
    """P2.1: JSON, or multipart with the JSON in a `payload` part and the `photos` files beside it."""

    node = ComplaintFlow.start

    @extend_schema(
        summary="Register a customer complaint, return or both (P2.1, quality information feedback form)",
        request={
            "application/json": inline_serializer("ComplaintStart", {
                "kind": serializers.ChoiceField(choices=["complaint", "return", "both"]),
                "customer": serializers.CharField(), "product": serializers.CharField(),
                "lot_number": serializers.CharField(required=False),
                "received_on": serializers.DateField(), "order_reference": serializers.CharField(required=False),
                "quantity_delivered": serializers.DecimalField(max_digits=12, decimal_places=3),
                "quantity_affected": serializers.DecimalField(max_digits=12, decimal_places=3),
                "defect_category": serializers.CharField(), "description": serializers.CharField(),
                "customer_request": serializers.CharField(),
            }),
            "multipart/form-data": inline_serializer("ComplaintStartMultipart", {
                "payload": serializers.CharField(help_text="the JSON body"),
                "photos": serializers.ListField(child=serializers.FileField(), required=False),
            }),
        },
        responses={201: STARTED},
    )
    def post(self, request):
        return super().post(request)


class InternalReportStartView(StartProcessView):
    """P2.2 from an internal inspection (IQC / IPQC / OQC): JSON with `signature` (the inspector
    signs the report), or multipart with the JSON in `payload` and `photos` beside it."""

    node = ComplaintFlow.start_internal

    @extend_schema(
        summary="Open a quality anomaly report from an internal inspection (IQC / IPQC / OQC); the lot is held",
        request={
            "application/json": inline_serializer("InternalAnomalyStart", {
                "origin": serializers.ChoiceField(choices=[CaseOrigin.IQC, CaseOrigin.IPQC, CaseOrigin.OQC]),
                "inspected_on": serializers.DateField(),
                "supplier": serializers.CharField(required=False, help_text="required for IQC"),
                "customer": serializers.CharField(required=False), "product": serializers.CharField(),
                "lot_number": serializers.CharField(),
                "lot_size": serializers.DecimalField(max_digits=12, decimal_places=3),
                "quantity_inspected": serializers.DecimalField(max_digits=12, decimal_places=3),
                "sample_size": serializers.DecimalField(max_digits=12, decimal_places=3, required=False),
                "quantity_defective": serializers.DecimalField(max_digits=12, decimal_places=3),
                "defect_category": serializers.CharField(), "defect_grade": serializers.CharField(),
                "phenomenon": serializers.CharField(), "cause_summary": serializers.CharField(),
                "interim_measure": serializers.CharField(),
                "actions": serializers.ListField(child=serializers.CharField(), required=False),
                "signature": serializers.DictField(),
            }),
            "multipart/form-data": inline_serializer("InternalAnomalyStartMultipart", {
                "payload": serializers.CharField(help_text="the JSON body"),
                "photos": serializers.ListField(child=serializers.FileField(), required=False),
            }),
        },
        responses={201: STARTED},
    )
    def post(self, request):
        return super().post(request)


class ComplaintAnalysisStartView(StartProcessView):
    """P2.7 on demand: compile the complaint and return analysis of a period (Market manager)."""

    node = ComplaintFlow.start_analysis

    @extend_schema(
        summary="Compile the complaint and return analysis of a period (P2.7)",
        request=inline_serializer("ComplaintAnalysisStart", {"period_start": serializers.DateField(),
                                                             "period_end": serializers.DateField()}),
        responses={201: STARTED},
    )
    def post(self, request):
        return super().post(request)


def filtered_page(view, request, rows, serializer, filters):
    """One page (PageNumberPagination) of `rows` narrowed by each filter {lookup: value} given a value, serialized."""
    for lookup, value in filters.items():
        if value:
            rows = rows.filter(**{lookup: value})
    paginator = PageNumberPagination()
    page = paginator.paginate_queryset(rows, request, view=view)
    return paginator.get_paginated_response(serializer(page, many=True).data)


class LotSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    product = serializers.CharField(source="product.code")
    number = serializers.CharField()
    quantity = serializers.DecimalField(max_digits=12, decimal_places=3)
    status = serializers.CharField()
    on_hold = serializers.BooleanField()
    hold_reason = serializers.CharField()
    held_at = serializers.DateTimeField()
    released_at = serializers.DateTimeField()
    cases = serializers.SerializerMethodField()

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_cases(self, lot):
        return [case.record.number for case in lot.cases.all()]


class LotViewSet(ViewSet):
    """NC-1: lots and their hold status (a held lot may not be used or shipped)."""

    lookup_value_converter = "id"

    def _lots(self, request):
        if not can_view_processes(request.user):
            return Lot.objects.none()
        return Lot.objects.select_related("product").prefetch_related("cases__record").order_by("product__code",
                                                                                                 "number")

    @extend_schema(parameters=[OpenApiParameter("number", str), OpenApiParameter("product", str),
                               OpenApiParameter("status", str, enum=["on_hold", "released"])],
                   responses=LotSerializer(many=True))
    def list(self, request):
        p = request.query_params
        return filtered_page(self, request, self._lots(request), LotSerializer, {
            "number": params.text(p, "number", max_length=60),
            "product__code": params.text(p, "product", max_length=40),
            "status": params.choice(p, "status", LotStatus.values)})

    @extend_schema(responses=LotSerializer)
    def retrieve(self, request, pk=None):
        lot = self._lots(request).filter(pk=pk).first()
        if lot is None:
            raise Http404("No such lot")
        return Response(LotSerializer(lot).data)


class MaterialMovementSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    product = serializers.CharField(source="product.code")
    lot_number = serializers.CharField()
    quantity = serializers.DecimalField(max_digits=12, decimal_places=3)
    supplier = serializers.CharField()
    work_order = serializers.CharField()
    document = serializers.CharField()
    store_location = serializers.CharField()
    note = serializers.CharField()
    moved_on = serializers.DateField()
    recorded_by = serializers.CharField(source="recorded_by.printed_name")
    recorded_at = serializers.DateTimeField()


MOVEMENT_FIELDS = tuple(MaterialMovementForm.base_fields)


class MaterialMovementViewSet(ViewSet):
    """NC-1 at the store: receipts of supplier lots and issues to production. Materials and the
    finished-goods store record them; a lot on hold is refused (409 naming the hold and the report)."""

    lookup_value_converter = "id"

    def _movements(self, request):
        if not can_view_processes(request.user):
            return MaterialMovement.objects.none()
        return MaterialMovement.objects.select_related("product", "recorded_by").order_by("-recorded_at", "-id")

    @extend_schema(parameters=[OpenApiParameter("kind", str, enum=MovementKind.values),
                               OpenApiParameter("product", str), OpenApiParameter("lot_number", str)],
                   responses=MaterialMovementSerializer(many=True))
    def list(self, request):
        p = request.query_params
        return filtered_page(self, request, self._movements(request), MaterialMovementSerializer, {
            "kind": params.choice(p, "kind", MovementKind.values),
            "product__code": params.text(p, "product", max_length=40),
            "lot_number": params.text(p, "lot_number", max_length=60)})

    @extend_schema(responses=MaterialMovementSerializer)
    def retrieve(self, request, pk=None):
        row = self._movements(request).filter(pk=pk).first()
        if row is None:
            raise Http404("No such movement")
        return Response(MaterialMovementSerializer(row).data)

    @extend_schema(
        summary="Record a receipt of a supplier lot or an issue of a lot to production (a held lot: 409)",
        request=inline_serializer("MaterialMovementIn", {
            "kind": serializers.ChoiceField(choices=MovementKind.values), "moved_on": serializers.DateField(),
            "product": serializers.CharField(), "lot_number": serializers.CharField(),
            "quantity": serializers.DecimalField(max_digits=12, decimal_places=3),
            "supplier": serializers.CharField(required=False, help_text="required for a receipt"),
            "work_order": serializers.CharField(required=False, help_text="required for an issue"),
            "document": serializers.CharField(required=False), "store_location": serializers.CharField(required=False),
            "note": serializers.CharField(required=False)}),
        responses={201: MaterialMovementSerializer})
    def create(self, request):
        if not actions.may_record_movements(request.user):
            raise NotPermitted(_("Only Materials or the store record material receipts and issues."))
        data, _files = json_object(request, allow_multipart=False)
        reject_unknown(data, MOVEMENT_FIELDS)
        form = MaterialMovementForm(data=data)
        if not form.is_valid():
            raise InvalidInput(_("Please correct the errors below."), field_errors=form_errors(form))
        movement = actions.record_material_movement(actor=request.user, data=form.cleaned_data)
        return Response(MaterialMovementSerializer(movement).data, status=201)


router = SimpleRouter(use_regex_path=False)
router.register("lots", LotViewSet, basename="lot")
router.register("material-movements", MaterialMovementViewSet, basename="material-movement")

urlpatterns = [
    path("complaints/", ComplaintStartView.as_view(), name="api-complaint-start"),
    path("complaints/internal/", InternalReportStartView.as_view(), name="api-internal-nc-start"),
    path("complaint-analyses/", ComplaintAnalysisStartView.as_view(), name="api-complaint-analysis-start"),
    *router.urls,
]
