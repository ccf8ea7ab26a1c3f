"""Django forms of the management-review steps. Input shape here; business rules in actions.py."""
from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from forms.fields import BaseLinesFormSet
from forms.stepforms import StepForm

from . import actions


def _date(label, **kwargs):
    return forms.DateField(label=label, widget=forms.DateInput(attrs={"type": "date"}), **kwargs)


def _text(label, required=True, rows=3):
    return forms.CharField(label=label, required=required, widget=forms.Textarea(attrs={"rows": rows}))


class PeriodForm(StepForm):
    """Compile the input pack of a period now (Quality manager)."""

    period_start = _date(_("period start"))
    period_end = _date(_("period end"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        start, end = actions.previous_period()
        self.fields["period_start"].initial, self.fields["period_end"].initial = start, end

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("period_start"), cleaned.get("period_end")
        if start and end and end < start:
            self.add_error("period_end", _("Must not be before the start."))
        if start and start > timezone.localdate():
            self.add_error("period_start", _("The period may not start in the future."))
        return cleaned


class SignForm(StepForm):
    """A signature on the pack (Quality manager, then General Manager)."""

    comment = _text(_("comment"), required=False, rows=2)


class UserField(forms.ModelChoiceField):
    """A real user, chosen by username (API) or from the list (browser)."""

    def __init__(self, **kwargs):
        super().__init__(queryset=User.objects.filter(is_active=True).order_by("username"), to_field_name="username",
                         **kwargs)

    def label_from_instance(self, user):
        return f"{user.printed_name} ({user.username})"


class DecisionLineForm(forms.Form):
    description = forms.CharField(label=_("action"), max_length=500)
    owner = UserField(label=_("owner"))
    due_date = _date(_("due date"))

    def clean_due_date(self):
        value = self.cleaned_data["due_date"]
        if value < timezone.localdate():
            raise forms.ValidationError(_("The due date may not be in the past."))
        return value


DecisionFormSet = forms.formset_factory(DecisionLineForm, formset=BaseLinesFormSet, extra=0, min_num=0,
                                        max_num=actions.MAX_ACTIONS, validate_max=True)


class DecisionsForm(StepForm):
    """9.3.3: the review's conclusions and the actions it decided, each with an owner and a due date."""

    formsets = {"actions": DecisionFormSet}
    formset_legends = {"actions": _("Actions decided")}

    conclusions = _text(_("conclusions of the review"))


class ActionDoneForm(StepForm):
    """The owner marks a review action done."""

    note = _text(_("what was done"))
