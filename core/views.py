"""Browser views over records: list, detail (versions, signatures, audit), PDF."""
from django.contrib.auth.mixins import LoginRequiredMixin, UserPassesTestMixin
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.contrib.auth.decorators import login_required
from django.views.generic import DetailView, ListView

from .access import can_view_record, can_view_records, records_visible_to
from .models import Record, RecordFile
from .records import is_amended


class MembersOnlyMixin(LoginRequiredMixin, UserPassesTestMixin):
    """Records are open to people with a department role (SIG-4), closed to others."""

    def test_func(self):
        return can_view_records(self.request.user)


class RecordListView(MembersOnlyMixin, ListView):
    template_name = "records/list.html"
    paginate_by = 50

    def get_queryset(self):
        from .search import search_records

        return search_records(records_visible_to(self.request.user), self.request.GET)

    def get_context_data(self, **kwargs):
        from . import registry
        from .search import FILTERS

        params = self.request.GET.copy()
        params.pop("page", None)
        without_sort = params.copy()
        without_sort.pop("sort", None)
        return {**super().get_context_data(**kwargs), "record_types": registry.all_types(),
                "filters": {name: self.request.GET.get(name, "") for name in FILTERS},
                "sort": self.request.GET.get("sort", "-created"),
                "query_string": params.urlencode(), "query_without_sort": without_sort.urlencode()}


class RecordDetailView(MembersOnlyMixin, DetailView):
    template_name = "records/detail.html"
    slug_field = "number"
    slug_url_kwarg = "number"
    context_object_name = "record"

    def get_queryset(self):
        return records_visible_to(self.request.user)

    def get_context_data(self, **kwargs):
        from .esign import signature_problems

        context = super().get_context_data(**kwargs)
        record = self.object
        versions = list(record.versions.select_related("created_by").prefetch_related("files", "signatures"))
        destroyed = hasattr(record, "tombstone")
        signatures = [(s, [p for p in signature_problems(s)  # a destroyed record's data is blanked on purpose
                           if not (destroyed and p == "the signed record version's data was altered")])
                      for v in versions for s in v.signatures.all()]
        diffs = [] if destroyed else version_diffs(versions)
        context.update(
            versions=versions,
            diffs=diffs,
            steps=process_steps(record),
            tombstone=record.tombstone if destroyed else None,
            signatures=signatures,
            audit_entries=record.audit_entries.select_related("actor").order_by("seq"),
            changed_after_signing=record.changed_after_first_signature(
                s.record_version.version for s, _ in signatures),
            amended=bool(versions) and is_amended(versions[-1]),
        )
        return context


@login_required
def record_pdf(request, number, version):
    record = get_object_or_404(Record, number=number)
    if not can_view_record(request.user, record):
        raise Http404
    kind = request.GET.get("kind", RecordFile.Kind.PDF)
    if kind not in RecordFile.Kind.values:
        raise Http404("No such kind of file")
    file = RecordFile.objects.filter(record_version__record=record, record_version__version=version, kind=kind).first()
    if file is None:
        raise Http404("Not rendered yet")
    from . import audit
    from django.db import transaction

    with transaction.atomic():
        audit.log("record.downloaded", file, actor=request.user, record=record,
                  new={"version": version, "kind": kind, "sha256": file.sha256})
    from .downloads import attach_filename

    return attach_filename(FileResponse(file.file.open("rb"), content_type="application/pdf"),
                           f"{record.number}-v{version}{'-pdfa' if kind == 'pdfa' else ''}.pdf")


def version_diffs(versions):
    """[(version, [(field, old, new), …]), …] between each version and the one before
    it (field-level: nested JSON flattened to paths such as lines[0].quantity)."""
    from .records import _flatten

    diffs, before = [], {}
    for version in versions:
        after = _flatten(version.data) if isinstance(version.data, dict) else {}
        keys = sorted(set(before) | set(after))
        changes = [(k, before.get(k), after.get(k)) for k in keys if before.get(k) != after.get(k)]
        if version.version > 1:
            diffs.append((version, changes))
        before = after
    return diffs


def process_steps(record):
    """The workflow steps of the record's process: step, who, when, status."""
    if not record.process_id:
        return []
    from viewflow.workflow.models import Task

    return list(Task.objects.filter(process_id=record.process_id).select_related("owner").order_by("created", "pk"))
