"""The management-review input packs over the REST API: GET lists the packs you may read
(paginated), POST compiles one for a period (Quality manager); GET …/<number>/ gives one pack with
its frozen figures, signatures and actions. The signing and decision steps run through /api/tasks/
like every other procedure."""
from django.http import Http404
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

from core.rest import params
from core.rest.base import APIView
from workflows.rest import STARTED, StartProcessView

from .access import can_read_reviews, visible_reviews
from .flows import ManagementReviewFlow
from .models import PackStatus, is_overdue


def summary(review):
    return {
        "number": review.record.number, "process": review.record.process_id,
        "period_start": review.period_start, "period_end": review.period_end, "trigger": review.trigger,
        "status": review.status, "status_label": review.get_status_display(),
        "compiled_by": review.compiled_by.username, "compiled_at": review.compiled_at,
        "quality_manager_signed_at": review.qm_signed_at, "general_manager_signed_at": review.gm_signed_at,
    }


class ManagementReviewListStartView(StartProcessView):
    """GET: the input packs you may read. POST: compile the pack of a period (Quality manager)."""

    node = ManagementReviewFlow.start

    @extend_schema(operation_id="management_reviews_create",
                   summary="Compile the management-review input pack of a period (ISO 9001 9.3.2, CA-7)",
                   request=inline_serializer("ManagementReviewStart", {"period_start": serializers.DateField(),
                                                                        "period_end": serializers.DateField()}),
                   responses={201: STARTED})
    def post(self, request):
        return super().post(request)

    @extend_schema(operation_id="management_reviews_list", summary="The management-review input packs you may read",
                   parameters=[OpenApiParameter("status", str, enum=PackStatus.values),
                               OpenApiParameter("page", int)],
                   responses=OpenApiTypes.OBJECT)
    def get(self, request):
        if not can_read_reviews(request.user):
            raise PermissionDenied()
        reviews = visible_reviews(request.user)
        state = params.choice(request.query_params, "status", PackStatus.values)
        if state:
            reviews = reviews.filter(status=state)
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(reviews.order_by("-period_end", "-pk"), request, view=self)
        return paginator.get_paginated_response([summary(r) for r in page])


class ManagementReviewDetailView(APIView):
    """One pack: the figures frozen when it was compiled, the signatures, the decided actions."""

    @extend_schema(operation_id="management_reviews_retrieve", summary="One management-review input pack",
                   parameters=[OpenApiParameter("number", str, OpenApiParameter.PATH,
                                                description="record number, e.g. MRV-2026-0001")],
                   responses=OpenApiTypes.OBJECT)
    def get(self, request, number):
        review = visible_reviews(request.user).filter(record__number=number).first()
        if review is None:
            raise Http404("No such management review")
        version = review.record.get_version()
        data = version.data
        for action in data.get("actions", []):
            action["overdue"] = is_overdue(action["status"], action["due_date"])
        return Response({**summary(review), "version": version.version, "pack": data})


urlpatterns = [
    path("management-reviews/", ManagementReviewListStartView.as_view(), name="api-management-review-start"),
    path("management-reviews/<str:number>/", ManagementReviewDetailView.as_view(),
         name="api-management-review-detail"),
]

