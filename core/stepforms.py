"""StepForm: one Django form class validates a workflow step's input from the
browser (POST with formsets) and from the API (nested JSON), and describes its
fields so an API client can render it."""
from django import forms
from django.http import QueryDict


class StepForm(forms.Form):
    #: name -> formset class, for repeating groups such as line items
    formsets: dict = {}

    def __init__(self, data=None, files=None, *, activation=None, user=None, **kwargs):
        super().__init__(data, files, **kwargs)
        self.activation = activation
        self.user = user
        self.nested = {
            name: formset_class(data, files, prefix=name, initial=self.nested_initial(name))
            for name, formset_class in self.formsets.items()
        }

    def nested_initial(self, name):
        return None

    def is_valid(self):
        valid = super().is_valid()
        for formset in self.nested.values():
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
        return valid and not self.errors

    def clean_step(self):
        """Validation that needs the fields and the nested groups together."""

    def error_dict(self):
        """{field: [messages]} with nested errors as `lines[0].quantity` and form-wide ones as `non_field_errors`."""
        errors = {}
        for field, messages in self.errors.items():
            errors["non_field_errors" if field == "__all__" else field] = [str(m) for m in messages]
        for name, formset in self.nested.items():
            if not formset.is_bound:
                continue
            for index, form_errors in enumerate(formset.errors):
                for field, messages in form_errors.items():
                    key = f"{name}[{index}]" if field == "__all__" else f"{name}[{index}].{field}"
                    errors[key] = [str(m) for m in messages]
            if formset.non_form_errors():
                errors[name] = [str(m) for m in formset.non_form_errors()]
        return errors

    @classmethod
    def from_api(cls, data, files=None, **kwargs):
        """Build the bound form from nested JSON (`{"lines": [{...}, ...]}`)."""
        if not isinstance(data, dict):
            data = {}
        flat = QueryDict(mutable=True)
        for key, value in data.items():
            if key in cls.formsets:
                items = value if isinstance(value, list) else []
                flat[f"{key}-TOTAL_FORMS"] = str(len(items))
                flat[f"{key}-INITIAL_FORMS"] = "0"
                for index, item in enumerate(items):
                    for sub_key, sub_value in (item or {}).items() if isinstance(item, dict) else []:
                        if sub_value is not None:
                            flat[f"{key}-{index}-{sub_key}"] = _as_text(sub_value)
            elif isinstance(value, list):
                flat.setlist(key, [_as_text(v) for v in value])
            elif value is not None:
                flat[key] = _as_text(value)
        for key in cls.formsets:
            if f"{key}-TOTAL_FORMS" not in flat:
                flat[f"{key}-TOTAL_FORMS"] = "0"
                flat[f"{key}-INITIAL_FORMS"] = "0"
        return cls(flat, files, **kwargs)

    @classmethod
    def describe(cls, **kwargs):
        form = cls(**kwargs)
        fields = [_describe_field(name, field) for name, field in form.fields.items()]
        for name, formset_class in cls.formsets.items():
            item_form = formset_class.form()
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
    if hasattr(field, "choices"):
        description["choices"] = [
            {"value": str(value.value if hasattr(value, "value") else value), "label": str(label)}
            for value, label in field.choices if value not in ("", None)
        ]
    return description
