from django.urls import path
from django.utils.translation import gettext_lazy as _
from viewflow.urls import AppMenuMixin, Viewset
from viewflow.workflow.flow import WorkflowAppViewset

from . import views


class EvidenceViewset(AppMenuMixin, Viewset):
    """Evidence bundles for auditors, the organisation's public key, the disposition queue."""

    app_name = "evidence"
    title = _("Evidence and retention")
    icon = "inventory_2"

    def has_view_permission(self, user, obj=None):
        from core.access import can_view_records

        return can_view_records(user)

    @property
    def index_path(self):
        return path("", views.index, name="index")

    @property
    def bundle_create_path(self):
        return path("bundles/new/", views.bundle_create, name="bundle_create")

    @property
    def bundle_path(self):
        return path("bundles/<int:pk>/", views.bundle_detail, name="bundle")

    @property
    def bundle_download_path(self):
        return path("bundles/<int:pk>/download/", views.bundle_download, name="bundle_download")

    @property
    def public_key_path(self):
        return path("public-key.pem", views.public_key, name="public_key")

    @property
    def disposition_path(self):
        return path("disposition/", views.disposition_queue, name="disposition")

    @property
    def destroy_path(self):
        return path("disposition/<str:number>/", views.disposition_approve, name="destroy")


class AuditorAwareWorkflowAppViewset(WorkflowAppViewset):
    """The "qms" application opens to department members (any flow visible) and to
    auditors with an active grant; each flow, the records and the documents still
    check their own permission, so an auditor reaches the records registry and the
    evidence pages, and no flow."""

    def has_view_permission(self, user, obj=None):
        from core.access import can_view_records

        return super().has_view_permission(user, obj=obj) or can_view_records(user)
