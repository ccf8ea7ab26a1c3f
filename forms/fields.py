"""Fields every controlled form may use: a yes / no answer, quantities and amounts with their
bounds, and the formset base of line items (P1 order lines, P2 receipts, P3 actions …)."""
from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _


class YesNoField(forms.TypedChoiceField):
    """A required yes / no answer (radio buttons in the browser; "yes"/"no" or true/false in the API)."""

    def __init__(self, *, yes=_("Yes"), no=_("No"), **kwargs):
        kwargs.setdefault("widget", forms.RadioSelect)
        super().__init__(choices=[("yes", yes), ("no", no)], coerce=lambda v: v == "yes", empty_value=None,
                         **kwargs)

    def to_python(self, value):
        value = {"true": "yes", "false": "no", True: "yes", False: "no"}.get(value, value)
        return super().to_python(value)


def quantity_field(label, *, required=True, allow_zero=False, **kwargs):
    return forms.DecimalField(
        label=label, required=required, max_digits=12, decimal_places=3,
        min_value=Decimal("0") if allow_zero else Decimal("0.001"),
        error_messages={"min_value": _("Must not be negative.") if allow_zero else _("Must be greater than 0.")},
        **kwargs)


def amount_field(label, **kwargs):
    return forms.DecimalField(label=label, required=False, max_digits=12, decimal_places=2, min_value=Decimal("0"),
                              error_messages={"min_value": _("Must not be negative.")}, **kwargs)


class BaseLinesFormSet(forms.BaseFormSet):
    default_error_messages = {
        **forms.BaseFormSet.default_error_messages,
        "too_few_forms": _("Add at least one line."),
        "too_many_forms": _("At most %(num)d lines."),
    }
