from django.urls import path
from django.utils.translation import gettext_lazy as _
from viewflow.urls import AppMenuMixin, Viewset

from . import views
from .access import can_view_records


class RecordsViewset(AppMenuMixin, Viewset):
    """Controlled records in the site menu: search, detail (versions, signatures,
    audit trail) and the stored PDFs."""

    title = _("Records")
    icon = "folder_open"

    def has_view_permission(self, user, obj=None):
        return can_view_records(user)

    @property
    def index_path(self):
        return path("", views.RecordListView.as_view(), name="index")

    @property
    def detail_path(self):
        return path("<str:number>/", views.RecordDetailView.as_view(), name="detail")

    @property
    def pdf_path(self):
        return path("<str:number>/v<int:version>/pdf/", views.record_pdf, name="pdf")
