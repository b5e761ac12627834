"""List tools: header links sort by a column, reverse it when it is already the order, and keep the rest."""

from urllib.parse import parse_qs, urlsplit

from flask import render_template_string

from matcher.web.listing import list_url, sort_state, sort_url


def _query(url: str) -> dict:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def test_a_header_sorts_then_reverses_and_keeps_the_search(app):
    with app.test_request_context("/caseworker/candidates?q=红&status=registered&page=3"):
        assert sort_state("name") is None
        assert _query(sort_url("name")) == {"q": "红", "status": "registered", "sort": "name"}
    with app.test_request_context("/caseworker/candidates?q=红&sort=name&page=2"):
        assert sort_state("name") == "ascending"
        assert _query(sort_url("name"))["sort"] == "-name"  # the second click reverses it
        assert "page" not in _query(sort_url("name"))  # a new order starts at the first page
    with app.test_request_context("/x?sort=-name"):
        assert sort_state("name") == "descending"
        assert _query(sort_url("name"))["sort"] == "name"


def test_the_default_order_is_shown_and_a_page_link_keeps_the_order(app):
    with app.test_request_context("/x?q=a"):
        assert sort_state("release_date", default="-release_date") == "descending"
        assert sort_state("release_date", default="release_date") == "ascending"
    with app.test_request_context("/x?q=a&sort=name"):
        assert _query(list_url(page=2)) == {"q": "a", "sort": "name", "page": "2"}
        assert _query(list_url(q=None)) == {"sort": "name"}


def test_the_header_macro_says_the_order_to_screen_readers(app):
    template = ('{% from "web/_list_tools.html" import sort_header %}'
                '{{ sort_header("name", "姓名") }}{{ sort_header("age", "年龄") }}')
    with app.test_request_context("/x?sort=-name"):
        html = render_template_string(template)
    assert 'aria-sort="descending"' in html and html.count("aria-sort") == 1
    assert "姓名" in html and "sort=name" in html
