"""viewflow's two viewset reverse tags, remembering an address that takes no argument (issue 15.2: the page frame).

Every page draws viewflow's menu: the site's applications and the current application's viewsets, each link a
`{% reverse viewset 'index' %}` or `{% current_viewset_reverse viewset 'index' %}` — some twenty namespaced
reverses per page, about 0.06 ms each, for addresses that never change while the process runs. The two node classes
below are viewflow's own with `_reverse_url` remembering an address that takes no argument: per viewset, view name,
current application, URLconf, script prefix and language — everything the reverse reads. An address with arguments
(a record's, a task's) is reversed each time, as is any address of a viewset whose chain takes keyword arguments
from the current URL (`extra_kwargs`). `install()` (WorkflowsConfig.ready) puts them in viewflow's template library
under their own names, so `{% load viewflow %}` in viewflow's templates and ours gives them; a library of our own
under the name "viewflow" would be a second module for one name (Django's check templates.W003). The same string as
viewflow's reverse: tests/test_menu_links.py."""
from django.urls import get_resolver, get_script_prefix, get_urlconf
from django.utils.translation import get_language
from viewflow.templatetags import viewflow as stock

_ADDRESSES = {}


def _takes_url_kwargs(viewset):
    while viewset is not None:
        if getattr(viewset, "extra_kwargs", None):
            return True
        viewset = getattr(viewset, "parent", None)
    return False


def _remembered(reverse):
    def _reverse_url(self, viewset, view_name, args, kwargs, current_app, context):
        if args or kwargs or _takes_url_kwargs(viewset):
            return reverse(self, viewset, view_name, args, kwargs, current_app, context)
        key = (type(self), viewset, view_name, current_app, get_resolver(get_urlconf()), get_script_prefix(),
               get_language())
        address = _ADDRESSES.get(key)
        if address is None:
            address = reverse(self, viewset, view_name, args, kwargs, current_app, context)  # NoReverseMatch: not kept
            if len(_ADDRESSES) > 10_000:  # URLconfs swapped many times over (tests): start again
                _ADDRESSES.clear()
            _ADDRESSES[key] = address
        return address
    return _reverse_url


class ViewsetURLNode(stock.ViewsetURLNode):
    _reverse_url = _remembered(stock.ViewsetURLNode._reverse_url)


class CurrentViewsetURLNode(stock.CurrentViewsetURLNode):
    _reverse_url = _remembered(stock.CurrentViewsetURLNode._reverse_url)


def install():
    stock.register.tag("reverse", ViewsetURLNode)
    stock.register.tag("current_viewset_reverse", CurrentViewsetURLNode)
