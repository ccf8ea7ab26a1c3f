"""A page of a list on a browser page, for the lists that may grow without bound and share a page with others
(issue 15: nothing silently cut). Each list keeps its own page number in the address (`?<param>=`), so paging one
leaves the others where they are; templates/qms/_pager.html draws "‹ 2 / 7 (312) ›" under the list.

The API's lists use DRF's PageNumberPagination or core.rest.keyset; the task lists, which run to a million rows,
page by keyset (inbox.views)."""
from django.core.paginator import Paginator

PAGE_SIZE = 25


def page_of(request, rows, param="page", *, size=None, anchor=None):
    """The page of `rows` (an ordered queryset or a list) that the request's `?<param>=` names (the first for none,
    the last past the end: Paginator.get_page), with `previous_link` and `next_link` (the same address with only
    that number changed, `#anchor` appended; None at either end) and `param` set on it. `size`: PAGE_SIZE."""
    page = Paginator(rows, size or PAGE_SIZE).get_page(request.GET.get(param))
    page.param = param
    page.previous_link = address(request, param, page.previous_page_number(), anchor) if page.has_previous() else None
    page.next_link = address(request, param, page.next_page_number(), anchor) if page.has_next() else None
    return page


def address(request, param, value, anchor=None):
    """This request's address, relative (`?…`), with its query kept but `param` set to `value`, and `#anchor`: the
    link to another page of one list (a page number here, a keyset cursor for the task lists)."""
    params = request.GET.copy()
    params[param] = value
    return f"?{params.urlencode()}" + (f"#{anchor}" if anchor else "")
