"""Browser views over records: list, detail (versions, signatures, audit), PDF."""
import logging
import re

from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin, UserPassesTestMixin
from django.db import transaction
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.utils.safestring import mark_safe
from django.views.generic import DetailView, ListView
from viewflow.workflow.models import Task

from . import audit, diffs, registry
from .access import can_view_record, can_view_records, records_visible_to
from .downloads import attach_filename
from .esign import signature_problems
from .models import Record, RecordFile
from .paging import RegistryPaginator, page_of
from .records import is_amended
from .search import FILTERS, search_records

logger = logging.getLogger(__name__)


class MembersOnlyMixin(LoginRequiredMixin, UserPassesTestMixin):
    """Records are open to people with a department role (SIG-4), closed to others."""

    def test_func(self):
        return can_view_records(self.request.user)


class RecordListView(MembersOnlyMixin, ListView):
    template_name = "records/list.html"
    paginate_by = 50
    paginator_class = RegistryPaginator  # a short page needs no COUNT; a large total is counted up to a bound

    def get_queryset(self):
        return search_records(records_visible_to(self.request.user), self.request.GET)

    def get_context_data(self, **kwargs):
        params = self.request.GET.copy()
        params.pop("page", None)
        without_sort = params.copy()
        without_sort.pop("sort", None)
        return {**super().get_context_data(**kwargs), "record_types": registry.all_types(),
                "filters": {name: self.request.GET.get(name, "") for name in FILTERS},
                "sort": self.request.GET.get("sort", "-created"),
                "query_string": params.urlencode(), "query_without_sort": without_sort.urlencode()}


class RecordDetailView(MembersOnlyMixin, DetailView):
    """A record as an auditor reads it: its content (what its PDF prints), its signatures, its versions
    with their reasons and labelled changes, the process steps and the audit trail in sentences."""

    template_name = "records/detail.html"
    slug_field = "number"
    slug_url_kwarg = "number"
    context_object_name = "record"
    history_per_page = 20
    audit_per_page = 50

    def get_queryset(self):
        return records_visible_to(self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        record = self.object
        versions = list(record.versions.select_related("created_by").prefetch_related("files", "signatures"))
        destroyed = hasattr(record, "tombstone")
        signatures = [(s, [p for p in signature_problems(s)  # a destroyed record's data is blanked on purpose
                           if not (destroyed and p == "the signed record version's data was altered")])
                      for v in versions for s in v.signatures.all()]
        entries = [] if destroyed else diffs.history(versions, record.record_type)
        # the versions' changes and the audit trail, each a page at a time keeping the other's page (core.paging)
        history_page = page_of(self.request, entries, "history", size=self.history_per_page, anchor="versions")
        audit_page = page_of(self.request, record.audit_entries.select_related("actor", "on_behalf_of")
                             .order_by("seq"), "audit", size=self.audit_per_page, anchor="audit")
        current = next((v for v in versions if v.version == record.current_version), None)
        for v in versions:  # the newest rendition of each file; earlier ones are on the stored-files page
            v.shown_files = list(RecordFile.newest(v.files.all()).values())
            v.renditions = max((f.rendition for f in v.shown_files), default=1)
        context.update(
            versions=versions,
            history=history_page,
            diffs=[(e.version, e.changes) for e in entries if e.number > 1],
            # rendered when the page prints it, after the page's own context (a test client lists both)
            content=None if destroyed or current is None else Once(record_content, current),
            current=current,
            steps=[t for t in process_steps(record) if t.owner_id or t.owner_permission],  # people's steps
            tombstone=record.tombstone if destroyed else None,
            signatures=signatures,
            audit_entries=audit_page,
            audit_lines=[diffs.describe(entry, record.record_type) for entry in audit_page],
            changed_after_signing=record.changed_after_first_signature(
                (s.record_version.version for s, _ in signatures), versions=versions),
            amended=bool(versions) and is_amended(versions[-1]),
            status_text=diffs.status_text(record.status, record.record_type),
        )
        return context


class Once:
    """A value a template computes when it first needs it (templates call callables), then keeps."""

    def __init__(self, func, *args):
        self.func, self.args, self.done, self.value = func, args, False, None

    def __call__(self):
        if not self.done:
            self.value, self.done = self.func(*self.args), True
        return self.value


_GRID = re.compile(r'<table (class="[^"]*\bgrid\b[^"]*")')
_MAIN = re.compile(r"<main[^>]*>(.*)</main>", re.DOTALL)
_DROPPED = [re.compile(p, re.DOTALL) for p in (
    r'<h1 class="doc-title">.*?</h1>', r'<p class="doc-subtitle">.*?</p>',
    r'<section class="signature-section">.*?</section>')]


def record_content(version):
    """The content of `version` as its PDF prints it (the record type's PDF template, rendered by
    forms.pdf with the data escaped), without the PDF's title, page furniture and signature manifest:
    the page shows those itself."""
    try:
        html = registry.render_record_html(version)
    except Exception:  # the page still shows the history, signatures and trail; the PDF task reports the error
        logger.exception("%s: its content could not be rendered for the record page", version)
        return None
    match = _MAIN.search(html or "")
    if match is None:
        return None
    body = match.group(1)
    for pattern in _DROPPED:
        body = pattern.sub("", body, count=1)
    if re.search(r"<\s*(script|iframe|object|embed|form|link|meta|style)\b|<[^>]*\son\w+\s*=", body, re.IGNORECASE):
        return None  # our templates print none of these: never pass on what they did not write
    # a wide grid scrolls sideways on a phone (record-page.css): keyboard users reach it too (axe
    # scrollable-region-focusable)
    body = _GRID.sub(r'<table tabindex="0" \1', body)
    return mark_safe(body)  # our own template's output, every value escaped by it


@login_required
def record_pdf(request, number, version):
    record = get_object_or_404(Record, number=number)
    if not can_view_record(request.user, record):
        raise Http404
    kind = request.GET.get("kind", RecordFile.Kind.PDF)
    if kind not in RecordFile.Kind.values:
        raise Http404("No such kind of file")
    files = RecordFile.objects.filter(record_version__record=record, record_version__version=version, kind=kind)
    rendition = request.GET.get("rendition")
    if rendition is not None:  # a given rendition (the stored-files page links each); else the newest
        if positive_int(rendition) is None:
            raise Http404("No such rendition")
        files = files.filter(rendition=positive_int(rendition))
    file = files.select_related("record_version__record").order_by("-rendition").first()
    if file is None:
        raise Http404("Not rendered yet")
    with transaction.atomic():
        audit.log("record.downloaded", file, actor=request.user, record=record,
                  new=download_entry(file))
    return attach_filename(FileResponse(file.file.open("rb"), content_type="application/pdf"), file.download_name)


def positive_int(value, *, digits=9):
    """`value` (a query or form parameter) as a positive int of at most `digits` ASCII digits, else None ("²"
    is a digit to str.isdigit, and int() refuses it)."""
    value = value or ""
    if value.isascii() and value.isdigit() and len(value) <= digits and int(value) > 0:
        return int(value)
    return None


def download_entry(file):
    """What a download's audit entry keeps of the file (the rendition only when it is a later one, so the first
    rendition's entries read as they always did)."""
    new = {"version": file.record_version.version, "kind": file.kind, "sha256": file.sha256}
    if file.rendition > 1:
        new["rendition"] = file.rendition
    return new


def version_diffs(versions):
    """[(version, [Change, …]), …]: each version from v2 on with what changed from the version before,
    labelled with its record type's field labels and list items matched by their keys (core.diffs).
    The first version with content lists no change: it is the record's first content."""
    versions = list(versions)
    if not versions:
        return []
    return [(e.version, e.changes) for e in diffs.history(versions, versions[0].record.record_type) if e.number > 1]


def process_steps(record):
    """The workflow steps of the record's process: step, who, when, status."""
    if not record.process_id:
        return []
    return list(Task.objects.filter(process_id=record.process_id).select_related("owner").order_by("created", "pk"))
