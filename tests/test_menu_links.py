"""The menu's addresses reversed once (workflows/menu_links.py, issue 15.2): every page draws the
same links as viewflow's own tags give — for each person, in each language, under a script prefix — and a page
drawn again reverses none of the addresses that take no argument."""
import re

import pytest
from django.test import Client
from django.urls import set_script_prefix
from viewflow.templatetags import viewflow as stock

from workflows import menu_links as viewflow_links

pytestmark = pytest.mark.django_db

PAGES = ("/qms/dashboard/", "/qms/inbox/", "/qms/notifications/", "/qms/records/")
LINK = re.compile(r'href="([^"]*)"')


@pytest.fixture
def stock_tags(monkeypatch):
    """Switch the library's two tags to viewflow's own reverse (`stock_tags(True)`) or back."""
    remembered = {cls: cls.__dict__["_reverse_url"]
                  for cls in (viewflow_links.ViewsetURLNode, viewflow_links.CurrentViewsetURLNode)}

    def use(stock_reverse):
        for cls, own in remembered.items():
            parent = stock.ViewsetURLNode if cls is viewflow_links.ViewsetURLNode else stock.CurrentViewsetURLNode
            monkeypatch.setattr(cls, "_reverse_url", parent._reverse_url if stock_reverse else own)
    return use


def links(client, url):
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return LINK.findall(response.content.decode())


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize("script_name", ["", "/plant"])
def test_every_page_links_where_viewflows_own_reverse_does(people, stock_tags, language, script_name):
    viewflow_links._ADDRESSES.clear()
    set_script_prefix(f"{script_name}/")  # as a server mounted under /plant sets it for each request
    try:
        draw_each_page_both_ways(people, stock_tags, language, script_name)
    finally:
        set_script_prefix("/")
    keys = list(viewflow_links._ADDRESSES)
    assert {key[5] for key in keys} == {f"{script_name}/"} and {key[6] for key in keys} == {language}


def draw_each_page_both_ways(people, stock_tags, language, script_name):
    for username in ("quality_mgr", "market", "admin"):
        client = Client()
        client.force_login(people[username])
        client.cookies["django_language"] = language
        for url in PAGES:
            stock_tags(True)
            expected = links(client, url)
            stock_tags(False)
            assert links(client, url) == expected  # reversed and remembered
            assert links(client, url) == expected  # from what was remembered
            if script_name:
                assert any(link.startswith(f"{script_name}/qms/") for link in expected)


def test_a_page_drawn_again_reverses_no_address_that_takes_no_argument(people, monkeypatch):
    from viewflow.urls.base import BaseViewset

    client = Client()
    client.force_login(people["quality_mgr"])
    reversed_ = []
    original = BaseViewset.reverse

    def counting(self, viewname, args=None, kwargs=None, current_app=None):
        reversed_.append((viewname, args, kwargs))
        return original(self, viewname, args=args, kwargs=kwargs, current_app=current_app)
    monkeypatch.setattr(BaseViewset, "reverse", counting)
    viewflow_links._ADDRESSES.clear()
    links(client, "/qms/inbox/")
    assert len([entry for entry in reversed_ if not entry[1] and not entry[2]]) >= 15  # the menu, drawn cold
    reversed_.clear()
    assert links(client, "/qms/inbox/")
    assert [entry for entry in reversed_ if not entry[1] and not entry[2]] == []


def test_an_address_with_arguments_is_reversed_each_time(people):
    """A task's or a record's address is not remembered (one entry per row would grow without end); the same tag
    without arguments is."""
    from django.template import Context, Template
    from django.test import RequestFactory

    from config.urls import site

    qms = next(app for app in site.viewsets if app.app_name == "qms")
    dashboard = next(viewset for viewset in qms.viewsets if viewset.app_name == "dashboard")
    request = RequestFactory().get("/qms/dashboard/")
    request.resolver_match = None
    viewflow_links._ADDRESSES.clear()
    template = Template("{% load viewflow %}{% reverse viewset 'task' pk %}|{% reverse viewset 'index' %}")
    for pk in (5, 6, 7):
        drawn = template.render(Context({"viewset": dashboard, "pk": pk, "request": request}))
        assert drawn == f"/qms/dashboard/task/{pk}/|/qms/dashboard/"
    assert [key[2] for key in viewflow_links._ADDRESSES] == ["index"]
