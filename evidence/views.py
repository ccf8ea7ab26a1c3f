"""Browser views: evidence bundles (request, progress, download), the disposition
queue and the destruction approval. Thin adapters over bundles.py / retention.py."""
import hashlib

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import FileResponse, Http404, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core import audit
from core.access import can_view_records, records_visible_to
from core.downloads import attach_filename
from core.errors import DomainError
from core.models import Record
from core.search import search_records

from . import bundles, retention, signing
from core.models import Tombstone

from .models import EvidenceBundle


def _bundles_of(user):
    qs = EvidenceBundle.objects.select_related("created_by")
    return qs if user.is_superuser else qs.filter(created_by=user)


def _require_records(user):
    if not can_view_records(user):
        raise PermissionDenied


@login_required
def index(request):
    _require_records(request.user)
    public = signing.public_key_pem()
    return render(request, "evidence/index.html", {
        "bundles": _bundles_of(request.user)[:100],
        "public_key": public.decode(), "fingerprint": hashlib.sha256(public).hexdigest(),
        "can_dispose": retention.can_approve_disposition(request.user),
    })


@login_required
@require_POST
def bundle_create(request):
    _require_records(request.user)
    visible = records_visible_to(request.user)
    if request.POST.get("scope") == "search":
        query = QueryDict(request.POST.get("query", ""))
        records = search_records(visible, query)
        described = {k: v for k, v in query.items()}
    else:
        ids = [int(i) for i in request.POST.getlist("record") if i.isdigit()]
        records = visible.filter(pk__in=ids)
        described = {"selected": len(ids)}
    try:
        bundle = bundles.request_bundle(actor=request.user, records=records, query=described,
                                        title=request.POST.get("title", ""))
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("qms:records:index")
    return redirect("qms:evidence:bundle", pk=bundle.pk)


@login_required
def bundle_detail(request, pk):
    _require_records(request.user)
    bundle = get_object_or_404(_bundles_of(request.user), pk=pk)
    public = signing.public_key_pem()
    return render(request, "evidence/bundle.html", {
        "bundle": bundle, "building": bundle.status in (EvidenceBundle.Status.QUEUED, EvidenceBundle.Status.BUILDING),
        "fingerprint": hashlib.sha256(public).hexdigest()})


@login_required
def bundle_download(request, pk):
    _require_records(request.user)
    bundle = get_object_or_404(_bundles_of(request.user), pk=pk, status=EvidenceBundle.Status.DONE)
    with transaction.atomic():
        audit.log("evidence.bundle_downloaded", bundle, actor=request.user,
                  new={"sha256": bundle.sha256, "size": bundle.size})
    try:
        handle = open(bundle.file_path, "rb")
    except OSError:
        raise Http404(_("The bundle file is no longer available."))
    response = attach_filename(FileResponse(handle, content_type="application/zip"), bundle.filename, attachment=True)
    response["X-Content-SHA256"] = bundle.sha256
    return response


@login_required
def public_key(request):
    return HttpResponse(signing.public_key_pem(), content_type="application/x-pem-file")


def _require_disposer(user):
    if not retention.can_approve_disposition(user):
        raise PermissionDenied


@login_required
def disposition_queue(request):
    _require_disposer(request.user)
    years = retention.retention_table()
    due = list(retention.past_retention()[:500])
    rows = [(r, years.get(r.record_type, retention.default_years()), retention.retention_ends(
        r, years.get(r.record_type, retention.default_years()))) for r in due]
    return render(request, "evidence/disposition.html", {
        "rows": rows, "years": sorted(years.items()),
        "tombstones": Tombstone.objects.select_related("approved_by")[:100]})


@login_required
def disposition_approve(request, number):
    _require_disposer(request.user)
    record = get_object_or_404(Record, number=number)
    error = None
    if request.method == "POST":
        try:
            retention.destroy_record(record, actor=request.user, password=request.POST.get("password", ""),
                                     reason=request.POST.get("reason", ""))
        except DomainError as exc:
            error = exc
        else:
            messages.success(request, _("%(number)s was destroyed; its tombstone remains.") % {"number": number})
            return redirect("qms:evidence:disposition")
    return render(request, "evidence/destroy.html", {
        "record": record, "error": error, "ends": retention.retention_ends(record),
        "years": retention.retention_years(record.record_type)}, status=400 if error else 200)
