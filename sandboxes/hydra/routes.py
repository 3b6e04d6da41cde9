"""The API under /api: route a request, read collections and items, call the writes, render the answers."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from sandboxes._server import Request, Response
from sandboxes.hydra import writes
from sandboxes.hydra.collection import render_collection, render_plain
from sandboxes.hydra.docs import DOCS_PATH, ENTRYPOINT_LINKS, api_documentation, context_document
from sandboxes.hydra.errors import BadRequest, MethodNotAllowed, NotFound
from sandboxes.hydra.inputs import decode
from sandboxes.hydra.listing import MAX_PER_PAGE, read_query
from sandboxes.hydra.phpquery import parse_str
from sandboxes.hydra.records import Invoice, Record
from sandboxes.hydra.state import HydraState
from sandboxes.hydra.wire import API_PREFIX, RESOURCES, dumps, iri_of, item_json, member_json, plain_json

__all__ = ["CONTENT_TYPES", "PUBLIC_PATHS", "ApiRoutes", "Ctx"]

CONTENT_TYPES = {"jsonld": "application/ld+json; charset=utf-8", "json": "application/json; charset=utf-8"}
_PATCH = "application/merge-patch+json"
PUBLIC_PATHS = frozenset({DOCS_PATH})  # the firewall lets the documentation through without a token
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])(-\d{2})?$")


@dataclass(frozen=True, slots=True)
class Ctx:
    """What the pipeline decided about a request: response format, API flavour, the sandbox time."""

    fmt: str
    flavour: str
    now: float
    max_per_page: int = MAX_PER_PAGE  # the `max_items_per_page` quirk
    link_origin: str = ""  # the `absolute_links` quirk: view links start with the origin
    origin: str = ""  # scheme and host the request reached (absolute URLs in the documentation)


Call = Callable[[Request, Ctx], Response]


def _segments(path: str) -> tuple[str, ...]:
    return tuple(p for p in path.split("/") if p)


class ApiRoutes:
    """Every endpoint of the app, bound to one state."""

    def __init__(self, state: HydraState) -> None:
        """Args: state: the account served."""
        self.state = state
        self._routes: list[tuple[str, tuple[str, ...], Call]] = []
        p = API_PREFIX
        self._add("GET", p, self._entrypoint)
        self._add("GET", DOCS_PATH, lambda r, c: Response(200, api_documentation(c.origin, c.flavour).encode(),
                                                          CONTENT_TYPES["jsonld"]))
        self._add("GET", f"{p}/contexts/{{name}}", self._context)
        self._add("GET", f"{p}/invoices/draft", lambda r, c: self._list(r, c, "invoices", "draft"))
        self._add("GET", f"{p}/invoices/name/{{date}}", self._by_name)
        self._add("POST", f"{p}/invoices/send", lambda r, c: self._created(c, writes.create(
            self.state, r, "invoices", c.now, sent=True)))
        self._add("GET", f"{p}/invoices/{{id}}/send", lambda r, c: self._item(c, self._get(r, "invoices")))
        self._add("POST", f"{p}/invoices/{{id}}/send", self._send)
        self._add("POST", f"{p}/e-invoices/send", lambda r, c: self._created(c, writes.send_e_invoice(
            self.state, r, c.now)))
        self._add("POST", f"{p}/payment-methods/create-setup-intent", self._setup_intent)
        for name in RESOURCES:
            self._resource(name)

    def _resource(self, name: str) -> None:
        """The generic operations of one resource."""
        p = API_PREFIX
        self._add("GET", f"{p}/{name}", lambda r, c: self._list(r, c, name))
        self._add("GET", f"{p}/{name}/{{id}}", lambda r, c: self._item(c, self._get(r, name)))
        self._add("PATCH", f"{p}/{name}/{{id}}", lambda r, c: self._item(
            c, writes.patch(self.state, r, name, r.params["id"], c.now)))
        if name != "payment-methods":
            self._add("POST", f"{p}/{name}", lambda r, c: self._created(c, writes.create(self.state, r, name, c.now)))
        if name != "invoice-rows":  # the seed lists no DELETE for rows
            self._add("DELETE", f"{p}/{name}/{{id}}", lambda r, c: self._deleted(r, name))

    def _add(self, method: str, pattern: str, call: Call) -> None:
        self._routes.append((method, _segments(pattern), call))

    def resolve(self, request: Request) -> Call:
        """Find the endpoint (HEAD is served as GET); captures go to ``request.params``.

        Raises:
            NotFound: no route. MethodNotAllowed: the path exists with other methods.
        """
        segments = _segments(request.raw_path)
        method = "GET" if request.method == "HEAD" else request.method
        allowed: list[str] = []
        for want, pattern, call in self._routes:
            params = _match(pattern, segments)
            if params is None:
                continue
            if want == method:
                request.params = params
                return call
            allowed.append(want)
        where = f"{request.method} {request.raw_path}"
        if allowed:
            methods = ", ".join(dict.fromkeys(allowed))
            raise MethodNotAllowed(f'No route found for "{where}": Method Not Allowed (Allow: {methods})',
                                   list(dict.fromkeys(allowed)))
        raise NotFound(f'No route found for "{where}"')

    # -- rendering -----------------------------------------------------------------------------------

    def _item(self, ctx: Ctx, record: Record, status: int = 200) -> Response:
        with self.state.lock:
            text = item_json(record) if ctx.fmt == "jsonld" else plain_json(record)
            iri = iri_of(record)
        headers = [("Content-Location", iri), ("Accept-Patch", _PATCH)]
        if status == 201:
            headers.insert(0, ("Location", iri))
        return Response(status, text.encode(), CONTENT_TYPES[ctx.fmt], headers)

    def _created(self, ctx: Ctx, record: Record) -> Response:
        return self._item(ctx, record, 201)

    def _deleted(self, request: Request, resource: str) -> Response:
        writes.delete(self.state, resource, request.params["id"])
        return Response(204, b"", None)

    def _get(self, request: Request, resource: str) -> Record:
        record: Record = self.state.get(resource, request.params["id"])
        return record

    # -- collections ---------------------------------------------------------------------------------

    def _list(self, request: Request, ctx: Ctx, resource: str, scope: str = "") -> Response:
        params = parse_str(request.raw_query)
        if resource == "payment-methods" and str(params.get("deleted", "")).lower() in ("1", "true"):
            scope = "deleted"
        query = read_query(resource, params, ctx.now, scope, ctx.max_per_page)
        state = self.state
        with state.lock:
            items = state.listing(query)
            start = (query.page - 1) * query.per_page
            page = items[start:start + query.per_page] if query.per_page else []
            if ctx.fmt == "json":
                body = render_plain([plain_json(r) for r in page])
            else:
                body = render_collection(request.raw_path.rstrip("/") or request.raw_path,
                                         [member_json(r) for r in page], len(items), query, params, ctx.flavour,
                                         ctx.link_origin)
        return Response(200, body, CONTENT_TYPES[ctx.fmt])

    def _by_name(self, request: Request, ctx: Ctx) -> Response:
        match = _MONTH.match(request.params["date"])
        if match is None:
            raise BadRequest(f'Invalid date "{request.params["date"]}": use YYYY-MM or YYYY-MM-DD.')
        return self._list(request, ctx, "invoices", f"name:{match.group(1)}-{match.group(2)}")

    # -- actions -------------------------------------------------------------------------------------

    def _send(self, request: Request, ctx: Ctx) -> Response:
        invoice = self._get(request, "invoices")
        assert isinstance(invoice, Invoice)
        return self._item(ctx, writes.send(self.state, invoice))

    def _setup_intent(self, request: Request, ctx: Ctx) -> Response:
        kind = "card"
        if request.body.strip():
            body = decode(request)
            kind = str(body.get("type") or "card")
        return self._created(ctx, self.state.create_payment_method(kind))

    def _entrypoint(self, request: Request, ctx: Ctx) -> Response:
        doc = {k: RESOURCES[v].path for k, v in ENTRYPOINT_LINKS.items()}
        if ctx.fmt == "jsonld":
            doc = {"@context": f"{API_PREFIX}/contexts/Entrypoint", "@id": API_PREFIX, "@type": "Entrypoint", **doc}
        return Response(200, dumps(doc).encode(), CONTENT_TYPES[ctx.fmt])

    def _context(self, request: Request, ctx: Ctx) -> Response:
        doc = context_document(ctx.origin, request.params["name"])
        if doc is None:
            raise NotFound("Not Found")
        return Response(200, dumps(doc).encode(), CONTENT_TYPES["jsonld"])


def _match(pattern: tuple[str, ...], segments: tuple[str, ...]) -> dict[str, str] | None:
    if len(pattern) != len(segments):
        return None
    params: dict[str, str] = {}
    for want, got in zip(pattern, segments, strict=True):
        if want.startswith("{") and want.endswith("}"):
            params[want[1:-1]] = got
        elif want != got:
            return None
    return params
