"""Browser pages of document control. Thin: access from procedures.documents.access, state
changes through procedures.documents.actions and the document-control flow."""
from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin, UserPassesTestMixin
from django.db import transaction
from django.db.models import Q
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import DetailView, ListView, TemplateView
from viewflow.workflow.models import Process

from accounts.models import Department, Role
from core.access import can_view_processes, records_visible_to
from core.downloads import attach_filename
from core.errors import DomainError
from core.paging import page_of
from core.registry import flows

from . import actions
from .access import can_download, can_edit_approval_matrix, can_view_documents, downloadable
from .api import download_filename
from .binding import flow_key
from .models import ApprovalRule, ApproverGroup, Document, DocumentType, RevisionFile, RevisionStatus
from .stamping import stamped_copy


class MembersOnly(LoginRequiredMixin, UserPassesTestMixin):
    """Members, and auditors whose grant is current (read-only: procedures.documents.access)."""

    def test_func(self):
        return can_view_documents(self.request.user)


class DocumentListView(MembersOnly, ListView):
    template_name = "procedures/list.html"
    paginate_by = 50

    def get_queryset(self):
        qs = Document.objects.prefetch_related("revisions__files").order_by("number")
        # a NUL can match nothing stored (PostgreSQL cannot even compare one): dropped, never sent to the database
        params = {name: value.replace("\x00", "") for name, value in self.request.GET.items()}
        if params.get("type"):
            qs = qs.filter(doc_type=params["type"])
        if params.get("owner"):
            qs = qs.filter(owner_department=params["owner"])
        if params.get("q"):
            q = params["q"]
            qs = qs.filter(Q(number__icontains=q) | Q(title_zh__icontains=q) | Q(title_en__icontains=q))
        return qs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        for document in context["object_list"]:  # from the prefetched revisions: no query per row
            document.in_force = next((r for r in document.revisions.all() if r.status == RevisionStatus.EFFECTIVE), None)
        in_force_files = [f for document in context["object_list"] if document.in_force
                          for f in document.in_force.files.all()]
        return {**context, "types": DocumentType.choices, "departments": Department.choices,
                "downloadable": downloadable(self.request.user, in_force_files),
                "can_request_change": can_view_processes(self.request.user)}


class DocumentDetailView(MembersOnly, DetailView):
    template_name = "procedures/detail.html"
    slug_field = "number"
    slug_url_kwarg = "number"
    context_object_name = "document"
    queryset = Document.objects.all()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        document = self.object
        revisions = list(document.revisions.select_related("approved_by", "author").prefetch_related("files"))
        effective = next((r for r in revisions if r.status == RevisionStatus.EFFECTIVE), None)
        context.update(
            revisions=revisions,
            effective=effective,
            acknowledgements=actions.acknowledgement_matrix(effective) if effective else [],
            downloadable=downloadable(self.request.user, [f for r in revisions for f in r.files.all()]),
            # the records this user may open (an auditor: those the grant covers) are linked, the others named
            visible_records=set(records_visible_to(self.request.user).filter(
                pk__in={r.record_id for r in revisions} | {r.raised_from_id for r in revisions if r.raised_from_id})
                .values_list("pk", flat=True)),
            can_request_change=can_view_processes(self.request.user),
            processes=self._governed_processes(document) if document.governs_flow else None,
            flow_chart_url=self._flow_chart_url(document),
        )
        return context

    def _governed_processes(self, document):
        """The processes run under this procedure, newest first, a page at a time with their total (?processes=;
        they were cut at 50 with no sign)."""
        return page_of(self.request, Process.objects.filter(procedure_revision__revision__document=document)
                       .select_related("procedure_revision__revision").order_by("-created", "-pk"),
                       "processes", anchor="processes")

    def _flow_chart_url(self, document):
        for flow_class in flows():
            if flow_key(flow_class) == document.governs_flow:
                # only for whoever may open the flow's pages (an auditor may not)
                return (flow_class.instance.reverse("chart")
                        if flow_class.instance.has_view_permission(self.request.user) else None)
        return None


def download(request, number, label, file_id):
    """A controlled copy: stamped on every page; audited."""
    file = get_object_or_404(RevisionFile.objects.select_related("revision__document", "revision__record"),
                             pk=file_id, revision__label=label, revision__document__number=number)
    if not can_download(request.user, file):
        raise Http404("No such file")
    with transaction.atomic():
        actions.record_download(file, user=request.user)
    if file.kind == RevisionFile.Kind.CONTROLLED:
        try:
            body, content_type = stamped_copy(file, user=request.user), "application/pdf"
        except DomainError as error:  # the stored original no longer matches its SHA-256
            return HttpResponse(error.message, status=error.status_code, content_type="text/plain; charset=utf-8")
    else:
        with file.file.open("rb") as handle:
            body, content_type = handle.read(), file.content_type
    return attach_filename(HttpResponse(body, content_type=content_type), download_filename(file))


class RuleForm(forms.Form):
    reviewing_departments = forms.MultipleChoiceField(label=gettext_lazy("reviewing departments"),
                                                      choices=Department.choices, widget=forms.CheckboxSelectMultiple)
    approver_department = forms.ChoiceField(label=gettext_lazy("approver's department"), choices=Department.choices)
    approver_role = forms.ChoiceField(label=gettext_lazy("approver's role"), choices=Role.choices)
    approver_group = forms.ChoiceField(label=gettext_lazy("who approves"), choices=ApproverGroup.choices,
                                       required=False, widget=forms.RadioSelect)
    approvals_needed = forms.IntegerField(
        label=gettext_lazy("approvals needed"), required=False, min_value=1,
        help_text=gettext_lazy("For a group: how many must approve (K of N). Empty: every one of them."))
    rejection_ends = forms.BooleanField(label=gettext_lazy("a rejection ends the approval at once"), required=False)
    reason = forms.CharField(label=gettext_lazy("reason for the change"), widget=forms.TextInput)


class ApprovalMatrixView(MembersOnly, TemplateView):
    """DOC-4: the matrix for everyone to see; the Quality manager edits it."""

    template_name = "procedures/approval_matrix.html"

    def get_context_data(self, **kwargs):
        rules = list(ApprovalRule.objects.all())
        editable = can_edit_approval_matrix(self.request.user)
        forms_by_rule = kwargs.pop("forms", None) or {
            rule.pk: RuleForm(prefix=f"r{rule.pk}", initial={
                "reviewing_departments": rule.reviewing_departments, "approver_department": rule.approver_department,
                "approver_role": rule.approver_role, "approver_group": rule.approver_group,
                "approvals_needed": rule.approvals_needed, "rejection_ends": rule.rejection_ends}) for rule in rules}
        rows = [(rule, forms_by_rule.get(rule.pk)) for rule in rules]
        return {**super().get_context_data(**kwargs), "rows": rows, "editable": editable}

    def post(self, request):
        if not can_edit_approval_matrix(request.user):
            return HttpResponse(_("Only the Quality manager edits the approval matrix."), status=403)
        rule = get_object_or_404(ApprovalRule, pk=request.POST.get("rule"))
        form = RuleForm(request.POST, prefix=f"r{rule.pk}")
        if form.is_valid():
            try:
                with transaction.atomic():
                    actions.update_approval_rule(rule, actor=request.user, **form.cleaned_data)
            except DomainError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, _("Approval rule for %(type)s saved.") % {"type": rule.get_document_type_display()})
                return HttpResponseRedirect(request.path)
        return self.render_to_response(self.get_context_data(forms={rule.pk: form}))
