"""Browser pages of P5 beside its flow: the requirement register (CR-7) with its CSV, the priority
matrix (PM-1) and the periodic progress report (进度监控和报告) with its CSV. Thin: who sees what
in register.py, the figures in report.py, changes through actions.py."""
import datetime
import io

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin, UserPassesTestMixin
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpResponse, HttpResponseRedirect
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView
from rest_framework.exceptions import ValidationError

from core.downloads import attach_filename
from core.errors import DomainError
from forms import sheets

from . import actions
from .flows import RequirementFlow
from .models import (
    CLOSED_STATUSES,
    KanoCategory,
    PriorityClass,
    PriorityMatrix,
    RequirementStatus,
    RequirementType,
)
from .register import FILTERS, can_view_requirements, filter_register, visible_requirements
from .report import month_of, period_from, progress_report, write_csv
from .subjects import customer as customer_label

PAGE_SIZE = 50
CSV = "text/csv; charset=utf-8"
SCORES = (1, 2, 3, 4, 5)


class RequirementsAccess(LoginRequiredMixin, UserPassesTestMixin):
    """Members, and auditors whose grant is current (read-only: evidence.middleware refuses their writes)."""

    def test_func(self):
        return can_view_requirements(self.request.user)


def _errors(error):
    """{parameter: "message"} of a ValidationError raised by the shared filters."""
    detail = error.detail if isinstance(error.detail, dict) else {"": error.detail}
    return {name: " ".join(str(m) for m in (messages_ if isinstance(messages_, list) else [messages_]))
            for name, messages_ in detail.items()}


def _register(request):
    """(filtered queryset, {parameter: error}) of the register's query; nothing listed on a bad filter."""
    reqs = visible_requirements(request.user)
    try:
        return filter_register(reqs, request.GET), {}
    except ValidationError as error:
        return reqs.none(), _errors(error)


def _row(req):
    return {"req": req, "number": req.record.number, "customer": customer_label(req),
            "owner": req.owner.printed_name if req.owner_id else ""}


class RegisterView(RequirementsAccess, TemplateView):
    """CR-7: the requirement register, filtered, sorted and paginated (the total always shown)."""

    template_name = "requirements/register.html"

    def get(self, request, *args, **kwargs):
        reqs, errors = _register(request)
        page = Paginator(reqs, PAGE_SIZE).get_page(request.GET.get("page"))
        kept = {k: v for k, v in request.GET.items() if k in FILTERS and v}
        sort = request.GET.get("sort", "")
        context = self.get_context_data(
            page=page, rows=[_row(r) for r in page.object_list], errors=errors, filters=kept,
            query=urlencode({**kept, "sort": sort} if sort else kept),
            sort_links=self._sort_links(kept, sort),
            types=RequirementType.choices, priorities=PriorityClass.choices, kano=KanoCategory.choices,
            statuses=RequirementStatus.choices, today=timezone.localdate(),
            can_register=RequirementFlow.start.can_execute(request.user),
        )
        return self.render_to_response(context, status=400 if errors else 200)

    @staticmethod
    def _sort_links(kept, sort):
        """{column: (url, state)}: a header toggles its column ascending → descending."""
        links = {}
        for column in ("received", "priority", "due"):
            state = "asc" if sort == column else "desc" if sort == f"-{column}" else ""
            target = f"-{column}" if state == "asc" else column
            links[column] = ("?" + urlencode({**kept, "sort": target}), state)
        return links


def register_csv(request):
    """The filtered register (every row, not one page) as CSV."""
    if not request.user.is_authenticated or not can_view_requirements(request.user):
        return HttpResponse(_("You may not see the customer requirements."), status=403)
    reqs, errors = _register(request)
    if errors:
        return HttpResponse("\n".join(f"{k}: {v}" for k, v in errors.items()), status=400,
                            content_type="text/plain; charset=utf-8")
    out = io.StringIO()
    out.write("\ufeff")  # a spreadsheet then reads the file as UTF-8
    writer = sheets.csv_writer(out)
    writer.writerow([_("Requirement"), _("Customer"), _("Customer code"), _("Requirement type"), _("Channel"),
                     _("Product / service"), _("Received on"), _("Importance"), _("Urgency"), _("Priority class"),
                     _("KANO category"), _("Status"), _("Owner"), _("Due date"), _("Overdue"),
                     _("The customer's words")])
    for req in reqs.iterator(chunk_size=500):
        writer.writerow([
            req.record.number, customer_label(req), req.customer.code if req.customer_id else "",
            req.get_requirement_type_display(), req.get_channel_display(), req.product_text,
            req.received_on.isoformat(), req.importance or "", req.urgency or "", req.priority,
            req.get_kano_category_display(), req.get_status_display(),
            req.owner.printed_name if req.owner_id else "", req.due_date.isoformat() if req.due_date else "",
            _("yes") if req.overdue else "", req.customer_words])
    name = f"customer-requirements-{timezone.localdate().isoformat()}.csv"
    return attach_filename(HttpResponse(out.getvalue(), content_type=CSV), name, attachment=True)


# --- the priority matrix (PM-1) -------------------------------------------------------------------------------


class MatrixForm(forms.Form):
    a_min = forms.IntegerField(label=gettext_lazy("class A from score"), min_value=1, max_value=25)
    b_min = forms.IntegerField(label=gettext_lazy("class B from score"), min_value=1, max_value=25)
    c_min = forms.IntegerField(label=gettext_lazy("class C from score"), min_value=1, max_value=25)
    reason = forms.CharField(label=gettext_lazy("reason for the change"), max_length=500)


def matrix_grid(matrix, requirements):
    """Rows importance 5…1 (most important on top), columns urgency 1…5: each cell its score, its
    class under `matrix` and the open requirements scored there."""
    placed = {}
    for req in requirements:
        placed.setdefault((req.importance, req.urgency), []).append(req)
    rows = []
    for importance in reversed(SCORES):
        cells = []
        for urgency in SCORES:
            reqs = placed.get((importance, urgency), [])
            cells.append({"importance": importance, "urgency": urgency, "score": importance * urgency,
                          "priority": actions.classify(importance, urgency, matrix),
                          "requirements": [_row(r) for r in reqs]})
        rows.append({"importance": importance, "cells": cells})
    return rows


def matrix_chart(grid):
    """The printable chart of the grid (forms.charts, matplotlib SVG): counts per cell, coloured by class."""
    from forms.charts import grid_svg

    cells = {(str(row["importance"]), str(cell["urgency"])): (len(cell["requirements"]) or "", cell["priority"])
             for row in grid for cell in row["cells"]}
    return grid_svg([str(row["importance"]) for row in grid], [str(u) for u in SCORES], cells,
                    title=_("Open requirements by importance and urgency"), x_label=_("Urgency"),
                    y_label=_("Importance"))


class PriorityMatrixView(RequirementsAccess, TemplateView):
    """PM-1: the 5 × 5 grid for everyone who may see the register; the Market manager or the
    General Manager change the thresholds here (with a reason, audited)."""

    template_name = "requirements/priority_matrix.html"

    def get_context_data(self, form=None, **kwargs):
        matrix = PriorityMatrix.current()
        open_reqs = (visible_requirements(self.request.user).exclude(status__in=CLOSED_STATUSES)
                     .filter(importance__isnull=False, urgency__isnull=False).order_by("pk"))
        grid = matrix_grid(matrix, open_reqs)
        may_change = actions.may_change_priority_matrix(self.request.user)
        if may_change and form is None:
            form = MatrixForm(initial=matrix.as_data())
        return {**super().get_context_data(**kwargs), "matrix": matrix, "grid": grid, "scores": SCORES,
                "placed": sum(len(c["requirements"]) for row in grid for c in row["cells"]),
                "classes": PriorityClass.choices, "form": form if may_change else None,
                "chart": matrix_chart(grid)}

    def post(self, request):
        if not actions.may_change_priority_matrix(request.user):
            return HttpResponse(_("Only the Market manager or the General Manager changes the priority matrix."),
                                status=403)
        form = MatrixForm(request.POST)
        if form.is_valid():
            data = {k: form.cleaned_data[k] for k in ("a_min", "b_min", "c_min")}
            try:
                with transaction.atomic():
                    actions.set_priority_matrix(actor=request.user, data=data, reason=form.cleaned_data["reason"])
            except DomainError as error:
                for name, problems in error.field_errors.items():
                    form.add_error(name if name in form.fields else None, problems)
                if not error.field_errors:
                    form.add_error(None, error.message)
            else:
                messages.success(request, _("The priority matrix is saved."))
                return HttpResponseRedirect(request.path)
        return self.render_to_response(self.get_context_data(form=form), status=400)


# --- the progress report (进度监控和报告) ---------------------------------------------------------------------------


def _report_of(request):
    """(report, {parameter: error}); the current month when the period given is not one."""
    try:
        date_from, date_to = period_from(request.GET)
        errors = {}
    except ValidationError as error:
        (date_from, date_to), errors = month_of(timezone.localdate()), _errors(error)
    return progress_report(visible_requirements(request.user), date_from, date_to), errors


class ProgressReportView(RequirementsAccess, TemplateView):
    template_name = "requirements/report.html"

    def get(self, request, *args, **kwargs):
        report, errors = _report_of(request)
        earlier = month_of(report.date_from - datetime.timedelta(days=1))
        later = month_of(report.date_to + datetime.timedelta(days=1))
        period = urlencode({"from": report.date_from.isoformat(), "to": report.date_to.isoformat()})
        context = self.get_context_data(
            report=report, errors=errors, period=period,
            previous=urlencode({"from": earlier[0].isoformat(), "to": earlier[1].isoformat()}),
            next=urlencode({"from": later[0].isoformat(), "to": later[1].isoformat()}),
        )
        return self.render_to_response(context, status=400 if errors else 200)


def report_csv(request):
    if not request.user.is_authenticated or not can_view_requirements(request.user):
        return HttpResponse(_("You may not see the customer requirements."), status=403)
    report, errors = _report_of(request)
    if errors:
        return HttpResponse("\n".join(f"{k}: {v}" for k, v in errors.items()), status=400,
                            content_type="text/plain; charset=utf-8")
    out = io.StringIO()
    out.write("\ufeff")
    write_csv(report, out)
    name = f"customer-requirements-report-{report.date_from.isoformat()}-{report.date_to.isoformat()}.csv"
    return attach_filename(HttpResponse(out.getvalue(), content_type=CSV), name, attachment=True)
