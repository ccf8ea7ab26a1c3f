"""Serializer bases every API input shares (core.bounds): a field the endpoint does not take is
a 400 naming it, free text and dates keep the bounds of the step forms."""
from django.core.validators import MaxLengthValidator
from drf_spectacular.utils import inline_serializer
from rest_framework import serializers

from core.bounds import TEXT_MAX_LENGTH, BusinessDateValidator, unknown_field_errors


class StrictMixin:
    """For every input serializer of the API, the bounds the step forms have
    (core.bounds): a field it does not take is a 400 naming it (not silently
    ignored), free text is at most TEXT_MAX_LENGTH characters unless the field says
    otherwise, and a date is a business date."""

    def get_fields(self):
        fields = super().get_fields()
        for field in fields.values():
            if field.read_only:
                continue
            if isinstance(field, serializers.CharField) and field.max_length is None:
                field.max_length = TEXT_MAX_LENGTH
                field.validators.append(MaxLengthValidator(TEXT_MAX_LENGTH))
            elif isinstance(field, serializers.DateField) and not isinstance(field, serializers.DateTimeField):
                field.validators.append(BusinessDateValidator())
        return fields

    def to_internal_value(self, data):
        if isinstance(data, dict) or hasattr(data, "keys"):
            writable = {name for name, field in self.fields.items() if not field.read_only}
            errors = unknown_field_errors(data, writable)
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


def paged(name, serializer):
    """The OpenAPI shape of a page of DRF's PageNumberPagination whose rows are `serializer`'s: count (all rows that
    match), next and previous (addresses of the neighbouring pages, or null) and results."""
    return inline_serializer(name, {
        "count": serializers.IntegerField(), "next": serializers.URLField(allow_null=True),
        "previous": serializers.URLField(allow_null=True), "results": serializer(many=True)})
