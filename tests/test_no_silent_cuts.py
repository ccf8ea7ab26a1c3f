"""Issue 15.2, nothing silently cut: no page and no API endpoint shows the first N rows of a list and drops the
rest without a sign. Each list is paged with its total (core.paging.page_of, DRF's PageNumberPagination,
core.rest.keyset) or shows its first rows with how many there are in all (core.deferred.first_rows_and_total).

The cuts found on 2026-12-03 were all a fixed slice of a query's result in a view or an API module
(`past_retention()[:500]`, `cases.order_by("-pk")[:500]`, `…order_by("-created")[:50]`, `_bundles_of(user)[:100]`
…): this test reads those modules and fails on a new one, so that a list grows a pager rather than a limit. What
a slice may still cut is named below with the reason it is not a list."""
import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ["accounts", "api", "core", "evidence", "forms", "inbox", "procedures", "workflows"]
#: a view or API module: views.py, api.py, delegation_views.py, views_kano.py, api_ledger.py …
VIEW_OR_API = re.compile(r"(^|_)(views|api)(_[a-z]+)?\.py$")
#: (module, the slice's source text up to its opening bracket): why it is not a list cut short
NOT_A_LIST = {
    ("evidence/views.py", "request.GET.get('q', '').replace('\\x00', '').strip()"): "the search text, bounded",
    ("procedures/requirements/views_qfd.py", "CustomerRequirement.objects.filter("):
        "suggestions of a field that takes any number (a <datalist>), not a list",
    ("procedures/requirements/views_kano.py", "CustomerRequirement.objects.select_related("):
        "suggestions of a field that takes any number (a <datalist>), not a list",
}


def _slices_of_results(path):
    """(line, source before the bracket) of every `<call>[…:n]` in the module: a slice with an end taken of what a
    call returned (a queryset, a list a function built)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if (isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Slice) and node.slice.upper is not None
                and isinstance(node.value, ast.Call)):
            yield node.lineno, ast.unparse(node.value)


def test_no_view_or_api_shows_the_first_rows_of_a_list_without_saying_so():
    modules = [path for package in PACKAGES for path in (ROOT / package).rglob("*.py")
               if VIEW_OR_API.search(path.name) and "migrations" not in path.parts]
    assert len(modules) > 20  # the scan reads the modules it means to (views, APIs of every procedure)
    found = []
    for path in modules:
        module = path.relative_to(ROOT).as_posix()
        for line, source in _slices_of_results(path):
            if not any(module == allowed and source.startswith(prefix) for allowed, prefix in NOT_A_LIST):
                found.append(f"{module}:{line}: {source[:100]}[…]")
    assert not found, ("a list cut to its first rows with no sign of the rest: page it (core.paging.page_of, "
                       "PageNumberPagination) or show its total, or name here why it is not a list\n"
                       + "\n".join(found))


def test_the_scan_finds_the_cuts_it_is_meant_to(tmp_path):
    """The scan flags the shapes of the cuts that were fixed, and not a page's own slicing."""
    module = tmp_path / "views.py"
    module.write_text("due = list(retention.past_retention()[:500])\n"
                      "rows = [s(c) for c in cases.order_by('-pk')[:500]]\n"
                      "page = Paginator(rows, 50).get_page(number)\n"
                      "name = text[:60]\n", encoding="utf-8")
    assert [line for line, _ in _slices_of_results(module)] == [1, 2]
