"""Facturalia API v1 sandbox: a stateful simulator of the push-only service over real HTTPS on loopback.

Scope
    The one public operation, ``POST /api/v1/invoices`` (PROVIDERS.md section 2, seed 002 and the
    knowledge-base pages FL2-FL7), served over HTTPS only on 127.0.0.1 with a certificate made for the
    run. There is no read API (no GET, no clients, no payments), as at the real service. The same port
    serves a test-only control surface under ``/_sandbox`` (decision 17: tests read what was created
    from ``/_sandbox/state``, never from a public GET) and the invoices' PDF links under ``/facturen/``.
    See `control` and `sandboxes._control` for the control routes.

Fidelity (PROVIDERS.md section 2 and decisions 1-2, 13-17, to the letter)
    * Bearer keys (``fac_live_...``); missing, malformed or unknown -> 401 with exactly
      ``{"error":{"code":"unauthorized","message":"Authorization header ontbreekt of ongeldig."}}`` and
      ``WWW-Authenticate: Bearer realm="Facturalia", error="invalid_token"``. A key with scopes on but
      without ``invoices:create`` -> 403 ``forbidden`` "Scope ontbreekt: invoices:create".
    * Every error is ``{"error":{"code","message","details"?}}`` with Dutch messages; ``details`` only on
      422, keyed by dot paths with numeric indices (``invoice.date``, ``lines.0.unit_price``). Codes:
      400 invalid_json, 401 unauthorized, 403 forbidden, 404 not_found, 405 method_not_allowed (with
      ``Allow: POST``), 409 idempotency_conflict, 415 unsupported_media_type, 422 validation_error,
      429 rate_limited, 500 server_error (with ``X-Request-Id``; any injected 5xx carries it).
    * ``Content-Type`` must be ``application/json`` (a ``charset`` parameter may be given; only utf-8).
      Responses are ``application/json; charset=utf-8``.
    * Validation and processing: see `inputs` and `invoicing` (dates ``YYYY-MM-DD``, VAT rates 0/6/12/21,
      existing product codes and customer ids, ``vat_exemption_code`` 1-14 without 5, discount amount XOR
      percentage, ``due_days`` with ``nf``/``em``, ``is_paid`` records today in Europe/Brussels).
    * 201 body (decision 13): ``id`` (int), ``number``, ``external_id``, ``date``, ``due_date``,
      ``currency`` "EUR", ``language``, ``reference``, ``vat_exemption_code``, ``is_paid`` (0/1),
      ``paid_date``, ``customer`` {customer_id, name, ...}, ``lines`` [{..., total_excl, vat}],
      ``totals`` {excl, vat, incl[, discount]} as JSON numbers with exactly 2 decimals, ``links.pdf``.
    * Idempotency by ``Idempotency-Key``, ``external_id`` and ``invoice.number`` (see `state`): a replay
      returns the original body byte for byte with 201 and ``Idempotency-Status: replayed``; the same
      key with another body (canonical comparison, decision 14) -> 409 ``idempotency_conflict``.
    * Rate limit (decision 16): 60 requests per minute per presented key, fixed windows aligned to the
      sandbox clock, counted before authentication (wrong keys count too, in their own bucket).
      ``X-RateLimit-Limit``, ``X-RateLimit-Remaining`` and ``X-RateLimit-Reset`` (Unix time of the
      window's end) on every API answer; over the limit -> 429 ``rate_limited`` with ``Retry-After``
      (seconds to the window's end). Disabled (``rate_limit=None``/0): never 429, the nominal limit shown.
    * ``Date`` on every answer comes from the sandbox clock (Europe/Brussels, decision 1).

Decisions where the sources are silent
    * HTTPS only: the server's TLS context presents a trustme certificate for 127.0.0.1/localhost signed
      by a CA made for the run; its PEM file is `ca_bundle`. A plain-HTTP request on the port is answered
      ``400`` in plain text "The plain HTTP request was sent to HTTPS port." and closed (nginx's answer);
      a failed handshake (a client that does not trust the CA) is closed by the client.
    * The control surface shares the HTTPS port (verify it with the same `ca_bundle`); it has no auth and
      is not rate limited, faulted or logged. ``GET /facturen/<token>.pdf`` serves a small PDF, no auth.
    * Order of checks: rate limit, key, faults, route (404) and method (405), scope (403), content type
      (415), JSON (400; a body that is JSON but not an object is 400 too), idempotency (409 or a replay,
      before validation: only successful creates are remembered), validation (422), then the create.
    * ``null`` and ``""`` count as absent; numbers must be JSON numbers and texts JSON strings; unknown
      keys are ignored. Without ``due_days`` the term is 30 days. ``em`` = last day of the month in which
      date + due_days falls. Money: see `invoicing` (per-line VAT rounded half up to cents; totals are
      sums). A ``vat_exemption_code`` (1-14, not 5) makes all VAT 0; 0 or null means none.
    * A duplicate ``invoice.number`` with another body -> 409 ``idempotency_conflict`` too (the number is
      one of the three idempotency keys); with the same body it is a replay, without time limit.
    * Header keys and external ids are remembered 48 h on the sandbox clock (configurable: constructor,
      or ``POST /_sandbox/idempotency``); afterwards the same key creates a new invoice.
    * Customers: ``customer_id`` must exist (its stored data wins); else a known ``vat_number`` (compared
      without spaces, dots or dashes) finds it; else a known ``name`` (case-insensitive) when no VAT number
      was given; else a new customer is made (a new VAT number needs a ``name``: 422 ``customer.name``).
    * Numbers: omitted -> ``YYYY-NNNN`` by the invoice date's year, skipping numbers already taken.
    * Products are seeded (CONSULT, HOSTING, LICENSE, SUPPORT by default; configurable). ``clients`` and
      ``invoices`` pre-create customers and invoices when the server starts (invoices through the create
      path, numbered, without keys). Keys: `api_key` has scopes off; `scoped_key` has scopes on without
      ``invoices:create``; more via ``POST /_sandbox/act/create_key``.
    * Faults apply to API requests after the rate limit and the key check: ``status`` and ``storm``
      answer with the error envelope (``storm`` defaults to 429 with ``Retry-After`` and Remaining 0;
      ``status`` to 500), ``drop_after_commit`` creates the invoice and closes the connection without an
      answer, ``timeout`` waits and closes, ``html`` answers an HTML page, ``truncated_json`` creates and
      cuts the body in half. Dropped answers are logged with status 0.

Public API
    ``FacturaliaSandbox(port=0, seed=42, clients=0, invoices=0, api_key="fac_live_test",
    scoped_key="fac_live_scoped", rate_limit=60, rate_window_seconds=60, products=DEFAULT_PRODUCTS,
    idempotency_retention_seconds=172800)`` with ``start()`` (returns self), ``stop()``, ``base_url``
    (``https://127.0.0.1:PORT/api/v1``), ``control_url``, ``credentials`` (``{"api_key": ...}``),
    ``ca_bundle``, ``state``, ``seed(**spec)``, ``reset()``. ``python -m sandboxes.facturalia
    --port N`` serves in the foreground and prints one JSON line with base_url, control_url, credentials
    and ca_bundle.

Quirks
    How a replayed create answers (status, header) is switchable (``--quirk``, ``POST /_sandbox/quirks``): see
    `quirks`.
"""

from sandboxes.facturalia.app import FacturaliaSandbox

SANDBOX = FacturaliaSandbox  # found by `sandboxes.sandbox_class`

__all__ = ["SANDBOX", "FacturaliaSandbox"]
