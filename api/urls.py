"""The API's routes: the engine's own (tasks, processes, records, sign-in, the schema), then
the inbox's and the evidence app's, then each registered procedure's `api.urlpatterns`
(core.registry): a new procedure's endpoints appear without touching this file."""
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import SimpleRouter

from core.registry import procedures

from . import flows, views

router = SimpleRouter(use_regex_path=False)
router.register("tasks", views.TaskViewSet, basename="task")
router.register("processes", views.ProcessViewSet, basename="process")
router.register("records", views.RecordViewSet, basename="record")
router.register("flows", flows.FlowViewSet, basename="flow")  # a flow's board, tasks and processes

urlpatterns = [
    path("auth/token/", views.TokenView.as_view(), name="api-token"),
    path("me/accept-accountability/", views.AcceptAccountabilityView.as_view(), name="api-accept-accountability"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include("inbox.api")),
    path("", include("evidence.api")),
    *router.urls,
    *[path("", include(procedure.api)) for procedure in procedures() if procedure.api],
]
