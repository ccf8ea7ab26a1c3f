"""The site: one inbox, queue and archive across every procedure, each registered procedure's
flows and pages (core.registry: a new procedure appears without touching this file), the
engine's own pages, the admin, the API."""
from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _
from viewflow.contrib.auth import AuthViewset
from viewflow.urls import Site

from core.registry import procedures
from core.viewsets import RecordsViewset
from evidence.views import landing
from evidence.viewsets import (AuditorAwareWorkflowAppViewset, AuditorGrantsViewset, AuditorHomeViewset,
                                EvidenceViewset)
from inbox.views import CompletedListView, DueInboxListView, DueQueueListView
from workflows.flow_pages import QmsFlowViewset
from inbox.viewsets import DashboardViewset, DelegationsViewset, NotificationsViewset, StepTargetsViewset

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
            archive_view_class=CompletedListView,  # the tasks I completed, as the dashboard counts them
            flow_viewsets=[QmsFlowViewset(flow_class, icon=procedure.icon)
                           for procedure in procedures() for flow_class in procedure.flows],
            viewsets=[AuditorHomeViewset(), DashboardViewset(), NotificationsViewset(), RecordsViewset(),
                      *[import_string(name)() for procedure in procedures() for name in procedure.viewsets],
                      EvidenceViewset(), AuditorGrantsViewset(), StepTargetsViewset(), DelegationsViewset()],
        ),
    ],
)

urlpatterns = [
    path("", landing),  # the landing page after login: the task dashboard, or an auditor's home
    path("accounts/", AuthViewset(with_profile_view=False).urls),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/", include("api.urls")),
    # a respondent answers a KANO study through a one-time link, without an account (accounts.middleware)
    path("answer/kano/<str:token>/", import_string("procedures.requirements.views_kano.public_answer"),
         name="kano-answer"),
    # a customer answers a satisfaction survey through a one-time link (procedures.satisfaction.views)
    path("answer/survey/<str:token>/", import_string("procedures.satisfaction.views.public_answer"),
         name="survey-answer"),
    path("", site.urls),
]
