from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from viewflow.contrib.auth import AuthViewset
from django.utils.translation import gettext_lazy as _
from viewflow.urls import Site
from viewflow.workflow.flow import FlowViewset

from core.viewsets import RecordsViewset
from evidence.viewsets import AuditorAwareWorkflowAppViewset, EvidenceViewset
from procedures.viewsets import DocumentsViewset
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
            flow_viewsets=[
                FlowViewset(OrderReviewFlow, icon="fact_check"),
                FlowViewset(ComplaintFlow, icon="report_problem"),
                FlowViewset(DocumentControlFlow, icon="description"),
            ],
            viewsets=[RecordsViewset(), DocumentsViewset(), EvidenceViewset()],
        ),
    ],
)

urlpatterns = [
    path("", RedirectView.as_view(url="/qms/", permanent=False)),
    path("accounts/", AuthViewset(with_profile_view=False).urls),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/", include("api.urls")),
    path("", site.urls),
]
