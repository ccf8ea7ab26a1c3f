"""Browser pages of the KANO study (KANO-1…3). Thin: who may see a study is core.access (the
study's record), who may change it and how is procedures.requirements.kano.

`kano_paths` are mounted by RequirementsViewset (viewsets.py) under /qms/requirements/kano/;
`public_answer` is mounted by config/urls.py at /answer/kano/<token>/, outside the signed-in
site (accounts.middleware.OPEN_PREFIXES): a respondent answers there with a one-time link."""
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_http_methods

from core.access import records_visible_to
from core.errors import DomainError
from forms import links as link_rules
from forms import uploads
from forms.models import Customer, Product

from . import kano
from .models import CustomerRequirement, KanoAnswer, KanoCategory, KanoStudy, KanoStudyStatus, ResponseSource
from .records import kano_quadrants, kano_snapshot
from . import register
from .register import can_view_requirements

PAGE_SIZE = 50
FEATURE_FIELDS = ("name", "functional_question", "dysfunctional_question")


def _url(name, *args):
    return reverse(f"qms:requirements:{name}", args=args)


def _viewer(request):
    if not request.user.is_authenticated or not can_view_requirements(request.user):
        raise PermissionDenied
    return request.user


def _study(request, number):
    _viewer(request)
    study = (KanoStudy.objects.filter(record__in=records_visible_to(request.user), record__number=number)
             .select_related("record", "product").first())
    if study is None:
        raise Http404("No such KANO study")
    return study


def _worker(request, number):
    study = _study(request, number)
    if not kano.may_work_on(request.user):
        raise PermissionDenied
    return study


def scatter(features):
    """The Better–|Worse| plot of the study as it stands (forms.charts)."""
    from forms.charts import scatter_svg  # noqa: PLC0415 — matplotlib only on the pages that draw

    points = kano.scatter_points(features)
    return scatter_svg(points, x_label=_("|Worse| (dissatisfaction when absent)"),
                       y_label=_("Better (satisfaction when present)"), x_range=(0, 1), y_range=(0, 1),
                       quadrant_labels=kano_quadrants(), title=_("Better–Worse scatter plot"))


def _error_list(error):
    """[(field, message)] of a DomainError, for the pages."""
    return [(name, " ".join(str(m) for m in messages_)) for name, messages_ in error.field_errors.items()]


# --- list, detail ------------------------------------------------------------------------------------------


def study_list(request):
    _viewer(request)
    studies = (KanoStudy.objects.filter(record__in=records_visible_to(request.user)).select_related("record")
               .order_by("-pk"))
    status = request.GET.get("status", "")
    if status in KanoStudyStatus.values:
        studies = studies.filter(status=status)
    page = Paginator(studies, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "requirements/kano/list.html", {
        "page": page, "statuses": KanoStudyStatus.choices, "status": status,
        "can_create": kano.may_work_on(request.user)})


def study_detail(request, number):
    study = _study(request, number)
    data = kano_snapshot(study)
    labels = dict(ResponseSource.choices)
    rows = [{**row, "source_label": labels[row["source"]]} for row in data["respondents"]]
    respondents = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    sources = {value: 0 for value in ResponseSource.values}
    for row in data["respondents"]:
        sources[row["source"]] += 1
    can_work = kano.may_work_on(request.user)
    return render(request, "requirements/kano/detail.html", {
        "study": study, "data": data, "scatter": scatter(data["features"]) if data["respondent_count"] else "",
        "respondents": respondents, "sources": [(ResponseSource(k).label, v) for k, v in sources.items()],
        "can_edit": can_work and study.status == KanoStudyStatus.DRAFT,
        "can_collect": can_work and study.status == KanoStudyStatus.COLLECTING,
        "can_close": kano.may_close(request.user) and study.status == KanoStudyStatus.COLLECTING,
        "categories": KanoCategory.choices})


# --- create and define the features ---------------------------------------------------------------------------


def _feature_rows(post, count):
    rows = []
    for i in range(count):
        row = {name: post.get(f"f{i}-{name}", "").strip() for name in FEATURE_FIELDS}
        row["requirement"] = post.get(f"f{i}-requirement", "").strip().upper()  # record numbers are upper case
        if any(row.values()):
            rows.append(row)
    return rows


def _resolve_features(rows):
    """The posted rows → the action's features (requirement numbers → objects; a number that names no requirement
    stays text, which kano.set_features refuses by the row's name rather than dropping the link)."""
    numbers = {r["requirement"] for r in rows if r["requirement"]}
    found = {r.record.number: r for r in CustomerRequirement.objects.filter(record__number__in=numbers)
             .select_related("record")}
    return [{**r, "requirement": found.get(r["requirement"], r["requirement"] or None)} for r in rows]


def _form_rows(rows, minimum=5):
    rows = list(rows) + [{} for _ in range(max(2, minimum - len(rows)))]
    return list(enumerate(rows))


def _requirement_choices():
    """The suggestions of the rows' requirement field (a <datalist>): the newest requirements. The field takes any
    requirement's number; it was a <select> of these 200 only, so an older requirement could not be linked and an
    existing link to one was lost when the features were saved again."""
    return list(CustomerRequirement.objects.select_related("record").order_by("-pk")
                .values_list("record__number", "customer_words")[:register.SUGGESTED_REQUIREMENTS])


@require_http_methods(["GET", "POST"])
def study_new(request):
    _viewer(request)
    if not kano.may_work_on(request.user):
        raise PermissionDenied
    values, errors, rows = {}, [], []
    if request.method == "POST":
        values = {k: request.POST.get(k, "").strip() for k in ("title", "purpose", "product", "product_text")}
        rows = _feature_rows(request.POST, int(request.POST.get("rows", "0") or 0) if
                             request.POST.get("rows", "").isdigit() else 0)
        product = Product.objects.filter(code=values["product"]).first() if values["product"] else None
        try:
            with transaction.atomic():
                study = kano.create_study(actor=request.user, data={
                    **values, "product": product, "features": _resolve_features(rows) if rows else None})
        except DomainError as error:
            errors = _error_list(error) or [("", error.message)]
        else:
            messages.success(request, _("%(number)s was created.") % {"number": study.record.number})
            return HttpResponseRedirect(_url("kano_detail", study.record.number))
    return render(request, "requirements/kano/study_form.html", {
        "values": values, "errors": errors, "rows": _form_rows(rows), "products": Product.objects.filter(active=True),
        "requirements": _requirement_choices(), "new": True}, status=400 if errors else 200)


@require_http_methods(["GET", "POST"])
def study_features(request, number):
    study = _worker(request, number)
    errors = []
    rows = [{"name": f.name, "functional_question": f.functional_question,
             "dysfunctional_question": f.dysfunctional_question,
             "requirement": f.requirement.record.number if f.requirement_id else ""}
            for f in study.features.select_related("requirement__record")]
    if request.method == "POST":
        count = request.POST.get("rows", "")
        rows = _feature_rows(request.POST, int(count) if count.isdigit() and int(count) < 100 else 0)
        try:
            with transaction.atomic():
                kano.set_features(study, actor=request.user, data={"features": _resolve_features(rows)})
        except DomainError as error:
            errors = _error_list(error) or [("", error.message)]
        else:
            messages.success(request, _("The features were saved."))
            return HttpResponseRedirect(_url("kano_detail", number))
    return render(request, "requirements/kano/study_form.html", {
        "study": study, "errors": errors, "rows": _form_rows(rows), "requirements": _requirement_choices(),
        "new": False}, status=400 if errors else 200)


@require_http_methods(["POST"])
def study_open(request, number):
    study = _worker(request, number)
    try:
        with transaction.atomic():
            kano.open_study(study, actor=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The study is open for answers."))
    return HttpResponseRedirect(_url("kano_detail", number))


# --- answers -----------------------------------------------------------------------------------------------------


def _posted_answers(post, features):
    return {f.position: (post.get(f"a{f.position}-functional", ""), post.get(f"a{f.position}-dysfunctional", ""))
            for f in features}


def _question_rows(features, chosen, errors):
    """What the questionnaire template draws: per feature its two radio groups."""
    answer_choices = [(m.value, m.label) for m in KanoAnswer]
    rows = []
    for f in features:
        picked = chosen.get(f.position, ("", ""))
        rows.append({"feature": f, "groups": [
            ("functional", f.functional_question, picked[0], errors.get(f"answers.{f.position}.functional")),
            ("dysfunctional", f.dysfunctional_question, picked[1],
             errors.get(f"answers.{f.position}.dysfunctional"))],
            "error": errors.get(f"answers.{f.position}")})
    return rows, answer_choices


@require_http_methods(["GET", "POST"])
def study_answers(request, number):
    study = _worker(request, number)
    features = list(study.features.all())
    errors, chosen, values = {}, {}, {}
    if request.method == "POST":
        chosen = _posted_answers(request.POST, features)
        values = {"respondent": request.POST.get("respondent", "").strip(),
                  "customer": request.POST.get("customer", "")}
        customer = Customer.objects.filter(code=values["customer"]).first() if values["customer"] else None
        try:
            with transaction.atomic():
                kano.enter_answers(study, actor=request.user, data={
                    "respondent": values["respondent"], "customer": customer, "answers": chosen})
        except DomainError as error:
            errors = {k: " ".join(str(m) for m in v) for k, v in error.field_errors.items()} or {"": error.message}
        else:
            messages.success(request, _("The answers of %(name)s were saved.") % {"name": values["respondent"]})
            return HttpResponseRedirect(_url("kano_answers", number))
    rows, answer_choices = _question_rows(features, chosen, errors)
    return render(request, "requirements/kano/answers.html", {
        "study": study, "rows": rows, "answer_choices": answer_choices, "errors": errors, "values": values,
        "customers": Customer.objects.filter(active=True)}, status=400 if errors else 200)


@require_http_methods(["GET", "POST"])
def study_import(request, number):
    study = _worker(request, number)
    errors = []
    if request.method == "POST":
        count, errors = uploads.import_posted_file(request, lambda name, content: kano.import_answers(
            study, actor=request.user, name=name, content=content))
        if count is not None:
            messages.success(request, _("%(count)s questionnaires were imported.") % {"count": count})
            return HttpResponseRedirect(_url("kano_detail", number))
    return render(request, "requirements/kano/import.html", {
        "study": study, "errors": errors, "layout": kano.import_layout(study),
        "answers": [(m.value, m.zh, m.en) for m in KanoAnswer]}, status=400 if errors else 200)


# --- links ---------------------------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def study_links(request, number):
    study = _worker(request, number)
    errors, issued, values = [], None, {}
    if request.method == "POST":
        values = {k: request.POST.get(k, "").strip() for k in ("label", "customer", "days_valid")}
        customer = Customer.objects.filter(code=values["customer"]).first() if values["customer"] else None
        days = int(values["days_valid"]) if values["days_valid"].isdigit() and len(values["days_valid"]) < 4 else 0
        try:
            with transaction.atomic():
                link, token = kano.issue_link(study, actor=request.user, label=values["label"], customer=customer,
                                              days_valid=days)
        except DomainError as error:
            errors = _error_list(error) or [("", error.message)]
        else:
            issued = {"link": link, "url": request.build_absolute_uri(reverse("kano-answer", args=[token]))}
            values = {}
    page = Paginator(kano.links_of(study).order_by("-pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [(link, link_rules.state_of(link)) for link in page.object_list]
    return render(request, "requirements/kano/links.html", {
        "study": study, "page": page, "rows": rows, "errors": errors, "issued": issued, "values": values,
        "customers": Customer.objects.filter(active=True),
        "collecting": study.status == KanoStudyStatus.COLLECTING}, status=400 if errors else 200)


@require_http_methods(["POST"])
def study_link_revoke(request, number, link):
    study = _worker(request, number)
    row = kano.links_of(study).filter(pk=link).first()
    if row is None:
        raise Http404("No such link")
    try:
        with transaction.atomic():
            kano.revoke_link(study, row, actor=request.user, reason=request.POST.get("reason", ""))
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The link of %(label)s was withdrawn.") % {"label": row.label})
    return HttpResponseRedirect(_url("kano_links", number))


# --- close (signed) --------------------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def study_close(request, number):
    study = _study(request, number)
    if not kano.may_close(request.user):
        raise PermissionDenied
    errors = []
    if request.method == "POST":
        try:
            if study.status != KanoStudyStatus.COLLECTING:
                raise DomainError(_("The study is not collecting answers."))
            sign = kano.password_signer(request.user, request.POST.get("password", ""),
                                        username=request.POST.get("username", ""), require_username=True,
                                        reason=request.POST.get("reason", ""))
            with transaction.atomic():
                kano.close_study(study, actor=request.user, sign=sign)
        except DomainError as error:
            errors = _error_list(error) or [("", error.message)]
            if error.field_errors:
                errors.insert(0, ("", error.message))
        else:
            messages.success(request, _("The study was closed and its result signed."))
            return HttpResponseRedirect(_url("kano_detail", number))
    data = kano_snapshot(study)
    return render(request, "requirements/kano/close.html", {"study": study, "data": data, "errors": errors},
                  status=400 if errors else 200)


# --- the public page: answering through a one-time link (no account) --------------------------------------------------

PUBLIC_LANGUAGES = ("zh-hans", "en")


def _public_language(request):
    lang = (request.POST.get("lang") or request.GET.get("lang") or "").lower()
    if lang in PUBLIC_LANGUAGES:
        return lang
    current = (translation.get_language() or "zh-hans").lower()
    return "en" if current.startswith("en") else "zh-hans"


def _refused_page(request, error, lang):
    return render(request, "requirements/kano/public_refused.html", {"error": error, "lang": lang},
                  status=error.status_code)


@csrf_protect
@require_http_methods(["GET", "POST"])
def public_answer(request, token):
    """A respondent answers the study's paired questions through a one-time link: no account,
    CSRF-protected, throttled; an unknown, expired, used or withdrawn link is refused (410)
    and nothing is saved."""
    lang = _public_language(request)
    with translation.override(lang):
        if link_rules.throttled(request, "kano-answer", limit=30, seconds=60):
            return render(request, "requirements/kano/public_refused.html", {
                "error": DomainError(_("Too many attempts from your address; wait a minute and try again.")),
                "lang": lang}, status=429)
        try:
            link, study = kano.study_of_token(token)
        except link_rules.LinkRefused as error:
            return _refused_page(request, error, lang)
        features = list(study.features.all())
        errors, chosen = {}, {}
        if request.method == "POST":
            chosen = _posted_answers(request.POST, features)
            try:
                with transaction.atomic():
                    kano.answer_through_link(token, answers=chosen)
            except link_rules.LinkRefused as error:
                return _refused_page(request, error, lang)
            except DomainError as error:
                errors = {k: " ".join(str(m) for m in v) for k, v in error.field_errors.items()} or {
                    "": error.message}
            else:
                return render(request, "requirements/kano/public_done.html", {"study": study, "lang": lang})
        rows, answer_choices = _question_rows(features, chosen, errors)
        response = render(request, "requirements/kano/public_answer.html", {
            "study": study, "link": link, "rows": rows, "answer_choices": answer_choices, "errors": errors,
            "lang": lang, "languages": [("zh-hans", "中文"), ("en", "English")]}, status=400 if errors else 200)
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"  # the token is in the URL
    return response


kano_paths = [
    path("", study_list, name="kano_index"),
    path("new/", study_new, name="kano_new"),
    path("<str:number>/", study_detail, name="kano_detail"),
    path("<str:number>/features/", study_features, name="kano_features"),
    path("<str:number>/open/", study_open, name="kano_open"),
    path("<str:number>/answers/", study_answers, name="kano_answers"),
    path("<str:number>/import/", study_import, name="kano_import"),
    path("<str:number>/links/", study_links, name="kano_links"),
    path("<str:number>/links/<int:link>/revoke/", study_link_revoke, name="kano_link_revoke"),
    path("<str:number>/close/", study_close, name="kano_close"),
]
