from django.urls import path
from django.utils.translation import gettext_lazy as _
from viewflow.urls import AppMenuMixin, Viewset
from viewflow.workflow.flow import WorkflowAppViewset
from viewflow.workflow.flow.viewset import NestedFlowsApp

from core.access import can_view_records
from inbox import services

from . import views
from .access import can_manage_grants, is_auditor


class AuditorHomeViewset(AppMenuMixin, Viewset):
    """The auditor's home: first in an auditor's menu, where "/" leads them after sign-in."""

    app_name = "auditor"
    title = _("Auditor's home")
    icon = "fact_check"

    def has_view_permission(self, user, obj=None):
        return is_auditor(user)

    @property
    def index_path(self):
        return path("", views.auditor_home, name="index")


class AuditorGrantsViewset(AppMenuMixin, Viewset):
    """Auditor access for administrators: grant, change the window or scope, revoke, end the role."""

    app_name = "auditor-grants"
    namespace = "auditor_grants"
    title = _("Auditor access")
    icon = "admin_panel_settings"

    def has_view_permission(self, user, obj=None):
        return can_manage_grants(user)

    @property
    def index_path(self):
        return path("", views.grants_index, name="index")

    @property
    def new_path(self):
        return path("new/", views.grant_new, name="new")

    @property
    def detail_path(self):
        return path("<int:pk>/", views.grant_detail, name="detail")

    @property
    def revoke_path(self):
        return path("<int:pk>/revoke/", views.grant_revoke, name="revoke")

    @property
    def end_role_path(self):
        return path("<int:pk>/end-role/", views.grant_end_role, name="end_role")


class EvidenceViewset(AppMenuMixin, Viewset):
    """Evidence bundles for auditors, the organisation's public key, the disposition queue."""

    app_name = "evidence"
    title = _("Evidence and retention")
    icon = "inventory_2"

    def has_view_permission(self, user, obj=None):
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
    def record_files_path(self):
        return path("files/<str:number>/", views.record_files, name="record_files")

    @property
    def stray_files_path(self):
        return path("stored-files/", views.stray_files, name="stray_files")

    @property
    def stray_files_look_path(self):
        return path("stored-files/look/", views.stray_files_look, name="stray_files_look")

    @property
    def stray_files_remove_path(self):
        return path("stored-files/<int:pk>/remove/", views.stray_files_remove, name="stray_files_remove")

    @property
    def disposition_path(self):
        return path("disposition/", views.disposition_queue, name="disposition")

    @property
    def destroy_path(self):
        return path("disposition/<str:number>/", views.disposition_approve, name="destroy")


class FlowsApp(NestedFlowsApp):
    """The flows section (/qms/flows/, "Processes" in the menu) opens to whoever may view
    at least one flow. viewflow's version asks its parent application, which here also
    opens to auditors: an auditor then saw an empty section, and /qms/flows/ (a redirect
    to the first flow the user may view) failed with a ValueError for want of one."""

    base_template_name = "qms/base.html"  # the flows' pages with the site's top bar (language, bell) and styles

    def has_view_permission(self, user, obj=None):
        return any(flow_class.instance.has_view_permission(user) for flow_class in self.parent.flow_classes)


class AuditorAwareWorkflowAppViewset(WorkflowAppViewset):
    """The "qms" application opens to department members (any flow visible) and to
    auditors with an active grant; each flow, the records and the documents still
    check their own permission, so an auditor reaches the records registry and the
    evidence pages, and no flow. Its menu leaves out the task lists for an auditor,
    and its index is the landing page (viewflow's default, the first route without
    parameters, is the queue's bulk-assign page, which redirects back: a loop)."""

    menu_template_name = "evidence/workflow_menu.html"

    @property
    def index_path(self):
        return path("", views.landing, name="index")

    def __init__(self, flow_viewsets, **kwargs):
        super().__init__(flow_viewsets, **kwargs)
        # WorkflowAppViewset.__init__ appends viewflow's NestedFlowsApp; put ours in its place.
        for index, child in enumerate(self.viewsets):
            if type(child) is NestedFlowsApp:
                flows = FlowsApp(viewsets=child.viewsets)
                self.viewsets[index] = flows
                self._children[self._children.index(child)] = flows

    def has_view_permission(self, user, obj=None):
        return super().has_view_permission(user, obj=obj) or can_view_records(user)

    def get_context_data(self, request):
        """The menu's counts: the same rows as the inbox and queue pages list (viewflow's own
        counts join the process table and count tasks without a queue as everybody's), taken from the
        page's own count of the same list where it has one (inbox.services.MenuCount)."""
        return services.menu_counts(request, self.flow_classes)
