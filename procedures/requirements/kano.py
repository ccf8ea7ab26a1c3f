"""P5 analysis — the KANO study (KANO-1…3): the actions.

Market defines the features, each with its paired functional ("if it has …?") and
dysfunctional ("if it lacks …?") question; opens the study; collects answers — entered from
interviews, imported from a CSV or XLSX file, or answered by the customer through a one-time
link (forms.links) that needs no account; and the Market manager closes it: each feature's
category (the most frequent), Better and Worse (analysis.kano_evaluate) are stored and signed,
and the KANO category of each customer requirement a feature covers is set.

Every function here runs in the caller's transaction, stores a new version of the study
(core.records.add_version) and writes its audit entries (core.audit.log)."""
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Department, Role, department_permission, scheduler_user
from core import audit, esign, records
from core.errors import InvalidInput, NotPermitted, WrongState
from core.models import Meaning
from forms import links, uploads
from forms.models import Customer
from inbox.delegation import holds_permission

from . import analysis
from .actions import MARKET_MANAGER_ROLE
from .models import (
    CLOSED_STATUSES,
    CustomerRequirement,
    KanoAnswer,
    KanoFeature,
    KanoResponse,
    KanoRespondent,
    KanoStudy,
    KanoStudyStatus,
    ResponseSource,
)
from .records import KANO_STUDY, kano_snapshot, requirement_snapshot, scatter_points  # noqa: F401 — scatter_points: for the pages

PURPOSE = "kano_study"  # forms.models.OneTimeLink.purpose of a KANO study's links
MAX_FEATURES = 30
MAX_IMPORT_ROWS = 2000


# --- who may do what -----------------------------------------------------------------------------------


def may_work_on(user):
    """Market (staff and the manager) creates studies, defines features, collects answers, issues links."""
    return bool(user and user.is_authenticated and user.is_active) and holds_permission(
        user, department_permission(Department.MARKET, Role.STAFF))


def may_close(user):
    """The Market manager closes a study and signs its result."""
    return bool(user and user.is_authenticated and user.is_active) and holds_permission(
        user, department_permission(Department.MARKET, Role.MANAGER))


def _require(allowed, message):
    if not allowed:
        raise NotPermitted(message)


def _new_version(study, actor, reason):
    return records.add_version(study.record, actor=actor, data=kano_snapshot(study), reason=reason,
                               status=study.status)


def _log(action, study, actor, **kwargs):
    audit.log(action, study, actor=actor, record=study.record, **kwargs)


# --- answers: codes and labels -------------------------------------------------------------------------


def _answer_words():
    """Every way a file may spell an answer: the code, the Chinese and the English label (any case)."""
    words = {}
    for member in KanoAnswer:
        for word in (member.value, member.zh, member.en, member.value.replace("_", " "),
                     member.value.replace("_", "-")):
            words[str(word).strip().casefold()] = member.value
    return words


def answer_code(value):
    """The KanoAnswer code for `value` (code or zh/en label), or None."""
    if value is None:
        return None
    return _answer_words().get(str(value).strip().casefold())


# --- create, define, open ------------------------------------------------------------------------------


def _clean_text(data, name, errors, *, max_length, required=True):
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


def create_study(*, actor, data):
    """A new KANO study (draft), optionally with its features. `data`: title, purpose,
    product (a Product or None), product_text, features (see set_features)."""
    _require(may_work_on(actor), _("Only Market creates KANO studies."))
    errors = {}
    title = _clean_text(data, "title", errors, max_length=200)
    purpose = _clean_text(data, "purpose", errors, max_length=5000, required=False)
    product = data.get("product")
    product_text = _clean_text(data, "product_text", errors, max_length=200, required=False)
    features = _checked_features(data["features"], errors) if data.get("features") is not None else None
    if errors:
        raise InvalidInput(_("The KANO study is incomplete."), field_errors=errors)
    product_text = product_text or (f"{product.code} {product.name_zh}" if product else "")
    record = records.create_record(KANO_STUDY.code, actor=actor, status=KanoStudyStatus.DRAFT,
                                   title=f"{KANO_STUDY.title} · {title}", product_text=product_text,
                                   search_text=f"{title} {product_text}", reason="KANO study created")
    study = KanoStudy.objects.create(record=record, title=title, purpose=purpose, product=product,
                                     product_text=product_text, created_by=actor)
    _log("kano.created", study, actor, new={"title": title, "product": product_text})
    if features:
        _store_features(study, features)
        _log("kano.features_set", study, actor, new={"count": len(features),
                                                     "features": [f["name"] for f in features]})
    _new_version(study, actor, "KANO study created")
    return study


def _checked_features(features, errors):
    """The features as dicts, or field errors under features.<n>.<field> (n from 1)."""
    if not isinstance(features, list) or not features:
        errors["features"] = [_("Define at least one feature.")]
        return []
    if len(features) > MAX_FEATURES:
        errors["features"] = [_("At most %(n)s features.") % {"n": MAX_FEATURES}]
        return []
    cleaned, names = [], set()
    for n, item in enumerate(features, start=1):
        if not isinstance(item, dict):
            errors[f"features.{n}"] = [_("Each feature is an object.")]
            continue
        row = {}
        for name, max_length in (("name", 200), ("functional_question", 300), ("dysfunctional_question", 300)):
            problems = {}
            row[name] = _clean_text(item, name, problems, max_length=max_length)
            if problems:
                errors[f"features.{n}.{name}"] = problems[name]
        key = row["name"].casefold()
        if key and key in names:
            errors[f"features.{n}.name"] = [_("Two features have the same name.")]
        names.add(key)
        requirement = item.get("requirement")
        if requirement is not None and not isinstance(requirement, CustomerRequirement):
            errors[f"features.{n}.requirement"] = [
                _("%(number)s: no such customer requirement.") % {"number": requirement}  # a typed number, named
                if isinstance(requirement, str) else _("Unknown customer requirement.")]
            requirement = None
        row["requirement"] = requirement
        cleaned.append(row)
    return cleaned


def _store_features(study, features):
    for position, row in enumerate(features, start=1):
        KanoFeature.objects.create(study=study, position=position, name=row["name"],
                                   functional_question=row["functional_question"],
                                   dysfunctional_question=row["dysfunctional_question"],
                                   requirement=row["requirement"])


def set_features(study, *, actor, data):
    """KANO-1: (re)define the features and their paired questions while the study is a draft."""
    _require(may_work_on(actor), _("Only Market defines the features of a KANO study."))
    study = KanoStudy.objects.select_for_update().get(pk=study.pk)
    if study.status != KanoStudyStatus.DRAFT:
        raise WrongState(_("Features are defined only while the study is a draft."), current_state=study.status)
    errors = {}
    features = _checked_features(data.get("features"), errors)
    if errors:
        raise InvalidInput(_("The features are incomplete."), field_errors=errors)
    old = [f.name for f in study.features.all()]
    study.features.all().delete()
    _store_features(study, features)
    _log("kano.features_set", study, actor, old={"features": old},
         new={"count": len(features), "features": [f["name"] for f in features]})
    _new_version(study, actor, "features defined")
    return study


def open_study(study, *, actor):
    """Draft → collecting answers (the features can no longer change)."""
    _require(may_work_on(actor), _("Only Market opens a KANO study."))
    study = KanoStudy.objects.select_for_update().get(pk=study.pk)
    if study.status != KanoStudyStatus.DRAFT:
        raise WrongState(_("Only a draft study is opened for answers."), current_state=study.status)
    if not study.features.exists():
        raise InvalidInput(_("Define at least one feature."), field_errors={"features": [_("Required.")]})
    study.status = KanoStudyStatus.COLLECTING
    study.save(update_fields=["status"])
    _log("kano.opened", study, actor, old={"status": KanoStudyStatus.DRAFT}, new={"status": study.status})
    _new_version(study, actor, "opened for answers")
    return study


# --- answers ---------------------------------------------------------------------------------------------


def _collecting(study):
    study = KanoStudy.objects.select_for_update().get(pk=study.pk)
    if study.status != KanoStudyStatus.COLLECTING:
        raise WrongState(_("The study is not collecting answers."), current_state=study.status)
    return study


def check_answers(study, answers, prefix="answers"):
    """`answers` {feature position: (functional, dysfunctional)}: every feature of the study
    answered with two known answers (codes or labels). Returns ({position: (code, code)},
    field errors)."""
    features = {f.position: f for f in study.features.all()}
    errors, cleaned = {}, {}
    if not isinstance(answers, dict):
        return {}, {prefix: [_("Answer every feature.")]}
    for position in answers:
        if position not in features:
            errors[f"{prefix}.{position}"] = [_("The study has no feature %(n)s.") % {"n": position}]
    for position in sorted(features):
        pair = answers.get(position)
        if not pair:
            errors[f"{prefix}.{position}"] = [_("Answer both questions of this feature.")]
            continue
        codes = []
        for side, value in zip(("functional", "dysfunctional"), pair):
            code = answer_code(value)
            if code is None:
                errors[f"{prefix}.{position}.{side}"] = [_("“%(value)s” is not an answer; use one of: %(choices)s.")
                                                         % {"value": value, "choices": _answer_choices()}]
            codes.append(code)
        cleaned[position] = tuple(codes)
    return cleaned, errors


def _answer_choices():
    return ", ".join(KanoAnswer.values)


def _respondent_fields(data, errors, prefix=""):
    name = _clean_text(data, "respondent", {}, max_length=200)
    if not name:
        errors[f"{prefix}respondent"] = [_("Name the respondent.")]
    elif len(name) > 200:
        errors[f"{prefix}respondent"] = [_("At most %(n)s characters.") % {"n": 200}]
    customer = data.get("customer")
    if customer is not None and not isinstance(customer, Customer):
        errors[f"{prefix}customer"] = [_("Unknown customer.")]
        customer = None
    return name, customer


def _save_respondent(study, *, name, customer, source, answers, entered_by=None, link=None):
    respondent = KanoRespondent.objects.create(study=study, customer=customer, name=name, source=source,
                                               entered_by=entered_by, link=link, answered_at=timezone.now())
    features = {f.position: f for f in study.features.all()}
    KanoResponse.objects.bulk_create([
        KanoResponse(respondent=respondent, feature=features[position], functional=f, dysfunctional=d)
        for position, (f, d) in sorted(answers.items())])
    return respondent


def enter_answers(study, *, actor, data):
    """Market enters one respondent's questionnaire (from an interview). `data`: respondent
    (name), customer (Customer or None), answers {feature position: (functional, dysfunctional)}."""
    _require(may_work_on(actor), _("Only Market enters KANO answers."))
    study = _collecting(study)
    errors = {}
    name, customer = _respondent_fields(data, errors)
    answers, answer_errors = check_answers(study, data.get("answers"))
    errors.update(answer_errors)
    if errors:
        raise InvalidInput(_("The questionnaire is incomplete."), field_errors=errors)
    respondent = _save_respondent(study, name=name, customer=customer, source=ResponseSource.ENTERED,
                                  answers=answers, entered_by=actor)
    _log("kano.answers_entered", study, actor, new={"respondent": name, "source": ResponseSource.ENTERED,
                                                   "customer": customer.code if customer else ""})
    _new_version(study, actor, f"answers: {ResponseSource.ENTERED}")
    return respondent


# --- import from CSV / XLSX ----------------------------------------------------------------------------------


def import_layout(study):
    """The column layout of an import file, in order: respondent, customer code (may be
    empty), then two columns per feature, functional and dysfunctional, in feature order."""
    columns = ["respondent", "customer"]
    for feature in study.features.all():
        name = f"{feature.position}. {feature.name}"
        columns += [f"{name} functional", f"{name} dysfunctional"]
    return columns


def parse_import(study, name, content):
    """The questionnaires of an import file, checked row by row: ([(row number, data)], errors
    {"row N": ["column X (header): problem", ...]}). The first row is the header (forms.uploads.parse_rows)."""

    def checker():
        customers = {c.code.casefold(): c for c in Customer.objects.all()}
        positions = [f.position for f in study.features.all()]

        def check(row, column):
            name_cell = row[0]
            if not name_cell:
                column(0, _("name the respondent"))
            elif len(name_cell) > 200:
                column(0, _("at most %(n)s characters") % {"n": 200})
            customer = None
            if row[1]:
                customer = customers.get(row[1].casefold())
                if customer is None:
                    column(1, _("unknown customer code “%(code)s”") % {"code": row[1]})
            answers = {}
            for i, position in enumerate(positions):
                pair = []
                for j in (0, 1):
                    index = 2 + 2 * i + j
                    code = answer_code(row[index])
                    if code is None:
                        column(index, _("“%(value)s” is not an answer") % {"value": row[index]} if row[index]
                               else _("no answer"))
                    pair.append(code)
                answers[position] = tuple(pair)
            return {"respondent": name_cell, "customer": customer, "answers": answers}

        return check

    return uploads.parse_rows(name, content, import_layout(study), checker=checker, max_rows=MAX_IMPORT_ROWS,
                              too_many=_("At most %(n)s questionnaires in one file."),
                              nothing=_("The file holds no questionnaire."))


def import_answers(study, *, actor, name, content):
    """Import the questionnaires of a CSV or XLSX file (layout: import_layout). Any bad row
    refuses the whole file with the row and column of every problem; nothing is saved."""
    _require(may_work_on(actor), _("Only Market imports KANO answers."))
    study = _collecting(study)
    parsed, errors = parse_import(study, name, content)
    if errors:
        raise InvalidInput(_("The file was not imported: correct the rows below. Nothing was saved."),
                           field_errors=errors)
    for _number, data in parsed:
        _save_respondent(study, name=data["respondent"], customer=data["customer"], source=ResponseSource.IMPORTED,
                         answers=data["answers"], entered_by=actor)
    _log("kano.answers_imported", study, actor, new={"count": len(parsed), "file": (name or "")[:200]})
    _new_version(study, actor, f"answers: {ResponseSource.IMPORTED}")
    return len(parsed)


# --- one-time links ------------------------------------------------------------------------------------------


def issue_link(study, *, actor, label, customer=None, days_valid=14):
    """A one-time link for a respondent to answer without an account (forms.links). Returns
    (link, token): the token is shown once."""
    _require(may_work_on(actor), _("Only Market issues KANO links."))
    study = _collecting(study)
    link, token = links.issue_link(PURPOSE, study.pk, label, customer, actor, days_valid, record=study.record)
    _log("kano.link_issued", study, actor, new={"label": link.label, "expires_at": link.expires_at,
                                               "customer": customer.code if customer else ""})
    _new_version(study, actor, "link issued")
    return link, token


def links_of(study):
    from forms.models import OneTimeLink  # noqa: PLC0415

    return OneTimeLink.objects.filter(purpose=PURPOSE, object_id=study.pk).select_related("customer", "created_by")


def revoke_link(study, link, *, actor, reason=""):
    _require(may_work_on(actor), _("Only Market withdraws KANO links."))
    if link.purpose != PURPOSE or link.object_id != study.pk:
        raise InvalidInput(_("This link is not one of the study's."), field_errors={"link": [_("Unknown link.")]})
    links.revoke_link(link, actor=actor, reason=reason, record=study.record)
    _log("kano.link_revoked", study, actor, new={"label": link.label}, reason=reason)
    return _new_version(study, actor, "link withdrawn")


def study_of_token(token):
    """(link, study) of an open link (for showing the questionnaire), or LinkRefused."""
    link = links.lookup(token, PURPOSE)
    study = KanoStudy.objects.select_related("record").get(pk=link.object_id)
    if study.status != KanoStudyStatus.COLLECTING:
        raise links.LinkRefused(_("This study no longer collects answers."), reason=links.EXPIRED, link=link)
    return link, study


def answer_through_link(token, *, answers):
    """The respondent of a one-time link answers (no account). The link is spent in the same
    transaction, so a second submission of the same link is refused and saves nothing."""
    link = links.lookup(token, PURPOSE)  # refuse early; redeem() checks again under the lock
    study = KanoStudy.objects.get(pk=link.object_id)
    study = _collecting(study)
    cleaned, errors = check_answers(study, answers)
    if errors:
        raise InvalidInput(_("Answer both questions of every feature."), field_errors=errors)
    link = links.redeem(token, PURPOSE, record=study.record)
    respondent = _save_respondent(study, name=link.label, customer=link.customer, source=ResponseSource.LINK,
                                  answers=cleaned, link=link)
    system = scheduler_user()
    audit.log("kano.answers_entered", study, actor=None, record=study.record,
              new={"respondent": link.label, "source": ResponseSource.LINK,
                   "customer": link.customer.code if link.customer_id else ""})
    _new_version(study, system, f"answers: {ResponseSource.LINK}")
    return respondent


# --- close: the result, signed -------------------------------------------------------------------------------


def password_signer(actor, password, *, username=None, require_username=False, reason=""):
    """Check the re-entered password (counted and audited on failure; call it before the
    closing transaction) and return the `sign(version, role=…)` callable close_study takes."""
    esign.verify_signer(actor, password, username=username, require_username=require_username)

    def sign(version, role):
        return esign.apply_signature(version, signer=actor, meaning=Meaning.APPROVED, role=role, reason=reason,
                                     step="kano_close")
    return sign


def results(study):
    """{feature pk: analysis.KanoResult} from the answers as they stand."""
    pairs = {f.pk: [] for f in study.features.all()}
    for response in KanoResponse.objects.filter(feature__study=study).only("feature_id", "functional",
                                                                            "dysfunctional"):
        pairs[response.feature_id].append((response.functional, response.dysfunctional))
    return {pk: analysis.kano_evaluate(p) for pk, p in pairs.items()}


def close_study(study, *, actor, sign):
    """KANO-3: each feature's category (most frequent), Better and Worse; the result is signed
    by the Market manager and sets the KANO category of the requirements the features cover."""
    _require(may_close(actor), _("Only the Market manager closes a KANO study."))
    study = _collecting(study)
    if not study.respondents.exists():
        raise InvalidInput(_("No answers yet: a study closes with at least one questionnaire."),
                           field_errors={"respondents": [_("Required.")]})
    outcome = results(study)
    features = list(study.features.select_related("requirement__record"))
    for feature in features:
        feature.category = outcome[feature.pk].category
        feature.save(update_fields=["category"])
    study.status, study.closed_at = KanoStudyStatus.CLOSED, timezone.now()
    study.save(update_fields=["status", "closed_at"])
    version = _new_version(study, actor, "KANO study closed")
    sign(version, role=MARKET_MANAGER_ROLE)
    _log("kano.closed", study, actor, old={"status": KanoStudyStatus.COLLECTING},
         new={"status": study.status, "result": {f.name: {"category": f.category,
                                                          "better": round(float(outcome[f.pk].better), 4),
                                                          "worse": round(float(outcome[f.pk].worse), 4)}
                                                 for f in features}})
    for feature in features:
        if feature.requirement_id and feature.category:
            set_requirement_kano(feature.requirement, feature.category, actor=actor, study=study)
    from forms.pdf import queue_render  # noqa: PLC0415 — looked up per call: tests stub forms.pdf.queue_render

    queue_render(version)
    return study


def set_requirement_kano(req, category, *, actor, study):
    """The KANO category a closed study found for a requirement, stored as a new version of
    the requirement (a closed requirement keeps the category it had)."""
    req = CustomerRequirement.objects.select_for_update().select_related("record").get(pk=req.pk)
    if req.status in CLOSED_STATUSES or req.kano_category == category:
        return req
    old = req.kano_category
    req.kano_category = category
    req.save(update_fields=["kano_category"])
    audit.log("requirement.kano_set", req, actor=actor, record=req.record, process_id=req.record.process_id,
              old={"kano_category": old}, new={"category": category, "study": study.record.number})
    records.add_version(req.record, actor=actor, data=requirement_snapshot(req),
                        reason=f"KANO category from {study.record.number}")
    return req

