"""Issue 15.3: the registry reads a page's rows before it counts its list (core.paging.RowsFirstPaginator). A page
short of full is the last one, so its total is known without a COUNT — at a million records the COUNT of a search
that finds one record costs what its page does. Every page, total, page count and error must be Django's own."""
import pytest
from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from accounts.models import User
from core.paging import RowsFirstPaginator
from test_registry_search import bulk_registry

pytestmark = pytest.mark.django_db

PER_PAGE = 4


def outcome(paginator, number):
    """What a paginator gives for `number`: the page's rows, its total and number of pages, or the error."""
    try:
        page = paginator.page(number)
    except (EmptyPage, PageNotAnInteger) as error:
        return type(error).__name__, str(error)
    return ([row.pk for row in page.object_list], paginator.count, paginator.num_pages, page.number,
            page.has_next(), page.has_previous(), page.start_index(), page.end_index())


@pytest.mark.parametrize("rows", [0, 1, 3, 4, 5, 8, 9])
def test_every_page_total_and_error_is_djangos_own(rows):
    User.objects.bulk_create([User(username=f"paged{i:02d}", password="!") for i in range(rows)])
    users = User.objects.filter(username__startswith="paged").order_by("username")
    numbers = [1, 2, 3, 4, "2", 0, -1, "x", None, 1.5, 2.0]
    for number in numbers:
        ours = outcome(RowsFirstPaginator(users, PER_PAGE), number)
        djangos = outcome(Paginator(users, PER_PAGE), number)
        assert ours == djangos, number


@pytest.mark.parametrize("rows, number, queries", [
    (0, 1, 1),  # an empty first page: the list is empty
    (3, 1, 1),  # one page, short of full: its rows are the total
    (4, 1, 2),  # a full page: the list may go on, so it is counted
    (9, 3, 1),  # the last page, short: the rows before it and its own
    (9, 2, 2),  # a full page in the middle
    (8, 3, 2),  # past the end: counted, then EmptyPage as Django gives it
])
def test_a_page_short_of_full_is_not_counted(rows, number, queries):
    User.objects.bulk_create([User(username=f"paged{i:02d}", password="!") for i in range(rows)])
    users = User.objects.filter(username__startswith="paged").order_by("username")
    paginator = RowsFirstPaginator(users, PER_PAGE)
    with CaptureQueriesContext(connection) as captured:
        try:
            page = paginator.page(number)
            list(page.object_list), paginator.count, paginator.num_pages
        except EmptyPage:
            pass
    assert len(captured) == queries
    assert sum("COUNT(" in q["sql"].upper() for q in captured.captured_queries) == queries - 1


def test_the_registry_finds_one_record_without_counting_and_a_full_page_with_its_total(people):
    """The API and the browser registry: the same records and totals as before, one query fewer when the search
    finds less than a page."""
    bulk_registry(people["market"], 120, "R")
    api, web = APIClient(), Client()
    api.force_authenticate(people["quality"])
    web.force_login(people["quality"])

    def read(params):
        with CaptureQueriesContext(connection) as captured:
            body = api.get("/api/records/", params).json()
        counts = sum("COUNT(" in q["sql"].upper() for q in captured.captured_queries)
        page = web.get("/qms/records/", params)
        return body["count"], len(body["results"]), bool(body["next"]), counts, page.context["paginator"].count

    assert read({"q": "R-000042"}) == (1, 1, False, 0, 1)
    assert read({"q": "text 1"}) == (31, 31, False, 0, 31)  # 1, 10–19, 100–119
    assert read({}) == (120, 50, True, 1, 120)  # a full page is counted
    assert read({"page": 3}) == (120, 20, False, 0, 120)  # its last page is not
    assert api.get("/api/records/", {"page": 4}).status_code == 404  # past the end, as before
    assert web.get("/qms/records/", {"page": 4}).status_code == 404


class CountsUpToFive(RowsFirstPaginator):
    count_up_to = 5


def test_a_bounded_count_says_at_least_and_keeps_the_next_page_linked():
    """Counted up to 5 rows past the page: 20 rows read as "at least 5" from page 1, "at least 9" from page 2, and
    exactly from the last page; every page's rows, and each page's next link, are Django's own."""
    User.objects.bulk_create([User(username=f"paged{i:02d}", password="!") for i in range(20)])
    users = User.objects.filter(username__startswith="paged").order_by("username")
    seen = []
    for number, (count, exact) in enumerate([(5, False), (9, False), (13, False), (17, False), (20, True)], start=1):
        paginator = CountsUpToFive(users, PER_PAGE)
        with CaptureQueriesContext(connection) as captured:
            page = paginator.page(number)
        assert (paginator.count, paginator.count_is_exact) == (count, exact)
        assert page.has_next() == (number < 5)
        assert [u.pk for u in page] == [u.pk for u in Paginator(users, PER_PAGE).page(number)]
        seen += [u.pk for u in page]
        if number < 5:  # the page, then a count that stops one row past the bound
            assert len(captured) == 2
            assert f"LIMIT {PER_PAGE * (number - 1) + 5 + 1}" in captured.captured_queries[1]["sql"].upper()
    assert seen == [u.pk for u in users]
    with pytest.raises(EmptyPage):
        CountsUpToFive(users, PER_PAGE).page(6)
    paginator = CountsUpToFive(users, PER_PAGE)  # asked for its pages first (DRF's ?page=last): counted exactly
    assert (paginator.num_pages, paginator.count, paginator.count_is_exact) == (5, 20, True)


def test_the_registry_says_when_it_stopped_counting(people, monkeypatch):
    """The API's "count_is_exact" and the browser's "60+": a search past the bound (here 60 rows past the page)
    is not counted to its end, and its next page is still linked; the last page counts exactly."""
    from core.paging import RegistryPaginator

    monkeypatch.setattr(RegistryPaginator, "count_up_to", 60)
    bulk_registry(people["market"], 120, "R")
    api, web = APIClient(), Client()
    api.force_authenticate(people["quality"])
    web.force_login(people["quality"])
    first = api.get("/api/records/", {"q": "text"}).json()
    assert (first["count"], first["count_is_exact"], len(first["results"])) == (60, False, 50)
    assert "page=2" in first["next"]
    second = api.get(first["next"]).json()
    assert (second["count"], second["count_is_exact"], len(second["results"])) == (110, False, 50)
    third = api.get(second["next"]).json()
    assert (third["count"], third["count_is_exact"], len(third["results"]), third["next"]) == (120, True, 20, None)
    numbers = [r["number"] for body in (first, second, third) for r in body["results"]]
    assert len(set(numbers)) == 120
    last = api.get("/api/records/", {"q": "text", "page": "last"}).json()
    assert (last["count"], last["count_is_exact"], len(last["results"])) == (120, True, 20)
    page = web.get("/qms/records/", {"q": "text"}).content.decode()
    assert "1 / <span" in page and "2+ (60+)" in page
    assert "至少 60 条记录符合" in page  # the people of the demo read Chinese first


def test_a_page_number_past_any_database_offset_is_past_the_end(people):
    """A page whose first row lies past what a database OFFSET holds is not read (it would fail in the database):
    it is past the end, a 404 as before."""
    bulk_registry(people["market"], 3, "R")
    api, web = APIClient(), Client()
    api.force_authenticate(people["quality"])
    web.force_login(people["quality"])
    for number in (10**17, 10**18, 10**30):
        assert api.get("/api/records/", {"page": number}).status_code == 404
        assert web.get("/qms/records/", {"page": number}).status_code == 404
    users = User.objects.order_by("username")
    with pytest.raises(EmptyPage):
        RowsFirstPaginator(users, PER_PAGE).page(10**18)


def test_a_paginator_asked_for_another_page_counts_again_and_never_bounds_below_its_next_page():
    User.objects.bulk_create([User(username=f"paged{i:02d}", password="!") for i in range(20)])
    users = User.objects.filter(username__startswith="paged").order_by("username")
    paginator = CountsUpToFive(users, PER_PAGE)
    assert (paginator.page(1).has_next(), paginator.count, paginator.count_is_exact) == (True, 5, False)
    page = paginator.page(5)  # the same paginator: counted again from the fifth page
    assert ([u.pk for u in page], paginator.count, paginator.count_is_exact, page.has_next()) == (
        [u.pk for u in users[16:20]], 20, True, False)

    class UpToOnePage(RowsFirstPaginator):
        count_up_to = PER_PAGE  # no more than a page: still counted past the next page's first row

    paginator = UpToOnePage(users, PER_PAGE)
    assert paginator.page(1).has_next() and paginator.num_pages == 2 and not paginator.count_is_exact
    sliced = CountsUpToFive(users[:12], PER_PAGE)  # a sliced list cannot be counted up to a bound: counted whole
    assert (sliced.page(1).has_next(), sliced.count, sliced.count_is_exact) == (True, 12, True)


def test_the_api_schema_describes_the_registrys_pages_as_they_are_sent():
    """OpenAPI: the registry's list is a page (count, count_is_exact, next, previous, results) with a `page`
    parameter, and a record's stored files a page as DRF sends it (no count_is_exact)."""
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    components = schema["components"]["schemas"]

    def response_of(path):
        operation = schema["paths"][path]["get"]
        ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        return components[ref.rsplit("/", 1)[1]], {p["name"] for p in operation["parameters"]}

    page, parameters = response_of("/api/records/")
    assert {"count", "count_is_exact", "next", "previous", "results"} == set(page["properties"])
    assert {"count", "count_is_exact", "results"} <= set(page["required"]) and "page" in parameters
    files, parameters = response_of("/api/records/{id}/files/")
    assert set(files["properties"]) == {"count", "next", "previous", "results"} and "page" in parameters
