"""REST API for task drafts (`/api/tasks/{id}/draft/`): a thin adapter over
inbox/drafts.py. GET reads your draft, PUT saves it (no validation, no action, no
signature), DELETE discards it. Only the person the task is assigned to has a draft
(403 for anyone else); a finished task's draft can no longer be changed (409)."""
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from viewflow.workflow.models import Task

from core.errors import NotPermitted
from inbox import drafts
from core.registry import flows

from core.rest.base import APIView, json_object

DraftBody = inline_serializer("TaskDraftBody", {
    "data": serializers.DictField(help_text="the step's fields as /complete/ takes them (formsets as lists of "
                                            "items); files are not kept")})
DraftOut = inline_serializer("TaskDraft", {
    "task": serializers.IntegerField(), "data": serializers.DictField(),
    "created": serializers.DateTimeField(), "updated": serializers.DateTimeField()})


def _task(pk):
    task = Task.objects.select_related("process", "owner").filter(pk=pk).first()
    if task is None or task.process.flow_class not in flows():
        raise Http404("No such task")
    return task


def _body(draft):
    return {"task": draft.task_id, "data": draft.data, "created": draft.created, "updated": draft.updated}


class TaskDraftView(APIView):
    @extend_schema(responses=DraftOut)
    def get(self, request, pk):
        task = _task(pk)
        if task.owner_id != request.user.pk:
            raise NotPermitted(_("Only the person this task is assigned to keeps a draft of it."))
        draft = drafts.load_draft(task, request.user)
        if draft is None:
            raise Http404("No draft saved for this task.")
        return Response(_body(draft))

    @extend_schema(request=DraftBody, responses=DraftOut)
    def put(self, request, pk):
        task = _task(pk)
        payload, _files = json_object(request, allow_multipart=False)
        data = payload.get("data", payload)
        draft = drafts.save_draft(task, actor=request.user, data=data)
        return Response(_body(draft))

    @extend_schema(request=None, responses={204: None})
    def delete(self, request, pk):
        task = _task(pk)
        if not drafts.discard_draft(task, actor=request.user):
            raise Http404("No draft saved for this task.")
        return Response(status=204)
