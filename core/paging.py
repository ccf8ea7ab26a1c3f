"""A page of a list on a browser page, for the lists that may grow without bound and share a page with others
(issue 15: nothing silently cut). Each list keeps its own page number in the address (`?<param>=`), so paging one
leaves the others where they are; templates/qms/_pager.html draws "‹ 2 / 7 (312) ›" under the list.

The API's lists use DRF's PageNumberPagination or core.rest.keyset; the task lists, which run to a million rows,
page by keyset (inbox.views)."""
from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.utils.functional import cached_property

PAGE_SIZE = 25


#: the largest first row a page may start at for its rows to be read before the list is counted: an offset past
#: it (a page number of 10¹⁷) overflows the database's 64-bit OFFSET, and such a page is past any list's end
LARGEST_OFFSET = 2**62


class RowsFirstPaginator(Paginator):
    """Django's Paginator, reading a page's rows before it counts the list: a page that holds fewer rows than a
    page can is the last one, so the list holds the rows before it and its own, and no COUNT is asked. A full page,
    or an empty one past the first, is counted as Paginator counts it. The registry's searches mostly find one
    page or less (a record number, a customer), and at a million records the COUNT of such a search costs what the
    page does (issue 15.3). Same pages, same totals, same errors as Paginator (orphans: counted as it does). One
    difference: a DISTINCT list ordered by a many-valued relation, whose rows Django's count does not match (it
    counts without the ordering's columns), is paged by the rows it gives.

    `count_up_to`: count a full page's list only so far past the page (the registry: a word found in 300,000 of a
    million records took 0.45 s to count, its page 0.3 ms; the whole registry of a million records 0.1 s). When more
    rows lie beyond, `count` is that bound and `count_is_exact` False: the page says "10000+", its next page is
    still linked (the bound lies at least a page past it), and nothing is cut. Asked for its number of pages before
    any page (DRF's `?page=last`), or given a sliced queryset, it counts exactly. A bounded count holds for the page
    asked: asked for another page, the paginator counts again from there."""

    count_is_exact = True
    count_up_to = None
    _bottom = None  # the first row of the page asked for

    @cached_property
    def count(self):
        object_list = self.object_list
        if (self.count_up_to is None or self._bottom is None or not hasattr(object_list, "order_by")
                or object_list.query.is_sliced):
            return Paginator.count.func(self)
        bound = self._bottom + max(self.count_up_to, self.per_page + 1)  # past the page, so its next is linked
        found = object_list.order_by()[:bound + 1].count()  # no order: the scan may stop at the bound
        if found > bound:
            self.count_is_exact = False
            return bound
        return found

    def page(self, number):
        number = self.validate_number_syntax(number)
        if not self.count_is_exact:  # counted up to a bound past another page: count again for this one
            for name in ("count", "num_pages"):
                self.__dict__.pop(name, None)
            del self.count_is_exact
        rows = None
        bottom = (number - 1) * self.per_page
        self._bottom = bottom if bottom <= LARGEST_OFFSET else None
        if "count" not in self.__dict__ and not self.orphans and self._bottom is not None:
            rows = list(self.object_list[bottom:bottom + self.per_page])
            if len(rows) < self.per_page and (rows or number == 1):
                self.__dict__["count"] = bottom + len(rows)  # Paginator.count is a cached_property
        if rows is None or (not rows and number > 1):
            return super().page(number)  # its own checks (EmptyPage past the end) and its own slice
        number = self.validate_number(number)  # counts a full page's list, for its number of pages
        return self._get_page(rows, number, self)

    def validate_number_syntax(self, number):
        """`number` as Paginator.validate_number reads it, before it compares it with the number of pages."""
        try:
            if isinstance(number, float) and not number.is_integer():
                raise ValueError
            number = int(number)
        except (TypeError, ValueError):
            raise PageNotAnInteger(self.error_messages["invalid_page"]) from None
        if number < 1:
            raise EmptyPage(self.error_messages["min_page"])
        return number


class RegistryPaginator(RowsFirstPaginator):
    """The records registry's pages (the browser's and the API's): counted up to 10,000 rows past the page."""

    count_up_to = 10_000


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
