"""Browser pages of the management review beside its flow: the packs (paginated) and one pack with
its sections and charts as frozen at compile time, its signatures and the decided actions' status.
Who reads what in access.py; compiling and signing are the flow's steps."""
from django.contrib.auth.mixins import LoginRequiredMixin, UserPassesTestMixin
from django.core.paginator import Paginator
from django.http import Http404
from django.urls import reverse
from django.views.generic import TemplateView

from core.models import RecordFile
from core.views import record_content

from .access import can_compile, can_read_reviews, visible_reviews
from .flows import ManagementReviewFlow

PAGE_SIZE = 25


def start_url():
    return reverse(f"qms:flows:{ManagementReviewFlow.instance.flow_label}:start:execute")


class ReviewAccess(LoginRequiredMixin, UserPassesTestMixin):
    def test_func(self):
        return can_read_reviews(self.request.user)


class ReviewListView(ReviewAccess, TemplateView):
    template_name = "management_review/list.html"

    def get_context_data(self, **kwargs):
        reviews = visible_reviews(self.request.user).order_by("-period_end", "-pk")
        return {**super().get_context_data(**kwargs),
                "page": Paginator(reviews, PAGE_SIZE).get_page(self.request.GET.get("page")),
                "can_compile": can_compile(self.request.user), "start_url": start_url()}


class ReviewDetailView(ReviewAccess, TemplateView):
    template_name = "management_review/detail.html"

    def get_context_data(self, number, **kwargs):
        review = visible_reviews(self.request.user).filter(record__number=number).first()
        if review is None:
            raise Http404("No such management review")
        version = review.record.get_version()
        pdf = RecordFile.objects.filter(record_version=version, kind=RecordFile.Kind.PDF).exists()
        return {**super().get_context_data(**kwargs), "review": review, "version": version,
                "content": record_content(version), "has_pdf": pdf,
                "actions": list(review.actions.select_related("owner").order_by("position"))}
