"""P5 over the REST API: register a customer requirement, read the register (filters,
paginated) and one requirement with its review form's data, read and change the priority
matrix. The steps themselves run through /api/tasks/ (api/views.py), like every procedure's."""
from django.db import transaction
from django.http import Http404
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

from core.rest.base import APIView, json_object, reject_unknown
from workflows.rest import STARTED, StartProcessView

from . import actions as p5
from .flows import RequirementFlow
from .models import (
    KanoCategory,
    PriorityClass,
    PriorityMatrix,
    RequirementChannel,
    RequirementStatus,
    RequirementType,
)
from .records import requirement_snapshot
from .register import SORTS, can_view_requirements, filter_register, visible_requirements


def summary(req):
    return {
        "number": req.record.number, "process": req.record.process_id, "status": req.status,
        "status_label": str(req.get_status_display()), "customer_code": req.customer.code if req.customer_id else "",
        "customer_name": req.customer_name, "potential_customer": req.potential_customer,
        "type": req.requirement_type, "channel": req.channel, "product": req.product_text,
        "received_on": req.received_on, "customer_words": req.customer_words, "importance": req.importance,
        "urgency": req.urgency, "priority": req.priority, "kano_category": req.kano_category,
        "owner": req.owner.username if req.owner_id else None,
        "due_date": req.due_date, "overdue": req.overdue,
    }


class RequirementListStartView(StartProcessView):
    """GET: the requirement register (CR-7). POST: register a requirement (P5.1)."""

    node = RequirementFlow.start

    @extend_schema(
        operation_id="requirements_create",
        summary="Register a customer requirement (P5.1, CR-1)",
        request=inline_serializer("RequirementStart", {
            "customer": serializers.CharField(required=False, help_text="customer code; or customer_name"),
            "customer_name": serializers.CharField(required=False, help_text="a potential customer's name"),
            "channel": serializers.ChoiceField(choices=RequirementChannel.values),
            "requirement_type": serializers.ChoiceField(choices=RequirementType.values),
            "product": serializers.CharField(required=False), "product_text": serializers.CharField(required=False),
            "received_on": serializers.DateField(), "customer_words": serializers.CharField(),
            "meaning": serializers.CharField(),
            "duplicate_of": serializers.CharField(required=False, help_text="record number it repeats"),
        }),
        responses={201: STARTED},
    )
    def post(self, request):
        return super().post(request)

    @extend_schema(operation_id="requirements_list", summary="The customer requirement register (P5, CR-7)",
                   parameters=[OpenApiParameter("customer", str, description="code or part of the name"),
                               OpenApiParameter("type", str, enum=RequirementType.values),
                               OpenApiParameter("priority", str, enum=PriorityClass.values),
                               OpenApiParameter("status", str, enum=RequirementStatus.values),
                               OpenApiParameter("overdue", OpenApiTypes.BOOL),
                               OpenApiParameter("kano", str, enum=KanoCategory.values),
                               OpenApiParameter("received_from", OpenApiTypes.DATE),
                               OpenApiParameter("received_to", OpenApiTypes.DATE),
                               OpenApiParameter("q", str, description="number, customer, product or words"),
                               OpenApiParameter("sort", str, enum=list(SORTS)),
                               OpenApiParameter("page", OpenApiTypes.INT)],
                   responses=OpenApiTypes.OBJECT)
    def get(self, request):
        reqs = filter_register(visible_requirements(request.user), request.query_params)  # register.py
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(reqs, request, view=self)
        return paginator.get_paginated_response([summary(r) for r in page])


class RequirementDetailView(APIView):
    @extend_schema(operation_id="requirements_retrieve", summary="One customer requirement with its review form (P5)",
                   parameters=[OpenApiParameter("number", str, OpenApiParameter.PATH,
                                                description="record number, e.g. CR-2026-0001")],
                   responses=OpenApiTypes.OBJECT)
    def get(self, request, number):
        req = visible_requirements(request.user).filter(record__number=number).first()
        if req is None:
            raise Http404("No such customer requirement")
        return Response({**summary(req), "form": requirement_snapshot(req)})


class PriorityMatrixView(APIView):
    """PM-1: the thresholds of the priority matrix; changed by the Market manager or the
    General Manager with a reason (audited)."""

    @extend_schema(operation_id="requirement_priority_matrix_retrieve", summary="The priority matrix (PM-1)",
                   responses=OpenApiTypes.OBJECT)
    def get(self, request):
        if not can_view_requirements(request.user):  # members, and auditors while their grant is current
            raise PermissionDenied()
        return Response(PriorityMatrix.current().as_data())

    @extend_schema(operation_id="requirement_priority_matrix_update", summary="Change the priority matrix (PM-1)",
                   request=inline_serializer("PriorityMatrixChange", {
                       "a_min": serializers.IntegerField(), "b_min": serializers.IntegerField(),
                       "c_min": serializers.IntegerField(), "reason": serializers.CharField()}),
                   responses=OpenApiTypes.OBJECT)
    def put(self, request):
        data, _files = json_object(request, allow_multipart=False)
        reject_unknown(data, {"a_min", "b_min", "c_min", "reason"})
        with transaction.atomic():
            matrix = p5.set_priority_matrix(actor=request.user, data=data, reason=data.get("reason", ""))
        return Response(matrix.as_data())


urlpatterns = [
    path("requirements/", RequirementListStartView.as_view(), name="api-requirement-start"),
    path("requirements/priority-matrix/", PriorityMatrixView.as_view(), name="api-requirement-priority-matrix"),
    path("requirements/<str:number>/", RequirementDetailView.as_view(), name="api-requirement-detail"),
]

from .api_report import urlpatterns as _report_urls  # noqa: E402  (the progress report)

urlpatterns = [*_report_urls, *urlpatterns]  # before the <number> route, which would take "report"

from .api_qfd import urlpatterns as _qfd_urls  # noqa: E402 — the house of quality's endpoints (QFD-1)

urlpatterns += _qfd_urls

from .api_kano import urlpatterns as _kano_urls  # noqa: E402 — the KANO study's endpoints (api_kano.py)

urlpatterns += _kano_urls

from .api_changes import urlpatterns as _change_urls  # noqa: E402 — CR-5 changes and the links to P3 / P4

urlpatterns += _change_urls
