"""Browser page beside P2's flow: the store's material receipts of supplier lots and issues to
production (NC-1: a held lot is refused, naming the hold and the anomaly report). Thin: the rule
and the audit entry live in actions.record_material_movement."""
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin, UserPassesTestMixin
from django.core.paginator import Paginator
from django.http import HttpResponseRedirect
from django.utils.translation import gettext as _
from django.views.generic import TemplateView

from core.access import can_view_processes
from core.errors import DomainError

from . import actions
from .forms import MaterialMovementForm
from .models import MaterialMovement

PAGE_SIZE = 50


class MaterialMovementsView(LoginRequiredMixin, UserPassesTestMixin, TemplateView):
    """Everyone who sees the processes reads the list; Materials and the store record."""

    template_name = "complaints/material_movements.html"

    def test_func(self):
        return can_view_processes(self.request.user)

    def _render(self, form, status=200, error=None):
        rows = MaterialMovement.objects.select_related("product", "recorded_by").order_by("-recorded_at", "-id")
        page = Paginator(rows, PAGE_SIZE).get_page(self.request.GET.get("page"))
        can_record = actions.may_record_movements(self.request.user)
        return self.render_to_response(self.get_context_data(
            form=form if can_record else None, page=page, error=error), status=status)

    def get(self, request, *args, **kwargs):
        return self._render(MaterialMovementForm())

    def post(self, request, *args, **kwargs):
        if not actions.may_record_movements(request.user):
            return self._render(None, status=403, error=_("Only Materials or the store record material receipts "
                                                          "and issues."))
        form = MaterialMovementForm(data=request.POST)
        if not form.is_valid():
            return self._render(form, status=400)
        try:
            movement = actions.record_material_movement(actor=request.user, data=form.cleaned_data)
        except DomainError as error:
            for field, problems in error.field_errors.items():
                if field in form.fields:
                    for problem in problems:
                        form.add_error(field, problem)
            return self._render(form, status=error.status_code, error=error.message)
        messages.success(request, _("Recorded: %(movement)s.") % {"movement": movement})
        return HttpResponseRedirect(request.path)
