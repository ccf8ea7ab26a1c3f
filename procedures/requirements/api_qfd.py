"""The QFD house of quality over the REST API (QFD-1): list and create houses, read one with its
matrix, technical importance and ranking, replace the matrix, approve (signed), reopen. Every
change through procedures.requirements.qfd; errors 400 (field errors), 403, 404, 409."""
from django.db import transaction
from django.http import Http404
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

from core.access import records_visible_to
from core.rest import params
from core.rest.base import APIView, json_object, reject_unknown
from forms.models import Customer, Product

from . import house as house_data
from . import qfd
from .models import Correlation, CustomerRequirement, HouseOfQuality, HouseStatus, ImprovementDirection


def visible_houses(user):
    return HouseOfQuality.objects.filter(record__in=records_visible_to(user)).select_related("record", "product")


def house_or_404(user, number):
    house = visible_houses(user).filter(record__number=number).first()
    if house is None:
        raise Http404("No such house of quality")
    return house


def summary(house):
    return {"number": house.record.number, "title": house.title, "status": house.status,
            "status_label": str(house.get_status_display()),
            "product_code": house.product.code if house.product_id else "", "product": house.product_text,
            "version": house.record.current_version, "created_at": house.created_at}


def detail(house, user):
    """The house as it stands: the matrix from the working tables (the same data its next version
    holds), the technical importance with its ranking, and what `user` may do now."""
    data = house_data.house_snapshot(house)
    draft = house.status == HouseStatus.DRAFT
    return {**summary(house), "needs": data["needs"], "characteristics": data["characteristics"],
            "relationships": data["relationships"], "roof": data["roof"], "importance": data["importance"],
            "approver": data["approver"],
            "may": {"edit": draft and qfd.may_edit_house(user), "approve": draft and qfd.may_approve_house(user),
                    "reopen": not draft and qfd.may_edit_house(user)}}


def _by_code(model, code, field):
    if code in (None, ""):
        return None
    if not isinstance(code, str):
        raise ValidationError({field: ["Enter a code."]})
    found = model.objects.filter(code=code).first()
    if found is None:
        raise ValidationError({field: [f"No such {field}: {code}"]})
    return found


def _many(name, fields):
    return inline_serializer(name, fields, many=True)


NEED = ("QfdNeed", {"text": serializers.CharField(max_length=300),
                    "weight": serializers.IntegerField(min_value=1, max_value=5),
                    "requirement": serializers.CharField(required=False, help_text="CR record number")})
CHARACTERISTIC = ("QfdCharacteristic", {
    "name": serializers.CharField(max_length=200), "unit": serializers.CharField(required=False),
    "direction": serializers.ChoiceField(choices=ImprovementDirection.values, required=False),
    "target": serializers.CharField(required=False)})
CELL = ("QfdCell", {
    "need": serializers.CharField(help_text="index in needs (from 0) or the need's text"),
    "characteristic": serializers.CharField(help_text="index in characteristics (from 0) or the name"),
    "strength": serializers.ChoiceField(choices=[9, 3, 1])})
ROOF = ("QfdRoofCell", {
    "first": serializers.CharField(help_text="index or name"), "second": serializers.CharField(help_text="index or name"),
    "correlation": serializers.ChoiceField(choices=Correlation.values)})
MATRIX = inline_serializer("QfdMatrix", {"needs": _many(*NEED), "characteristics": _many(*CHARACTERISTIC),
                                         "relationships": _many(*CELL), "roof": _many(*ROOF)})


class HouseListView(APIView):
    @extend_schema(operation_id="qfd_list", summary="Houses of quality (QFD-1)",
                   parameters=[OpenApiParameter("product", str, description="product code"),
                               OpenApiParameter("status", str, enum=HouseStatus.values),
                               OpenApiParameter("page", OpenApiTypes.INT)],
                   responses=OpenApiTypes.OBJECT)
    def get(self, request):
        p, houses = request.query_params, visible_houses(request.user)
        product = params.text(p, "product", max_length=40)
        state = params.choice(p, "status", HouseStatus.values)
        params.integer(p, "page", min_value=1, max_value=10 ** 6)
        if product:
            houses = houses.filter(product__code=product)
        if state:
            houses = houses.filter(status=state)
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(houses.order_by("-pk"), request, view=self)
        return paginator.get_paginated_response([summary(h) for h in page])

    @extend_schema(operation_id="qfd_create", summary="Create a house of quality (draft)",
                   request=inline_serializer("QfdCreate", {
                       "title": serializers.CharField(max_length=200),
                       "product": serializers.CharField(required=False, help_text="product code"),
                       "product_text": serializers.CharField(required=False),
                       "requirements": serializers.ListField(child=serializers.CharField(), required=False,
                                                             help_text="approved CR record numbers: the rows"),
                       "pull_requirements": serializers.BooleanField(
                           required=False, help_text="rows from every approved requirement of the product / customer"),
                       "customer": serializers.CharField(required=False, help_text="customer code (with pull)")}),
                   responses={201: OpenApiTypes.OBJECT})
    def post(self, request):
        data, _files = json_object(request, allow_multipart=False)
        reject_unknown(data, {"title", "product", "product_text", "requirements", "pull_requirements", "customer"})
        product = _by_code(Product, data.get("product"), "product")
        customer = _by_code(Customer, data.get("customer"), "customer")
        numbers = data.get("requirements") or []
        if not isinstance(numbers, list) or not all(isinstance(n, str) for n in numbers):
            raise ValidationError({"requirements": ["Enter a list of requirement numbers."]})
        found = {r.record.number: r for r in CustomerRequirement.objects.filter(record__number__in=numbers)
                 .select_related("record")}
        missing = {f"requirements[{i}]": ["No such customer requirement."] for i, n in enumerate(numbers)
                   if n not in found}
        if missing:
            raise ValidationError(missing)
        requirements = [found[n] for n in numbers]
        pull = data.get("pull_requirements", False)
        if not isinstance(pull, bool):
            raise ValidationError({"pull_requirements": ["Enter true or false."]})
        if pull:
            if product is None and customer is None:
                raise ValidationError({"pull_requirements": ["Name the product or the customer to pull from."]})
            requirements += [r for r in qfd.approved_requirements(product=product, customer=customer)
                             if r not in requirements]
        with transaction.atomic():
            house = qfd.create_house(actor=request.user, data={
                "title": data.get("title"), "product": product, "product_text": data.get("product_text") or "",
                "requirements": requirements})
        return Response(detail(house, request.user), status=status.HTTP_201_CREATED)


class HouseDetailView(APIView):
    @extend_schema(operation_id="qfd_retrieve",
                   summary="One house of quality: matrix, technical importance and ranking",
                   parameters=[OpenApiParameter("number", str, OpenApiParameter.PATH, description="e.g. HQ-2026-0001")],
                   responses=OpenApiTypes.OBJECT)
    def get(self, request, number):
        return Response(detail(house_or_404(request.user, number), request.user))


class HouseMatrixView(APIView):
    @extend_schema(operation_id="qfd_matrix_update", summary="Replace the whole matrix of a draft house",
                   parameters=[OpenApiParameter("number", str, OpenApiParameter.PATH)], request=MATRIX,
                   responses={200: OpenApiTypes.OBJECT})
    def put(self, request, number):
        house = house_or_404(request.user, number)
        data, _files = json_object(request, allow_multipart=False)
        reject_unknown(data, {"needs", "characteristics", "relationships", "roof"})
        with transaction.atomic():
            house = qfd.set_matrix(house, actor=request.user, data=data)
        return Response(detail(house, request.user))


class HouseApproveView(APIView):
    @extend_schema(operation_id="qfd_approve",
                   summary="Approve a house (electronic signature: user ID and password re-entered)",
                   parameters=[OpenApiParameter("number", str, OpenApiParameter.PATH)],
                   request=inline_serializer("QfdApprove", {"username": serializers.CharField(),
                                                            "password": serializers.CharField(),
                                                            "reason": serializers.CharField(required=False)}),
                   responses={200: OpenApiTypes.OBJECT})
    def post(self, request, number):
        house = house_or_404(request.user, number)
        data, _files = json_object(request, allow_multipart=False)
        reject_unknown(data, {"username", "password", "reason"})
        errors = {k: ["Required."] for k in ("username", "password") if not isinstance(data.get(k), str)
                  or not data.get(k)}
        if "reason" in data and not isinstance(data["reason"], str):
            errors["reason"] = ["Enter text."]
        if errors:
            raise ValidationError(errors)
        # its own transactions: a wrong password stays counted (core.esign)
        house = qfd.approve_house(house, actor=request.user, password=data["password"], username=data["username"],
                                  reason=data.get("reason", ""))
        return Response(detail(house, request.user))


class HouseReopenView(APIView):
    @extend_schema(operation_id="qfd_reopen", summary="Reopen an approved house for a new revision",
                   parameters=[OpenApiParameter("number", str, OpenApiParameter.PATH)],
                   request=inline_serializer("QfdReopen", {"reason": serializers.CharField()}),
                   responses={200: OpenApiTypes.OBJECT})
    def post(self, request, number):
        house = house_or_404(request.user, number)
        data, _files = json_object(request, allow_multipart=False)
        reject_unknown(data, {"reason"})
        with transaction.atomic():
            house = qfd.reopen_house(house, actor=request.user, reason=data.get("reason"))
        return Response(detail(house, request.user))


urlpatterns = [
    path("qfd/", HouseListView.as_view(), name="api-qfd-list"),
    path("qfd/<str:number>/", HouseDetailView.as_view(), name="api-qfd-detail"),
    path("qfd/<str:number>/matrix/", HouseMatrixView.as_view(), name="api-qfd-matrix"),
    path("qfd/<str:number>/approve/", HouseApproveView.as_view(), name="api-qfd-approve"),
    path("qfd/<str:number>/reopen/", HouseReopenView.as_view(), name="api-qfd-reopen"),
]
