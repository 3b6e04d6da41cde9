"""Collection envelopes: Hydra JSON-LD (3.x prefixed keys, 4.x unprefixed) and plain JSON arrays.

``hydra:view`` follows API Platform's PartialCollectionViewNormalizer: it is left out when everything
fits on one page and no parameter other than ``page``/``pagination`` was given; it holds only
``@id``/``@type`` when parameters were given but there is one page; otherwise ``first``, ``last``,
``previous`` (page > 1) and ``next`` (page < last). Links keep every other query parameter, re-encoded
PHP's way, with ``page`` last.
"""

from __future__ import annotations

from functools import cache

from sandboxes.hydra.listing import SPECS, Query
from sandboxes.hydra.phpquery import Params, build_query
from sandboxes.hydra.wire import RESOURCES, dumps

__all__ = ["last_page", "render_collection", "render_plain"]


def last_page(total: int, per_page: int) -> int:
    """Doctrine's paginator: ceil(total / per page), at least 1 (and 1 when per page is 0)."""
    if per_page <= 0:
        return 1
    return max(1, -(-total // per_page))


def _view(path: str, params: Params, query: Query, total: int, hydra: str, origin: str = "") -> dict[str, str] | None:
    applied = {k: v for k, v in params.items() if k not in ("page", "pagination")}
    last = last_page(total, query.per_page)
    paginated = last != 1
    if not applied and not paginated:
        return None
    rest = build_query({k: v for k, v in params.items() if k != "page"})  # `page` always goes last
    head = f"{path}?{rest}&page=" if rest else f"{path}?page="

    def link(page: int) -> str:
        return f"{origin}{head}{page}"

    view = {"@id": link(query.page) if paginated else (f"{path}?{rest}" if rest else path),
            "@type": f"{hydra}PartialCollectionView"}
    if paginated:
        view[f"{hydra}first"] = link(1)
        view[f"{hydra}last"] = link(last)
        if query.page != 1:
            view[f"{hydra}previous"] = link(query.page - 1)
        if query.page < last:
            view[f"{hydra}next"] = link(query.page + 1)
    return view


@cache
def _search(resource: str, flavour: str) -> str:
    """The collection's ``hydra:search`` IRI template (JSON text), built once per resource and flavour."""
    spec, res = SPECS[resource], RESOURCES[resource]
    hydra = "hydra:" if flavour == "3" else ""
    variables: list[tuple[str, str]] = []
    for prop in spec.dates:
        variables += [(f"{prop}[{op}]", prop) for op in ("before", "strictly_before", "after", "strictly_after")]
    for prop in spec.search:
        variables += [(prop, prop), (f"{prop}[]", prop)]
    variables += [(f"order[{prop}]", prop) for prop in spec.orders]
    template = f"{res.path}{{?{','.join(v for v, _ in variables)}}}"
    return dumps({"@type": f"{hydra}IriTemplate", f"{hydra}template": template,
                  f"{hydra}variableRepresentation": "BasicRepresentation",
                  f"{hydra}mapping": [{"@type": "IriTemplateMapping", "variable": v, "property": p, "required": False}
                                      for v, p in variables]})


def render_collection(path: str, members: list[str], total: int, query: Query, params: Params,
                      flavour: str, origin: str = "") -> bytes:
    """A JSON-LD collection document.

    Args:
        path: the collection's own path (``/api/invoices``, ``/api/invoices/draft``).
        members: the page's records, each already serialized as a JSON-LD member.
        total: records matching the query on all pages.
        query: the parsed request.
        params: the request's query tree (for the view links).
        flavour: "3" (``hydra:`` prefixes) or "4".
        origin: put before the view's links (``http://host:port``) to make them absolute URLs.
    """
    hydra = "hydra:" if flavour == "3" else ""
    res = RESOURCES[query.resource]
    head = dumps({"@context": res.context, "@id": path, "@type": f"{hydra}Collection"})[:-1]
    parts = [head, f',"{hydra}member":[', ",".join(members), f'],"{hydra}totalItems":{total}']
    view = _view(path, params, query, total, hydra, origin)
    if view is not None:
        parts.append(f',"{hydra}view":{dumps(view)}')
    parts.append(f',"{hydra}search":{_search(query.resource, flavour)}}}')
    return "".join(parts).encode()


def render_plain(members: list[str]) -> bytes:
    """A plain-JSON collection: a bare array, no totals, no links."""
    return ("[" + ",".join(members) + "]").encode()
