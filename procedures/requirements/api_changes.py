"""P5 over the REST API, CR-5 and the links both ways: request a change of an approved
requirement (its review and approval then run through /api/tasks/ like every step), list a
requirement's changes, raise a CAPA (P3) or a document change (P4) from it and list what it
raised."""
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.http import Http404
from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from viewflow.workflow.models import Process

from core.access import records_visible_to
from core.errors import InvalidInput
from core.rest.base import APIView, json_object, reject_unknown
from forms.stepforms import form_errors
from workflows import actions as engine
from workflows.rest import STARTED, signature_input

from . import links
from .change_forms import RaiseForm
from .flows import RequirementChangeFlow
from .models import CHANGEABLE_FIELDS, CustomerRequirement, RaisedKind
from .records import _change


def _requirement(request, number):
    req = (CustomerRequirement.objects.filter(record__in=records_visible_to(request.user), record__number=number)
           .select_related("record", "customer").first())
    if req is None:
        raise Http404("No such customer requirement")
    return req


NUMBER = OpenApiParameter("number", str, OpenApiParameter.PATH, description="record number, e.g. CR-2026-0001")


class RequirementChangesView(APIView):
    """GET: the changes of a requirement, newest first. POST: request a change (CR-5)."""

    node = RequirementChangeFlow.start

    @extend_schema(operation_id="requirement_changes_list", summary="The changes of a customer requirement (CR-5)",
                   parameters=[NUMBER, OpenApiParameter("page", OpenApiTypes.INT)], responses=OpenApiTypes.OBJECT)
    def get(self, request, number):
        req = _requirement(request, number)
        changes = req.changes.select_related("requested_by", "decided_by", "requirement__record").order_by("-number")
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(changes, request, view=self)
        return paginator.get_paginated_response([{**_change(c), "process": _process_of(c)} for c in page])

    @extend_schema(
        operation_id="requirement_changes_create", summary="Request a change of an approved requirement (CR-5)",
        parameters=[NUMBER],
        request=inline_serializer("RequirementChangeRequest", {
            "reason": serializers.CharField(),
            **{name: serializers.JSONField(required=False) for name in CHANGEABLE_FIELDS},
            "signature": serializers.DictField(help_text="password and meaning 'authored'"),
        }),
        responses={201: STARTED})
    def post(self, request, number):
        req = _requirement(request, number)
        data, files = json_object(request, allow_multipart=False)
        if "requirement" in data:
            raise InvalidInput(_("The requirement is the one in the address."),
                               field_errors={"requirement": [_("Not allowed here.")]})
        signature = signature_input(data.pop("signature", None))
        if isinstance(data.get("changes_product_or_process"), bool):
            data["changes_product_or_process"] = "yes" if data["changes_product_or_process"] else "no"
        form = self.node.make_form(data={**data, "requirement": req.record.number}, files=files, api=True,
                                   user=request.user)
        process = engine.start_process(self.node, actor=request.user, form=form, signature_input=signature)
        change = req.changes.order_by("-number").first()
        return Response({"process": process.pk, "record": req.record.number, "change": change.number},
                        status=status.HTTP_201_CREATED)


def _process_of(change):
    ct = ContentType.objects.get_for_model(change)
    return Process.objects.filter(artifact_content_type=ct, artifact_object_id=change.pk).values_list(
        "pk", flat=True).first()


def _raised(row):
    return {"kind": row.kind, "kind_label": str(row.get_kind_display()), "number": row.record.number,
            "record_type": row.record.record_type, "reason": row.reason, "raised_by": row.raised_by.username,
            "raised_at": row.raised_at}


class RequirementRaiseView(APIView):
    """GET: what the requirement raised. POST: raise a CAPA (Quality) or a document change
    (Market or Quality) from it, linked both ways."""

    @extend_schema(operation_id="requirement_raised_list", summary="CAPAs and document changes raised (CR-4)",
                   parameters=[NUMBER, OpenApiParameter("page", OpenApiTypes.INT)], responses=OpenApiTypes.OBJECT)
    def get(self, request, number):
        req = _requirement(request, number)
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(req.raised.select_related("record", "raised_by").order_by("id"), request,
                                           view=self)
        return paginator.get_paginated_response([_raised(r) for r in page])

    @extend_schema(operation_id="requirement_raise", summary="Raise a CAPA or a document change from a requirement",
                   parameters=[NUMBER],
                   request=inline_serializer("RequirementRaise", {
                       "kind": serializers.ChoiceField(choices=RaisedKind.values),
                       "document": serializers.CharField(required=False, help_text="document number (document_change)"),
                       "reason": serializers.CharField()}),
                   responses=OpenApiTypes.OBJECT)
    def post(self, request, number):
        req = _requirement(request, number)
        data, _files = json_object(request, allow_multipart=False)
        reject_unknown(data, {"kind", "document", "reason"})
        form = RaiseForm(data={k: v for k, v in data.items() if isinstance(v, str)})
        if not form.is_valid():
            raise InvalidInput(_("The request is incomplete."), field_errors=form_errors(form))
        with transaction.atomic():
            row = links.raise_from(req, actor=request.user, kind=form.cleaned_data["kind"],
                                   reason=form.cleaned_data["reason"], document_number=form.cleaned_data["document"])
        return Response(_raised(row), status=status.HTTP_201_CREATED)


urlpatterns = [
    path("requirements/<str:number>/changes/", RequirementChangesView.as_view(), name="api-requirement-changes"),
    path("requirements/<str:number>/raise/", RequirementRaiseView.as_view(), name="api-requirement-raise"),
]
