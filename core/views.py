"""Browser views over records: list, detail (versions, signatures, audit), PDF."""
from django.contrib.auth.mixins import LoginRequiredMixin, UserPassesTestMixin
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.contrib.auth.decorators import login_required
from django.views.generic import DetailView, ListView

from .access import can_view_processes, can_view_record, records_visible_to
from .models import Record, RecordFile
from .records import is_amended


class MembersOnlyMixin(LoginRequiredMixin, UserPassesTestMixin):
    """Records are open to people with a department role (SIG-4), closed to others."""

    def test_func(self):
        return can_view_processes(self.request.user)


class RecordListView(MembersOnlyMixin, ListView):
    template_name = "records/list.html"
    paginate_by = 50

    def get_queryset(self):
        qs = records_visible_to(self.request.user).select_related("created_by")
        q = self.request.GET.get("q", "").strip()
        if q:
            from django.db.models import Q

            qs = qs.filter(Q(number__icontains=q) | Q(search_text__icontains=q) | Q(customer_name__icontains=q))
        record_type = self.request.GET.get("type")
        if record_type:
            qs = qs.filter(record_type=record_type)
        return qs.order_by("-created_at", "-id")

    def get_context_data(self, **kwargs):
        from . import registry

        return {**super().get_context_data(**kwargs), "record_types": registry.all_types()}


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
        signatures = [(s, signature_problems(s)) for v in versions for s in v.signatures.all()]
        first_signed = min((s.record_version.version for s, _ in signatures), default=None)
        context.update(
            versions=versions,
            signatures=signatures,
            audit_entries=record.audit_entries.select_related("actor").order_by("seq"),
            changed_after_signing=first_signed is not None and record.current_version > first_signed,
            amended=bool(versions) and is_amended(versions[-1]),
        )
        return context


@login_required
def record_pdf(request, number, version):
    record = get_object_or_404(Record, number=number)
    if not can_view_record(request.user, record):
        raise Http404
    kind = request.GET.get("kind", RecordFile.Kind.PDF)
    file = RecordFile.objects.filter(record_version__record=record, record_version__version=version, kind=kind).first()
    if file is None:
        raise Http404("Not rendered yet")
    from . import audit
    from django.db import transaction

    with transaction.atomic():
        audit.log("record.downloaded", file, actor=request.user, record=record,
                  new={"version": version, "kind": kind, "sha256": file.sha256})
    return FileResponse(file.file.open("rb"), content_type="application/pdf", as_attachment=False,
                        filename=f"{record.number}-v{version}{'-pdfa' if kind == 'pdfa' else ''}.pdf")
