from django.urls import path
from django.utils.translation import gettext_lazy as _
from viewflow.urls import AppMenuMixin, Viewset

from . import views
from .access import can_read_reviews


class ManagementReviewViewset(AppMenuMixin, Viewset):
    """The management-review packs in the site menu: the list and one pack's page."""

    title = _("Management review packs")
    icon = "insights"

    def has_view_permission(self, user, obj=None):
        return can_read_reviews(user)

    @property
    def index_path(self):
        return path("", views.ReviewListView.as_view(), name="index")

    @property
    def detail_path(self):
        return path("<str:number>/", views.ReviewDetailView.as_view(), name="detail")
