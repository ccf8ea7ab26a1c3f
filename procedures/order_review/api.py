"""P1 over the REST API: start an order / contract review and a change to an approved one.
The steps themselves run through /api/tasks/ (api/views.py), like every procedure's."""
from django.urls import path
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers

from workflows.rest import STARTED, SignatureInputSerializer, StartProcessView

from .flows import OrderReviewFlow


class OrderReviewStartView(StartProcessView):
    node = OrderReviewFlow.start

    @extend_schema(
        summary="Start an order / contract review (P1.1)",
        request=inline_serializer("OrderReviewStart", {
            "kind": serializers.ChoiceField(choices=["order", "contract"]), "customer": serializers.CharField(),
            "order_number": serializers.CharField(), "order_date": serializers.DateField(),
            "lines": serializers.ListField(child=serializers.DictField()),
        }),
        responses={201: STARTED},
    )
    def post(self, request):
        return super().post(request)


class OrderChangeStartView(StartProcessView):
    node = OrderReviewFlow.start_change

    @extend_schema(
        summary="Change an approved order / contract: contract change notice (P1.6)",
        request=inline_serializer("OrderChangeStart", {
            "order": serializers.CharField(help_text="record number of the approved order review"),
            "category": serializers.CharField(), "reason": serializers.CharField(),
            "affected_departments": serializers.ListField(child=serializers.CharField()),
            "customer_confirmed": serializers.BooleanField(),
            "lines": serializers.ListField(child=serializers.DictField()),
            "signature": SignatureInputSerializer(),
        }),
        responses={201: STARTED},
    )
    def post(self, request):
        return super().post(request)



urlpatterns = [
    path("order-reviews/", OrderReviewStartView.as_view(), name="api-order-review-start"),
    path("order-reviews/change/", OrderChangeStartView.as_view(), name="api-order-change-start"),
]

from .api_ledger import urlpatterns as _ledger_urls  # noqa: E402 — the contract ledger (api_ledger.py)

urlpatterns += _ledger_urls
