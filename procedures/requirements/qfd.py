"""QFD house of quality (质量屋, QFD-1): the actions. Every change of a house goes through these
functions: each stores a new version of the house's record (core.records.add_version) and
writes its audit entry in the same transaction, like procedures.requirements.actions.

Who: Market and Engineering (staff or manager) build a house; the Market manager or the
Engineering manager approves it with an electronic signature (password re-entered), which
makes that version immutable; a change after that is a new revision: reopen (with a reason)
puts the house back into draft as a new version, and it is approved again."""
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import Department, Role, department_permission, role_label
from core import audit, esign, records
from core.errors import InvalidInput, NotPermitted, WrongState
from core.models import Meaning
from inbox.delegation import holds_permission

from . import analysis
from .actions import MARKET_MANAGER_ROLE
from .models import (
    Correlation,
    CustomerRequirement,
    HouseOfQuality,
    HouseStatus,
    ImprovementDirection,
    QfdCharacteristic,
    QfdCorrelation,
    QfdNeed,
    QfdRelationship,
    RequirementStatus,
)
from .house import APPROVE_STEP, house_snapshot
from .records import HOUSE_OF_QUALITY

#: the departments whose people build a house (Market: the customer's voice; Engineering: the characteristics)
QFD_DEPARTMENTS = (Department.MARKET, Department.ENGINEERING)
#: requirements whose approval stands: what a house may be built from
APPROVED_REQUIREMENT_STATUSES = (RequirementStatus.APPROVED, RequirementStatus.IN_IMPLEMENTATION,
                                 RequirementStatus.COMPLETED)
MAX_ROWS = 60  # needs, and characteristics: a house beyond this is no longer readable on one page
DEFAULT_WEIGHT = 3  # a need without a scored requirement behind it

NEED_KEYS = {"text", "weight", "requirement"}
CHARACTERISTIC_KEYS = {"name", "unit", "direction", "target"}
CELL_KEYS = {"need", "characteristic", "strength"}
ROOF_KEYS = {"first", "second", "correlation"}


# --- who may do what -------------------------------------------------------------------------------------


def _active(user):
    return bool(user and user.is_authenticated and user.is_active)


def may_edit_house(user):
    """Market or Engineering staff (a manager holds the staff role too)."""
    return _active(user) and any(holds_permission(user, department_permission(d, Role.STAFF))
                                 for d in QFD_DEPARTMENTS)


def approver_role(user):
    """The role `user` signs an approval in ("市场部经理 Market manager", "工程部经理 Engineering
    manager"), or None when `user` may not approve a house."""
    if not _active(user):
        return None
    if holds_permission(user, department_permission(Department.MARKET, Role.MANAGER)):
        return MARKET_MANAGER_ROLE  # as P5's approvals print it
    if holds_permission(user, department_permission(Department.ENGINEERING, Role.MANAGER)):
        return role_label(Department.ENGINEERING, Role.MANAGER)
    return None


def may_approve_house(user):
    return approver_role(user) is not None


def _require_editor(user):
    if not may_edit_house(user):
        raise NotPermitted(_("Only Market or Engineering works on a house of quality."))


def _require_draft(house):
    if house.status != HouseStatus.DRAFT:
        raise WrongState(_("The house of quality is approved; reopen it to make a new revision."),
                         current_state=house.status)


def _new_version(house, actor, reason, **extra):
    return records.add_version(house.record, actor=actor, data=house_snapshot(house, **extra), reason=reason,
                               status=house.status)


def approved_requirements(*, product=None, customer=None):
    """The approved customer requirements of a product and/or a customer, oldest first: what
    a new house's needs are pulled from."""
    reqs = CustomerRequirement.objects.filter(status__in=APPROVED_REQUIREMENT_STATUSES).select_related("record")
    if product is not None:
        reqs = reqs.filter(product=product)
    if customer is not None:
        reqs = reqs.filter(customer=customer)
    return reqs.order_by("pk")


def need_text_of(requirement):
    """A requirement as a row of the house: the customer's words (the voice of the customer)."""
    text = " ".join(requirement.customer_words.split())
    return text if len(text) <= 300 else text[:299] + "…"


# --- create ----------------------------------------------------------------------------------------------


def create_house(*, actor, data):
    """A new house (draft). data: title, product (Product or None), product_text, requirements
    (approved CustomerRequirements whose words become the rows, weight = their importance, else
    3). Runs in the caller's transaction."""
    _require_editor(actor)
    errors = {}
    title = " ".join(str(data.get("title") or "").split())
    if not title:
        errors["title"] = [_("Required.")]
    elif len(title) > 200:
        errors["title"] = [_("At most %(n)s characters.") % {"n": 200}]
    product = data.get("product")
    product_text = str(data.get("product_text") or "").strip() or (
        f"{product.code} {product.name_zh}" if product is not None else "")
    if len(product_text) > 200:
        errors["product_text"] = [_("At most %(n)s characters.") % {"n": 200}]
    requirements = list(data.get("requirements") or [])
    for index, req in enumerate(requirements):
        if req.status not in APPROVED_REQUIREMENT_STATUSES:
            errors[f"requirements[{index}]"] = [_("%(number)s is not an approved requirement.") % {
                "number": req.record.number}]
    if len(requirements) > MAX_ROWS:
        errors["requirements"] = [_("At most %(n)s rows.") % {"n": MAX_ROWS}]
    if errors:
        raise InvalidInput(_("The house of quality cannot be created."), field_errors=errors)
    record = records.create_record(HOUSE_OF_QUALITY.code, actor=actor, status=HouseStatus.DRAFT,
                                   title=f"{HOUSE_OF_QUALITY.title} · {title}"[:200], product_text=product_text,
                                   search_text=f"{title} {product_text}", reason="house of quality created")
    house = HouseOfQuality.objects.create(record=record, title=title, product=product, product_text=product_text,
                                          created_by=actor)
    seen = set()
    for req in requirements:
        if req.pk in seen:
            continue
        seen.add(req.pk)
        text = need_text_of(req)
        if house.needs.filter(text=text).exists():
            text = f"{text[:285]} ({req.record.number})"
        QfdNeed.objects.create(house=house, position=len(seen), text=text, weight=req.importance or DEFAULT_WEIGHT,
                               requirement=req)
    audit.log("qfd.created", house, actor=actor, record=record,
              new={"title": title, "product": product_text,
                   "requirements": [r.record.number for r in requirements]})
    _new_version(house, actor, "house of quality created")
    return house


# --- the matrix --------------------------------------------------------------------------------------------


def _text(value, limit, *, required=False):
    """(clean text, error or None)."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        return "", _("Enter text.")
    value = " ".join(value.split())
    if required and not value:
        return "", _("Required.")
    if len(value) > limit:
        return value, _("At most %(n)s characters.") % {"n": limit}
    return value, None


def _whole(value):
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _unknown(item, allowed, path, errors):
    if not isinstance(item, dict):
        errors[path] = [_("Each item is an object.")]
        return True
    extra = sorted(set(item) - allowed)
    if extra:
        errors[path] = [_("Unknown fields: %(fields)s.") % {"fields": ", ".join(extra)}]
    return False


def _ref(value, by_name, count):
    """A row or column given by its index in the list (0…) or by its text/name: its index, or None."""
    index = _whole(value)
    if index is not None:
        return index if 0 <= index < count else None
    if isinstance(value, str):
        return by_name.get(" ".join(value.split()))
    return None


def validate_matrix(data):
    """The matrix in `data` checked as a whole: (needs, characteristics, cells, roof) ready to store,
    or InvalidInput with every problem as a field error ("needs[2].weight", "relationships[0].strength").
    needs: [{text, weight 1–5, requirement (record number or CustomerRequirement, optional)}];
    characteristics: [{name, unit, direction, target}]; relationships: [{need, characteristic,
    strength 9|3|1}] and roof: [{first, second, correlation ++|+|-|--}], rows and columns given by
    their index in the lists (from 0) or by their text / name."""
    errors = {}

    def add(path, message):
        errors.setdefault(path, []).append(message)

    if not isinstance(data, dict):
        raise InvalidInput(_("The matrix is an object."), field_errors={"matrix": [_("Required.")]})
    lists = {}
    for key in ("needs", "characteristics", "relationships", "roof"):
        value = data.get(key, [])
        if not isinstance(value, list):
            add(key, _("Enter a list."))
            value = []
        lists[key] = value
    for key in ("needs", "characteristics"):
        if len(lists[key]) > MAX_ROWS:
            add(key, _("At most %(n)s rows.") % {"n": MAX_ROWS})
    if errors:
        raise InvalidInput(_("The matrix is not valid."), field_errors=errors)

    needs, texts = [], {}
    req_numbers = [n.get("requirement") for n in lists["needs"] if isinstance(n, dict) and n.get("requirement")]
    numbers = [r for r in req_numbers if isinstance(r, str)]
    known = {r.record.number: r for r in CustomerRequirement.objects.filter(record__number__in=numbers)
             .select_related("record")}
    for i, item in enumerate(lists["needs"]):
        path = f"needs[{i}]"
        if _unknown(item, NEED_KEYS, path, errors):
            continue
        text, problem = _text(item.get("text"), 300, required=True)
        if problem:
            add(f"{path}.text", problem)
        elif text.casefold() in texts:
            add(f"{path}.text", _("The same need is already row %(n)s.") % {"n": texts[text.casefold()] + 1})
        texts.setdefault(text.casefold(), i)
        weight = _whole(item.get("weight"))
        if weight is None or not 1 <= weight <= 5:
            add(f"{path}.weight", _("Enter a whole number from 1 to 5."))
        requirement = item.get("requirement") or None
        if isinstance(requirement, str):
            requirement = known.get(requirement.strip())
            if requirement is None:
                add(f"{path}.requirement", _("No such customer requirement."))
        elif requirement is not None and not isinstance(requirement, CustomerRequirement):
            add(f"{path}.requirement", _("Enter a requirement number."))
            requirement = None
        if requirement is not None and requirement.status not in APPROVED_REQUIREMENT_STATUSES:
            add(f"{path}.requirement", _("%(number)s is not an approved requirement.") % {
                "number": requirement.record.number})
        needs.append({"text": text, "weight": weight, "requirement": requirement})

    columns, names = [], {}
    for i, item in enumerate(lists["characteristics"]):
        path = f"characteristics[{i}]"
        if _unknown(item, CHARACTERISTIC_KEYS, path, errors):
            continue
        name, problem = _text(item.get("name"), 200, required=True)
        if problem:
            add(f"{path}.name", problem)
        elif name.casefold() in names:
            add(f"{path}.name", _("The same characteristic is already column %(n)s.") % {
                "n": names[name.casefold()] + 1})
        names.setdefault(name.casefold(), i)
        row = {"name": name}
        for key, limit in (("unit", 30), ("target", 60)):
            row[key], problem = _text(item.get(key), limit)
            if problem:
                add(f"{path}.{key}", problem)
        direction = item.get("direction") or ""
        if direction not in ImprovementDirection.values and direction != "":
            add(f"{path}.direction", _("Choose one of: %(choices)s.") % {"choices": ", ".join(ImprovementDirection.values)})
        row["direction"] = direction if isinstance(direction, str) else ""
        columns.append(row)

    need_by = {n["text"]: i for i, n in enumerate(needs) if n["text"]}
    col_by = {c["name"]: i for i, c in enumerate(columns) if c["name"]}
    cells = {}
    for i, item in enumerate(lists["relationships"]):
        path = f"relationships[{i}]"
        if _unknown(item, CELL_KEYS, path, errors):
            continue
        need = _ref(item.get("need"), need_by, len(lists["needs"]))
        col = _ref(item.get("characteristic"), col_by, len(lists["characteristics"]))
        if need is None:
            add(f"{path}.need", _("No such customer need in this house."))
        if col is None:
            add(f"{path}.characteristic", _("No such technical characteristic in this house."))
        strength = _whole(item.get("strength"))
        if strength not in analysis.STRENGTHS:
            add(f"{path}.strength", _("A relationship is 9 (strong), 3 (medium) or 1 (weak)."))
        if need is not None and col is not None:
            if (need, col) in cells:
                add(path, _("This cell is given twice."))
            cells[(need, col)] = strength

    roof = {}
    for i, item in enumerate(lists["roof"]):
        path = f"roof[{i}]"
        if _unknown(item, ROOF_KEYS, path, errors):
            continue
        first = _ref(item.get("first"), col_by, len(lists["characteristics"]))
        second = _ref(item.get("second"), col_by, len(lists["characteristics"]))
        if first is None:
            add(f"{path}.first", _("No such technical characteristic in this house."))
        if second is None:
            add(f"{path}.second", _("No such technical characteristic in this house."))
        if item.get("correlation") not in Correlation.values:
            add(f"{path}.correlation", _("Choose one of: %(choices)s.") % {"choices": ", ".join(Correlation.values)})
        if first is not None and second is not None:
            if first == second:
                add(f"{path}.second", _("A correlation is between two different characteristics."))
            else:
                pair = (min(first, second), max(first, second))
                if pair in roof:
                    add(path, _("This pair is given twice."))
                roof[pair] = item.get("correlation")
    if errors:
        raise InvalidInput(_("The matrix is not valid."), field_errors=errors)
    return needs, columns, cells, roof


def set_matrix(house, *, actor, data):
    """Replace the whole matrix of a draft house in one call (validate_matrix): rows, columns,
    cells and roof. Nothing is stored when anything is wrong. Runs in the caller's transaction."""
    _require_editor(actor)
    house = HouseOfQuality.objects.select_for_update().select_related("record").get(pk=house.pk)
    _require_draft(house)
    needs, columns, cells, roof = validate_matrix(data)
    before = house.record.get_version().data
    house.needs.all().delete()  # cells go with them (CASCADE)
    house.characteristics.all().delete()  # and the roof
    need_rows = [QfdNeed.objects.create(house=house, position=i, text=n["text"], weight=n["weight"],
                                        requirement=n["requirement"]) for i, n in enumerate(needs, start=1)]
    col_rows = [QfdCharacteristic.objects.create(house=house, position=i, **c) for i, c in enumerate(columns, start=1)]
    QfdRelationship.objects.bulk_create([QfdRelationship(need=need_rows[n], characteristic=col_rows[c], strength=s)
                                         for (n, c), s in sorted(cells.items())])
    QfdCorrelation.objects.bulk_create([QfdCorrelation(first=col_rows[a], second=col_rows[b], correlation=k)
                                        for (a, b), k in sorted(roof.items())])
    audit.log("qfd.matrix_set", house, actor=actor, record=house.record,
              old={"needs": len(before.get("needs", [])), "characteristics": len(before.get("characteristics", [])),
                   "relationships": len(before.get("relationships", [])), "roof": len(before.get("roof", []))},
              new={"needs": len(needs), "characteristics": len(columns), "relationships": len(cells),
                   "roof": len(roof)})
    _new_version(house, actor, "matrix changed")
    return house


# --- approve and reopen ------------------------------------------------------------------------------------


def completeness_errors(house):
    """What keeps a house from approval: no rows, no columns, a need no characteristic addresses."""
    errors = {}
    needs = list(house.needs.order_by("position"))
    if not needs:
        errors["needs"] = [_("Add the customer needs.")]
    if not house.characteristics.exists():
        errors["characteristics"] = [_("Add the technical characteristics.")]
    related = set(QfdRelationship.objects.filter(need__house=house).values_list("need_id", flat=True))
    for index, need in enumerate(needs):
        if need.pk not in related:
            errors[f"needs[{index}].text"] = [_("No technical characteristic addresses this need.")]
    return errors


def approve_house(house, *, actor, password, username=None, reason=""):
    """Approve a draft house: the approver re-enters the password (checked and counted first, in
    its own transaction, as every signature is), then — in one transaction — the house becomes
    approved, a version is stored and signed (meaning: approved) and the PDF is queued. Opens its
    own transactions: do not call it inside one (a failed password must stay counted)."""
    role = approver_role(actor)
    if role is None:
        raise NotPermitted(_("Only the Market manager or the Engineering manager approves a house of quality."))
    _require_draft(house)
    problems = completeness_errors(house)
    if problems:
        raise InvalidInput(_("The house of quality is not complete."), field_errors=problems)
    esign.verify_signer(actor, password, username=username, require_username=username is not None)
    from forms.pdf import queue_render  # noqa: PLC0415 — looked up per call: tests stub forms.pdf.queue_render

    with transaction.atomic():
        house = HouseOfQuality.objects.select_for_update().select_related("record").get(pk=house.pk)
        _require_draft(house)
        house.status = HouseStatus.APPROVED
        house.save(update_fields=["status"])
        version = _new_version(house, actor, "house of quality approved", approver=actor.printed_name)
        signature = esign.apply_signature(version, signer=actor, meaning=Meaning.APPROVED, role=role,
                                          reason=reason or "", step=APPROVE_STEP)
        audit.log("qfd.approved", house, actor=actor, record=house.record,
                  new={"version": version.version, "content_hash": version.content_hash,
                       "signature": signature.signature_hash}, reason=reason or "")
        queue_render(version)
    return house


def reopen_house(house, *, actor, reason):
    """Put an approved house back into draft for a new revision: a new version (the approved one
    stays as it was signed), with the reason. Runs in the caller's transaction."""
    _require_editor(actor)
    reason = " ".join(reason.split()) if isinstance(reason, str) else ""
    if not reason:
        raise InvalidInput(_("Give the reason for the new revision."), field_errors={"reason": [_("Required.")]})
    house = HouseOfQuality.objects.select_for_update().select_related("record").get(pk=house.pk)
    if house.status != HouseStatus.APPROVED:
        raise WrongState(_("Only an approved house of quality is reopened."), current_state=house.status)
    house.status = HouseStatus.DRAFT
    house.save(update_fields=["status"])
    audit.log("qfd.reopened", house, actor=actor, record=house.record, old={"status": HouseStatus.APPROVED},
              new={"status": HouseStatus.DRAFT}, reason=reason)
    _new_version(house, actor, "reopened for revision")
    return house
