"""GET /api/requirements/report/?from=&to=: the periodic progress report of customer requirements
(进度监控和报告, 制度 七); the figures from report.progress_report, over the requirements the reader sees."""
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from core.rest.base import APIView

from .register import can_view_requirements, visible_requirements
from .report import period_from, progress_report


class ProgressReportView(APIView):
    @extend_schema(operation_id="requirements_progress_report",
                   summary="Progress report of customer requirements for a period (P5, CR-7)",
                   parameters=[OpenApiParameter("from", OpenApiTypes.DATE, description="first day (default: "
                                                "the first of the current month)"),
                               OpenApiParameter("to", OpenApiTypes.DATE, description="last day (default: the "
                                                "end of the month of `from`)")],
                   responses=OpenApiTypes.OBJECT)
    def get(self, request):
        if not can_view_requirements(request.user):
            raise PermissionDenied()
        date_from, date_to = period_from(request.query_params)
        return Response(progress_report(visible_requirements(request.user), date_from, date_to).as_data())


# before "requirements/<str:number>/" in api.py's urlpatterns (it is inserted at the front)
urlpatterns = [
    path("requirements/report/", ProgressReportView.as_view(), name="api-requirement-report"),
]
