from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from viewflow.urls import AppMenuMixin, Viewset

from . import views
from .register import can_view_requirements


class RequirementsViewset(AppMenuMixin, Viewset):
    """Customer requirements (P5) in the site menu: the register, the priority matrix and the
    progress report. (Each page group is one `*_path` property; the KANO and QFD pages add theirs.)"""

    title = _("Customer requirements")
    icon = "record_voice_over"

    def has_view_permission(self, user, obj=None):
        return can_view_requirements(user)  # members, and auditors (read-only) while their grant is current

    @property
    def index_path(self):
        return path("", views.RegisterView.as_view(), name="index")

    @property
    def register_csv_path(self):
        return path("register.csv", views.register_csv, name="register_csv")

    @property
    def matrix_path(self):
        return path("priority-matrix/", views.PriorityMatrixView.as_view(), name="priority_matrix")

    @property
    def report_path(self):
        return path("report/", views.ProgressReportView.as_view(), name="report")

    @property
    def report_csv_path(self):
        return path("report.csv", views.report_csv, name="report_csv")

    @property
    def kano_path(self):
        from .views_kano import kano_paths  # noqa: PLC0415 — the KANO study's pages (views_kano.py)

        return path("kano/", include(kano_paths))

    @property
    def qfd_path(self):
        from .views_qfd import qfd_paths  # noqa: PLC0415 — the house of quality's pages (views_qfd.py)

        return path("qfd/", include(qfd_paths))

    @property
    def requirement_path(self):
        """A requirement's page by its record number: declared last, so that kano/, qfd/, report/ …
        (declared above) match first."""
        from .views_detail import RequirementDetailView  # noqa: PLC0415

        return path("<str:number>/", RequirementDetailView.as_view(), name="detail")
