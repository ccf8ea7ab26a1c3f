"""The satisfaction survey's state changes (issue 17, ISO 9001 9.1.2). Each function runs in the caller's
transaction, checks who may act (permissions.py), stores a new version of the survey record
(core.records.add_version) and writes its audit entry (core.audit.log).

Market plans a survey (period, sample, indicators with weights, scale), opens it, collects the responses —
entered from calls and visits, imported from a CSV / XLSX file, or answered by the customer through a
one-time link (forms.links, as P5's KANO study) — raises a CAPA or a P5 requirement from a low indicator,
and the Market manager closes it: the results (results.py) are frozen in the version he signs."""
import random
import secrets
from decimal import Decimal, InvalidOperation

from django.utils import timezone, translation
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from accounts.models import Department, Role, role_label, scheduler_user
from core import audit, esign, records
from core.errors import InvalidInput, NotPermitted, WrongState
from core.models import Meaning
from forms import links, sheets, uploads
from forms.models import Customer, OneTimeLink

from .models import (
    DEFAULT_INDICATORS,
    CustomerSegment,
    SampleMethod,
    SatisfactionSurvey,
    SurveyAnswer,
    SurveyCustomer,
    SurveyIndicator,
    SurveyRaised,
    SurveyRaisedKind,
    SurveyResponse,
    SurveyResponseSource,
    SurveyStatus,
)
from .permissions import may_close, may_work_on
from .records import PURPOSE, SATISFACTION_SURVEY, survey_snapshot

MAX_INDICATORS = 20
MAX_SAMPLE = 5000
MAX_IMPORT_ROWS = 5000
MARKET_MANAGER_ROLE = role_label(Department.MARKET, Role.MANAGER)


def _require(allowed, message):
    if not allowed:
        raise NotPermitted(message)


def _new_version(survey, actor, reason):
    return records.add_version(survey.record, actor=actor, data=survey_snapshot(survey), reason=reason,
                               status=survey.status)


def _log(action, survey, actor, **kwargs):
    audit.log(action, survey, actor=actor, record=survey.record, **kwargs)


def _lock(survey, *statuses):
    survey = SatisfactionSurvey.objects.select_for_update().select_related("record").get(pk=survey.pk)
    if statuses and survey.status not in statuses:
        raise WrongState(_("The survey is %(state)s; this is not possible now.")
                         % {"state": survey.get_status_display()}, current_state=survey.status)
    return survey


# --- the plan ------------------------------------------------------------------------------------------------


def _text(data, name, errors, *, max_length, required=True):
    value = data.get(name)
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors[name] = [_("Enter text.")]
        return ""
    value = value.strip()
    if required and not value:
        errors[name] = [_("This field is required.")]
    elif len(value) > max_length:
        errors[name] = [_("At most %(n)s characters.") % {"n": max_length}]
    return value


def _date(data, name, errors):
    value = data.get(name)
    if hasattr(value, "isoformat") and not isinstance(value, str):
        return value
    parsed = None
    if isinstance(value, str) and value.strip():
        try:
            parsed = parse_date(value.strip())
        except ValueError:
            parsed = None
    if parsed is None:
        errors[name] = [_("Enter a date (YYYY-MM-DD).")]
    return parsed


def _whole(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit() and len(value.strip()) < 19:
        return int(value.strip())
    return None


def _checked_indicators(items, errors):
    """[{code, name_zh, name_en, weight}] → cleaned rows, or errors under indicators.<n>.<field>."""
    if items is None:
        items = [{"code": c, "name_zh": zh, "name_en": en, "weight": w} for c, zh, en, w in DEFAULT_INDICATORS]
    if not isinstance(items, list) or not items:
        errors["indicators"] = [_("Define at least one indicator.")]
        return []
    if len(items) > MAX_INDICATORS:
        errors["indicators"] = [_("At most %(n)s indicators.") % {"n": MAX_INDICATORS}]
        return []
    cleaned, codes = [], set()
    for n, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            errors[f"indicators.{n}"] = [_("Each indicator is an object.")]
            continue
        row, problems = {}, {}
        row["name_zh"] = _text(item, "name_zh", problems, max_length=100)
        row["name_en"] = _text(item, "name_en", problems, max_length=100)
        code = item.get("code") or row["name_en"]
        row["code"] = "".join(ch if ch.isalnum() else "_" for ch in str(code).strip().lower())[:40]
        if row["code"] and row["code"] in codes:
            problems["code"] = [_("Two indicators have the same code.")]
        codes.add(row["code"])
        try:
            weight = Decimal(str(item.get("weight")).strip())
            if not weight.is_finite() or not Decimal("0.01") <= weight <= Decimal("100"):
                raise InvalidOperation
            row["weight"] = weight.quantize(Decimal("0.01"))
        except (InvalidOperation, ValueError, TypeError):
            problems["weight"] = [_("Enter a weight from 0.01 to 100.")]
        for name, message in problems.items():
            errors[f"indicators.{n}.{name}"] = message
        cleaned.append(row)
    return cleaned


def draw_sample(method, *, segment="", size=None, seed=None):
    """The customers of a sample, by code: every active customer (ALL), those of `segment` (SEGMENT), or
    `size` of them drawn with random.Random(seed) from the active customers sorted by code (RANDOM) — the
    same seed over the same customers draws the same sample. Returns [(customer, segment)]."""
    segments = dict(CustomerSegment.objects.values_list("customer_id", "segment"))
    customers = list(Customer.objects.filter(active=True).order_by("code"))
    if method == SampleMethod.SEGMENT:
        customers = [c for c in customers if segments.get(c.pk, "") == segment]
    elif method == SampleMethod.RANDOM:
        chosen = random.Random(seed).sample(customers, min(size, len(customers)))
        customers = sorted(chosen, key=lambda c: c.code)
    return [(c, segments.get(c.pk, "")) for c in customers]


def _checked_plan(data, errors):
    plan = {}
    plan["title"] = _text(data, "title", errors, max_length=200)
    plan["period_start"] = _date(data, "period_start", errors)
    plan["period_end"] = _date(data, "period_end", errors)
    if plan["period_start"] and plan["period_end"] and plan["period_end"] < plan["period_start"]:
        errors["period_end"] = [_("The period ends before it starts.")]
    scale = _whole(data.get("scale_max", 5))
    if scale is None or not 3 <= scale <= 10:
        errors["scale_max"] = [_("Enter a whole number from %(min)s to %(max)s.") % {"min": 3, "max": 10}]
    plan["scale_max"] = scale
    method = data.get("sample_method") or SampleMethod.ALL
    if method not in SampleMethod.values:
        errors["sample_method"] = [_("Choose one of: %(choices)s.") % {"choices": ", ".join(SampleMethod.values)}]
    plan["sample_method"] = method
    plan["sample_segment"] = _text(data, "sample_segment", errors, max_length=60,
                                   required=method == SampleMethod.SEGMENT)
    plan["sample_size"] = plan["sample_seed"] = None
    if method == SampleMethod.RANDOM:
        size = _whole(data.get("sample_size"))
        if size is None or not 1 <= size <= MAX_SAMPLE:
            errors["sample_size"] = [_("Enter a whole number from %(min)s to %(max)s.") % {"min": 1, "max": MAX_SAMPLE}]
        plan["sample_size"] = size
        seed = data.get("sample_seed")
        if seed in (None, ""):
            seed = secrets.randbelow(2 ** 31)
        seed = _whole(seed)
        if seed is None or not 0 <= seed < 2 ** 62:
            errors["sample_seed"] = [_("Enter a whole number (0 or more).")]
        plan["sample_seed"] = seed
    plan["indicators"] = _checked_indicators(data.get("indicators"), errors)
    return plan


def _store_plan(survey, plan):
    survey.indicators.all().delete()
    survey.sample.all().delete()
    for position, row in enumerate(plan["indicators"], start=1):
        SurveyIndicator.objects.create(survey=survey, position=position, **row)
    drawn = draw_sample(survey.sample_method, segment=survey.sample_segment, size=survey.sample_size,
                        seed=survey.sample_seed)
    SurveyCustomer.objects.bulk_create([SurveyCustomer(survey=survey, customer=c, segment=s) for c, s in drawn])
    return drawn


def create_survey(*, actor, data):
    """A new survey (draft) with its plan. `data`: title, period_start, period_end, scale_max (3…10,
    default 5), sample_method (all | segment | random), sample_segment, sample_size, sample_seed (random:
    a new one is drawn and recorded when none is given), indicators [{code, name_zh, name_en, weight}]
    (default: quality, delivery, price, service, communication)."""
    _require(may_work_on(actor), _("Only Market plans satisfaction surveys."))
    errors = {}
    plan = _checked_plan(data, errors)
    if errors:
        raise InvalidInput(_("The survey plan is incomplete."), field_errors=errors)
    if not draw_sample(plan["sample_method"], segment=plan["sample_segment"], size=plan["sample_size"],
                       seed=plan["sample_seed"]):
        raise InvalidInput(_("The sample holds no customer."), field_errors={"sample_method": [
            _("No active customer matches this sample.")]})
    record = records.create_record(SATISFACTION_SURVEY.code, actor=actor, status=SurveyStatus.DRAFT,
                                   title=f"{SATISFACTION_SURVEY.title} · {plan['title']}",
                                   search_text=plan["title"], reason="survey created")
    survey = SatisfactionSurvey.objects.create(
        record=record, created_by=actor, **{k: v for k, v in plan.items() if k != "indicators"})
    drawn = _store_plan(survey, plan)
    _log("satisfaction.created", survey, actor, new={
        "title": survey.title, "period_start": survey.period_start, "period_end": survey.period_end,
        "sample_method": survey.sample_method, "sample_seed": survey.sample_seed, "sample_size": len(drawn),
        "indicators": [i["code"] for i in plan["indicators"]]})
    _new_version(survey, actor, "survey created")
    return survey


def open_survey(survey, *, actor):
    """Draft → collecting responses (the plan can no longer change)."""
    _require(may_work_on(actor), _("Only Market opens a satisfaction survey."))
    survey = _lock(survey, SurveyStatus.DRAFT)
    survey.status = SurveyStatus.COLLECTING
    survey.save(update_fields=["status"])
    _log("satisfaction.opened", survey, actor, old={"status": SurveyStatus.DRAFT}, new={"status": survey.status})
    return _new_version(survey, actor, "opened for responses")


# --- responses ------------------------------------------------------------------------------------------------


def check_scores(survey, scores, prefix="scores"):
    """`scores` {indicator position: (expectation, experience)}: every indicator scored with two whole
    numbers on the survey's scale. Returns ({position: (int, int)}, field errors)."""
    indicators = {i.position: i for i in survey.indicators.all()}
    errors, cleaned = {}, {}
    if not isinstance(scores, dict):
        return {}, {prefix: [_("Score every indicator.")]}
    for position in scores:
        if position not in indicators:
            errors[f"{prefix}.{position}"] = [_("The survey has no indicator %(n)s.") % {"n": position}]
    for position in sorted(indicators):
        pair = scores.get(position)
        if not pair or len(pair) != 2:
            errors[f"{prefix}.{position}"] = [_("Give the expectation and the experience.")]
            continue
        values = []
        for side, value in zip(("expectation", "experience"), pair):
            number = _whole(value)
            if number is None or not 1 <= number <= survey.scale_max:
                errors[f"{prefix}.{position}.{side}"] = [_("Enter a whole number from %(min)s to %(max)s.")
                                                         % {"min": 1, "max": survey.scale_max}]
            values.append(number)
        cleaned[position] = tuple(values)
    return cleaned, errors


def _check_customer(survey, customer, errors, field="customer"):
    if not isinstance(customer, Customer):
        errors[field] = [_("Unknown customer.")]
        return
    if not survey.sample.filter(customer=customer).exists():
        errors[field] = [_("%(code)s is not in the survey's sample.") % {"code": customer.code}]
    elif survey.responses.filter(customer=customer).exists():
        errors[field] = [_("%(code)s has already answered this survey.") % {"code": customer.code}]


def _save_response(survey, *, customer, respondent, remark, source, scores, entered_by=None, link=None):
    response = SurveyResponse.objects.create(survey=survey, customer=customer, respondent=respondent, remark=remark,
                                             source=source, entered_by=entered_by, link=link,
                                             answered_at=timezone.now())
    indicators = {i.position: i for i in survey.indicators.all()}
    SurveyAnswer.objects.bulk_create([
        SurveyAnswer(response=response, indicator=indicators[p], expectation=e, experience=x)
        for p, (e, x) in sorted(scores.items())])
    return response


#: the states in which responses are entered, imported or answered by link
TAKING_RESPONSES = (SurveyStatus.COLLECTING,)


def takes_responses(survey):
    """Whether responses may be entered or imported now (the pages offer their forms only then)."""
    return survey.status in TAKING_RESPONSES


def enter_response(survey, *, actor, data):
    """Market enters one customer's response (from a call or a visit). `data`: customer (a Customer of
    the sample), respondent (name), remark, scores {position: (expectation, experience)}."""
    _require(may_work_on(actor), _("Only Market enters survey responses."))
    survey = _lock(survey, *TAKING_RESPONSES)
    errors = {}
    customer = data.get("customer")
    _check_customer(survey, customer, errors)
    respondent = _text(data, "respondent", errors, max_length=200, required=False)
    remark = _text(data, "remark", errors, max_length=2000, required=False)
    scores, score_errors = check_scores(survey, data.get("scores"))
    errors.update(score_errors)
    if errors:
        raise InvalidInput(_("The response is incomplete."), field_errors=errors)
    response = _save_response(survey, customer=customer, respondent=respondent, remark=remark,
                              source=SurveyResponseSource.ENTERED, scores=scores, entered_by=actor)
    _log("satisfaction.response_entered", survey, actor, new={
        "customer": customer.code, "source": SurveyResponseSource.ENTERED,
        "scores": {str(p): list(v) for p, v in sorted(scores.items())}})
    _new_version(survey, actor, f"responses: {SurveyResponseSource.ENTERED}")
    return response


# --- import from CSV / XLSX ---------------------------------------------------------------------------------------


def import_columns(survey):
    """The columns of an import file, in order, each as (its header, what goes in it in the reader's language):
    customer code, respondent, remark, then per indicator its expectation and its experience."""
    zh = (translation.get_language() or "").startswith("zh")
    columns = [("customer", _("the customer's code, one of the survey's sample")),
               ("respondent", _("who answered (may be empty)")),
               ("remark", _("a remark (may be empty)"))]
    for indicator in survey.indicators.all():
        name = indicator.name_zh if zh else indicator.name_en
        scale = {"indicator": name, "max": survey.scale_max}
        columns += [(f"{indicator.code} expectation", _("%(indicator)s: how important it is to the customer "
                                                         "(expectation), 1 to %(max)s") % scale),
                    (f"{indicator.code} experience", _("%(indicator)s: how satisfied the customer is "
                                                        "(experience), 1 to %(max)s") % scale)]
    return columns


def import_layout(survey):
    """The headers of an import file, in order (import_columns)."""
    return [header for header, _meaning in import_columns(survey)]


def waiting(survey):
    """The customers of the sample who have not answered yet (SurveyCustomer rows with their customer), by code:
    the response page's choice and the import workbook's rows."""
    answered = set(survey.responses.values_list("customer_id", flat=True))
    return [member for member in survey.sample.select_related("customer").order_by("customer__code")
            if member.customer_id not in answered]


def import_template(survey):
    """An Excel workbook to fill in and import: the header, then one row per customer of the sample who has
    not answered yet, their code filled in. Written as text (forms.sheets): a code is neither a formula nor
    a number that loses its leading zeros; the score columns are left for the figures."""
    layout = import_layout(survey)
    book, sheet = sheets.workbook(survey.record.number)
    sheets.append(sheet, layout)
    members = waiting(survey)
    for member in members:
        sheets.append(sheet, [member.customer.code] + [None] * (len(layout) - 1))
    sheets.text_columns(sheet, "ABC", len(members) + 1)  # customer, respondent, remark
    sheet.column_dimensions["A"].width = 14
    return sheets.save(book)


def parse_import(survey, name, content):
    """The responses of an import file checked row by row: ([(row number, data)], errors {"row N": ["column
    X (header): problem", …]}). The first row is the header (forms.uploads.parse_rows)."""

    def checker():
        sample = {s.customer.code.casefold(): s.customer for s in survey.sample.select_related("customer")}
        answered = set(survey.responses.values_list("customer_id", flat=True))
        positions = [i.position for i in survey.indicators.all()]
        seen = set()

        def check(row, column):
            customer = sample.get(row[0].casefold()) if row[0] else None
            if not row[0]:
                column(0, _("name the customer by its code"))
            elif customer is None:
                column(0, _("“%(code)s” is not a customer of the sample") % {"code": row[0]})
            elif customer.pk in answered or customer.pk in seen:
                column(0, _("%(code)s has already answered") % {"code": row[0]})
            if customer is not None:
                seen.add(customer.pk)
            for index, limit in ((1, 200), (2, 2000)):
                if len(row[index]) > limit:
                    column(index, _("at most %(n)s characters") % {"n": limit})
            scores = {}
            for i, position in enumerate(positions):
                pair = []
                for j in (0, 1):
                    index = 3 + 2 * i + j
                    value = row[index]
                    number_ = _whole(value[:-2] if value.endswith(".0") else value)
                    if number_ is None or not 1 <= number_ <= survey.scale_max:
                        column(index, _("“%(value)s” is not a score from 1 to %(max)s") % {
                            "value": value, "max": survey.scale_max} if value else _("no score"))
                    pair.append(number_)
                scores[position] = tuple(pair)
            return {"customer": customer, "respondent": row[1], "remark": row[2], "scores": scores}

        return check

    return uploads.parse_rows(name, content, import_layout(survey), checker=checker, max_rows=MAX_IMPORT_ROWS,
                              too_many=_("At most %(n)s responses in one file."),
                              nothing=_("The file holds no response."))


def import_responses(survey, *, actor, name, content):
    """Import the responses of a CSV or XLSX file (layout: import_layout). Any bad row refuses the whole
    file with the row and column of every problem; nothing is saved."""
    _require(may_work_on(actor), _("Only Market imports survey responses."))
    survey = _lock(survey, *TAKING_RESPONSES)
    parsed, errors = parse_import(survey, name, content)
    if errors:
        raise InvalidInput(_("The file was not imported: correct the rows below. Nothing was saved."),
                           field_errors=errors)
    for _number, data in parsed:
        _save_response(survey, source=SurveyResponseSource.IMPORTED, entered_by=actor, **data)
    _log("satisfaction.responses_imported", survey, actor, new={"count": len(parsed), "file": (name or "")[:200]})
    _new_version(survey, actor, f"responses: {SurveyResponseSource.IMPORTED}")
    return len(parsed)


# --- one-time links ---------------------------------------------------------------------------------------------


def issue_link(survey, *, actor, customer, label="", days_valid=14):
    """A one-time link for a customer of the sample to answer without an account (forms.links). Returns
    (link, token): the token is shown once."""
    _require(may_work_on(actor), _("Only Market issues survey links."))
    survey = _lock(survey, SurveyStatus.COLLECTING)
    errors = {}
    _check_customer(survey, customer, errors)
    if errors:
        raise InvalidInput(_("The link cannot be issued."), field_errors=errors)
    label = (label or "").strip() or f"{customer.code} {customer.name_zh}"
    link, token = links.issue_link(PURPOSE, survey.pk, label, customer, actor, days_valid, record=survey.record)
    _log("satisfaction.link_issued", survey, actor, new={"label": link.label, "customer": customer.code,
                                                         "expires_at": link.expires_at})
    _new_version(survey, actor, "link issued")
    return link, token


def links_of(survey):
    return OneTimeLink.objects.filter(purpose=PURPOSE, object_id=survey.pk).select_related("customer", "created_by")


def revoke_link(survey, link, *, actor, reason=""):
    _require(may_work_on(actor), _("Only Market withdraws survey links."))
    if link.purpose != PURPOSE or link.object_id != survey.pk:
        raise InvalidInput(_("This link is not one of the survey's."), field_errors={"link": [_("Unknown link.")]})
    links.revoke_link(link, actor=actor, reason=reason, record=survey.record)
    _log("satisfaction.link_revoked", survey, actor, new={"label": link.label}, reason=reason)
    return _new_version(survey, actor, "link withdrawn")


def survey_of_token(token):
    """(link, survey) of an open link (for showing the questionnaire), or LinkRefused (404 unknown, 410
    expired, used or withdrawn — or the survey no longer collecting)."""
    link = links.lookup(token, PURPOSE)
    survey = SatisfactionSurvey.objects.select_related("record").get(pk=link.object_id)
    if survey.status != SurveyStatus.COLLECTING:
        raise links.LinkRefused(_("This survey no longer collects responses."), reason=links.EXPIRED, link=link)
    return link, survey


def answer_through_link(token, *, scores, remark=""):
    """The customer of a one-time link answers (no account). The link is spent in the same transaction as
    the answers are saved: a second submission is refused (410) and saves nothing."""
    link, survey = survey_of_token(token)
    survey = _lock(survey, SurveyStatus.COLLECTING)
    cleaned, errors = check_scores(survey, scores)
    if not isinstance(remark, str) or len(remark) > 2000:
        errors["remark"] = [_("At most %(n)s characters.") % {"n": 2000}]
    if errors:
        raise InvalidInput(_("Give the expectation and the experience of every indicator."), field_errors=errors)
    link = links.redeem(token, PURPOSE, record=survey.record)
    if survey.responses.filter(customer_id=link.customer_id).exists():
        raise links.LinkRefused(_("This customer has already answered the survey."), reason=links.USED, link=link)
    response = _save_response(survey, customer=link.customer, respondent=link.label, remark=remark.strip(),
                              source=SurveyResponseSource.LINK, scores=cleaned, link=link)
    audit.log("satisfaction.response_entered", survey, actor=None, record=survey.record, new={
        "customer": link.customer.code, "source": SurveyResponseSource.LINK,
        "scores": {str(p): list(v) for p, v in sorted(cleaned.items())}})
    _new_version(survey, scheduler_user(), f"responses: {SurveyResponseSource.LINK}")
    return response


# --- a low indicator raises a CAPA or a P5 requirement --------------------------------------------------------------


def may_raise(user, kind):
    """CAPA's own rule: Quality raises a corrective action; Market raises a P5 requirement."""
    from accounts.models import department_permission  # noqa: PLC0415
    from inbox.delegation import holds_permission  # noqa: PLC0415

    if not (user and user.is_authenticated and user.is_active):
        return False
    if kind == SurveyRaisedKind.CAPA:
        return holds_permission(user, department_permission(Department.QUALITY, Role.STAFF))
    return may_work_on(user)


def raise_from_indicator(survey, *, actor, position, kind, reason):
    """A CAPA (source: customer satisfaction) or a P5 customer requirement from a survey's indicator,
    linked both ways: the raised record names the survey as its source; the survey's record lists it
    (a new version). Returns the SurveyRaised row."""
    if kind not in SurveyRaisedKind.values:
        raise InvalidInput(_("Unknown kind."), field_errors={"kind": [_("Choose capa or requirement.")]})
    if not may_raise(actor, kind):
        raise NotPermitted(_("Only Quality raises a corrective action.") if kind == SurveyRaisedKind.CAPA
                           else _("Only Market raises a customer requirement from a survey."))
    survey = _lock(survey, SurveyStatus.COLLECTING, SurveyStatus.CLOSED)
    indicator = survey.indicators.filter(position=_whole(position) or 0).first()
    errors = {}
    if indicator is None:
        errors["indicator"] = [_("The survey has no such indicator.")]
    if not (reason or "").strip() if isinstance(reason, str) else True:
        errors["reason"] = [_("Give the reason.")]
    elif len(reason) > 2000:
        errors["reason"] = [_("At most %(n)s characters.") % {"n": 2000}]
    if errors:
        raise InvalidInput(_("Nothing was raised."), field_errors=errors)
    reason = reason.strip()
    problem = f"{survey.record.number} · {indicator.name_zh} {indicator.name_en} · {reason}"
    if kind == SurveyRaisedKind.CAPA:
        from procedures.capa import entry as capa_entry  # noqa: PLC0415 — P3's declared entry point

        record = capa_entry.raise_capa(survey.record, source=capa_entry.CapaSource.CUSTOMER_SATISFACTION,
                                       actor=actor, problem=problem)
    else:
        from procedures.requirements import entry as requirements_entry  # noqa: PLC0415 — P5's entry point

        record = requirements_entry.requirement_from_record(survey.record, actor=actor, words=problem)
    row = SurveyRaised.objects.create(survey=survey, indicator=indicator, kind=kind, record=record, reason=reason,
                                      raised_by=actor)
    _log("satisfaction.raised", survey, actor, new={"kind": kind, "number": record.number,
                                                    "indicator": indicator.code}, reason=reason)
    _new_version(survey, actor, f"raised {kind} {record.number}")
    return row


def raised_from(record):
    """The survey a record (a CAPA, a requirement) was raised from, or None — the link back."""
    row = SurveyRaised.objects.filter(record=record).select_related("survey__record").first()
    return row.survey if row else None


# --- close: the report, signed ---------------------------------------------------------------------------------------


def password_signer(actor, password, *, username=None, require_username=False, reason=""):
    """Check the re-entered password (before the closing transaction) and return `sign(version, role=…)`."""
    esign.verify_signer(actor, password, username=username, require_username=require_username)

    def sign(version, role):
        return esign.apply_signature(version, signer=actor, meaning=Meaning.APPROVED, role=role, reason=reason,
                                     step="satisfaction_close")
    return sign


def close_survey(survey, *, actor, sign, conclusion=""):
    """The Market manager closes the survey: the results as they stand and the earlier surveys' trend are
    frozen in the version he signs; its PDF is rendered."""
    from .results import trend  # noqa: PLC0415

    _require(may_close(actor), _("Only the Market manager closes a satisfaction survey."))
    survey = _lock(survey, SurveyStatus.COLLECTING)
    errors = {}
    conclusion = _text({"conclusion": conclusion}, "conclusion", errors, max_length=5000, required=False)
    if not survey.responses.exists():
        errors["responses"] = [_("No responses yet: a survey closes with at least one.")]
    if errors:
        raise InvalidInput(_("The survey cannot be closed."), field_errors=errors)
    survey.trend = [{"number": p["number"], "period_end": p["period_end"].isoformat(), "index": p["index"]}
                    for p in trend(survey)[:-1]]
    survey.status, survey.closed_at, survey.conclusion = SurveyStatus.CLOSED, timezone.now(), conclusion
    survey.save(update_fields=["trend", "status", "closed_at", "conclusion"])
    version = _new_version(survey, actor, "survey closed")
    sign(version, role=MARKET_MANAGER_ROLE)
    _log("satisfaction.closed", survey, actor, old={"status": SurveyStatus.COLLECTING},
         new={"status": survey.status, "index": version.data["results"]["index"],
              "response_rate": version.data["results"]["response_rate"]})
    from forms.pdf import queue_render  # noqa: PLC0415 — looked up per call: tests stub forms.pdf.queue_render

    queue_render(version)
    return survey


# --- customer segments -----------------------------------------------------------------------------------------------


def set_segment(customer, *, actor, segment):
    """Market sets the segment a customer belongs to (for the next samples and the index by segment)."""
    _require(may_work_on(actor), _("Only Market sets customer segments."))
    errors = {}
    segment = _text({"segment": segment}, "segment", errors, max_length=60, required=False)
    if errors:
        raise InvalidInput(_("The segment is not valid."), field_errors=errors)
    old = CustomerSegment.objects.filter(customer=customer).values_list("segment", flat=True).first()
    if segment:
        CustomerSegment.objects.update_or_create(customer=customer, defaults={"segment": segment})
    else:
        CustomerSegment.objects.filter(customer=customer).delete()
    audit.log("satisfaction.segment_set", customer, actor=actor, old={"segment": old or ""},
              new={"customer": customer.code, "segment": segment})
