"""StepForm: one Django form class validates a workflow step's input from the
browser (POST with formsets) and from the API (nested JSON), and describes its
fields so an API client can render it.

Every step form, and every item form of its line groups, gets the same input bounds
here (apply_input_bounds): a business date lies between QMS["EARLIEST_DATE"]
(2000-01-01) and today + QMS["MAX_FUTURE_YEARS"] (5) years, free text is at most
TEXT_MAX_LENGTH characters unless the field sets its own max_length, whole numbers fit
a database integer, and a NUL character is refused before any field looks at it. From
the API, a field the step does not have is refused by name (from_api)."""

from django import forms
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

#: free text of a step (a Textarea without max_length): at most this many characters

from core.bounds import (
    INTEGER_MAX, INTEGER_MIN, NULL_CHARACTER_MESSAGE, TEXT_MAX_LENGTH, BusinessDateValidator, earliest_business_date,
    latest_business_date, unknown_field_errors,
)
from core.rest.base import reject_unknown
from forms.fields import apply_widget_conventions


def apply_input_bounds(form):
    """Give `form`'s fields the bounds every step shares (see the module docstring).
    A field's own, stricter bounds stay; applying twice changes nothing."""
    for field in form.fields.values():
        if isinstance(field, (forms.DateField, forms.DateTimeField)):
            if not any(isinstance(v, BusinessDateValidator) for v in field.validators):
                field.validators.append(BusinessDateValidator())
        elif isinstance(field, forms.CharField) and field.max_length is None:
            field.max_length = TEXT_MAX_LENGTH
            field.validators.append(MaxLengthValidator(TEXT_MAX_LENGTH))
            field.widget.attrs.setdefault("maxlength", str(TEXT_MAX_LENGTH))
        elif isinstance(field, forms.IntegerField):
            if field.max_value is None:
                field.max_value = INTEGER_MAX
                field.validators.append(MaxValueValidator(INTEGER_MAX))
            if field.min_value is None:
                field.min_value = INTEGER_MIN
                field.validators.append(MinValueValidator(INTEGER_MIN))
    return form


def _without_nul(data):
    """(data with NUL characters removed, the keys that had one). A NUL never reaches a
    field: PostgreSQL can neither store nor compare it, so even a lookup by it would fail."""
    values = {key: data.getlist(key) if isinstance(data, QueryDict) else [data[key]] for key in data}
    keys = [key for key, items in values.items() if any(isinstance(v, str) and "\x00" in v for v in items)]
    if not keys:
        return data, []
    data = data.copy()
    for key in keys:
        cleaned = [v.replace("\x00", "") if isinstance(v, str) else v for v in values[key]]
        if isinstance(data, QueryDict):
            data.setlist(key, cleaned)
        else:
            data[key] = cleaned[0]
    return data, keys


def _error_key(key, formsets):
    """A POST key ("lines-0-product") as the API names it ("lines[0].product")."""
    for name in formsets:
        if key.startswith(f"{name}-"):
            index, _sep, field = key[len(name) + 1:].partition("-")
            if index.isdigit() and field:
                return f"{name}[{index}].{field}"
    return key


def form_errors(form, *, form_wide="__all__"):
    """{field: [messages]} of a form's own errors (not of nested formsets); the form-wide ones under `form_wide`."""
    return {form_wide if field == "__all__" else field: [str(m) for m in messages]
            for field, messages in form.errors.items()}


def position_pairs(value, errors, *, field, key, first, second, repeated):
    """An API's list [{key: position, first: …, second: …}, …] (a questionnaire's answers or scores, one item a
    question) → {position: (first, second)}; an item that is not so is named in `errors` (field, field.N or
    field.N.key), a name that is none of the three is refused (400); `repeated` is the message of a position
    given twice."""
    names = f"{{{key}, {first}, {second}}}"
    if not isinstance(value, list):
        errors[field] = [f"A list of {names}."]
        return {}
    out = {}
    for n, item in enumerate(value, start=1):
        if not isinstance(item, dict):
            errors[f"{field}.{n}"] = [f"An object {names}."]
            continue
        reject_unknown(item, {key, first, second}, prefix=f"{field}.{n}.")
        position = item.get(key)
        if not isinstance(position, int) or isinstance(position, bool):
            errors[f"{field}.{n}.{key}"] = [f"The {key}'s position, a whole number."]
            continue
        if position in out:
            errors[f"{field}.{n}.{key}"] = [repeated]
            continue
        out[position] = (item.get(first), item.get(second))
    return out


class StepForm(forms.Form):
    #: name -> formset class, for repeating groups such as line items
    formsets: dict = {}
    #: name -> the heading of its group of line items on the page (default "Line items")
    formset_legends: dict = {}
    #: the sections of a long form: ((heading, (field name, ...)), ...), in page order; fields
    #: named in no section follow in a last section without a heading
    sections: tuple = ()

    def __init__(self, data=None, files=None, *, activation=None, user=None, **kwargs):
        #: {field: [messages]} found before the fields validate (a NUL character, an unknown field)
        self.input_errors = {}
        if data is not None:
            data, nul_keys = _without_nul(data)
            for key in nul_keys:
                self.input_errors[_error_key(key, self.formsets)] = [str(NULL_CHARACTER_MESSAGE)]
        super().__init__(data, files, **kwargs)
        apply_input_bounds(self)
        apply_widget_conventions(self)
        self.activation = activation
        self.user = user
        self.nested = {
            name: formset_class(data, files, prefix=name, initial=self.nested_initial(name))
            for name, formset_class in self.formsets.items()
        }

    def nested_initial(self, name):
        return None

    def fieldsets(self):
        """[(heading or None, [bound fields])] in page order, from `sections`."""
        apply_widget_conventions(self)  # again: a subclass may change fields after StepForm.__init__
        placed, groups = set(), []
        for heading, names in self.sections:
            fields = [self[name] for name in names if name in self.fields]
            placed.update(names)
            if fields:
                groups.append((heading, fields))
        rest = [self[name] for name in self.fields if name not in placed]
        if rest:
            groups.append((None, rest))
        return groups

    def formset_groups(self):
        """[(formset, heading)] of the line-item groups, in page order."""
        return [(formset, self.formset_legends.get(name) or _("Line items")) for name, formset in self.nested.items()]

    def is_valid(self):
        apply_input_bounds(self)  # again: a subclass may add fields after StepForm.__init__
        valid = super().is_valid()
        for formset in self.nested.values():
            for item_form in formset.forms:
                apply_input_bounds(item_form)
            valid = formset.is_valid() and valid
        if valid:
            for name, formset in self.nested.items():
                self.cleaned_data[name] = [
                    f.cleaned_data for f in formset.forms
                    if f.cleaned_data and not f.cleaned_data.get("DELETE")
                ]
            try:
                self.clean_step()
            except forms.ValidationError as error:
                self.add_error(None, error)
                valid = False
        return valid and not self.errors and not self.input_errors

    def clean_step(self):
        """Validation that needs the fields and the nested groups together."""

    def error_dict(self):
        """{field: [messages]} with nested errors as `lines[0].quantity` and form-wide ones as `non_field_errors`."""
        errors = form_errors(self, form_wide="non_field_errors")
        for name, formset in self.nested.items():
            if not formset.is_bound:
                continue
            for index, item_errors in enumerate(formset.errors):
                for field, messages in item_errors.items():
                    key = f"{name}[{index}]" if field == "__all__" else f"{name}[{index}].{field}"
                    errors[key] = [str(m) for m in messages]
            if formset.non_form_errors():
                errors[name] = [str(m) for m in formset.non_form_errors()]
        for key, messages in self.input_errors.items():
            errors[key] = messages + [m for m in errors.get(key, []) if m not in messages]
        return errors

    @classmethod
    def from_api(cls, data, files=None, **kwargs):
        """Build the bound form from nested JSON (`{"lines": [{...}, ...]}`). A field the
        step does not have, an object where a value belongs, a list for a single-value
        field or a line item that is not an object is an error naming the field."""
        if not isinstance(data, dict):
            data = {}
        shape_errors = {}
        flat = QueryDict(mutable=True)
        for key, value in data.items():
            if key in cls.formsets:
                if not isinstance(value, list):
                    shape_errors[key] = [str(_("Expected a list of line items."))]
                    value = []
                flat[f"{key}-TOTAL_FORMS"] = str(len(value))
                flat[f"{key}-INITIAL_FORMS"] = "0"
                for index, item in enumerate(value):
                    if not isinstance(item, dict):
                        shape_errors[f"{key}[{index}]"] = [str(_("Expected an object."))]
                        continue
                    for sub_key, sub_value in item.items():
                        if isinstance(sub_value, (dict, list)):
                            shape_errors[f"{key}[{index}].{sub_key}"] = [str(_("Expected a single value."))]
                        elif sub_value is not None:
                            flat[f"{key}-{index}-{sub_key}"] = _as_text(sub_value)
            elif isinstance(value, dict):
                shape_errors[key] = [str(_("Expected a single value, not an object."))]
            elif isinstance(value, list):
                if any(isinstance(v, (dict, list)) for v in value):
                    shape_errors[key] = [str(_("Expected a list of values."))]
                else:
                    flat.setlist(key, [_as_text(v) for v in value if v is not None])
            elif value is not None:
                flat[key] = _as_text(value)
        for key in cls.formsets:
            if f"{key}-TOTAL_FORMS" not in flat:
                flat[f"{key}-TOTAL_FORMS"] = "0"
                flat[f"{key}-INITIAL_FORMS"] = "0"
        form = cls(flat, files, **kwargs)
        form.input_errors.update(form._api_shape_errors(data, files))
        form.input_errors.update(shape_errors)
        return form

    def _api_shape_errors(self, data, files):
        """Unknown fields, and lists sent to single-value fields, of an API payload."""
        errors = unknown_field_errors(data, set(self.fields) | set(self.formsets))
        errors.update(unknown_field_errors(files or {}, set(self.fields)))
        for key, value in data.items():
            field = self.fields.get(key)
            if field is not None and isinstance(value, list) and not getattr(field.widget, "allow_multiple_selected",
                                                                             False):
                errors[key] = [str(_("Expected a single value, not a list."))]
        for name, formset in self.nested.items():
            known = set(formset.empty_form.fields)
            items = data.get(name)
            for index, item in enumerate(items if isinstance(items, list) else []):
                if isinstance(item, dict):
                    errors.update(unknown_field_errors(item, known, prefix=f"{name}[{index}]."))
        return errors

    @classmethod
    def describe(cls, **kwargs):
        form = cls(**kwargs)
        fields = [_describe_field(name, field) for name, field in form.fields.items()]
        for name, formset_class in cls.formsets.items():
            item_form = apply_input_bounds(formset_class.form())
            fields.append({
                "name": name, "type": "list", "required": bool(getattr(formset_class, "min_num", 0)),
                "min": getattr(formset_class, "min_num", 0), "max": getattr(formset_class, "max_num", None),
                "items": [_describe_field(n, f) for n, f in item_form.fields.items() if n != "DELETE"],
            })
        return fields


def _as_text(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


_TYPES = [
    (forms.BooleanField, "boolean"), (forms.NullBooleanField, "boolean"), (forms.DateTimeField, "datetime"),
    (forms.DateField, "date"), (forms.DecimalField, "decimal"), (forms.IntegerField, "integer"),
    (forms.ImageField, "image"), (forms.FileField, "file"), (forms.ModelMultipleChoiceField, "multiple_choice"),
    (forms.MultipleChoiceField, "multiple_choice"), (forms.ModelChoiceField, "choice"),
    (forms.ChoiceField, "choice"), (forms.CharField, "string"),
]


def _describe_field(name, field):
    kind = next((label for cls, label in _TYPES if isinstance(field, cls)), "string")
    if kind == "string" and isinstance(field.widget, forms.Textarea):
        kind = "text"
    description = {"name": name, "type": kind, "required": field.required, "label": str(field.label or name)}
    if field.help_text:
        description["help_text"] = str(field.help_text)
    if getattr(field, "max_length", None):
        description["max_length"] = field.max_length
    if kind == "date":
        description["earliest"], description["latest"] = (earliest_business_date().isoformat(),
                                                           latest_business_date().isoformat())
    if hasattr(field, "choices"):
        description["choices"] = [
            {"value": str(value.value if hasattr(value, "value") else value), "label": str(label)}
            for value, label in field.choices if value not in ("", None)
        ]
    return description
