from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView
from viewflow.contrib.auth import AuthViewset
from viewflow.urls import Application, Site
from viewflow.workflow.flow import FlowAppViewset

from core.viewsets import RecordsViewset
from procedures.viewsets import DocumentsViewset
from workflows.document_control import DocumentControlFlow
from workflows.order_review import OrderReviewFlow

site = Site(
    title=settings.QMS["COMPANY_NAME_ZH"],
    viewsets=[
        Application(
            title="QMS",
            icon="assignment",
            app_name="qms",
            base_template_name="qms/base.html",
            viewsets=[
                FlowAppViewset(OrderReviewFlow, icon="fact_check"),
                FlowAppViewset(DocumentControlFlow, icon="description"),
                RecordsViewset(),
                DocumentsViewset(),
            ],
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
