from django.urls import path
from django.utils.translation import gettext_lazy as _
from viewflow.urls import AppMenuMixin, Viewset

from core.access import can_view_processes

from . import views


class MaterialMovementsViewset(AppMenuMixin, Viewset):
    """The store's material receipts and issues (NC-1) in the site menu: /qms/material_movements/."""

    app_name = "material_movements"
    title = _("Material receipts and issues")
    icon = "inventory_2"

    def has_view_permission(self, user, obj=None):
        return can_view_processes(user)

    @property
    def index_path(self):
        return path("", views.MaterialMovementsView.as_view(), name="index")
