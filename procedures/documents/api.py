"""REST API of document control: thin adapters over procedures.documents.actions and the
document-control flow (the same start/claim/complete actions as the browser)."""
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from accounts.models import Department
from core.rest import params
from core.rest.base import ViewSet, json_object
from core.rest.serializers import StrictMixin
from core.access import can_view_processes
from core.downloads import attach_filename
from core.models import Record
from workflows.actions import start_process

from . import actions
from .access import can_download
from .flows import DocumentControlFlow
from .models import ApprovalRule, Document, DocumentType, Revision, RevisionFile, RevisionStatus
from .stamping import stamped_copy


def _members_only(request):
    if not can_view_processes(request.user):
        raise Http404


def documents_with_status():
    """Each document's status: effective (a revision in force), obsolete (withdrawn),
    or draft (never in force yet)."""
    effective = Revision.objects.filter(document=OuterRef("pk"), status=RevisionStatus.EFFECTIVE)
    obsolete = Revision.objects.filter(document=OuterRef("pk"), status=RevisionStatus.OBSOLETE)
    return Document.objects.annotate(has_effective=Exists(effective), has_obsolete=Exists(obsolete))


def _status(document):
    return "effective" if document.has_effective else ("obsolete" if document.has_obsolete else "draft")


class FileSerializer(serializers.ModelSerializer):
    class Meta:
        model = RevisionFile
        fields = ["id", "kind", "original_name", "content_type", "size", "sha256", "uploaded_at"]


class RevisionSerializer(serializers.ModelSerializer):
    files = FileSerializer(many=True)
    record = serializers.CharField(source="record.number")
    approved_by = serializers.CharField(source="approved_by.printed_name", default=None)

    class Meta:
        model = Revision
        fields = ["id", "label", "status", "withdrawal", "change_reason", "change_summary", "effective_date",
                  "approved_by", "approved_at", "effective_at", "ended_at", "record", "files"]


class DocumentSerializer(serializers.ModelSerializer):
    status = serializers.SerializerMethodField()
    effective_revision = serializers.SerializerMethodField()

    class Meta:
        model = Document
        fields = ["id", "number", "title_zh", "title_en", "doc_type", "owner_department", "status",
                  "effective_revision", "next_review_due", "review_interval_months", "retention_years",
                  "distribution", "external_issuer", "governs_flow", "governs_record_type", "language", "medium"]

    def get_status(self, document) -> str:
        return _status(document)

    def get_effective_revision(self, document) -> str:
        revision = next((r for r in document.revisions.all() if r.status == RevisionStatus.EFFECTIVE), None)
        return revision.label if revision else None


_started = inline_serializer("DocumentProcessStarted", {"process": serializers.IntegerField(),
                                                        "record": serializers.CharField()})


def download_filename(file):
    """The name a downloaded revision file is saved as: QP-QA-01-A0-<its original name>."""
    revision = file.revision
    return f"{revision.document.number}-{revision.label.replace('/', '-')}-{file.original_name}"


def _start(request, node, data):
    form = node.make_form(data=data, api=True, user=request.user)
    process = start_process(node, actor=request.user, form=form)
    record = Record.objects.filter(process=process).order_by("id").first()
    return Response({"process": process.pk, "record": record.number if record else None},
                    status=status.HTTP_201_CREATED)


class DocumentViewSet(ViewSet):
    lookup_value_converter = "id"

    @extend_schema(parameters=[OpenApiParameter("type", str), OpenApiParameter("status", str,
                                                                                 enum=["effective", "obsolete", "draft"]),
                               OpenApiParameter("owner", str), OpenApiParameter("q", str)],
                   responses=DocumentSerializer(many=True))
    def list(self, request):
        _members_only(request)
        qs = documents_with_status().prefetch_related("revisions").order_by("number")
        p = request.query_params
        doc_type, owner = params.choice(p, "type", DocumentType.values), params.choice(p, "owner", Department.values)
        text, state = params.text(p, "q"), params.choice(p, "status", ["effective", "obsolete", "draft"])
        if doc_type:
            qs = qs.filter(doc_type=doc_type)
        if owner:
            qs = qs.filter(owner_department=owner)
        if text:
            qs = qs.filter(Q(number__icontains=text) | Q(title_zh__icontains=text) | Q(title_en__icontains=text))
        if state == "effective":
            qs = qs.filter(has_effective=True)
        elif state == "obsolete":
            qs = qs.filter(has_effective=False, has_obsolete=True)
        elif state == "draft":
            qs = qs.filter(has_effective=False, has_obsolete=False)
        return Response(DocumentSerializer(qs, many=True).data)

    @extend_schema(responses=DocumentSerializer)
    def retrieve(self, request, pk=None):
        _members_only(request)
        document = get_object_or_404(documents_with_status(), pk=pk)
        body = DocumentSerializer(document).data
        revisions = document.revisions.select_related("record", "approved_by").prefetch_related("files")
        body["revisions"] = RevisionSerializer(revisions, many=True).data
        effective = document.effective_revision()
        body["acknowledgements"] = [
            {"user": a.user.username, "name": a.user.printed_name, "due_date": a.due_date,
             "acknowledged_at": a.acknowledged_at}
            for a in (actions.acknowledgement_matrix(effective) if effective else [])]
        return Response(body)

    @extend_schema(summary="Register a new controlled document (its revision A/0 starts as a draft)",
                   request=inline_serializer("NewDocument", {
                       "number": serializers.CharField(), "title_zh": serializers.CharField(),
                       "title_en": serializers.CharField(), "doc_type": serializers.CharField(),
                       "owner_department": serializers.CharField(), "reason": serializers.CharField()}),
                   responses={201: _started})
    def create(self, request):
        return _start(request, DocumentControlFlow.start_new, json_object(request, allow_multipart=False)[0])

    @extend_schema(summary="Request a change to (or the withdrawal of) a document",
                   request=inline_serializer("ChangeRequest", {"reason": serializers.CharField(),
                                                               "withdrawal": serializers.BooleanField(default=False)}),
                   responses={201: _started})
    @action(detail=True, methods=["post"], url_path="change-requests")
    def change_requests(self, request, pk=None):
        _members_only(request)
        document = get_object_or_404(Document, pk=pk)
        data = json_object(request, allow_multipart=False)[0]
        if "document" in data:
            raise ValidationError({"document": [_("The document is the one in the address; leave this field out.")]})
        return _start(request, DocumentControlFlow.start, {**data, "document": document.number})

    @extend_schema(responses={(200, "application/pdf"): bytes})
    @action(detail=True, methods=["get"], url_path="files/<id:file_id>")
    def download(self, request, pk=None, file_id=None):
        """A controlled copy, stamped on every page with revision, status, downloader and time."""
        file = get_object_or_404(RevisionFile.objects.select_related("revision__document", "revision__record"),
                                 pk=file_id, revision__document_id=pk)
        if not can_download(request.user, file):
            raise Http404
        with transaction.atomic():
            actions.record_download(file, user=request.user)
        if file.kind == RevisionFile.Kind.CONTROLLED:
            response = HttpResponse(stamped_copy(file, user=request.user), content_type="application/pdf")
        else:
            with file.file.open("rb") as handle:
                response = HttpResponse(handle.read(), content_type=file.content_type)
        return attach_filename(response, download_filename(file))


class ApprovalRuleSerializer(StrictMixin, serializers.ModelSerializer):
    reviewing_departments = serializers.ListField(child=serializers.ChoiceField(choices=Department.choices),
                                                  max_length=len(Department.choices))
    reason = serializers.CharField(write_only=True, max_length=1000)

    class Meta:
        model = ApprovalRule
        fields = ["id", "document_type", "reviewing_departments", "approver_department", "approver_role",
                  "approver_group", "approvals_needed", "rejection_ends", "reason"]
        read_only_fields = ["document_type"]


class ApprovalRuleViewSet(ViewSet):
    lookup_value_converter = "id"

    @extend_schema(responses=ApprovalRuleSerializer(many=True))
    def list(self, request):
        _members_only(request)
        return Response(ApprovalRuleSerializer(ApprovalRule.objects.all(), many=True).data)

    @extend_schema(request=ApprovalRuleSerializer, responses=ApprovalRuleSerializer)
    def partial_update(self, request, pk=None):
        _members_only(request)
        rule = get_object_or_404(ApprovalRule, pk=pk)
        payload = ApprovalRuleSerializer(rule, data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        data = {"reviewing_departments": rule.reviewing_departments, "approver_department": rule.approver_department,
                "approver_role": rule.approver_role, "approver_group": rule.approver_group,
                "approvals_needed": rule.approvals_needed, "rejection_ends": rule.rejection_ends,
                **payload.validated_data}
        with transaction.atomic():
            actions.update_approval_rule(rule, actor=request.user, reviewing_departments=data["reviewing_departments"],
                                         approver_department=data["approver_department"],
                                         approver_role=data["approver_role"], reason=data.get("reason", ""),
                                         approver_group=data["approver_group"],
                                         approvals_needed=data["approvals_needed"],
                                         rejection_ends=data["rejection_ends"])
        return Response(ApprovalRuleSerializer(rule).data)


router = SimpleRouter(use_regex_path=False)
router.register("documents", DocumentViewSet, basename="document")
router.register("approval-rules", ApprovalRuleViewSet, basename="approval-rule")
urlpatterns = router.urls
