"""REST API: thin adapters over the same actions the browser uses
(workflows.actions.start_process / claim_task / complete_step)."""
from django.db import transaction
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.throttling import ScopedRateThrottle
from viewflow.workflow.models import Process

from core.authentication import access_refusal, issue_token
from core.lockout import lock_message, locked_until
from core.models import ACCOUNTABILITY_STATEMENT
from core import audit, diffs, esign
from core.access import can_view_processes, records_visible_to
from core.models import AuditEntry, Record, RecordFile
from core.downloads import attach_filename
from core.paging import RegistryPaginator
from core.search import search_records
from core.views import download_entry, process_steps
from evidence import renditions
from forms import pdf as record_pdf
from core.registry import flows
from workflows import actions
from workflows.rest import CompleteTaskSerializer, signature_input

from inbox import api as inbox_api
from core.rest import params
from core.rest.serializers import StrictMixin
from inbox.rows import ROW_RELATED, attach_subjects
from inbox.serializers import TaskSerializer

from . import serializers as s
from .access import access_task, inbox, queue
from core.rest.base import APIView, InputGuard, ViewSet, json_object
from core.rest.keyset import PAGE_PARAMETERS, page_body


class AuthRateThrottle(ScopedRateThrottle):
    """REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["auth"] (default 20/min per client address),
    read when the request comes rather than when the class is imported, so that a changed
    setting applies. Counts every attempt, good or bad; the cache is Django's default."""

    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


class TokenRequestSerializer(StrictMixin, AuthTokenSerializer):
    pass


class TokenView(InputGuard, ObtainAuthToken):
    """POST {username, password} → {token}. Attempts are throttled (the "auth" rate;
    ObtainAuthToken itself has no throttle) and failed logins locked by django-axes."""

    throttle_classes = [AuthRateThrottle]
    throttle_scope = "auth"
    serializer_class = TokenRequestSerializer

    @extend_schema(request=inline_serializer("TokenRequest", {"username": serializers.CharField(),
                                                              "password": serializers.CharField()}),
                   responses=inline_serializer("TokenResponse", {"token": serializers.CharField()}))
    def post(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        if not serializer.is_valid():
            # a locked user name is told when the lock ends (the right password is refused too)
            username = request.data.get("username") if isinstance(request.data, dict) else None
            until = locked_until(username) if isinstance(username, str) else None
            if until is not None:
                return Response({"detail": lock_message(until), "locked_until": until.isoformat()},
                                status=status.HTTP_403_FORBIDDEN)
            raise ValidationError(serializer.errors)
        user = serializer.validated_data["user"]
        refusal = access_refusal(user)  # expired password, lock-out: as the sign-in page
        if refusal:
            return Response({"detail": refusal}, status=status.HTTP_403_FORBIDDEN)
        return Response({"token": issue_token(user).key})


def _records_by_process(process_ids):
    mapping = {}
    for pid, number in Record.objects.filter(process_id__in=set(process_ids)).values_list("process_id", "number"):
        mapping.setdefault(pid, []).append(number)
    return mapping


class AcceptAccountabilityView(APIView):
    """SIG-18: accept the e-signature accountability statement before the first signature."""

    @extend_schema(request=None, responses=inline_serializer("Accepted", {"accepted_at": serializers.DateTimeField(),
                                                                            "statement": serializers.CharField()}))
    def post(self, request):
        acceptance = esign.accept_accountability(request.user)
        return Response({"accepted_at": acceptance.accepted_at, "statement": acceptance.statement_text})

    @extend_schema(responses=inline_serializer("AccountabilityStatement", {"accepted": serializers.BooleanField(),
                                                                             "statement": serializers.CharField()}))
    def get(self, request):
        return Response({"accepted": esign.has_accepted_accountability(request.user),
                         "statement": str(ACCOUNTABILITY_STATEMENT)})


class TaskViewSet(ViewSet):
    lookup_value_converter = "id"

    @extend_schema(parameters=[OpenApiParameter("queue", OpenApiTypes.BOOL, description="tasks I may claim"),
                               *inbox_api.TASK_DUE_PARAMETERS, *PAGE_PARAMETERS],
                   responses=page_body(TaskSerializer(many=True), "TaskPage"))
    def list(self, request):
        """My tasks (or ?queue=1: the tasks I may claim), oldest first or by due date, a page at a
        time: `next` is the address of the following page, null on the last; `count` the total."""
        tasks = queue(request.user) if params.boolean(request.query_params, "queue") else inbox(request.user)
        page = inbox_api.task_page(tasks.select_related(*ROW_RELATED), request)
        rows = attach_subjects(page.rows)
        context = {"records_by_process": _records_by_process(t.process_id for t in rows)}
        return Response(page.body(TaskSerializer(rows, many=True, context=context).data))

    @extend_schema(responses=TaskSerializer)
    def retrieve(self, request, pk=None):
        task = access_task(request.user, pk)
        body = TaskSerializer(task, context={"records_by_process": _records_by_process([task.process_id])}).data
        node = task.flow_task
        if hasattr(node, "form_class"):
            body["form"] = node.form_class.describe(activation=node.activation_class(task), user=request.user)
            body["signature"] = {"required": node.signs, "meanings": list(node.meanings),
                                 "fields": ["username", "password", "meaning", "reason"] if node.signs else []}
        return Response(body)

    @extend_schema(request=None, responses=TaskSerializer)
    @action(detail=True, methods=["post"])
    def claim(self, request, pk=None):
        task = actions.claim_task(access_task(request.user, pk), actor=request.user)
        return Response(TaskSerializer(task).data)

    @extend_schema(request=None, responses=TaskSerializer)
    @action(detail=True, methods=["post"])
    def release(self, request, pk=None):
        task = actions.release_task(access_task(request.user, pk), actor=request.user)
        return Response(TaskSerializer(task).data)

    @extend_schema(request=CompleteTaskSerializer, responses=inline_serializer(
        "TaskCompleted", {"task": serializers.IntegerField(), "process": serializers.IntegerField(),
                          "process_status": serializers.CharField(),
                          "next_tasks": serializers.ListField(child=serializers.DictField())}))
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        task = access_task(request.user, pk)
        body, files = json_object(request)  # JSON, or multipart: {"data", "signature"} in `payload`, files beside
        payload = CompleteTaskSerializer(data=body)
        payload.is_valid(raise_exception=True)
        node = task.flow_task
        if not hasattr(node, "form_class"):
            raise Http404("Not a human task")
        form = node.make_form(data=payload.validated_data["data"], files=files, api=True,
                              activation=node.activation_class(task), user=request.user)
        actions.complete_step(task, actor=request.user, form=form,
                            signature_input=signature_input(payload.validated_data.get("signature")))
        process = Process.objects.get(pk=task.process_id)
        open_tasks = process.task_set.filter(status__in=["NEW", "ASSIGNED"]).order_by("pk")
        return Response({"task": task.pk, "process": process.pk, "process_status": process.status,
                         "next_tasks": [{"id": t.pk, "step": t.flow_task.name, "queue": t.owner_permission}
                                        for t in open_tasks]})


class ProcessViewSet(ViewSet):
    lookup_value_converter = "id"

    @extend_schema(responses=inline_serializer("ProcessDetail", {
        "id": serializers.IntegerField(), "flow": serializers.CharField(), "status": serializers.CharField(),
        "created": serializers.DateTimeField(), "finished": serializers.DateTimeField(allow_null=True),
        "data": serializers.DictField(), "records": serializers.ListField(child=serializers.CharField()),
        "tasks": serializers.ListField(child=serializers.DictField())}))
    def retrieve(self, request, pk=None):
        if not can_view_processes(request.user):
            raise Http404
        process = get_object_or_404(Process, pk=pk, flow_class__in=flows())
        tasks = process.task_set.select_related("owner").order_by("pk")
        return Response({
            "id": process.pk, "flow": process.flow_class.__name__, "status": process.status,
            "created": process.created, "finished": process.finished, "data": process.data,
            "records": _records_by_process([process.pk]).get(process.pk, []),
            "tasks": [{"id": t.pk, "step": t.flow_task.name, "status": t.status,
                       "owner": t.owner.username if t.owner else None, "queue": t.owner_permission,
                       "created": t.created, "finished": t.finished} for t in tasks],
        })


class RegistryPagination(PageNumberPagination):
    """The registry's pages (core.paging.RegistryPaginator): a page short of full gives the total without a COUNT;
    a search that finds more than 10,000 records past the page says so ("count" is then a lower bound and
    "count_is_exact" false) instead of counting them all; `?page=last` counts them all."""

    django_paginator_class = RegistryPaginator

    def get_paginated_response(self, data):
        return Response({"count": self.page.paginator.count, "count_is_exact": self.page.paginator.count_is_exact,
                         "next": self.get_next_link(), "previous": self.get_previous_link(), "results": data})

    def get_paginated_response_schema(self, schema):
        schema = super().get_paginated_response_schema(schema)
        schema["properties"]["count_is_exact"] = {
            "type": "boolean", "description": "false when the search found more records than it counted: "
                                              "`count` is then a lower bound (the next page is linked)"}
        schema["required"] = [*schema["required"], "count_is_exact"]
        return schema


class RecordViewSet(ViewSet):
    lookup_value_converter = "id"

    @property
    def pagination_class(self):
        """How each list action pages (the registry with its bounded count, the stored files as DRF does): the
        actions page by it, and drf-spectacular reads it for their schemas."""
        return RegistryPagination if getattr(self, "action", None) == "list" else PageNumberPagination

    @extend_schema(parameters=[
        OpenApiParameter("type", str), OpenApiParameter("customer", str), OpenApiParameter("q", str),
        OpenApiParameter("date_from", OpenApiTypes.DATE), OpenApiParameter("date_to", OpenApiTypes.DATE),
        OpenApiParameter("status", str), OpenApiParameter("number", str), OpenApiParameter("lot", str),
        OpenApiParameter("product", str), OpenApiParameter("signer", str),
        OpenApiParameter("sort", str, enum=["number", "-number", "created", "-created", "type", "-type",
                                            "status", "-status", "customer", "-customer"])],
        responses=s.RecordListSerializer(many=True))
    def list(self, request):
        qs = search_records(records_visible_to(request.user), params.registry_search(request.query_params))
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(s.RecordListSerializer(page, many=True).data)

    def _record(self, request, pk):
        record = records_visible_to(request.user).filter(pk=pk).first()
        if record is None:
            raise Http404("No such record")
        return record

    @extend_schema(responses=s.RecordDetailSerializer)
    def retrieve(self, request, pk=None):
        record = self._record(request, pk)
        record = Record.objects.prefetch_related("versions__signatures__record_version__record",
                                                 "versions__signatures__on_behalf_of",
                                                 "versions__files__rendered_by",
                                                 "versions__created_by").get(pk=record.pk)
        return Response(s.RecordDetailSerializer(record).data)

    @extend_schema(parameters=[OpenApiParameter("version", int), OpenApiParameter("kind", str, enum=["pdf", "pdfa"]),
                               OpenApiParameter("rendition", int, description="a given rendition of the file "
                                                "(1 is the first rendering); the newest when omitted")],
                   responses={(200, "application/pdf"): OpenApiTypes.BINARY, 202: OpenApiTypes.OBJECT})
    @action(detail=True, methods=["get"])
    def pdf(self, request, pk=None):
        record = self._record(request, pk)
        kind = params.choice(request.query_params, "kind", RecordFile.Kind.values) or RecordFile.Kind.PDF
        number = params.integer(request.query_params, "version", min_value=1, max_value=2**31 - 1)
        rendition = params.integer(request.query_params, "rendition", min_value=1, max_value=32767)
        number = number or record.current_version
        version = get_object_or_404(record.versions, version=number)
        files = version.files.filter(kind=kind).order_by("-rendition")
        file = files.filter(rendition=rendition).first() if rendition else files.first()
        if file is None and rendition and version.files.filter(kind=kind).exists():
            raise Http404("No such rendition")
        if file is None:
            record_pdf.queue_render(version)  # looked up per call: tests stub forms.pdf.queue_render
            return Response({"detail": "The PDF is being rendered; try again shortly.", "version": number},
                            status=status.HTTP_202_ACCEPTED, headers={"Retry-After": "5"})
        file.record_version = version
        with transaction.atomic():
            audit.log("record.downloaded", file, actor=request.user, record=record, new=download_entry(file))
        response = FileResponse(file.file.open("rb"), content_type="application/pdf")
        attach_filename(response, file.download_name)
        response["X-Content-SHA256"] = file.sha256
        return response

    @extend_schema(parameters=[OpenApiParameter("check", bool, description="read each newest file and say "
                                                "whether every viewer draws it (slower)")],
                   responses=s.StoredFileSerializer(many=True))
    @action(detail=True, methods=["get"])
    def files(self, request, pk=None):
        """Every file stored for the record's versions, oldest version first and each version's renditions in
        order: the first rendering and any corrected rendering added later (evidence.renditions)."""
        record = self._record(request, pk)
        # a destroyed record's files are deleted on purpose: listed with their SHA-256, never read
        check = params.boolean(request.query_params, "check") and not hasattr(record, "tombstone")
        files = (RecordFile.objects.filter(record_version__record=record)
                 .select_related("record_version__record", "rendered_by")
                 .order_by("record_version__version", "rendition", "kind"))
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(files, request, view=self)
        by_version = {}
        for file in page:
            by_version.setdefault(file.record_version_id, []).append(file)
        siblings = {}  # the page's versions' files, all of them (a page may end inside a version)
        for file in RecordFile.objects.filter(record_version_id__in=by_version).only("kind", "rendition",
                                                                                     "record_version_id"):
            siblings.setdefault(file.record_version_id, []).append(file)
        newest = {f.pk for rows in siblings.values() for f in RecordFile.newest(rows).values()}
        for file in page:
            file.newest = file.pk in newest
            file.check = None
            if check and file.newest:
                found = renditions.check_file(file)
                file.check = {"ok": found.ok, "misnumbered_faces": found.faces, "problem": found.problem}
        return paginator.get_paginated_response(s.StoredFileSerializer(page, many=True).data)

    @extend_schema(request=s.RenditionRequestSerializer, responses={201: s.FileSerializer(many=True)})
    @files.mapping.post
    def add_rendition(self, request, pk=None):
        """Add a corrected rendering of one version beside its stored files (Quality manager; a reason): only
        when the newest rendering embeds faces that Acrobat and Ghostscript misread (403 for anyone else, 409
        when there is nothing to correct)."""
        record = self._record(request, pk)
        payload = s.RenditionRequestSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        version = get_object_or_404(record.versions, version=payload.validated_data["version"])
        files = renditions.add_corrected_rendition(version, actor=request.user,
                                                   reason=payload.validated_data["reason"])
        return Response(s.FileSerializer(files, many=True).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses=OpenApiTypes.OBJECT)
    @action(detail=True, methods=["get"])
    def history(self, request, pk=None):
        """What the record page shows, as data: each version with its reason (as stored and in the
        reader's language) and who made it; the changes between consecutive versions, labelled with the
        record type's field labels and formatted, list items matched by their keys ("field" is where the
        value is in the record data: rounds[1].reviews[quality].comment); the process steps (who, when);
        the record's audit trail in sentences; and whether a signed value changed later (SIG-16)."""
        record = self._record(request, pk)
        versions = list(record.versions.select_related("created_by").prefetch_related("signatures"))
        entries = [] if hasattr(record, "tombstone") else diffs.history(versions, record.record_type)
        trail = record.audit_entries.select_related("actor", "on_behalf_of").order_by("seq")
        return Response({
            "number": record.number,
            "changed_after_first_signature": record.changed_after_first_signature(
                (v.version for v in versions if v.signatures.all()), versions=versions),
            "versions": [{"version": e.number, "content_hash": e.version.content_hash, "reason": e.version.reason,
                          "reason_text": e.reason, "created_by": e.by, "created_at": e.version.created_at,
                          "empty": e.created, "first_content": e.initial} for e in entries] or [
                {"version": v.version, "content_hash": v.content_hash, "reason": v.reason, "reason_text": v.reason,
                 "created_by": v.created_by.printed_name, "created_at": v.created_at, "empty": False,
                 "first_content": False} for v in versions],
            "diffs": [{"from": e.number - 1, "to": e.number, "changes": [c.as_dict() for c in e.changes]}
                      for e in entries if e.number > 1],
            "steps": [{"step": t.flow_task.name if t.flow_task else "",
                       "title": str(getattr(t.flow_task, "task_title", "") or ""), "status": t.status,
                       "owner": t.owner.printed_name if t.owner else "", "created": t.created, "finished": t.finished}
                      for t in process_steps(record)],
            "audit": [diffs.describe(entry, record.record_type).as_dict() for entry in trail],
        })

    @extend_schema(responses=s.AuditEntrySerializer(many=True))
    @action(detail=True, methods=["get"])
    def audit(self, request, pk=None):
        record = self._record(request, pk)
        entries = record.audit_entries.select_related("actor", "on_behalf_of", "record").order_by("seq")
        process_entries = []
        if record.process_id:
            process_entries = list(
                AuditEntry.objects.filter(process_id=record.process_id, record__isnull=True)
                .select_related("actor", "on_behalf_of").order_by("seq"))
        merged = sorted(list(entries) + process_entries, key=lambda e: e.seq)
        return Response(s.AuditEntrySerializer(merged, many=True).data)


# --- P2 complaints and returns ---------------------------------------------------------------------------
