"""The grants page's forms: grant, change the window or scope, revoke, end the role. Each asks for
the reason that goes into the audit trail; the rules are evidence.grant_rules', the writes
evidence.grants'."""
import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import grant_rules
from .models import AuditorGrant

LOCAL_MINUTE = "%Y-%m-%dT%H:%M"


class LocalDateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs, format=LOCAL_MINUTE)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.printed_name} ({obj.get_username()})"


class ScopeFields(forms.Form):
    """The window and the scope of a grant (evidence.grants.SCOPE_FIELDS) and the reason."""

    valid_from = forms.DateTimeField(label=_("access from"), widget=LocalDateTimeInput(),
                                     input_formats=[LOCAL_MINUTE, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"])
    valid_until = forms.DateTimeField(label=_("access until"), required=False, widget=LocalDateTimeInput(),
                                      input_formats=[LOCAL_MINUTE, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
                                      help_text=_("Empty: until revoked."))
    record_types = forms.MultipleChoiceField(
        label=_("record types"), required=False, choices=grant_rules.record_type_choices,
        widget=forms.CheckboxSelectMultiple, help_text=_("None ticked: every record type."),
        error_messages={"invalid_choice": _("Unknown record type: %(value)s. Choose from the registered record "
                                            "types.")})
    date_from = forms.DateField(label=_("records created from"), required=False, widget=DateInput())
    date_to = forms.DateField(label=_("records created until"), required=False, widget=DateInput())
    reason = forms.CharField(label=_("reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}),
                             help_text=_("It goes into the audit trail."))

    def clean(self):
        cleaned = super().clean()
        for field, messages in grant_rules.window_errors(
                cleaned.get("valid_from"), cleaned.get("valid_until"), cleaned.get("date_from"),
                cleaned.get("date_to")).items():
            for message in messages:
                self.add_error(field, message)
        return cleaned

    def scope(self):
        """The cleaned window and scope, as evidence.grants takes them."""
        data = self.cleaned_data
        return {"valid_from": data["valid_from"], "valid_until": data.get("valid_until"),
                "record_types": list(data.get("record_types") or []), "date_from": data.get("date_from"),
                "date_to": data.get("date_to")}


class GrantForm(ScopeFields):
    user = UserChoiceField(label=_("auditor"), queryset=grant_rules.eligible_grantees(),
                           help_text=_("An account without a department membership; create it in the user "
                                       "administration first."))
    field_order = ["user", "valid_from", "valid_until", "record_types", "date_from", "date_to", "reason"]

    def __init__(self, *args, **kwargs):
        now = timezone.localtime().replace(second=0, microsecond=0)
        kwargs.setdefault("initial", {"valid_from": now, "valid_until": now + datetime.timedelta(days=14)})
        super().__init__(*args, **kwargs)
        self.fields["reason"].label = _("reason for the grant")


class ChangeGrantForm(ScopeFields):
    """The grant's current window and scope, changed with a reason; only changed fields are written."""

    def __init__(self, grant: AuditorGrant, *args, **kwargs):
        kwargs.setdefault("initial", {
            "valid_from": timezone.localtime(grant.valid_from).replace(second=0, microsecond=0),
            "valid_until": grant.valid_until and timezone.localtime(grant.valid_until).replace(second=0, microsecond=0),
            "record_types": grant.record_types, "date_from": grant.date_from, "date_to": grant.date_to})
        super().__init__(*args, **kwargs)
        self.grant = grant
        self.fields["reason"].label = _("reason for this change")

    def changes(self):
        """The scope fields whose value differs from the grant's (minutes: the page shows no seconds)."""
        changed = {}
        for field, value in self.scope().items():
            current = getattr(self.grant, field)
            if field in ("valid_from", "valid_until") and current is not None:
                current = current.replace(second=0, microsecond=0)
            if field == "record_types":
                same = sorted(value) == sorted(current or [])
            else:
                same = value == current
            if not same:
                changed[field] = value
        return changed


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}),
                             help_text=_("It goes into the audit trail."))
