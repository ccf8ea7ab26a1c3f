"""REST API for absences and delegation (`/api/me/delegations/`) and a manager's task
reassignment (`/api/tasks/{id}/reassign/`): thin adapters over inbox.delegation."""
from django.db.models import Q
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from viewflow.workflow.models import Task

from accounts.models import User
from core.registry import flows

from core.rest import params
from core.rest.base import APIView, json_object
from core.rest.keyset import PAGE_PARAMETERS, Key, Keyset
from core.rest.serializers import StrictMixin

from . import delegation as service
from .models import Delegation
from .serializers import TaskSerializer


class DelegationSerializer(StrictMixin, serializers.ModelSerializer):
    delegator = serializers.CharField(source="delegator.username", read_only=True)
    delegator_name = serializers.CharField(source="delegator.printed_name", read_only=True)
    substitute = serializers.SlugRelatedField(slug_field="username", queryset=User.objects.all(),
                                              help_text="username of the substitute")
    substitute_name = serializers.CharField(source="substitute.printed_name", read_only=True)
    created_by = serializers.CharField(source="created_by.username", read_only=True)
    cancelled_by = serializers.CharField(source="cancelled_by.username", read_only=True, default=None)
    state = serializers.SerializerMethodField()

    class Meta:
        model = Delegation
        fields = ["id", "delegator", "delegator_name", "substitute", "substitute_name", "starts_on", "ends_on",
                  "reason", "state", "created_by", "created_at", "cancelled_at", "cancelled_by", "cancel_reason"]
        read_only_fields = ["created_at", "cancelled_at", "cancel_reason"]
        extra_kwargs = {"starts_on": {"help_text": "first day of the absence (company time zone)"},
                        "ends_on": {"help_text": "last day of the absence, inclusive"}}

    @extend_schema_field(serializers.ChoiceField(choices=list(service.STATE_LABELS)))
    def get_state(self, delegation):
        return service.state_of(delegation)


#: a person's absences, newest first
DELEGATION_ORDER = Keyset("delegations", [Key("starts_on", descending=True), Key("pk", descending=True)])


class MyDelegationsView(APIView):
    """My absences and those in which I am the substitute; record a new absence."""

    @extend_schema(parameters=PAGE_PARAMETERS, responses=inline_serializer("DelegationPage", {
        "count": serializers.IntegerField(), "next": serializers.URLField(allow_null=True),
        "results": DelegationSerializer(many=True)}))
    def get(self, request):
        """Newest first, a page at a time (`next` until the last page)."""
        rows = (Delegation.objects.filter(Q(delegator=request.user) | Q(substitute=request.user))
                .select_related("delegator", "substitute", "created_by", "cancelled_by"))
        page = DELEGATION_ORDER.page(rows, request)
        return Response(page.body(DelegationSerializer(page.rows, many=True).data))

    @extend_schema(request=DelegationSerializer, responses={201: DelegationSerializer})
    def post(self, request):
        payload = DelegationSerializer(data=json_object(request, allow_multipart=False)[0])
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        delegation = service.create_delegation(delegator=request.user, substitute=data["substitute"],
                                               starts_on=data["starts_on"], ends_on=data["ends_on"],
                                               reason=data.get("reason", ""), actor=request.user)
        return Response(DelegationSerializer(delegation).data, status=status.HTTP_201_CREATED)


class MyDelegationView(APIView):
    """Cancel one of my absences (audited): it ends now, or never starts."""

    @extend_schema(parameters=[OpenApiParameter("reason", OpenApiTypes.STR, description="why (optional)")],
                   request=None, responses=DelegationSerializer)
    def delete(self, request, pk):
        delegation = service.delegations_visible_to(request.user).filter(pk=pk).first()
        if delegation is None:
            raise Http404("No such absence")
        body = request.data if isinstance(request.data, dict) else {}
        reason = params.text(request.query_params, "reason", max_length=300) or body.get("reason") or ""
        if not isinstance(reason, str) or len(reason) > 300:
            raise ValidationError({"reason": [_("A reason is text of at most %(n)s characters.") % {"n": 300}]})
        delegation = service.cancel_delegation(delegation, actor=request.user, reason=reason)
        return Response(DelegationSerializer(delegation).data)


class ReassignSerializer(StrictMixin, serializers.Serializer):
    user = serializers.CharField(help_text="username of the new owner")
    reason = serializers.CharField(allow_blank=True, help_text="why (mandatory)")


class ReassignTaskView(APIView):
    """A manager of the task's department (or an administrator) gives an open task to
    someone who may act on it, with a reason (audited; the new owner is notified)."""

    @extend_schema(request=ReassignSerializer, responses=TaskSerializer)
    def post(self, request, pk):
        task = Task.objects.select_related("process", "owner").filter(pk=pk).first()
        if task is None or task.process.flow_class not in flows() or not hasattr(task.flow_task, "form_class"):
            raise Http404("No such task")
        payload = ReassignSerializer(data=json_object(request, allow_multipart=False)[0])
        payload.is_valid(raise_exception=True)
        new_owner = User.objects.filter(username=payload.validated_data["user"]).first()
        service.reassign_task(task, actor=request.user, new_owner=new_owner,
                              reason=payload.validated_data["reason"])
        return Response(TaskSerializer(task).data)
