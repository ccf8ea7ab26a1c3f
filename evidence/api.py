"""REST API for evidence bundles (request by ids or by a registry search, progress, download) and for
auditor access (/api/auditor-grants/: list, grant, change the window or scope, revoke, end the role —
administrators only, through evidence.grants) and for stored files that no record names (/api/stray-files/: look,
list, remove — administrators only, through evidence.stray_sweeps)."""
import hashlib

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from core.rest import params
from core.rest.base import ViewSet, json_object
from core.rest.serializers import StrictMixin, paged
from core import audit
from core.access import can_view_records, records_visible_to
from core.downloads import attach_filename
from core.search import FILTERS, search_records

from . import bundles, grant_rules, grants, signing, stray_sweeps
from .access import can_manage_grants
from .models import AuditorGrant, EvidenceBundle, StraySweep


class BundleSerializer(serializers.ModelSerializer):
    records = serializers.SerializerMethodField()
    download = serializers.SerializerMethodField()

    class Meta:
        model = EvidenceBundle
        fields = ["id", "created_at", "status", "percent", "records", "sha256", "size", "manifest_sha256",
                  "error", "finished_at", "download"]

    def get_records(self, obj) -> int:
        return len(obj.record_ids)

    def get_download(self, obj) -> str:
        return f"/api/evidence/bundles/{obj.pk}/download/" if obj.status == EvidenceBundle.Status.DONE else ""


class BundleRequestSerializer(StrictMixin, serializers.Serializer):
    records = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=2**31 - 1),
                                    required=False, max_length=10000)
    search = serializers.DictField(child=serializers.CharField(allow_blank=True, max_length=200), required=False,
                                   help_text="the records registry's filters, as GET /api/records/ takes them")
    title = serializers.CharField(required=False, allow_blank=True, max_length=200)

    def validate_search(self, search):
        unknown = sorted(set(search) - set(FILTERS) - {"sort"})
        if unknown:
            raise serializers.ValidationError({name: [_("Unknown filter: %(name)s.") % {"name": name}]
                                               for name in unknown})
        return params.registry_search(search)

    def validate(self, attrs):
        if not attrs.get("records") and not (self.initial_data.get("search") and "search" in attrs):
            raise serializers.ValidationError(_("Give `records` (ids) or `search` (registry filters)."))
        return attrs


class EvidenceBundleViewSet(ViewSet):
    lookup_value_converter = "id"

    def _check(self, request):
        if not can_view_records(request.user):
            raise PermissionDenied("Records are open to department members and auditors.")

    def _bundles(self, request):
        qs = EvidenceBundle.objects.all()
        return qs if request.user.is_superuser else qs.filter(created_by=request.user)

    @extend_schema(parameters=[OpenApiParameter("page", OpenApiTypes.INT)],
                   responses=paged("PagedEvidenceBundles", BundleSerializer))
    def list(self, request):
        """Your evidence bundles (everybody's for an administrator), newest first, a page at a time."""
        self._check(request)
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(self._bundles(request).order_by("-created_at", "-pk"), request, view=self)
        return paginator.get_paginated_response(BundleSerializer(page, many=True).data)

    @extend_schema(request=BundleRequestSerializer, responses={202: BundleSerializer})
    def create(self, request):
        self._check(request)
        payload = BundleRequestSerializer(data=json_object(request, allow_multipart=False)[0])
        payload.is_valid(raise_exception=True)
        visible = records_visible_to(request.user)
        if payload.validated_data.get("records"):
            records, query = visible.filter(pk__in=payload.validated_data["records"]), {
                "selected": len(payload.validated_data["records"])}
        else:
            query = {k: v for k, v in payload.validated_data["search"].items() if k in FILTERS or k == "sort"}
            records = search_records(visible, query)
        bundle = bundles.request_bundle(actor=request.user, records=records, query=query,
                                        title=payload.validated_data.get("title", ""))
        bundle.refresh_from_db()
        return Response(BundleSerializer(bundle).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses=BundleSerializer)
    def retrieve(self, request, pk=None):
        self._check(request)
        bundle = self._bundles(request).filter(pk=pk).first()
        if bundle is None:
            raise Http404
        return Response(BundleSerializer(bundle).data)

    @extend_schema(responses={(200, "application/zip"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        self._check(request)
        bundle = self._bundles(request).filter(pk=pk, status=EvidenceBundle.Status.DONE).first()
        if bundle is None:
            raise Http404
        with transaction.atomic():
            audit.log("evidence.bundle_downloaded", bundle, actor=request.user,
                      new={"sha256": bundle.sha256, "size": bundle.size})
        response = FileResponse(open(bundle.file_path, "rb"), content_type="application/zip")
        attach_filename(response, bundle.filename, attachment=True)
        response["X-Content-SHA256"] = bundle.sha256
        return response

    @extend_schema(responses=inline_serializer("PublicKey", {"pem": serializers.CharField(),
                                                             "sha256": serializers.CharField()}))
    @action(detail=False, methods=["get"], url_path="public-key")
    def public_key(self, request):
        pem = signing.public_key_pem()
        return Response({"pem": pem.decode(), "sha256": hashlib.sha256(pem).hexdigest()})


# --- auditor access ---------------------------------------------------------------------------------------------


class RecordTypeSerializer(serializers.Serializer):
    code = serializers.CharField()
    title = serializers.CharField()


class GrantSerializer(serializers.ModelSerializer):
    user = serializers.CharField(source="user.username")
    user_name = serializers.CharField(source="user.printed_name")
    granted_by = serializers.CharField(source="granted_by.username")
    record_types = serializers.SerializerMethodField()
    status = serializers.SerializerMethodField()
    status_label = serializers.SerializerMethodField()

    class Meta:
        model = AuditorGrant
        fields = ["id", "user", "user_name", "valid_from", "valid_until", "record_types", "date_from", "date_to",
                  "reason", "granted_by", "created_at", "revoked_at", "role_ended_at", "status", "status_label"]


    def get_record_types(self, obj) -> list[dict]:
        return [{"code": code, "title": str(grant_rules.record_type_title(code))} for code in obj.record_types]

    def get_status(self, obj) -> str:
        return obj.status(self.context.get("now")).value

    def get_status_label(self, obj) -> str:
        return str(obj.status(self.context.get("now")).label)


def _check_record_types(codes):
    unknown = grant_rules.unknown_record_types(codes)
    if unknown:
        raise serializers.ValidationError(grant_rules.unknown_record_types_message(unknown))
    return list(dict.fromkeys(codes))


class GrantScopeSerializer(StrictMixin, serializers.Serializer):
    valid_from = serializers.DateTimeField(required=False)
    valid_until = serializers.DateTimeField(required=False, allow_null=True, help_text="null: until revoked")
    record_types = serializers.ListField(child=serializers.CharField(max_length=40), required=False, max_length=100,
                                         help_text="codes of registered record types "
                                                   "(GET /api/auditor-grants/record-types/); empty: every type")
    date_from = serializers.DateField(required=False, allow_null=True)
    date_to = serializers.DateField(required=False, allow_null=True)
    reason = serializers.CharField(max_length=2000, help_text="goes into the audit trail")

    def validate_record_types(self, codes):
        return _check_record_types(codes)

    def window(self, attrs, grant=None):
        """Check the window and the date range as they will be once `attrs` is applied to `grant`."""
        def value(field):
            return attrs[field] if field in attrs else getattr(grant, field, None)

        errors = grant_rules.window_errors(value("valid_from") or timezone.now(), value("valid_until"),
                                           value("date_from"), value("date_to"))
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class GrantCreateSerializer(GrantScopeSerializer):
    user = serializers.CharField(max_length=150, help_text="the username of an account without a department "
                                                           "membership")

    def validate_user(self, username):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise serializers.ValidationError(_("No such user: %(name)s.") % {"name": username})
        problem = grant_rules.grantee_problem(user)
        if problem:
            raise serializers.ValidationError(problem)
        return user

    def validate(self, attrs):
        return self.window(attrs)


class GrantChangeSerializer(GrantScopeSerializer):
    def validate(self, attrs):
        if not set(attrs) - {"reason"}:
            raise serializers.ValidationError(
                _("Give at least one of: %(fields)s.") % {"fields": ", ".join(grants.SCOPE_FIELDS)})
        return self.window(attrs, self.context["grant"])


class ReasonSerializer(StrictMixin, serializers.Serializer):
    reason = serializers.CharField(max_length=2000, help_text="goes into the audit trail")


class AuditorGrantViewSet(ViewSet):
    """Auditor access, for administrators: every write goes through evidence.grants and is audited."""

    lookup_value_converter = "id"

    def _check(self, request):
        if not can_manage_grants(request.user):
            raise PermissionDenied(_("Only an administrator manages auditor access."))

    def _grant(self, pk):
        return get_object_or_404(AuditorGrant.objects.select_related("user", "granted_by"), pk=pk)

    def _answer(self, grant, status_code=status.HTTP_200_OK):
        grant = self._grant(grant.pk)
        return Response(GrantSerializer(grant, context={"now": timezone.now()}).data, status=status_code)

    @extend_schema(parameters=[OpenApiParameter("user", str, description="username"),
                               OpenApiParameter("status", str, enum=["scheduled", "active", "expired", "revoked",
                                                                     "role_ended"]),
                               OpenApiParameter("page", OpenApiTypes.INT)],
                   responses=paged("PagedAuditorGrants", GrantSerializer))
    def list(self, request):
        self._check(request)
        qs = AuditorGrant.objects.select_related("user", "granted_by").order_by("-created_at", "-pk")
        params = request.query_params
        if params.get("user"):
            qs = qs.filter(user__username=params["user"])
        wanted = params.get("status")
        if wanted:
            now = timezone.now()
            live = Q(role_ended_at__isnull=True, revoked_at__isnull=True)
            filters = {
                "role_ended": Q(role_ended_at__isnull=False),
                "revoked": Q(role_ended_at__isnull=True, revoked_at__isnull=False),
                "expired": live & Q(valid_until__lte=now),
                "scheduled": live & Q(valid_from__gt=now) & (Q(valid_until__isnull=True) | Q(valid_until__gt=now)),
                "active": live & Q(valid_from__lte=now) & (Q(valid_until__isnull=True) | Q(valid_until__gt=now)),
            }
            if wanted not in filters:
                raise serializers.ValidationError({"status": [_("Unknown status: %(value)s.") % {"value": wanted}]})
            qs = qs.filter(filters[wanted])
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(GrantSerializer(page, many=True, context={"now": timezone.now()}).data)

    @extend_schema(request=GrantCreateSerializer, responses={201: GrantSerializer})
    def create(self, request):
        self._check(request)
        payload = GrantCreateSerializer(data=json_object(request, allow_multipart=False)[0])
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        user, reason = data.pop("user"), data.pop("reason")
        grant = grants.grant_auditor_access(user, granted_by=request.user, reason=reason, **data)
        return self._answer(grant, status.HTTP_201_CREATED)

    @extend_schema(responses=GrantSerializer)
    def retrieve(self, request, pk=None):
        self._check(request)
        return self._answer(self._grant(pk))

    @extend_schema(request=GrantChangeSerializer, responses=GrantSerializer)
    def partial_update(self, request, pk=None):
        self._check(request)
        grant = self._grant(pk)
        payload = GrantChangeSerializer(data=json_object(request, allow_multipart=False)[0], context={"grant": grant})
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        reason = data.pop("reason")
        if "valid_from" in data and data["valid_from"] is None:
            data.pop("valid_from")
        grant = grants.change_auditor_access(grant, changed_by=request.user, reason=reason, **data)
        return self._answer(grant)

    @extend_schema(request=ReasonSerializer, responses=GrantSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        self._check(request)
        grant = self._grant(pk)
        payload = ReasonSerializer(data=json_object(request, allow_multipart=False)[0])
        payload.is_valid(raise_exception=True)
        grant = grants.revoke_auditor_access(grant, revoked_by=request.user, reason=payload.validated_data["reason"])
        return self._answer(grant)

    @extend_schema(request=ReasonSerializer, responses=GrantSerializer,
                   summary="End the auditor role of the grant's user (every grant of theirs is revoked)")
    @action(detail=True, methods=["post"], url_path="end-role")
    def end_role(self, request, pk=None):
        self._check(request)
        grant = self._grant(pk)
        payload = ReasonSerializer(data=json_object(request, allow_multipart=False)[0])
        payload.is_valid(raise_exception=True)
        grants.end_auditor_role(grant.user, actor=request.user, reason=payload.validated_data["reason"])
        return self._answer(grant)

    @extend_schema(responses=RecordTypeSerializer(many=True))
    @action(detail=False, methods=["get"], url_path="record-types")
    def record_types(self, request):
        """The record types a grant may name, with their titles in the request's language."""
        self._check(request)
        return Response([{"code": code, "title": str(title)} for code, title in grant_rules.record_type_choices()])


# --- stored files that no record names (administrators; evidence.stray_sweeps) ------------------------------------


class SweepSerializer(serializers.ModelSerializer):
    requested_by = serializers.CharField(source="requested_by.username", default=None)
    counts = serializers.SerializerMethodField()
    files = serializers.SerializerMethodField()

    class Meta:
        model = StraySweep
        fields = ["id", "origin", "requested_by", "created_at", "started_at", "finished_at", "status", "error",
                  "counts", "files"]

    @extend_schema_field(inline_serializer("SweepCounts", {"removable": serializers.IntegerField(),
                                                           "kept": serializers.IntegerField(),
                                                           "removed": serializers.IntegerField()}))
    def get_counts(self, obj):
        return stray_sweeps.counts(obj)

    def get_files(self, obj) -> str:
        return f"/api/stray-files/{obj.pk}/files/"


class StrayFileSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="the storage name")
    size = serializers.IntegerField()
    modified = serializers.DateTimeField(help_text="when it was written")
    sha256 = serializers.CharField()
    state = serializers.ChoiceField(choices=stray_sweeps.STATES)
    kept = serializers.CharField(allow_null=True, help_text="named | quiet: kept as evidence, never removed")
    kept_because = serializers.CharField(help_text="why it is kept, in the request's language")
    detail = serializers.DictField(help_text="what keeps it: {entry, action}, {version_id, version, record} or "
                                             "{hours}")
    removed = serializers.DictField(allow_null=True, help_text="{at, by, entry}: the audit entry of its removal")


class RemoveFilesSerializer(StrictMixin, serializers.Serializer):
    files = serializers.ListField(child=serializers.CharField(max_length=500), max_length=stray_sweeps.SELECT_AT_MOST,
                                  help_text="storage names of files this look lists as removable")
    reason = serializers.CharField(max_length=2000, help_text="goes into each removal's audit entry")
    password = serializers.CharField(max_length=500, help_text="yours, re-entered: checked and counted as for a "
                                                               "signature")
    username = serializers.CharField(max_length=150, required=False,
                                     help_text="your user ID, where the first signature of a session needs it")


class StrayFilesViewSet(ViewSet):
    """Stored files that no record names (administrators): each look at the storage, what it found, and removal of
    the files left by a write that was cut off — each with an audit entry; a file kept as evidence never goes."""

    lookup_value_converter = "id"

    def _check(self, request):
        if not stray_sweeps.can_manage(request.user):
            raise PermissionDenied(_("Only an administrator looks at and removes stored files that no record names."))

    @extend_schema(parameters=[OpenApiParameter("page", OpenApiTypes.INT)],
                   responses=paged("PagedStraySweeps", SweepSerializer))
    def list(self, request):
        """The looks at the storage, newest first (asked for and nightly), a page at a time."""
        self._check(request)
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(StraySweep.objects.select_related("requested_by")
                                           .order_by("-created_at", "-pk"), request, view=self)
        return paginator.get_paginated_response(SweepSerializer(page, many=True).data)

    @extend_schema(request=None, responses={202: SweepSerializer})
    def create(self, request):
        """Look through the storage now (a Celery job; audited). While a look is under way, it is the answer."""
        self._check(request)
        sweep = stray_sweeps.request_sweep(actor=request.user)
        sweep.refresh_from_db()
        return Response(SweepSerializer(sweep).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses=SweepSerializer)
    def retrieve(self, request, pk=None):
        self._check(request)
        return Response(SweepSerializer(get_object_or_404(StraySweep, pk=pk)).data)

    @extend_schema(responses=SweepSerializer)
    @action(detail=False, methods=["get"])
    def latest(self, request):
        """The newest finished look: what the stored-files page shows (404 before the first)."""
        self._check(request)
        sweep = stray_sweeps.latest()
        if sweep is None:
            raise Http404
        return Response(SweepSerializer(sweep).data)

    @extend_schema(parameters=[OpenApiParameter("state", str, enum=stray_sweeps.STATES),
                               OpenApiParameter("page", OpenApiTypes.INT)],
                   responses=paged("PagedStrayFiles", StrayFileSerializer))
    @action(detail=True, methods=["get"])
    def files(self, request, pk=None):
        """The files a look found, in name order, a page at a time; `state` keeps one kind."""
        self._check(request)
        sweep = get_object_or_404(StraySweep, pk=pk)
        state = request.query_params.get("state")
        if state and state not in stray_sweeps.STATES:
            raise serializers.ValidationError({"state": [_("Unknown state: %(value)s.") % {"value": state}]})
        rows = [row for row in sweep.files if not state or stray_sweeps.state(row) == state]
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(rows, request, view=self)
        because = stray_sweeps.explain_rows(page)
        return paginator.get_paginated_response([
            {**{key: row.get(key) for key in ("name", "size", "modified", "sha256", "kept", "removed")},
             "state": stray_sweeps.state(row), "detail": row.get("detail") or {},
             "kept_because": because.get(row["name"], "")} for row in page])

    @extend_schema(request=RemoveFilesSerializer, responses=inline_serializer("StrayFilesRemoved", {
        "removed": inline_serializer("StrayFileRemoved", {"file": serializers.CharField(),
                                                          "entry": serializers.IntegerField()}, many=True),
        "refused": inline_serializer("StrayFileRefused", {"file": serializers.CharField(),
                                                          "reason": serializers.CharField()}, many=True)}))
    @action(detail=True, methods=["post"])
    def remove(self, request, pk=None):
        """Remove files this look lists as removable: your password and a reason; each file is checked once more
        and removed with an audit entry of its own, or refused with the reason (kept as evidence, named by a row
        now, changed since the look)."""
        self._check(request)
        sweep = get_object_or_404(StraySweep, pk=pk, status=StraySweep.Status.DONE)
        payload = RemoveFilesSerializer(data=json_object(request, allow_multipart=False)[0])
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        results = stray_sweeps.remove_files(sweep, data["files"], actor=request.user, password=data["password"],
                                            reason=data["reason"], username=data.get("username"))
        return Response({"removed": [{"file": name, "entry": entry.seq} for name, entry, _r in results if entry],
                         "refused": [{"file": name, "reason": why} for name, entry, why in results if not entry]})


router = SimpleRouter(use_regex_path=False)
router.register("evidence/bundles", EvidenceBundleViewSet, basename="evidence-bundle")
router.register("auditor-grants", AuditorGrantViewSet, basename="auditor-grant")
router.register("stray-files", StrayFilesViewSet, basename="stray-files")
urlpatterns = router.urls
