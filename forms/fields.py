"""Fields every controlled form may use: a yes / no answer, quantities and amounts with their
bounds, and the formset base of line items (P1 order lines, P2 receipts, P3 actions …)."""
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils.functional import lazy
from django.utils.translation import gettext
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


class LineModelChoiceField(forms.ModelChoiceField):
    """A line's choice of a row (a product by its code): BaseLinesFormSet reads the rows all its lines name in one
    query and gives them to each line's field (`known`); a value not among them is looked up as ModelChoiceField
    does (and refused the same way)."""

    known = None

    def to_python(self, value):
        if self.known and isinstance(value, str) and value in self.known:
            return self.known[value]
        return super().to_python(value)


class BaseLinesFormSet(forms.BaseFormSet):
    default_error_messages = {
        **forms.BaseFormSet.default_error_messages,
        "too_few_forms": _("Add at least one line."),
        "too_many_forms": _("At most %(num)d lines."),
    }

    def full_clean(self):
        """Before the lines are validated, the rows their LineModelChoiceFields name are read in one query per
        field, not one per line (an order of 200 lines read its products 200 times)."""
        if self.is_bound:
            for name, field in self.form.base_fields.items():
                if isinstance(field, LineModelChoiceField):
                    self._read_choices(name, field)
        super().full_clean()

    def _read_choices(self, name, field):
        lines = [form for form in self.forms if name in form.fields]
        values = {form[name].data for form in lines}
        values = sorted(v for v in values if isinstance(v, str) and v)
        if not values:
            return
        key = field.to_field_name or "pk"
        try:
            known = {str(getattr(row, key)): row for row in field.queryset.filter(**{f"{key}__in": values})}
        except (ValueError, TypeError, ValidationError):  # a value the key cannot hold: each line refuses its own
            return
        for form in lines:
            form.fields[name].known = known

    def add_fields(self, form, index):
        """Every line's inputs follow the step conventions (apply_widget_conventions) and are
        named for a screen reader by column and line ("quantity, line 2"); the line number of
        the empty template line (`index` None) is filled in by static/qms/formset.js."""
        super().add_fields(form, index)
        apply_widget_conventions(form)
        line = LINE_PLACEHOLDER if index is None else index + 1
        for name, field in form.fields.items():
            if name == "DELETE":
                continue
            column = field.label or name
            field.widget.attrs["aria-label"] = line_label(column, line)
            field.widget.attrs["data-column"] = column


#: the line number of a formset's empty template line, replaced when a line is added
LINE_PLACEHOLDER = "__line__"
#: the value of a date input: an <input type=date> takes and shows YYYY-MM-DD only, whatever the language
ISO_DATE = "%Y-%m-%d"
#: the empty first option of a required choice
CHOOSE = _("— Choose —")


def _line_label(column, line):
    return gettext("%(column)s, line %(line)s") % {"column": column, "line": line}


line_label = lazy(_line_label, str)


def iso_date_input(field):
    """A date field's input shows its value as YYYY-MM-DD. Without a format the widget uses
    the language's (2026/11/30 in zh-Hans), which an <input type=date> cannot read: it stays blank."""
    if isinstance(field, forms.DateField) and isinstance(field.widget, forms.DateInput):
        field.widget.format = ISO_DATE
        field.widget.attrs.setdefault("type", "date")


def explicit_choice(field):
    """A required single choice from a list starts on an empty first option ("— Choose —"):
    the person chooses; nothing that changes the outcome is chosen for them. A field's own
    `initial` still applies. Radio buttons start with none checked unless `initial` says so."""
    widget = field.widget
    if not field.required or not isinstance(field, forms.ChoiceField):
        return
    if getattr(widget, "allow_multiple_selected", False):
        return
    if isinstance(widget, (forms.RadioSelect, forms.HiddenInput)):
        return
    if isinstance(field, forms.ModelChoiceField):
        if field.empty_label is not None:
            field.empty_label = CHOOSE
        return
    choices = list(field.choices)
    if not any(value in ("", None) for value, _label in choices):
        field.choices = [("", CHOOSE)] + choices


def apply_widget_conventions(form):
    """Dates as YYYY-MM-DD, required choices starting empty (see above). Applying twice changes nothing."""
    for field in form.fields.values():
        iso_date_input(field)
        explicit_choice(field)
    return form
