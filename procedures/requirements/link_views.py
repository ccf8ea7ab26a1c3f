"""The browser's door to raising a CAPA (P3) or a document change (P4) from a requirement:
the form on the requirement's step summary posts here (links.raise_from decides who may)."""
from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from viewflow.urls import Viewset

from core.access import records_visible_to
from core.errors import DomainError

from . import links
from .change_forms import RaiseForm
from .models import CustomerRequirement


def raise_view(request, number):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    req = (CustomerRequirement.objects.filter(record__in=records_visible_to(request.user), record__number=number)
           .select_related("record").first())
    if req is None:
        raise Http404
    back = request.POST.get("next") or ""
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = reverse("qms:records:detail", args=[number])
    form = RaiseForm(request.POST)
    if not form.is_valid():
        messages.error(request, "; ".join(str(m) for errors in form.errors.values() for m in errors))
        return HttpResponseRedirect(back)
    try:
        with transaction.atomic():
            row = links.raise_from(req, actor=request.user, kind=form.cleaned_data["kind"],
                                   reason=form.cleaned_data["reason"], document_number=form.cleaned_data["document"])
    except DomainError as error:
        messages.error(request, error.message)
        return HttpResponseRedirect(back)
    messages.success(request, _("%(kind)s %(number)s raised.") % {"kind": row.get_kind_display(),
                                                                   "number": row.record.number})
    return HttpResponseRedirect(back)


class RequirementLinksViewset(Viewset):
    """Not in the menu: the POST target of the raise form."""

    app_name = "requirement_links"

    @property
    def raise_path(self):
        return path("requirement/<str:number>/raise/", raise_view, name="raise")
