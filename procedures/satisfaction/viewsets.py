from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from viewflow.urls import AppMenuMixin, Viewset

from .permissions import can_view


class SatisfactionViewset(AppMenuMixin, Viewset):
    """Customer satisfaction (issue 17) in the site menu: the surveys, their results, responses, import
    and one-time links (views.py)."""

    title = _("Customer satisfaction")
    icon = "sentiment_satisfied"
    app_name = "satisfaction"

    def has_view_permission(self, user, obj=None):
        return can_view(user)

    @property
    def pages_path(self):
        from .views import survey_paths  # noqa: PLC0415

        return path("", include(survey_paths))
