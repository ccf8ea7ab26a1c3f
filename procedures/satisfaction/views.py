"""Browser pages of the satisfaction surveys (issue 17), mounted by SatisfactionViewset under
/qms/satisfaction/. Thin: who may see a survey is core.access (its record) and permissions.can_view;
who may change it and how is actions.py. `public_answer` is mounted by config/urls.py at
/answer/survey/<token>/, outside the signed-in site: a customer answers there with a one-time link."""
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_http_methods

from core.access import records_visible_to
from core.errors import DomainError
from forms import links as link_rules
from forms import sheets, uploads
from forms.models import Customer
from procedures.complaints import entry as complaints_entry

from . import actions, charts
from .models import DEFAULT_INDICATORS, SampleMethod, SatisfactionSurvey, SurveyRaisedKind, SurveyResponseSource, \
    SurveyStatus
from .permissions import can_view, may_close, may_work_on
from .records import survey_snapshot
from .results import QUADRANT_LABELS, survey_results, trend

PAGE_SIZE = 50


def _url(name, *args):
    return reverse(f"qms:satisfaction:{name}", args=args)


def _viewer(request):
    if not request.user.is_authenticated or not can_view(request.user):
        raise PermissionDenied
    return request.user


def _survey(request, number):
    _viewer(request)
    survey = (SatisfactionSurvey.objects.filter(record__in=records_visible_to(request.user), record__number=number)
              .select_related("record").first())
    if survey is None:
        raise Http404("No such survey")
    return survey


def _worker(request, number):
    survey = _survey(request, number)
    if not may_work_on(request.user):
        raise PermissionDenied
    return survey


def _error_list(error):
    rows = [(name, " ".join(str(m) for m in problems)) for name, problems in error.field_errors.items()]
    return rows or [("", error.message)]


def _quadrant_label(code):
    zh, en = QUADRANT_LABELS.get(code, ("", ""))
    return zh if (translation.get_language() or "").startswith("zh") else en


# --- list, new, detail (the results) ----------------------------------------------------------------------------------


def survey_list(request):
    _viewer(request)
    surveys = (SatisfactionSurvey.objects.filter(record__in=records_visible_to(request.user))
               .select_related("record").order_by("-pk"))
    status = request.GET.get("status", "")
    if status in SurveyStatus.values:
        surveys = surveys.filter(status=status)
    page = Paginator(surveys, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [(s, survey_results(s)["index"] if s.status != SurveyStatus.DRAFT else None) for s in page.object_list]
    return render(request, "satisfaction/list.html", {
        "page": page, "rows": rows, "statuses": SurveyStatus.choices, "status": status,
        "can_create": may_work_on(request.user)})


def _indicator_rows(post):
    rows = []
    for i in range(20):
        row = {k: post.get(f"i{i}-{k}", "").strip() for k in ("code", "name_zh", "name_en", "weight")}
        if any(row.values()):
            rows.append(row)
    return rows


@require_http_methods(["GET", "POST"])
def survey_new(request):
    _viewer(request)
    if not may_work_on(request.user):
        raise PermissionDenied
    errors = []
    keys = ("title", "period_start", "period_end", "scale_max", "sample_method", "sample_segment", "sample_size",
            "sample_seed")
    values = {"scale_max": "5", "sample_method": SampleMethod.ALL}
    indicators = [{"code": c, "name_zh": zh, "name_en": en, "weight": str(w)} for c, zh, en, w in DEFAULT_INDICATORS]
    if request.method == "POST":
        values = {k: request.POST.get(k, "").strip() for k in keys}
        indicators = _indicator_rows(request.POST)
        try:
            with transaction.atomic():
                survey = actions.create_survey(actor=request.user, data={
                    **values, "scale_max": values["scale_max"] or 5, "indicators": indicators})
        except DomainError as error:
            errors = _error_list(error)
        else:
            messages.success(request, _("%(number)s was created.") % {"number": survey.record.number})
            return HttpResponseRedirect(_url("detail", survey.record.number))
    rows = list(indicators) + [{} for _ in range(max(2, 7 - len(indicators)))]
    return render(request, "satisfaction/new.html", {
        "values": values, "errors": errors, "rows": list(enumerate(rows)), "methods": SampleMethod.choices},
        status=400 if errors else 200)


def _result_rows(results):
    return [{**row, "quadrant_label": _quadrant_label(row["quadrant"]) if row["quadrant"] else ""}
            for row in results["indicators"]]


def survey_detail(request, number):
    """The survey and its results: index overall and by segment, per indicator the means, gap and quadrant,
    the charts, the trend against earlier surveys, the responses."""
    survey = _survey(request, number)
    data = survey_snapshot(survey)
    results = data["results"]
    points = (data["trend"] + [{"number": survey.record.number, "index": results["index"]}]
              if survey.status == SurveyStatus.CLOSED else trend(survey))
    labels = dict(SurveyResponseSource.choices)
    responses = Paginator([{**r, "source_label": labels[r["source"]]} for r in data["responses"]],
                          PAGE_SIZE).get_page(request.GET.get("page"))
    can_work = may_work_on(request.user)
    answered = [row for row in results["indicators"] if row["answered"]]
    return render(request, "satisfaction/detail.html", {
        "survey": survey, "data": data, "results": results, "rows": _result_rows(results), "trend": points,
        "responses": responses,
        "gap_chart": charts.gap_chart(results) if answered else "",
        "quadrant_chart": charts.quadrant_chart(results) if answered else "",
        "trend_chart": charts.trend_chart(points),
        "can_open": can_work and survey.status == SurveyStatus.DRAFT,
        "can_collect": can_work and survey.status == SurveyStatus.COLLECTING,
        "can_close": may_close(request.user) and survey.status == SurveyStatus.COLLECTING,
        "can_raise": survey.status != SurveyStatus.DRAFT and any(
            actions.may_raise(request.user, k) for k in SurveyRaisedKind.values),
        "raise_kinds": [(k, label) for k, label in SurveyRaisedKind.choices if actions.may_raise(request.user, k)],
        "indicators": survey.indicators.all()})


@require_http_methods(["POST"])
def survey_open(request, number):
    survey = _worker(request, number)
    try:
        with transaction.atomic():
            actions.open_survey(survey, actor=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The survey is open for responses."))
    return HttpResponseRedirect(_url("detail", number))


# --- responses ---------------------------------------------------------------------------------------------------------


def _posted_scores(post, indicators):
    return {i.position: (post.get(f"s{i.position}-expectation", ""), post.get(f"s{i.position}-experience", ""))
            for i in indicators}


def _score_rows(indicators, chosen, errors, scale_max):
    return [{"indicator": i, "picked": chosen.get(i.position, ("", "")),
             "error": " ".join(str(m) for key, v in errors.items() if key.startswith(f"scores.{i.position}")
                               for m in ([v] if isinstance(v, str) else v))}
            for i in indicators], [str(n) for n in range(1, scale_max + 1)]


def _not_taking_responses(request, number):
    """Back to the survey, saying why: the response and import pages are for a survey collecting responses."""
    messages.error(request, _("The survey is not collecting responses."))
    return HttpResponseRedirect(_url("detail", number))


@require_http_methods(["GET", "POST"])
def survey_responses(request, number):
    survey = _worker(request, number)
    if not actions.takes_responses(survey):
        return _not_taking_responses(request, number)
    indicators = list(survey.indicators.all())
    errors, chosen, values = {}, {}, {}
    if request.method == "POST":
        chosen = _posted_scores(request.POST, indicators)
        values = {k: request.POST.get(k, "").strip() for k in ("customer", "respondent", "remark")}
        customer = Customer.objects.filter(code=values["customer"]).first() if values["customer"] else None
        try:
            with transaction.atomic():
                actions.enter_response(survey, actor=request.user, data={**values, "customer": customer,
                                                                          "scores": chosen})
        except DomainError as error:
            errors = {k: " ".join(str(m) for m in v) for k, v in error.field_errors.items()} or {"": error.message}
        else:
            messages.success(request, _("The response of %(customer)s was saved.") % {"customer": values["customer"]})
            return HttpResponseRedirect(_url("responses", number))
    rows, scale = _score_rows(indicators, chosen, errors, survey.scale_max)
    pending = actions.waiting(survey)
    return render(request, "satisfaction/responses.html", {
        "survey": survey, "rows": rows, "scale": scale, "errors": errors, "values": values, "pending": pending},
        status=400 if errors else 200)


@require_http_methods(["GET", "POST"])
def survey_import(request, number):
    survey = _worker(request, number)
    if not actions.takes_responses(survey):
        return _not_taking_responses(request, number)
    errors = []
    if request.method == "POST":
        count, errors = uploads.import_posted_file(request, lambda name, content: actions.import_responses(
            survey, actor=request.user, name=name, content=content))
        if count is not None:
            messages.success(request, _("%(count)s responses were imported.") % {"count": count})
            return HttpResponseRedirect(_url("detail", number))
    columns = [(uploads.column_letter(i), header, meaning)
               for i, (header, meaning) in enumerate(actions.import_columns(survey))]
    return render(request, "satisfaction/import.html", {"survey": survey, "errors": errors, "columns": columns},
                  status=400 if errors else 200)


def survey_import_template(request, number):
    """The workbook to fill in for an import: the header, and the code of each customer of the sample who has
    not answered yet."""
    survey = _worker(request, number)
    if not actions.takes_responses(survey):
        return _not_taking_responses(request, number)
    response = HttpResponse(actions.import_template(survey), content_type=sheets.CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{survey.record.number}-responses.xlsx"'
    return response


# --- links ---------------------------------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def survey_links(request, number):
    survey = _worker(request, number)
    errors, issued, values = [], None, {}
    if request.method == "POST":
        values = {k: request.POST.get(k, "").strip() for k in ("label", "customer", "days_valid")}
        customer = Customer.objects.filter(code=values["customer"]).first() if values["customer"] else None
        days = int(values["days_valid"]) if values["days_valid"].isdigit() and len(values["days_valid"]) < 4 else 0
        try:
            with transaction.atomic():
                link, token = actions.issue_link(survey, actor=request.user, customer=customer, label=values["label"],
                                                 days_valid=days)
        except DomainError as error:
            errors = _error_list(error)
        else:
            issued = {"link": link, "url": request.build_absolute_uri(reverse("survey-answer", args=[token]))}
            values = {}
    page = Paginator(actions.links_of(survey).order_by("-pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [(link, link_rules.state_of(link)) for link in page.object_list]
    return render(request, "satisfaction/links.html", {
        "survey": survey, "page": page, "rows": rows, "errors": errors, "issued": issued, "values": values,
        "sample": survey.sample.select_related("customer"),
        "collecting": survey.status == SurveyStatus.COLLECTING}, status=400 if errors else 200)


@require_http_methods(["POST"])
def survey_link_revoke(request, number, link):
    survey = _worker(request, number)
    row = actions.links_of(survey).filter(pk=link).first()
    if row is None:
        raise Http404("No such link")
    try:
        with transaction.atomic():
            actions.revoke_link(survey, row, actor=request.user, reason=request.POST.get("reason", ""))
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The link of %(label)s was withdrawn.") % {"label": row.label})
    return HttpResponseRedirect(_url("links", number))


# --- raise, close -----------------------------------------------------------------------------------------------------------


@require_http_methods(["POST"])
def survey_raise(request, number):
    survey = _survey(request, number)
    try:
        with transaction.atomic():
            row = actions.raise_from_indicator(survey, actor=request.user, position=request.POST.get("indicator", ""),
                                               kind=request.POST.get("kind", ""), reason=request.POST.get("reason", ""))
    except DomainError as error:
        messages.error(request, "; ".join(m for _n, m in _error_list(error)))
    else:
        messages.success(request, _("%(kind)s %(number)s raised.") % {"kind": row.get_kind_display(),
                                                                      "number": row.record.number})
    return HttpResponseRedirect(_url("detail", number))


@require_http_methods(["GET", "POST"])
def survey_close(request, number):
    survey = _survey(request, number)
    if not may_close(request.user):
        raise PermissionDenied
    errors = []
    if request.method == "POST":
        try:
            if survey.status != SurveyStatus.COLLECTING:
                raise DomainError(_("The survey is not collecting responses."))
            sign = actions.password_signer(request.user, request.POST.get("password", ""),
                                           username=request.POST.get("username", ""), require_username=True,
                                           reason=request.POST.get("reason", ""))
            with transaction.atomic():
                actions.close_survey(survey, actor=request.user, sign=sign,
                                     conclusion=request.POST.get("conclusion", ""))
        except DomainError as error:
            errors = _error_list(error)
            if error.field_errors:
                errors.insert(0, ("", error.message))
        else:
            messages.success(request, _("The survey was closed and its report signed."))
            return HttpResponseRedirect(_url("detail", number))
    return render(request, "satisfaction/close.html", {"survey": survey, "results": survey_results(survey),
                                                       "errors": errors}, status=400 if errors else 200)


# --- P2 follow-up satisfaction (回访满意度) ----------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def follow_ups(request):
    """The closed complaints and returns, newest first, with their follow-up satisfaction; Market records it."""
    _viewer(request)
    visible = records_visible_to(request.user)
    errors = []
    if request.method == "POST":
        if not complaints_entry.may_record_follow_up(request.user):
            raise PermissionDenied
        case = complaints_entry.closed_case(visible, request.POST.get("number", ""))
        if case is None:
            raise Http404("No such closed complaint")
        try:
            with transaction.atomic():
                complaints_entry.record_follow_up(case, actor=request.user, data={
                    "score": request.POST.get("score", ""), "remark": request.POST.get("remark", "")})
        except DomainError as error:
            errors = [(case.record.number, m) for _n, m in _error_list(error)]
        else:
            messages.success(request, _("The follow-up satisfaction of %(number)s was recorded.")
                             % {"number": case.record.number})
            return HttpResponseRedirect(_url("follow_ups"))
    page = Paginator(complaints_entry.closed_cases(visible), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "satisfaction/follow_ups.html", {
        "page": page, "errors": errors, "scores": [str(n) for n in range(1, 6)],
        "can_record": complaints_entry.may_record_follow_up(request.user)}, status=400 if errors else 200)


# --- the public page: answering through a one-time link (no account) --------------------------------------------------------

PUBLIC_LANGUAGES = ("zh-hans", "en")


def _public_language(request):
    lang = (request.POST.get("lang") or request.GET.get("lang") or "").lower()
    if lang in PUBLIC_LANGUAGES:
        return lang
    current = (translation.get_language() or "zh-hans").lower()
    return "en" if current.startswith("en") else "zh-hans"


def _refused_page(request, error, lang):
    response = render(request, "satisfaction/public_refused.html", {"error": error, "lang": lang},
                      status=error.status_code)
    response["Cache-Control"] = "no-store"
    return response


@csrf_protect
@require_http_methods(["GET", "POST"])
def public_answer(request, token):
    """A customer answers the survey through a one-time link: no account, CSRF-protected, throttled; an
    unknown (404), expired, used or withdrawn (410) link is refused and nothing is saved."""
    lang = _public_language(request)
    with translation.override(lang):
        if link_rules.throttled(request, "survey-answer", limit=30, seconds=60):
            return render(request, "satisfaction/public_refused.html", {
                "error": DomainError(_("Too many attempts from your address; wait a minute and try again.")),
                "lang": lang}, status=429)
        try:
            link, survey = actions.survey_of_token(token)
        except link_rules.LinkRefused as error:
            return _refused_page(request, error, lang)
        indicators = list(survey.indicators.all())
        errors, chosen, remark = {}, {}, ""
        if request.method == "POST":
            chosen = _posted_scores(request.POST, indicators)
            remark = request.POST.get("remark", "")
            try:
                with transaction.atomic():
                    actions.answer_through_link(token, scores=chosen, remark=remark)
            except link_rules.LinkRefused as error:
                return _refused_page(request, error, lang)
            except DomainError as error:
                errors = {k: " ".join(str(m) for m in v) for k, v in error.field_errors.items()} or {
                    "": error.message}
            else:
                return render(request, "satisfaction/public_done.html", {"survey": survey, "lang": lang})
        rows, scale = _score_rows(indicators, chosen, errors, survey.scale_max)
        response = render(request, "satisfaction/public_answer.html", {
            "survey": survey, "link": link, "rows": rows, "scale": scale, "errors": errors, "remark": remark,
            "lang": lang, "zh": lang == "zh-hans", "languages": [("zh-hans", "中文"), ("en", "English")],
            "today": timezone.localdate()}, status=400 if errors else 200)
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"  # the token is in the URL
    return response


survey_paths = [
    path("", survey_list, name="index"),
    path("new/", survey_new, name="new"),
    path("follow-ups/", follow_ups, name="follow_ups"),
    path("<str:number>/", survey_detail, name="detail"),
    path("<str:number>/open/", survey_open, name="open"),
    path("<str:number>/responses/", survey_responses, name="responses"),
    path("<str:number>/import/", survey_import, name="import"),
    path("<str:number>/import/template.xlsx", survey_import_template, name="import_template"),
    path("<str:number>/links/", survey_links, name="links"),
    path("<str:number>/links/<int:link>/revoke/", survey_link_revoke, name="link_revoke"),
    path("<str:number>/raise/", survey_raise, name="raise"),
    path("<str:number>/close/", survey_close, name="close"),
]
