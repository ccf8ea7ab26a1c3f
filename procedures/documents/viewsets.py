from django.urls import path
from django.utils.translation import gettext_lazy as _
from viewflow.urls import AppMenuMixin, Viewset

from . import views
from .access import can_view_documents


class DocumentsViewset(AppMenuMixin, Viewset):
    """Controlled documents in the site menu."""

    title = _("Controlled documents")
    icon = "library_books"

    def has_view_permission(self, user, obj=None):
        return can_view_documents(user)  # members, and auditors (read-only) while their grant is current

    @property
    def index_path(self):
        return path("", views.DocumentListView.as_view(), name="index")

    @property
    def matrix_path(self):
        return path("rules/approval-matrix/", views.ApprovalMatrixView.as_view(), name="approval_matrix")

    @property
    def detail_path(self):
        return path("<str:number>/", views.DocumentDetailView.as_view(), name="detail")

    @property
    def download_path(self):
        return path("<str:number>/<path:label>/files/<int:file_id>/", views.download, name="download")
