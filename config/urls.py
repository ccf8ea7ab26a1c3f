from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from viewflow.contrib.auth import AuthViewset
from django.utils.translation import gettext_lazy as _
from viewflow.urls import Site
from viewflow.workflow.flow import FlowViewset

from accounts.viewsets import DelegationsViewset
from core.viewsets import RecordsViewset
from evidence.viewsets import AuditorAwareWorkflowAppViewset, EvidenceViewset
from inbox.views import DueInboxListView, DueQueueListView
from inbox.viewsets import DashboardViewset, NotificationsViewset, StepTargetsViewset
from procedures.viewsets import DocumentsViewset
from workflows.capa import CapaFlow
from workflows.complaints import ComplaintFlow
from workflows.document_control import DocumentControlFlow
from workflows.order_review import OrderReviewFlow

site = Site(
    title=settings.QMS["COMPANY_NAME_ZH"],
    viewsets=[
        # One inbox, queue and archive across every procedure; each flow listed in the menu.
        AuditorAwareWorkflowAppViewset(
            title=_("Quality management"),
            icon="assignment",
            app_name="qms",
            base_template_name="qms/base.html",
            inbox_view_class=DueInboxListView,  # the due date column, overdue badge and filters
            queue_view_class=DueQueueListView,
            flow_viewsets=[
                FlowViewset(OrderReviewFlow, icon="fact_check"),
                FlowViewset(ComplaintFlow, icon="report_problem"),
                FlowViewset(CapaFlow, icon="build"),
                FlowViewset(DocumentControlFlow, icon="description"),
            ],
            viewsets=[DashboardViewset(), NotificationsViewset(), RecordsViewset(), DocumentsViewset(),
                      EvidenceViewset(), StepTargetsViewset(), DelegationsViewset()],
        ),
    ],
)

urlpatterns = [
    path("", RedirectView.as_view(url="/qms/dashboard/", permanent=False)),  # the landing page after login
    path("accounts/", AuthViewset(with_profile_view=False).urls),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/", include("api.urls")),
    path("", site.urls),
]
