"""P2 over the REST API: register a complaint / return, compile an analysis, read the lots and
their hold status. The steps themselves run through /api/tasks/ (api/views.py)."""
from django.http import Http404
from django.urls import path
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from core.access import can_view_processes
from core.rest import params
from core.rest.base import ViewSet
from workflows.rest import STARTED, StartProcessView

from .flows import ComplaintFlow
from .models import Lot, LotStatus


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
        lots, p = self._lots(request), request.query_params
        number, product = params.text(p, "number", max_length=60), params.text(p, "product", max_length=40)
        state = params.choice(p, "status", LotStatus.values)
        if number:
            lots = lots.filter(number=number)
        if product:
            lots = lots.filter(product__code=product)
        if state:
            lots = lots.filter(status=state)
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(lots, request, view=self)
        return paginator.get_paginated_response(LotSerializer(page, many=True).data)

    @extend_schema(responses=LotSerializer)
    def retrieve(self, request, pk=None):
        lot = self._lots(request).filter(pk=pk).first()
        if lot is None:
            raise Http404("No such lot")
        return Response(LotSerializer(lot).data)


router = SimpleRouter(use_regex_path=False)
router.register("lots", LotViewSet, basename="lot")

urlpatterns = [
    path("complaints/", ComplaintStartView.as_view(), name="api-complaint-start"),
    path("complaint-analyses/", ComplaintAnalysisStartView.as_view(), name="api-complaint-analysis-start"),
    *router.urls,
]
