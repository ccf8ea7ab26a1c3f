"""The engine's REST layer every procedure uses: the start endpoint of a StartStep node and
the signature payload of a start or a completion. Thin adapters over workflows.steps, the
same actions the browser calls; a procedure's api.py subclasses StartProcessView with its
node and its schema."""
from drf_spectacular.utils import inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from core.models import Record
from core.rest.base import APIView, json_object
from core.rest.serializers import StrictMixin

from . import actions


class SignatureInputSerializer(StrictMixin, serializers.Serializer):
    username = serializers.CharField(required=False, help_text="Your user ID (21 CFR 11.200: required with the password)")
    password = serializers.CharField(write_only=True, style={"input_type": "password"})
    meaning = serializers.CharField()
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class CompleteTaskSerializer(StrictMixin, serializers.Serializer):
    data = serializers.DictField(default=dict)
    signature = SignatureInputSerializer(required=False)


def signature_input(payload):
    """The `signature` object of a start or a completion, checked (an object with the
    signature's fields, each a string), or None when none was sent. Over the API the user ID
    is always re-entered with the password (21 CFR 11.200: signing outside a session)."""
    if payload in (None, {}):
        return None
    checked = SignatureInputSerializer(data=payload)
    if not checked.is_valid():
        raise ValidationError({"signature": checked.errors})
    payload = checked.validated_data
    return actions.SignatureInput(password=payload.get("password", ""), meaning=payload.get("meaning", ""),
                                reason=payload.get("reason", ""), username=payload.get("username") or "",
                                require_username=True)


STARTED = inline_serializer("ProcessStarted", {"process": serializers.IntegerField(),
                                               "record": serializers.CharField()})


class StartProcessView(APIView):
    """Starts a process at a StartStep node; the body is the step's form data (JSON, or
    multipart with the JSON in a `payload` part and files beside it), plus `signature`
    where the start step signs. Answers 201 {"process", "record"}."""

    node = None

    def post(self, request):
        data, files = json_object(request)
        signature = signature_input(data.pop("signature", None))
        form = self.node.make_form(data=data, files=files, api=True, user=request.user)
        process = actions.start_process(self.node, actor=request.user, form=form, signature_input=signature)
        record = Record.objects.filter(process=process).order_by("id").first()
        return Response({"process": process.pk, "record": record.number if record else None},
                        status=status.HTTP_201_CREATED)
