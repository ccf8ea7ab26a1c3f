"""Browser pages of the QFD house of quality (QFD-1): the list, a new house, the house (matrix,
technical importance, ranking, roof), the matrix editor (plain forms: rows and columns added
and removed, a select per cell), approval with the password re-entered, reopening. Thin: who may
see a house is core.access (its record), every change is procedures.requirements.qfd.

`qfd_paths` are mounted by RequirementsViewset (viewsets.py) under /qms/requirements/qfd/."""
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from core.errors import DomainError
from core.models import RecordFile
from forms.models import Customer, Product

from . import house as house_data
from . import qfd
from .api_qfd import visible_houses
from .models import Correlation, CustomerRequirement, HouseStatus, ImprovementDirection, Strength
from . import register
from .register import can_view_requirements

PAGE_SIZE = 50
SPARE_ROWS = 2  # blank rows and columns the editor offers for adding


def _url(name, *args):
    return reverse(f"qms:requirements:{name}", args=args)


def _viewer(request):
    if not request.user.is_authenticated or not can_view_requirements(request.user):
        raise PermissionDenied
    return request.user


def _house(request, number):
    house = visible_houses(_viewer(request)).filter(record__number=number).first()
    if house is None:
        raise Http404("No such house of quality")
    return house


def _error_text(error):
    return " ".join([error.message] + [f"{field}: {' '.join(map(str, messages_))}"
                                       for field, messages_ in error.field_errors.items()])


@require_http_methods(["GET"])
def house_list(request):
    houses = visible_houses(_viewer(request)).order_by("-pk")
    status = request.GET.get("status", "")
    if status in HouseStatus.values:
        houses = houses.filter(status=status)
    page = Paginator(houses, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "requirements/qfd/list.html", {
        "page": page, "houses": page.object_list, "statuses": HouseStatus.choices, "status": status,
        "may_create": qfd.may_edit_house(request.user)})


@require_http_methods(["GET", "POST"])
def house_new(request):
    user = _viewer(request)
    if not qfd.may_edit_house(user):
        raise PermissionDenied
    values, error = {"title": "", "product": "", "customer": "", "pull": ""}, None
    if request.method == "POST":
        values = {k: request.POST.get(k, "").strip() for k in values}
        product = Product.objects.filter(code=values["product"]).first() if values["product"] else None
        customer = Customer.objects.filter(code=values["customer"]).first() if values["customer"] else None
        requirements = list(qfd.approved_requirements(product=product, customer=customer)) if (
            values["pull"] and (product or customer)) else []
        try:
            with transaction.atomic():
                house = qfd.create_house(actor=user, data={"title": values["title"], "product": product,
                                                           "requirements": requirements})
        except DomainError as exc:
            error = exc
        else:
            messages.success(request, _("%(number)s created.") % {"number": house.record.number})
            return HttpResponseRedirect(_url("qfd_edit", house.record.number))
    return render(request, "requirements/qfd/new.html", {
        "values": values, "error": error, "products": Product.objects.order_by("code"),
        "customers": Customer.objects.order_by("code")}, status=400 if error else 200)


def _pdf_url(house):
    """The PDF of the latest approved version that is rendered, or None."""
    file = (RecordFile.objects.filter(record_version__record=house.record, kind=RecordFile.Kind.PDF)
            .select_related("record_version").order_by("-record_version__version").first())
    if file is None:
        return None
    return reverse("qms:records:pdf", args=[house.record.number, file.record_version.version])


@require_http_methods(["GET"])
def house_detail(request, number):
    house = _house(request, number)
    data = house_data.house_snapshot(house)
    draft = house.status == HouseStatus.DRAFT
    drawn = house_data.grid(data)
    for column in drawn["columns"]:
        column["direction_label"] = ImprovementDirection.label_of(column["direction"])
    return render(request, "requirements/qfd/detail.html", {
        "house": house, "data": data, **drawn, "pdf_url": _pdf_url(house),
        "strengths": Strength.choices, "correlations": Correlation.choices,
        "may_edit": draft and qfd.may_edit_house(request.user),
        "may_approve": draft and qfd.may_approve_house(request.user),
        "may_reopen": not draft and qfd.may_edit_house(request.user),
        "problems": qfd.completeness_errors(house) if draft else {}})


# --- the editor ------------------------------------------------------------------------------------------


def _rows_from_post(post):
    """The editor's rows and columns as entered (removed and blank ones dropped), each with the
    index it was shown at, and the cells and roof by those shown indexes."""
    def lines(prefix, fields, count):
        out = []
        for i in range(count):
            row = {f: post.get(f"{prefix}-{i}-{f}", "").strip() for f in fields}
            if "requirement" in row:
                row["requirement"] = row["requirement"].upper()  # a typed record number: they are upper case
            row["shown"] = i
            row["removed"] = bool(post.get(f"{prefix}-{i}-remove"))
            out.append(row)
        return out

    def count(name):
        try:
            return max(0, min(int(post.get(name, "0")), qfd.MAX_ROWS + SPARE_ROWS))
        except ValueError:
            return 0

    needs = lines("need", ("text", "weight", "requirement"), count("need-count"))
    cols = lines("char", ("name", "unit", "direction", "target"), count("char-count"))
    return needs, cols


def _matrix_from_post(post, needs, cols):
    """(matrix data for qfd.set_matrix, kept needs, kept columns)."""
    kept_needs = [n for n in needs if not n["removed"] and any(n[f] for f in ("text", "requirement"))]
    kept_cols = [c for c in cols if not c["removed"] and any(c[f] for f in ("name", "unit", "target"))]
    need_at = {n["shown"]: i for i, n in enumerate(kept_needs)}
    col_at = {c["shown"]: i for i, c in enumerate(kept_cols)}

    def number(value):
        try:
            return int(value)
        except ValueError:
            return value

    cells = []
    for n in kept_needs:
        for c in kept_cols:
            value = post.get(f"cell-{n['shown']}-{c['shown']}", "")
            if value:
                cells.append({"need": need_at[n["shown"]], "characteristic": col_at[c["shown"]],
                              "strength": number(value)})
    roof = []
    for a in kept_cols:
        for b in kept_cols:
            value = post.get(f"roof-{a['shown']}-{b['shown']}", "") if a["shown"] < b["shown"] else ""
            if value:
                roof.append({"first": col_at[a["shown"]], "second": col_at[b["shown"]], "correlation": value})
    data = {"needs": [{"text": n["text"], "weight": number(n["weight"]), "requirement": n["requirement"]}
                      for n in kept_needs],
            "characteristics": [{k: c[k] for k in ("name", "unit", "direction", "target")} for c in kept_cols],
            "relationships": cells, "roof": roof}
    return data, kept_needs, kept_cols


def _rows_from_house(house):
    data = house_data.house_snapshot(house)
    needs = [{"text": n["text"], "weight": str(n["weight"]), "requirement": n["requirement"], "shown": i,
              "removed": False} for i, n in enumerate(data["needs"])]
    cols = [{**{k: c[k] for k in ("name", "unit", "direction", "target")}, "shown": i, "removed": False}
            for i, c in enumerate(data["characteristics"])]
    pos_n = {n["position"]: i for i, n in enumerate(data["needs"])}
    pos_c = {c["position"]: i for i, c in enumerate(data["characteristics"])}
    cells = {(pos_n[r["need"]], pos_c[r["characteristic"]]): str(r["strength"]) for r in data["relationships"]}
    roof = {(pos_c[r["first"]], pos_c[r["second"]]): r["correlation"] for r in data["roof"]}
    return needs, cols, cells, roof


def _editor_context(house, needs, cols, cells, roof, errors=None, error=None):
    errors = errors or {}
    blank_need = {"text": "", "weight": "3", "requirement": "", "removed": False}
    blank_col = {"name": "", "unit": "", "direction": "", "target": "", "removed": False}
    needs = [n for n in needs if not n["removed"]] + [dict(blank_need) for _i in range(SPARE_ROWS)]
    cols = [c for c in cols if not c["removed"]] + [dict(blank_col) for _i in range(SPARE_ROWS)]
    old_needs = {id(n): n.get("shown") for n in needs}
    old_cols = {id(c): c.get("shown") for c in cols}
    for i, n in enumerate(needs):
        n["errors"] = errors.get(("need", old_needs[id(n)]), [])
        n["index"] = i
    for i, c in enumerate(cols):
        c["errors"] = errors.get(("char", old_cols[id(c)]), [])
        c["index"] = i
    # cells and roof by the new indexes (only rows and columns that exist: the spare ones get theirs after saving)
    filled_n = [n for n in needs if old_needs[id(n)] is not None]
    filled_c = [c for c in cols if old_cols[id(c)] is not None]
    grid_rows = [{"need": n, "cells": [{"name": f"cell-{n['index']}-{c['index']}",
                                        "value": cells.get((old_needs[id(n)], old_cols[id(c)]), "")}
                                       for c in filled_c]} for n in filled_n]
    roof_rows = [{"col": a, "cells": [{"name": f"roof-{a['index']}-{b['index']}",
                                       "value": roof.get((old_cols[id(a)], old_cols[id(b)]), "")}
                                      for b in filled_c[i + 1:]], "pad": range(i)}
                 for i, a in enumerate(filled_c[:-1])]
    return {"house": house, "needs": needs, "cols": cols, "filled_cols": filled_c, "grid_rows": grid_rows,
            "roof_rows": roof_rows, "weights": range(1, 6), "directions": ImprovementDirection.choices,
            "strengths": [(value, Strength(value).label) for value in Strength.values],
            "correlations": Correlation.choices, "error": error, "other_errors": errors.get("other", []),
            # suggestions of the rows' requirement field (a <datalist>), which takes any approved requirement's number
            # (it was a <select> of these only: an older requirement could not be linked, and a link to one was lost
            # when the house was saved again)
            "requirements": CustomerRequirement.objects.filter(status__in=qfd.APPROVED_REQUIREMENT_STATUSES)
            .select_related("record").order_by("-pk")[:register.SUGGESTED_REQUIREMENTS]}


@require_http_methods(["GET", "POST"])
def house_edit(request, number):
    house = _house(request, number)
    if not qfd.may_edit_house(request.user):
        raise PermissionDenied
    if house.status != HouseStatus.DRAFT:
        messages.error(request, _("The house of quality is approved; reopen it to make a new revision."))
        return HttpResponseRedirect(_url("qfd_detail", number))
    if request.method == "GET":
        needs, cols, cells, roof = _rows_from_house(house)
        return render(request, "requirements/qfd/edit.html", _editor_context(house, needs, cols, cells, roof))
    needs, cols = _rows_from_post(request.POST)
    data, kept_needs, kept_cols = _matrix_from_post(request.POST, needs, cols)
    try:
        with transaction.atomic():
            qfd.set_matrix(house, actor=request.user, data=data)
    except DomainError as exc:
        errors = {}
        for field, messages_ in exc.field_errors.items():
            head, _sep, _rest = field.partition(".")
            key = None
            if head.startswith("needs[") and head != "needs":
                key = ("need", kept_needs[int(head[6:-1])]["shown"])
            elif head.startswith("characteristics[") and head != "characteristics":
                key = ("char", kept_cols[int(head[16:-1])]["shown"])
            errors.setdefault(key or "other", []).extend(str(m) for m in messages_)
        cells = {(int(k.split("-")[1]), int(k.split("-")[2])): v for k, v in request.POST.items()
                 if k.startswith("cell-") and v and k.count("-") == 2 and k.replace("-", "").replace("cell", "").isdigit()}
        roof = {(int(k.split("-")[1]), int(k.split("-")[2])): v for k, v in request.POST.items()
                if k.startswith("roof-") and v and k.count("-") == 2 and k.replace("-", "").replace("roof", "").isdigit()}
        return render(request, "requirements/qfd/edit.html",
                      _editor_context(house, kept_needs, kept_cols, cells, roof, errors, exc), status=exc.status_code)
    messages.success(request, _("The matrix is saved."))
    if request.POST.get("continue"):
        return HttpResponseRedirect(_url("qfd_edit", number))
    return HttpResponseRedirect(_url("qfd_detail", number))


@require_http_methods(["GET", "POST"])
def house_approve(request, number):
    house = _house(request, number)
    if not qfd.may_approve_house(request.user):
        raise PermissionDenied
    error = None
    if request.method == "POST":
        try:  # its own transactions: a wrong password stays counted (core.esign)
            qfd.approve_house(house, actor=request.user, password=request.POST.get("password", ""),
                              reason=request.POST.get("reason", ""))
        except DomainError as exc:
            error = exc
        else:
            messages.success(request, _("%(number)s approved and signed.") % {"number": number})
            return HttpResponseRedirect(_url("qfd_detail", number))
    return render(request, "requirements/qfd/approve.html", {
        "house": house, "error": error, "role": qfd.approver_role(request.user),
        "problems": qfd.completeness_errors(house) if house.status == HouseStatus.DRAFT else {}},
        status=error.status_code if error else 200)


@require_http_methods(["POST"])
def house_reopen(request, number):
    house = _house(request, number)
    if not qfd.may_edit_house(request.user):
        raise PermissionDenied
    try:
        with transaction.atomic():
            qfd.reopen_house(house, actor=request.user, reason=request.POST.get("reason", ""))
    except DomainError as exc:
        messages.error(request, _error_text(exc))
        return HttpResponseRedirect(_url("qfd_detail", number))
    messages.success(request, _("%(number)s is a draft again: a new revision.") % {"number": number})
    return HttpResponseRedirect(_url("qfd_edit", number))


qfd_paths = [
    path("", house_list, name="qfd_list"),
    path("new/", house_new, name="qfd_new"),
    path("<str:number>/", house_detail, name="qfd_detail"),
    path("<str:number>/edit/", house_edit, name="qfd_edit"),
    path("<str:number>/approve/", house_approve, name="qfd_approve"),
    path("<str:number>/reopen/", house_reopen, name="qfd_reopen"),
]
