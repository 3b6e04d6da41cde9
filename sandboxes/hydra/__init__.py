"""Seed 004 sandbox: an API Platform (Symfony) app "Facturering & betalingen" on a real loopback socket.

Scope
    Everything a sync needs, over HTTP/1.1 keep-alive on 127.0.0.1, under the route prefix ``/api``
    (so IRIs read ``/api/invoices/12``): invoices (GET list/one, POST, PATCH, DELETE; GET
    ``/invoices/draft``, GET ``/invoices/name/{date}``, GET+POST ``/invoices/{id}/send``, POST
    ``/invoices/send``, POST ``/e-invoices/send``), invoice-rows (GET list/one, POST, PATCH; no DELETE:
    405), invoice-transactions (the payments: GET list/one, POST, PATCH, DELETE), payment-methods (GET
    list/one, PATCH, DELETE, POST ``/payment-methods/create-setup-intent``), customers (GET list/one,
    POST, PATCH, DELETE), the entrypoint ``GET /api``, the JSON-LD contexts ``/api/contexts/{Type}`` and
    the Hydra ``ApiDocumentation`` at ``/api/docs.jsonld`` (no token needed, as the firewall of such apps
    lets the docs through). Not simulated: XML/CSV formats, OpenAPI, projects, bank transactions,
    organizations, PDFs, real e-invoicing or Stripe. A control surface under ``/_sandbox`` (no auth,
    JSON) resets, seeds, shows the truth, switches the flavour, acts as a person in the web app,
    injects faults, moves the clock and (optionally) rate-limits; see `control` and
    `sandboxes._control`.

Fidelity (PROVIDERS.md section 4 and decisions 29-36, followed to the letter)
    * Formats: ``application/ld+json`` (also for no ``Accept``, ``*/*`` and ``application/*``) and
      ``application/json`` (plain: collections are bare arrays, no ``@`` keys, no totals or links),
      q-values honoured; anything else -> 406 (problem+json) "Requested format "text/html" is not
      supported. Supported MIME types are "application/ld+json", "application/json"." Content types
      carry ``; charset=utf-8``.
    * Flavour "3" (default, API Platform 3.x): ``hydra:``-prefixed collection keys
      (``@type: hydra:Collection``, ``hydra:member``, ``hydra:totalItems``, ``hydra:view``,
      ``hydra:search``); legacy errors: Hydra JSON-LD (``@type: hydra:Error``, ``hydra:title``,
      ``hydra:description``) for JSON-LD requests and ``{"type": RFC 2616 link, "title", "detail"}``
      problem documents otherwise; 422 as a ``ConstraintViolationList`` with ``violations``
      [{propertyPath, message, code}]. Flavour "4": unprefixed keys (``@type: Collection``, ``member``,
      ``view``, ``next``...); every error ``application/problem+json`` with ``title``, ``detail``,
      ``status``, ``type`` (``/errors/404``, ``/validation_errors/<code>``), ``description`` (plus
      ``@context``/``@id``/``@type`` for JSON-LD requests) and ``Link: <http://www.w3.org/ns/hydra/error>``.
    * Self-description (see `docs`), as API Platform builds it, so that API Platform's own documentation
      parser (``@api-platform/api-doc-parser``) builds the model of the API (every resource, field,
      relation and CRUD operation; tests/hydra/test_api_doc_parser.py): the ``Link`` header names the
      documentation by an ABSOLUTE URL (``<http://HOST/api/docs.jsonld>``, HOST from the request's
      ``Host`` header, else the listening address); the entrypoint ``{"@context": "/api/contexts/Entrypoint",
      "@id": "/api", "@type": "Entrypoint", "customer": "/api/customers", ...}`` has one key per
      collection (the short name, first letter lower-case); each context has the absolute ``@vocab``
      (``http://HOST/api/docs.jsonld#``), ``hydra`` and one term per property (``"number":
      "Invoice/number"``; relations ``{"@id": "Invoice/customer", "@type": "@id"}``; the identifier left
      out). ``docs.jsonld``: flavour "3" as 3.4 (one inline context with hydra, rdf, rdfs, xmls, owl,
      schema, domain, range, subClassOf, expects, returns; ``hydra:``-prefixed keys; the ``Entrypoint``
      class with one ``hydra:Link`` property per collection whose range is a ``hydra:Collection`` of the
      resource's class and whose operations are the collection's GET and POST; ``ConstraintViolation``
      and ``ConstraintViolationList``), flavour "4" as 4.1 with ``hydra_prefix: false`` (a context list:
      the Hydra terms it uses, then the same terms as "3" without expects/returns; unprefixed keys;
      ``getInvoiceCollection``-style titles; ``ConstraintViolation`` as an Error subclass). Per resource
      a class with its properties (range ``xmls:string``/``integer``/``decimal``/``dateTime``/
      ``boolean`` or the related class, relations as ``hydra:Link``, ``owl:maxCardinality`` 1 for one
      related item, required/readable/writeable as the validators and inputs have them) and its item
      operations. Custom operations (send, draft, by name, setup intents, e-invoices) are not listed.
    * Items: ``@context`` (``/api/contexts/Invoice``), ``@id``, ``@type``, then properties; relations
      as IRI strings; dates RFC 3339 ``+00:00`` (Doctrine ``date`` columns as midnight date-times);
      decimals as strings with scale 2 (``"12.50"``, vatRate ``"21.00"``); row ``quantity`` and
      transaction ``amount`` as JSON numbers (PHP floats: ``2``, ``1.5``, ``60.5``). JSON is encoded as
      API Platform does: ``\\/`` for slashes, ``\\u0026``/``\\u0027``/``\\u0022``/``\\u003C``/``\\u003E``,
      other non-ASCII raw. Null properties are left out (``skip_null_values``).
    * Auth: ``Authorization: Bearer <token>`` (decision 30); none -> 401 ``{"code":401,"message":"JWT
      Token not found"}``, a wrong token -> ``"Invalid JWT Token"``, with ``WWW-Authenticate: Bearer``.
    * Paging (decision 31): 30 per page, ``itemsPerPage`` clamped at 100, ``page`` < 1 -> 400 "Page
      should not be less than 1", negative ``itemsPerPage`` -> 400 "Limit should not be less than 0",
      values read with PHP's (int) cast; past the end -> 200 with no members. ``hydra:totalItems``
      always. ``hydra:view`` is omitted for one unfiltered page, only ``@id``/``@type`` for one page
      with parameters, else first/last/previous/next; links keep every other parameter, re-encoded
      the PHP way (``updatedAt%5Bafter%5D=...``, ``invoice%5B0%5D=...``), ``page`` last.
    * Filters (decision 32): DateFilter ``updatedAt``/``createdAt`` on customers, invoices, rows and
      transactions, ``date`` on invoices and transactions, operators after/before (inclusive) and
      strictly_after/strictly_before; an unparsable value is ignored (so is an unescaped ``+`` in an
      offset: it decodes to a space). OrderFilter ``order[id]``, ``order[updatedAt]`` (also
      ``createdAt``/``name`` on customers, ``date`` on invoices and transactions), applied in the
      order given, then id ascending (the default order). SearchFilter (exact) ``invoice`` on rows and
      transactions and ``customer``/``status`` on invoices, ``externalId`` on customers: an IRI or a
      plain id, ``x[]=`` for several. Unknown parameters are ignored.
    * Writes: POST -> 201 with ``Location`` and ``Content-Location`` (the new IRI) and the full item;
      POST needs ``Content-Type`` application/ld+json or application/json, PATCH needs
      ``application/merge-patch+json`` (RFC 7386: omitted = unchanged, null = cleared), else 415 "The
      content-type "X" is not supported. Supported MIME types are "...""; no content type -> 415 'The
      "Content-Type" header must exist.'. Item answers carry ``Accept-Patch:
      application/merge-patch+json`` and ``Content-Location``. DELETE -> 204, a soft delete: gone from
      lists, 404 afterwards. Bad JSON -> 400 "Syntax error"; wrong JSON types -> 400 'The type of the
      "quantity" attribute must be "float", "string" given.'; relations must be IRIs: a nested object
      -> 400 'Nested documents for attribute "customer" are not allowed. Use IRIs instead.', another
      string -> 'Invalid IRI "5".', a missing or deleted item -> 'Item not found for
      "/api/customers/999".'. Violations -> 422 with every violation (NotBlank, NotNull, Email,
      Country, Currency, numeric decimals, vatRate >= 0, ccExpMonth 1..12).

Decisions where the sources are silent
    * Customer (not in the seed): ``id``, ``name``*, ``email``, ``phone``, ``vatNumber``, ``street``,
      ``postalCode``, ``city``, ``country`` (ISO 3166-1 alpha-2), ``externalId``, ``createdAt``,
      ``updatedAt``. Invoice (decision 33): ``id``, ``number`` (``YYYY-MM-NNNN`` by invoice month,
      assigned on send; absent for drafts), ``status`` (draft|sent|paid|partially_paid|overdue|cancelled),
      ``customer`` IRI, ``date``, ``dueDate``, ``currency`` (EUR), ``reference``, ``netAmount``,
      ``vatAmount``, ``grossAmount``, ``openAmount``, ``invoiceRows`` (IRIs; the inverse side: IRIs in
      input are checked and then ignored, as Doctrine ignores it), ``createdAt``, ``updatedAt``,
      ``deleted`` (``deletedAt`` only when set). Rows add ``id``, ``invoice`` (IRI), read-only
      ``netAmount``/``vatAmount``, ``createdAt``, ``updatedAt`` to the seed's fields; transactions have
      the seed's fields.
    * Money: row net = round_half_up(quantity x netPrice, 2) - netDiscountAmount (an amount per row);
      row VAT = round_half_up(net x vatRate / 100, 2); invoice net/VAT = sums over its rows, gross = net
      + VAT, open = gross - the sum of its live transactions (null amounts count 0). Decimal inputs are
      rounded half up to 2 places (a decimal(10,2) column).
    * Status is stored and re-derived on every change of the invoice, its rows or its transactions:
      drafts and cancelled stay; else paid (gross > 0 and paid >= gross), partially_paid, overdue
      (past due), sent. PATCH may only set ``cancelled`` (other values -> 422); POST ``/{id}/send``
      sends a draft (number, date = today if none, due = date + 30 days), a sent one stays, a cancelled
      one -> 422. GET ``/{id}/send`` shows the item. ``/invoices/send`` creates and sends (201);
      ``/e-invoices/send`` takes ``{"invoice": IRI}``, sends it the same way and answers 201 with it.
      ``/invoices/name/{date}`` lists invoices whose number starts with the ``YYYY-MM`` of ``{date}``
      (YYYY-MM or YYYY-MM-DD, else 400).
    * ``updatedAt`` (whole seconds) moves when a value really changes, and an invoice's also when one
      of its rows or transactions changes (decision 36): it is the sync cursor. Deleting an invoice
      soft-deletes its rows and transactions.
    * Order of checks: rate limit, route (404 'No route found for "GET /api/x"', 405 with ``Allow``),
      format (406), JWT (401), faults, then the operation (404 item, 415, 400, 422).
    * Rate limiting: none by default (the app has none); when switched on (``/_sandbox/ratelimit``)
      fixed windows per token, ``X-RateLimit-Limit``/``X-RateLimit-Remaining`` on every answer and
      429 + ``Retry-After`` (seconds to the window's end) in the error style of the request.
    * Faults are evaluated after authentication; ``drop_after_commit`` and ``timeout`` answers are
      logged with status 0; ``page_shift`` fires on a collection GET (customers, invoices,
      transactions, payment methods) with ``page`` > 1 and soft-deletes the record just before that
      page, so every later record moves one place forward; with ``"body": "insert"`` it adds a record
      of that resource instead (it lands before the page when the query orders new records first,
      e.g. ``order[id]=desc``, and moves every later record one place back).
    * Every API answer carries ``Date`` (sandbox clock, UTC), ``Vary: Accept``, ``Link`` to
      ``http://HOST/api/docs.jsonld`` (apiDocumentation), ``X-Content-Type-Options`` and ``X-Frame-Options``.
    * Payment methods: string ids (``pm_...``); ``?deleted=true`` lists the soft-deleted ones with
      ``deleted: true`` and ``deletedAt`` (decision 35).
    * Seeding is deterministic (see `seed`) and serializes every record once; a record's JSON is
      rebuilt only after it changes, and listings are cached per query until their resource changes.

Public API
    ``HydraSandbox(port=0, seed=42, clients=0, invoices=0, lines_per_invoice=3, token="hydra_test_token",
    flavour="3", rate_limit=None, rate_window_seconds=60)`` with ``start()`` (returns self), ``stop()``,
    ``base_url`` (``http://127.0.0.1:PORT/api``), ``control_url``, ``credentials`` (``{"api_key":
    token}``), ``state``, ``seed(**spec)``, ``reset()``, ``flavour``. ``python -m sandboxes.hydra
    --port N --clients N --invoices N --seed N [--flavour 3|4]`` serves in the foreground and prints one
    JSON line with the URLs and credentials.

Quirks
    The quirk switches (``--quirk``, ``POST /_sandbox/quirks``): see `quirks`. The flavour is one of them
    (``--flavour`` and ``POST /_sandbox/flavour`` set the same switch).
"""

from sandboxes.hydra.app import HydraSandbox

SANDBOX = HydraSandbox  # found by `sandboxes.sandbox_class`

__all__ = ["SANDBOX", "HydraSandbox"]
