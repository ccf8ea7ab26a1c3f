"""What a grant may say, checked the same way by the grants page (evidence.forms) and the API
(evidence.api) before evidence.grants records it: the record types are registered ones
(core.registry, shown by their titles), the window and the date range run forwards, and the
grantee is a separate account — not an administrator, not a department member (an auditor is
read-only everywhere, so a member made auditor could no longer do their work)."""
from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _

from core import registry
from core.choices import in_language


def record_type_title(code):
    """A record type's title in the reader's language; an unknown code as it is."""
    try:
        record_type = registry.get(code)
    except KeyError:
        return code
    return in_language(record_type.title_zh, record_type.title_en)


def record_type_choices():
    """(code, title) of every registered record type, by title."""
    return sorted(((rt.code, record_type_title(rt.code)) for rt in registry.all_types()), key=lambda c: str(c[1]))


def unknown_record_types(codes):
    known = {rt.code for rt in registry.all_types()}
    return [code for code in codes if code not in known]


def unknown_record_types_message(unknown):
    return _("Unknown record type: %(codes)s. Choose from the registered record types.") % {
        "codes": ", ".join(unknown)}


def eligible_grantees():
    """Accounts that may be made auditors: active, able to sign in, no administrator, no department member."""
    return (get_user_model().objects.filter(is_active=True, is_superuser=False, memberships__isnull=True)
            .exclude(password__startswith="!").order_by("username"))


def grantee_problem(user):
    """Why `user` may not be made an auditor, or None."""
    if user.is_superuser:
        return _("%(name)s is an administrator: an administrator cannot be an auditor.") % {"name": user.printed_name}
    if user.memberships.exists():
        return _("%(name)s is a department member: an auditor is read-only everywhere, so grant access to a "
                 "separate account.") % {"name": user.printed_name}
    if not user.is_active or not user.has_usable_password():
        return _("%(name)s cannot sign in.") % {"name": user.printed_name}
    return None


def window_errors(valid_from=None, valid_until=None, date_from=None, date_to=None):
    """{field: [message]} for a window or a date range that runs backwards."""
    errors = {}
    if valid_from and valid_until and valid_until <= valid_from:
        errors["valid_until"] = [_("Must be later than the start of access.")]
    if date_from and date_to and date_to < date_from:
        errors["date_to"] = [_("Must not be before the first creation date.")]
    return errors
