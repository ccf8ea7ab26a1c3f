from django.urls import path, register_converter
from drf_spectacular.types import DJANGO_PATH_CONVERTER_MAPPING, OpenApiTypes
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import SimpleRouter

from evidence import api as evidence_api
from procedures import api as documents_api

from . import capa, delegation, drafts, views
from . import inbox as inbox_api
from .base import IdConverter

register_converter(IdConverter, "id")  # before the router builds its paths (lookup_value_converter = "id")
# …and described in the OpenAPI schema as the integer it is (like Django's own "int"), not as a string
DJANGO_PATH_CONVERTER_MAPPING.setdefault("id", OpenApiTypes.INT)

router = SimpleRouter(use_regex_path=False)
router.register("tasks", views.TaskViewSet, basename="task")
router.register("processes", views.ProcessViewSet, basename="process")
router.register("records", views.RecordViewSet, basename="record")
router.register("lots", views.LotViewSet, basename="lot")
router.register("documents", documents_api.DocumentViewSet, basename="document")
router.register("approval-rules", documents_api.ApprovalRuleViewSet, basename="approval-rule")
router.register("evidence/bundles", evidence_api.EvidenceBundleViewSet, basename="evidence-bundle")

urlpatterns = [
    path("auth/token/", views.TokenView.as_view(), name="api-token"),
    path("order-reviews/", views.OrderReviewStartView.as_view(), name="api-order-review-start"),
    path("order-reviews/change/", views.OrderChangeStartView.as_view(), name="api-order-change-start"),
    path("complaints/", views.ComplaintStartView.as_view(), name="api-complaint-start"),
    path("capas/", capa.CapaListStartView.as_view(), name="api-capa-start"),
    path("capas/<str:number>/", capa.CapaDetailView.as_view(), name="api-capa-detail"),
    path("complaint-analyses/", views.ComplaintAnalysisStartView.as_view(), name="api-complaint-analysis-start"),
    path("me/accept-accountability/", views.AcceptAccountabilityView.as_view(), name="api-accept-accountability"),
    path("notifications/", inbox_api.NotificationListView.as_view(), name="api-notifications"),
    path("notifications/read-all/", inbox_api.NotificationReadAllView.as_view(), name="api-notifications-read-all"),
    path("notifications/<id:pk>/read/", inbox_api.NotificationReadView.as_view(), name="api-notification-read"),
    path("me/notification-preferences/", inbox_api.NotificationPreferencesView.as_view(),
         name="api-notification-preferences"),
    path("dashboard/", inbox_api.DashboardView.as_view(), name="api-dashboard"),
    path("step-targets/", inbox_api.StepTargetListView.as_view(), name="api-step-targets"),
    path("step-targets/<str:flow>/<str:step>/", inbox_api.StepTargetView.as_view(), name="api-step-target"),
    path("calendar/", inbox_api.CalendarView.as_view(), name="api-calendar"),
    path("calendar/<id:pk>/", inbox_api.CalendarDayView.as_view(), name="api-calendar-day"),
    path("me/delegations/", delegation.MyDelegationsView.as_view(), name="api-my-delegations"),
    path("me/delegations/<id:pk>/", delegation.MyDelegationView.as_view(), name="api-my-delegation"),
    path("tasks/<id:pk>/reassign/", delegation.ReassignTaskView.as_view(), name="api-task-reassign"),
    path("tasks/<id:pk>/draft/", drafts.TaskDraftView.as_view(), name="api-task-draft"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    *router.urls,
]
