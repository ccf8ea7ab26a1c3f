"""The satisfaction surveys over the REST API (`/api/satisfaction-surveys/`): list (paginated) and create,
read one with its results, open, enter a response, import a CSV / XLSX file, issue and withdraw one-time
links, raise a CAPA or a P5 requirement from an indicator, close with the Market manager's signature; and
`/api/complaint-follow-ups/<number>/` for P2's follow-up satisfaction. Every write is one action of
procedures.satisfaction.actions (or P2's own); Market writes, Quality, the General Manager and auditors
read (permissions.py)."""
from django.db import transaction
from django.http import Http404
from django.urls import path, reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from core.access import records_visible_to
from core.errors import InvalidInput
from core.rest import params
from core.rest.base import APIView, ViewSet, json_object, reject_unknown
from forms import links as link_rules
from forms import uploads
from forms.models import Customer
from forms.stepforms import position_pairs
from procedures.complaints import entry as complaints_entry

from . import actions
from .models import SatisfactionSurvey, SurveyStatus
from .permissions import can_view, may_work_on
from .records import survey_snapshot
from .results import survey_results, trend

SCORE = inline_serializer("SurveyScoreInput", {
    "indicator": serializers.IntegerField(help_text="the indicator's position (1, 2, …)"),
    "expectation": serializers.IntegerField(min_value=1), "experience": serializers.IntegerField(min_value=1),
})
INDICATOR = inline_serializer("SurveyIndicatorInput", {
    "code": serializers.CharField(required=False), "name_zh": serializers.CharField(),
    "name_en": serializers.CharField(), "weight": serializers.DecimalField(max_digits=6, decimal_places=2),
})
PLAN_FIELDS = {"title", "period_start", "period_end", "scale_max", "sample_method", "sample_segment", "sample_size",
               "sample_seed", "indicators"}


def visible_surveys(user):
    if not can_view(user):
        raise PermissionDenied()
    return SatisfactionSurvey.objects.filter(record__in=records_visible_to(user)).select_related("record")


def survey_or_404(user, number):
    survey = visible_surveys(user).filter(record__number=number).first()
    if survey is None:
        raise Http404("No such survey")
    return survey


def summary(survey):
    return {"number": survey.record.number, "title": survey.title, "period_start": survey.period_start,
            "period_end": survey.period_end, "status": survey.status, "status_label": str(survey.get_status_display()),
            "created_at": survey.created_at, "closed_at": survey.closed_at}


def detail(survey):
    data = survey_snapshot(survey)
    return {**summary(survey), **{k: data[k] for k in ("scale_max", "sample_method", "sample_segment", "sample_size",
                                                        "sample_seed", "indicators", "sample", "responses", "raised",
                                                        "conclusion")},
            "results": data["results"], "trend": trend(survey) if survey.status != SurveyStatus.CLOSED
            else data["trend"] + [{"number": survey.record.number, "index": data["results"]["index"]}],
            "import_layout": actions.import_layout(survey),
            "import_columns": [{"header": header, "meaning": meaning}
                               for header, meaning in actions.import_columns(survey)]}


def link_data(link):
    return {"id": link.pk, "label": link.label, "customer_code": link.customer.code if link.customer_id else "",
            "created_at": link.created_at, "expires_at": link.expires_at, "used_at": link.used_at,
            "revoked_at": link.revoked_at, "state": link_rules.state_of(link)}


def _customer(code, errors, field="customer"):
    customer = Customer.objects.filter(code=code).first() if isinstance(code, str) and code else None
    if customer is None:
        errors[field] = [f"Unknown customer: {code!r}"]
    return customer


def _raise(errors):
    if errors:
        raise InvalidInput("Please correct the errors.", field_errors=errors)


def _writer(request):
    if not may_work_on(request.user):
        raise PermissionDenied("Only Market changes satisfaction surveys.")


class SatisfactionSurveyViewSet(ViewSet):
    """`/api/satisfaction-surveys/` — lookup by record number (SS-YYYY-NNNN)."""

    lookup_field = "number"
    lookup_value_converter = "str"

    @extend_schema(operation_id="satisfaction_surveys_list", summary="The satisfaction surveys, newest first",
                   parameters=[OpenApiParameter("status", str, enum=SurveyStatus.values),
                               OpenApiParameter("page", OpenApiTypes.INT)], responses=OpenApiTypes.OBJECT)
    def list(self, request):
        surveys = visible_surveys(request.user)
        state = params.choice(request.query_params, "status", SurveyStatus.values)
        if state:
            surveys = surveys.filter(status=state)
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(surveys.order_by("-pk"), request, view=self)
        return paginator.get_paginated_response([summary(s) for s in page])

    @extend_schema(operation_id="satisfaction_surveys_create", summary="Plan a satisfaction survey (Market)",
                   request=inline_serializer("SurveyCreate", {
                       "title": serializers.CharField(), "period_start": serializers.DateField(),
                       "period_end": serializers.DateField(),
                       "scale_max": serializers.IntegerField(required=False, default=5),
                       "sample_method": serializers.ChoiceField(choices=["all", "segment", "random"]),
                       "sample_segment": serializers.CharField(required=False),
                       "sample_size": serializers.IntegerField(required=False),
                       "sample_seed": serializers.IntegerField(required=False),
                       "indicators": INDICATOR.__class__(many=True, required=False)}),
                   responses={201: OpenApiTypes.OBJECT})
    def create(self, request):
        visible_surveys(request.user)
        _writer(request)
        data, _files = json_object(request, allow_multipart=False)
        reject_unknown(data, PLAN_FIELDS)
        with transaction.atomic():
            survey = actions.create_survey(actor=request.user, data=data)
        return Response(detail(survey), status=201)

    @extend_schema(operation_id="satisfaction_surveys_retrieve", responses=OpenApiTypes.OBJECT,
                   summary="One survey: plan, sample, responses, results (index, gaps, quadrants), trend")
    def retrieve(self, request, number=None):
        return Response(detail(survey_or_404(request.user, number)))

    @extend_schema(operation_id="satisfaction_surveys_open", request=None, responses=OpenApiTypes.OBJECT,
                   summary="Open the survey for responses")
    @action(detail=True, methods=["post"])
    def open(self, request, number=None):
        survey = survey_or_404(request.user, number)
        _writer(request)
        reject_unknown(json_object(request, allow_multipart=False)[0], set())
        with transaction.atomic():
            actions.open_survey(survey, actor=request.user)
        survey.refresh_from_db()
        return Response(detail(survey))

    @extend_schema(operation_id="satisfaction_surveys_responses_create",
                   summary="Enter one customer's response (Market, from a call or visit)",
                   request=inline_serializer("SurveyResponseEnter", {
                       "customer": serializers.CharField(help_text="customer code (in the sample)"),
                       "respondent": serializers.CharField(required=False),
                       "remark": serializers.CharField(required=False), "scores": SCORE.__class__(many=True)}),
                   responses={201: OpenApiTypes.OBJECT})
    @action(detail=True, methods=["post"])
    def responses(self, request, number=None):
        survey = survey_or_404(request.user, number)
        _writer(request)
        data, _files = json_object(request, allow_multipart=False)
        reject_unknown(data, {"customer", "respondent", "remark", "scores"})
        errors = {}
        customer = _customer(data.get("customer"), errors)
        scores = position_pairs(data.get("scores"), errors, field="scores", key="indicator", first="expectation",
                                second="experience", repeated="This indicator is scored twice.")
        _raise(errors)
        with transaction.atomic():
            response = actions.enter_response(survey, actor=request.user, data={
                "customer": customer, "respondent": data.get("respondent"), "remark": data.get("remark"),
                "scores": scores})
        return Response({"response": response.pk, "customer": customer.code}, status=201)

    @extend_schema(operation_id="satisfaction_surveys_import", summary="Import responses from a CSV or XLSX file",
                   description="multipart `file`. Layout (first row a header): customer code, respondent, remark, "
                               "then per indicator in order its expectation and its experience (whole numbers on the "
                               "survey's scale). Any bad row: 400 naming each row and column; nothing is saved.",
                   request={"multipart/form-data": inline_serializer("SurveyImport", {"file": serializers.FileField()})},
                   responses={201: OpenApiTypes.OBJECT})
    @action(detail=True, methods=["post"], url_path="import")
    def import_file(self, request, number=None):
        survey = survey_or_404(request.user, number)
        _writer(request)
        return uploads.import_api_file(request, lambda name, content: actions.import_responses(
            survey, actor=request.user, name=name, content=content))

    @extend_schema(methods=["GET"], operation_id="satisfaction_surveys_links_list", responses=OpenApiTypes.OBJECT,
                   summary="The one-time links of the survey (paginated)")
    @extend_schema(methods=["POST"], operation_id="satisfaction_surveys_links_create",
                   responses={201: OpenApiTypes.OBJECT},
                   summary="Issue a one-time link to a customer of the sample (the token is shown once)",
                   request=inline_serializer("SurveyLinkIssue", {
                       "customer": serializers.CharField(help_text="customer code"),
                       "label": serializers.CharField(required=False),
                       "days_valid": serializers.IntegerField(required=False, default=14, min_value=1, max_value=90)}))
    @action(detail=True, methods=["get", "post"])
    def links(self, request, number=None):
        survey = survey_or_404(request.user, number)
        if request.method == "GET":
            paginator = PageNumberPagination()
            page = paginator.paginate_queryset(actions.links_of(survey).order_by("-pk"), request, view=self)
            return paginator.get_paginated_response([link_data(link) for link in page])
        _writer(request)
        data, _files = json_object(request, allow_multipart=False)
        reject_unknown(data, {"customer", "label", "days_valid"})
        errors = {}
        customer = _customer(data.get("customer"), errors)
        _raise(errors)
        with transaction.atomic():
            link, token = actions.issue_link(survey, actor=request.user, customer=customer,
                                             label=str(data.get("label") or ""), days_valid=data.get("days_valid", 14))
        url = request.build_absolute_uri(reverse("survey-answer", args=[token]))
        return Response({**link_data(link), "token": token, "url": url}, status=201)

    @extend_schema(operation_id="satisfaction_surveys_links_revoke", responses=OpenApiTypes.OBJECT,
                   parameters=[OpenApiParameter("link", int, OpenApiParameter.PATH)],
                   summary="Withdraw a link not used yet",
                   request=inline_serializer("SurveyLinkRevoke", {"reason": serializers.CharField(required=False)}))
    @action(detail=True, methods=["post"], url_path="links/<id:link>/revoke")
    def revoke(self, request, number=None, link=None):
        survey = survey_or_404(request.user, number)
        _writer(request)
        data, _files = json_object(request, allow_multipart=False)
        reject_unknown(data, {"reason"})
        row = actions.links_of(survey).filter(pk=link).first()
        if row is None:
            raise Http404("No such link")
        with transaction.atomic():
            actions.revoke_link(survey, row, actor=request.user, reason=str(data.get("reason") or ""))
        row.refresh_from_db()
        return Response(link_data(row))

    @extend_schema(operation_id="satisfaction_surveys_raise", responses={201: OpenApiTypes.OBJECT},
                   summary="Raise a CAPA (Quality) or a P5 customer requirement (Market) from an indicator",
                   request=inline_serializer("SurveyRaise", {
                       "indicator": serializers.IntegerField(), "kind": serializers.ChoiceField(
                           choices=["capa", "requirement"]), "reason": serializers.CharField()}))
    @action(detail=True, methods=["post"], url_path="raise")
    def raise_action(self, request, number=None):
        survey = survey_or_404(request.user, number)
        data, _files = json_object(request, allow_multipart=False)
        reject_unknown(data, {"indicator", "kind", "reason"})
        with transaction.atomic():
            row = actions.raise_from_indicator(survey, actor=request.user, position=data.get("indicator"),
                                               kind=data.get("kind"), reason=data.get("reason"))
        return Response({"kind": row.kind, "number": row.record.number}, status=201)

    @extend_schema(operation_id="satisfaction_surveys_close", responses=OpenApiTypes.OBJECT,
                   summary="Close the survey: freeze and sign its report (Market manager; password re-entered)",
                   request=inline_serializer("SurveyClose", {
                       "username": serializers.CharField(), "password": serializers.CharField(),
                       "conclusion": serializers.CharField(required=False),
                       "reason": serializers.CharField(required=False)}))
    @action(detail=True, methods=["post"])
    def close(self, request, number=None):
        survey = survey_or_404(request.user, number)
        data, _files = json_object(request, allow_multipart=False)
        reject_unknown(data, {"username", "password", "conclusion", "reason"})
        if not actions.may_close(request.user):
            raise PermissionDenied("Only the Market manager closes a satisfaction survey.")
        if survey.status != SurveyStatus.COLLECTING:
            from core.errors import WrongState  # noqa: PLC0415

            raise WrongState("The survey is not collecting responses.", current_state=survey.status)
        sign = actions.password_signer(request.user, str(data.get("password") or ""), username=data.get("username"),
                                       require_username=True, reason=str(data.get("reason") or ""))
        with transaction.atomic():
            survey = actions.close_survey(survey, actor=request.user, sign=sign,
                                          conclusion=str(data.get("conclusion") or ""))
        return Response(detail(survey))

    @extend_schema(operation_id="satisfaction_surveys_results", responses=OpenApiTypes.OBJECT,
                   summary="The results as they stand (results.survey_results)")
    @action(detail=True, methods=["get"])
    def results(self, request, number=None):
        return Response(survey_results(survey_or_404(request.user, number)))


class FollowUpView(APIView):
    @extend_schema(operation_id="complaint_follow_up", parameters=[OpenApiParameter(
        "number", str, OpenApiParameter.PATH, description="the complaint's record number")],
        summary="Record the customer's follow-up satisfaction (回访满意度) of a closed complaint / return (Market)",
        request=inline_serializer("FollowUp", {"score": serializers.IntegerField(min_value=1, max_value=5),
                                               "remark": serializers.CharField(required=False)}),
        responses=OpenApiTypes.OBJECT)
    def post(self, request, number):
        if not can_view(request.user):
            raise PermissionDenied()
        data, _files = json_object(request, allow_multipart=False)
        reject_unknown(data, {"score", "remark"})
        case = complaints_entry.closed_case(records_visible_to(request.user), number)
        if case is None:
            raise Http404("No such closed complaint")
        with transaction.atomic():
            complaints_entry.record_follow_up(case, actor=request.user, data=data)
        case.refresh_from_db()
        return Response({"number": number, "score": case.follow_up_score, "remark": case.follow_up_remark,
                         "recorded_at": case.follow_up_at})


router = SimpleRouter(use_regex_path=False)
router.register("satisfaction-surveys", SatisfactionSurveyViewSet, basename="satisfaction-survey")

urlpatterns = [*router.urls,
               path("complaint-follow-ups/<str:number>/", FollowUpView.as_view(), name="api-complaint-follow-up")]
