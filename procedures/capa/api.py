"""P3 corrective and preventive action over the REST API: raise one by hand (CA-1) and
read the cases with their actions, due-date history, overdue state and links. The steps
themselves run through /api/tasks/ like every other procedure."""
from django.db.models import Exists, OuterRef
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

from django.urls import path

from core.access import records_visible_to
from core.rest import params
from core.rest.base import APIView
from workflows.rest import STARTED, StartProcessView

from . import actions as p3
from .flows import CapaFlow
from .models import ActionStatus, CapaAction, CapaCase, CapaSource, CapaStatus, Severity, is_overdue


def visible_cases(user):
    return CapaCase.objects.filter(record__in=records_visible_to(user)).select_related(
        "record", "complaint_case__record", "leader").prefetch_related("actions__owner")


def _summary(case):
    return {
        "number": case.record.number, "process": case.record.process_id, "status": case.status,
        "status_label": case.get_status_display(), "round": case.round, "source": case.source,
        "source_reference": case.source_reference, "title": case.title,
        "complaint": case.complaint_case.record.number if case.complaint_case_id else None,
        "leader": case.leader.username if case.leader_id else None,
        "open_actions": sum(1 for a in case.actions.all() if a.status == ActionStatus.OPEN),
        "overdue_actions": sum(1 for a in case.actions.all() if a.overdue),
    }


class CapaListStartView(StartProcessView):
    """GET: the corrective actions you may see. POST: raise one by hand with its source (CA-1)."""

    node = CapaFlow.start

    @extend_schema(
        operation_id="capas_create",
        summary="Raise a corrective / preventive action by hand (P3, CA-1)",
        request=inline_serializer("CapaStart", {
            "source": serializers.ChoiceField(choices=CapaSource.values),
            "source_reference": serializers.CharField(required=False),
            "title": serializers.CharField(), "customer_name": serializers.CharField(required=False),
            "product_text": serializers.CharField(required=False),
            "quantity_defective": serializers.DecimalField(max_digits=12, decimal_places=3, required=False),
            "severity": serializers.ChoiceField(choices=Severity.values, required=False),
        }),
        responses={201: STARTED},
    )
    def post(self, request):
        return super().post(request)

    @extend_schema(operation_id="capas_list",
                   summary="The corrective actions you may see (P3), newest first, a page at a time",
                   description="Paged like the other registers: `count` (all that match), `next` and "
                               "`previous` (addresses of the neighbouring pages, or null) and `results`. "
                               "`overdue=true` keeps the cases with at least one overdue action (CA-5), "
                               "`overdue=false` those with none.",
                   parameters=[OpenApiParameter("status", str), OpenApiParameter("complaint", str),
                               OpenApiParameter("overdue", OpenApiTypes.BOOL),
                               OpenApiParameter("page", OpenApiTypes.INT)],
                   responses=OpenApiTypes.OBJECT)
    def get(self, request):
        cases, p = visible_cases(request.user), request.query_params
        state, complaint = params.choice(p, "status", CapaStatus.values), params.text(p, "complaint", max_length=40)
        overdue = params.boolean(p, "overdue")
        if state:
            cases = cases.filter(status=state)
        if complaint:
            cases = cases.filter(complaint_case__record__number=complaint)
        if overdue is not None:  # the CA-5 rule in SQL (CapaAction.objects.overdue), before the page is cut
            late = Exists(CapaAction.objects.overdue().filter(case=OuterRef("pk")))
            cases = cases.filter(late if overdue else ~late)
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(cases.order_by("-pk"), request, view=self)
        return paginator.get_paginated_response([_summary(c) for c in page])


class CapaDetailView(APIView):
    """One corrective action: the 8D report's data, each action's overdue state and due-date history."""

    @extend_schema(operation_id="capas_retrieve", summary="One corrective action with its 8D report data (P3)",
                   parameters=[OpenApiParameter("number", str, OpenApiParameter.PATH,
                                                description="record number, e.g. CA-2026-0001")],
                   responses=OpenApiTypes.OBJECT)
    def get(self, request, number):
        case = visible_cases(request.user).filter(record__number=number).first()
        if case is None:
            raise Http404("No such corrective action")
        data = p3.snapshot(p3._load(case))
        for round_ in data["rounds"]:
            for action in round_["actions"]:
                action["overdue"] = is_overdue(action["status"], action["due_date"])
        return Response({**_summary(case), "report": data})


urlpatterns = [
    path("capas/", CapaListStartView.as_view(), name="api-capa-start"),
    path("capas/<str:number>/", CapaDetailView.as_view(), name="api-capa-detail"),
]
