"""List tools for pages: sortable column headers and links that keep the list's other parameters.

A long list on a page is searched, filtered and sorted through its query string, the same way as the API's list
endpoints: `q` for a search, `sort` for the column (a leading "-" reverses it, as in `matcher.apiutil.sort_field`)
and `page` for the page. The service applies them (`apply_sort` over the columns it allows); the page only draws
the headers. `web/_list_tools.html` holds the macros that use these globals.
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import request

from matcher.web.base import bp


def current_sort(default: str = "") -> str:
    return request.args.get("sort", "").strip() or default


@bp.app_template_global("list_url")
def list_url(**changes) -> str:
    """This page with its query string changed: a value of None removes the parameter; any change but the page
    itself starts again at page 1."""
    args = {key: value for key, value in request.args.items(multi=False) if value != ""}
    if "page" not in changes:
        args.pop("page", None)
    for key, value in changes.items():
        if value is None or value == "":
            args.pop(key, None)
        else:
            args[key] = str(value)
    return request.path + ("?" + urlencode(args) if args else "")


@bp.app_template_global("sort_state")
def sort_state(key: str, default: str = "") -> str | None:
    """How the list is sorted by this column: "ascending", "descending" or None (for aria-sort)."""
    sort = current_sort(default)
    if sort == key:
        return "ascending"
    if sort == f"-{key}":
        return "descending"
    return None


@bp.app_template_global("sort_url")
def sort_url(key: str, default: str = "", first: str = "ascending") -> str:
    """The link of a column header: sorts by the column, or reverses it when it is already the order."""
    state = sort_state(key, default)
    if state is None:
        ascending = first == "ascending"
    else:
        ascending = state == "descending"
    return list_url(sort=key if ascending else f"-{key}")
