"""REST API for evidence bundles: request (by ids or by a registry search), progress, download."""
import hashlib

from django.db import transaction
from django.http import FileResponse, Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from core.rest import params
from core.rest.base import ViewSet, json_object
from core.rest.serializers import StrictMixin
from core import audit
from core.access import can_view_records, records_visible_to
from core.downloads import attach_filename
from core.search import FILTERS, search_records

from . import bundles, signing
from .models import EvidenceBundle


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

    @extend_schema(responses=BundleSerializer(many=True))
    def list(self, request):
        self._check(request)
        return Response(BundleSerializer(self._bundles(request)[:100], many=True).data)

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


router = SimpleRouter(use_regex_path=False)
router.register("evidence/bundles", EvidenceBundleViewSet, basename="evidence-bundle")
urlpatterns = router.urls
