"""The KANO study over the REST API (KANO-1…3): list and create studies, read one with its
result, define the features, open it, enter one respondent's answers, import a CSV/XLSX file,
issue and withdraw one-time links, close it with the Market manager's signature. Every write
is one action of procedures.requirements.kano. (The respondents of a link answer in the
browser, at /answer/kano/<token>/, without an account.)"""
from django.db import transaction
from django.http import Http404
from django.urls import path, reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

from core.access import can_view_records, records_visible_to
from core.errors import InvalidInput
from core.rest import params
from core.rest.base import APIView, json_object, reject_unknown
from forms import links as link_rules
from forms import uploads
from forms.models import Customer, Product
from forms.stepforms import position_pairs

from . import kano
from .models import CustomerRequirement, KanoAnswer, KanoStudy, KanoStudyStatus
from .records import kano_snapshot

NUMBER = OpenApiParameter("number", str, OpenApiParameter.PATH, description="record number, e.g. KS-2026-0001")
FEATURE = inline_serializer("KanoFeatureInput", {
    "name": serializers.CharField(), "functional_question": serializers.CharField(),
    "dysfunctional_question": serializers.CharField(),
    "requirement": serializers.CharField(required=False, help_text="customer requirement number, e.g. CR-2026-0001"),
})
ANSWER = inline_serializer("KanoAnswerInput", {
    "feature": serializers.IntegerField(help_text="the feature's position (1, 2, …)"),
    "functional": serializers.ChoiceField(choices=KanoAnswer.values),
    "dysfunctional": serializers.ChoiceField(choices=KanoAnswer.values),
})


def visible_studies(user):
    return KanoStudy.objects.filter(record__in=records_visible_to(user)).select_related("record", "product")


def study_or_404(user, number):
    study = visible_studies(user).filter(record__number=number).first()
    if study is None:
        raise Http404("No such KANO study")
    return study


def public_url(request, token):
    return request.build_absolute_uri(reverse("kano-answer", args=[token]))


def summary(study):
    return {"number": study.record.number, "title": study.title, "product": study.product_text,
            "status": study.status, "status_label": str(study.get_status_display()),
            "created_at": study.created_at, "closed_at": study.closed_at}


def link_data(link):
    return {"id": link.pk, "label": link.label, "customer_code": link.customer.code if link.customer_id else "",
            "created_at": link.created_at, "expires_at": link.expires_at, "used_at": link.used_at,
            "revoked_at": link.revoked_at, "state": link_rules.state_of(link)}


def _customer(code, errors, field="customer"):
    if code in (None, ""):
        return None
    customer = Customer.objects.filter(code=str(code)).first() if isinstance(code, str) else None
    if customer is None:
        errors[field] = [f"Unknown customer: {code!r}"]
    return customer


def _features(value, errors):
    """The API's features (requirement numbers) → the action's (CustomerRequirement objects)."""
    if not isinstance(value, list):
        return value
    out = []
    for n, item in enumerate(value, start=1):
        if isinstance(item, dict):
            reject_unknown(item, {"name", "functional_question", "dysfunctional_question", "requirement"},
                           prefix=f"features.{n}.")
            item = dict(item)
            number = item.get("requirement")
            if number not in (None, ""):
                req = CustomerRequirement.objects.filter(record__number=str(number)).first()
                if req is None:
                    errors[f"features.{n}.requirement"] = [f"Unknown customer requirement: {number!r}"]
                item["requirement"] = req
            else:
                item["requirement"] = None
        out.append(item)
    return out


def _raise(errors):
    if errors:
        raise InvalidInput("Please correct the errors.", field_errors=errors)


class StudyListView(APIView):
    @extend_schema(operation_id="kano_studies_list", summary="The KANO studies (KANO-1…3), newest first",
                   parameters=[OpenApiParameter("status", str, enum=KanoStudyStatus.values),
                               OpenApiParameter("page", OpenApiTypes.INT)], responses=OpenApiTypes.OBJECT)
    def get(self, request):
        if not can_view_records(request.user):
            raise PermissionDenied()
        state = params.choice(request.query_params, "status", KanoStudyStatus.values)
        studies = visible_studies(request.user)
        if state:
            studies = studies.filter(status=state)
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(studies.order_by("-pk"), request, view=self)
        return paginator.get_paginated_response([summary(s) for s in page])

    @extend_schema(operation_id="kano_studies_create", summary="Create a KANO study (Market)",
                   request=inline_serializer("KanoStudyCreate", {
                       "title": serializers.CharField(), "purpose": serializers.CharField(required=False),
                       "product": serializers.CharField(required=False, help_text="product code"),
                       "product_text": serializers.CharField(required=False),
                       "features": FEATURE.__class__(many=True, required=False)}),
                   responses={201: OpenApiTypes.OBJECT})
    def post(self, request):
        data, _files = json_object(request, allow_multipart=False)
        reject_unknown(data, {"title", "purpose", "product", "product_text", "features"})
        errors = {}
        product = None
        if data.get("product") not in (None, ""):
            product = Product.objects.filter(code=str(data["product"])).first()
            if product is None:
                errors["product"] = [f"Unknown product: {data['product']!r}"]
        features = _features(data.get("features"), errors)
        _raise(errors)
        with transaction.atomic():
            study = kano.create_study(actor=request.user, data={**data, "product": product, "features": features})
        return Response(detail(study), status=201)


def detail(study):
    form = kano_snapshot(study)
    return {**summary(study), "purpose": study.purpose, "features": form["features"],
            "respondent_count": form["respondent_count"], "respondents": form["respondents"],
            "import_layout": kano.import_layout(study)}


class StudyDetailView(APIView):
    @extend_schema(operation_id="kano_studies_retrieve", parameters=[NUMBER], responses=OpenApiTypes.OBJECT,
                   summary="One KANO study: features, per-feature counts A/O/M/I/R/Q, category, Better, Worse")
    def get(self, request, number):
        return Response(detail(study_or_404(request.user, number)))


class FeaturesView(APIView):
    @extend_schema(operation_id="kano_studies_features_update", parameters=[NUMBER],
                   summary="Define the features and their paired questions (draft only)",
                   request=inline_serializer("KanoFeaturesSet", {"features": FEATURE.__class__(many=True)}),
                   responses=OpenApiTypes.OBJECT)
    def put(self, request, number):
        study = study_or_404(request.user, number)
        data, _files = json_object(request, allow_multipart=False)
        reject_unknown(data, {"features"})
        errors = {}
        features = _features(data.get("features"), errors)
        _raise(errors)
        with transaction.atomic():
            kano.set_features(study, actor=request.user, data={"features": features})
        study.refresh_from_db()
        return Response(detail(study))


class OpenView(APIView):
    @extend_schema(operation_id="kano_studies_open", parameters=[NUMBER], request=None,
                   summary="Open the study for answers", responses=OpenApiTypes.OBJECT)
    def post(self, request, number):
        study = study_or_404(request.user, number)
        data, _files = json_object(request, allow_multipart=False)
        reject_unknown(data, set())
        with transaction.atomic():
            study = kano.open_study(study, actor=request.user)
        return Response(detail(study))


class AnswersView(APIView):
    @extend_schema(operation_id="kano_studies_answers_create", parameters=[NUMBER],
                   summary="Enter one respondent's answers (Market, from an interview)",
                   request=inline_serializer("KanoAnswersEnter", {
                       "respondent": serializers.CharField(),
                       "customer": serializers.CharField(required=False, help_text="customer code"),
                       "answers": ANSWER.__class__(many=True)}),
                   responses={201: OpenApiTypes.OBJECT})
    def post(self, request, number):
        study = study_or_404(request.user, number)
        data, _files = json_object(request, allow_multipart=False)
        reject_unknown(data, {"respondent", "customer", "answers"})
        errors = {}
        customer = _customer(data.get("customer"), errors)
        answers = position_pairs(data.get("answers"), errors, field="answers", key="feature", first="functional",
                                 second="dysfunctional", repeated="This feature is answered twice.")
        _raise(errors)
        with transaction.atomic():
            respondent = kano.enter_answers(study, actor=request.user, data={
                "respondent": data.get("respondent"), "customer": customer, "answers": answers})
        return Response({"respondent": respondent.pk, "name": respondent.name}, status=201)


class ImportView(APIView):
    @extend_schema(operation_id="kano_studies_import", parameters=[NUMBER],
                   summary="Import questionnaires from a CSV or XLSX file",
                   description="multipart `file`. Layout (first row a header): respondent, customer code (may be "
                               "empty), then per feature in order its functional and dysfunctional answer. Answers "
                               "as codes (like, must_be, neutral, live_with, dislike) or the Chinese or English "
                               "labels. Any bad row: 400 naming each row and column; nothing is saved.",
                   request={"multipart/form-data": inline_serializer("KanoImport", {"file": serializers.FileField()})},
                   responses={201: OpenApiTypes.OBJECT})
    def post(self, request, number):
        study = study_or_404(request.user, number)
        return uploads.import_api_file(request, lambda name, content: kano.import_answers(
            study, actor=request.user, name=name, content=content))


class LinksView(APIView):
    @extend_schema(operation_id="kano_studies_links_list", parameters=[NUMBER, OpenApiParameter("page", int)],
                   summary="The one-time links issued for the study", responses=OpenApiTypes.OBJECT)
    def get(self, request, number):
        study = study_or_404(request.user, number)
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(kano.links_of(study).order_by("-pk"), request, view=self)
        return paginator.get_paginated_response([link_data(link) for link in page])

    @extend_schema(operation_id="kano_studies_links_create", parameters=[NUMBER],
                   summary="Issue a one-time link to a respondent (the token is shown once)",
                   request=inline_serializer("KanoLinkIssue", {
                       "label": serializers.CharField(help_text="who the link is for"),
                       "customer": serializers.CharField(required=False, help_text="customer code"),
                       "days_valid": serializers.IntegerField(required=False, default=14, min_value=1, max_value=90)}),
                   responses={201: OpenApiTypes.OBJECT})
    def post(self, request, number):
        study = study_or_404(request.user, number)
        data, _files = json_object(request, allow_multipart=False)
        reject_unknown(data, {"label", "customer", "days_valid"})
        errors = {}
        customer = _customer(data.get("customer"), errors)
        _raise(errors)
        with transaction.atomic():
            link, token = kano.issue_link(study, actor=request.user, label=data.get("label") or "",
                                          customer=customer, days_valid=data.get("days_valid", 14))
        return Response({**link_data(link), "token": token, "url": public_url(request, token)}, status=201)


class RevokeLinkView(APIView):
    @extend_schema(operation_id="kano_studies_links_revoke", parameters=[NUMBER, OpenApiParameter(
        "link", int, OpenApiParameter.PATH)], summary="Withdraw a link not used yet",
        request=inline_serializer("KanoLinkRevoke", {"reason": serializers.CharField(required=False)}),
        responses=OpenApiTypes.OBJECT)
    def post(self, request, number, link):
        study = study_or_404(request.user, number)
        data, _files = json_object(request, allow_multipart=False)
        reject_unknown(data, {"reason"})
        row = kano.links_of(study).filter(pk=link).first()
        if row is None:
            raise Http404("No such link")
        with transaction.atomic():
            kano.revoke_link(study, row, actor=request.user, reason=str(data.get("reason") or ""))
        row.refresh_from_db()
        return Response(link_data(row))


class CloseView(APIView):
    @extend_schema(operation_id="kano_studies_close", parameters=[NUMBER],
                   summary="Close the study: compute and sign the result (Market manager; password re-entered)",
                   request=inline_serializer("KanoClose", {
                       "username": serializers.CharField(help_text="your user ID (21 CFR 11.200)"),
                       "password": serializers.CharField(), "reason": serializers.CharField(required=False)}),
                   responses=OpenApiTypes.OBJECT)
    def post(self, request, number):
        study = study_or_404(request.user, number)
        data, _files = json_object(request, allow_multipart=False)
        reject_unknown(data, {"username", "password", "reason"})
        if not kano.may_close(request.user):
            raise PermissionDenied("Only the Market manager closes a KANO study.")
        if study.status != KanoStudyStatus.COLLECTING:
            from core.errors import WrongState  # noqa: PLC0415

            raise WrongState("The study is not collecting answers.", current_state=study.status)
        sign = kano.password_signer(request.user, str(data.get("password") or ""), username=data.get("username"),
                                    require_username=True, reason=str(data.get("reason") or ""))
        with transaction.atomic():
            study = kano.close_study(study, actor=request.user, sign=sign)
        return Response(detail(study))


urlpatterns = [
    path("kano-studies/", StudyListView.as_view(), name="api-kano-studies"),
    path("kano-studies/<str:number>/", StudyDetailView.as_view(), name="api-kano-study"),
    path("kano-studies/<str:number>/features/", FeaturesView.as_view(), name="api-kano-features"),
    path("kano-studies/<str:number>/open/", OpenView.as_view(), name="api-kano-open"),
    path("kano-studies/<str:number>/answers/", AnswersView.as_view(), name="api-kano-answers"),
    path("kano-studies/<str:number>/import/", ImportView.as_view(), name="api-kano-import"),
    path("kano-studies/<str:number>/links/", LinksView.as_view(), name="api-kano-links"),
    path("kano-studies/<str:number>/links/<int:link>/revoke/", RevokeLinkView.as_view(), name="api-kano-link-revoke"),
    path("kano-studies/<str:number>/close/", CloseView.as_view(), name="api-kano-close"),
]
