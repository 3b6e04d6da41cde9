"""FastFaktura API v1 sandbox: a stateful simulator of the service on a real loopback socket.

Scope
    Every v1 endpoint of the seed page (PROVIDERS.md section 1) under ``/api/v1``, over HTTP/1.1
    keep-alive on 127.0.0.1: GET/PUT ``/business``; GET/POST ``/clients``, GET/PUT/DELETE
    ``/clients/{id}``; GET/POST ``/invoices``, GET ``/invoices/{id}``, ``/invoices/{id}/pdf`` (a small
    valid PDF), ``/invoices/{id}/events``, POST ``/invoices/{id}/send``. Sending is simulated (no mail,
    no SMS); payments are simulated Stripe card payments of the whole total, made through the control
    surface (there is no payment endpoint). Each invoice's ``public_url`` path is also served here, at
    ``{origin}/i/{token}`` without a key: viewing it marks a sent invoice ``opened``.
    A control surface under ``/_sandbox`` (no auth, JSON) resets, seeds, shows the truth, acts as a
    person in the web app, injects faults, moves the clock and changes the rate limit; see `control`
    and `sandboxes._control`.

Fidelity ([D] facts of PROVIDERS.md section 1, followed to the letter)
    * Auth: the key in ``X-Api-Key`` or as ``Authorization: Bearer <key>``, equivalent (when both are
      sent, ``X-Api-Key`` is the one checked).
    * Schemas exactly as documented. Client: id, name, email, phone (E.164), address, country, locale
      (fr|en|nb|sv), external_id, tags, archived_at. InvoiceLine: description, quantity, unit_price_cents,
      tax_rate - the line's derived amounts are not shown. Invoice: id, number, client_id, currency
      (EUR|USD|GBP|NOK|SEK|DKK), subtotal_cents, tax_cents, total_cents, status
      (draft|sent|opened|paid|overdue|cancelled), due_date, public_url. Money in integer cents; numbers
      are written exactly (never through float), quantities and rates in their shortest form (``2``,
      ``1.5``, ``5.5``). Ids are UUIDs. JSON is UTF-8 (not ASCII-escaped), ``application/json``.
    * POST /invoices takes client_id, currency, due_date, notes, lines (each line: all four fields);
      POST /invoices/{id}/send takes channels (email|sms|link) and reminder. PDF is ``application/pdf``.
    * DELETE /clients/{id} archives: ``archived_at`` is set, the record stays readable.

Decisions where the sources are silent (PROVIDERS.md section 5, decisions 3-12, plus these)
    * Lists (3): ``{"data": [...], "meta": {"page", "per_page": 25, "total", "last_page"}}``, 25 per page,
      no page-size parameter, ``page`` 1-based (not a positive integer -> 422), past the end an empty
      ``data``; ``last_page`` is at least 1. Ordering (4): newest first by creation (the sandbox's creation
      order; ids break no ties because creation order is total).
    * The invoice list entry is exactly the Invoice schema (the ten fields above): what a list in the web
      app shows. The detail (GET /invoices/{id}, and the answers of POST /invoices and /send) is that
      entry plus ``notes``, ``lines`` and ``events``. Nothing in the entry changes when only the timeline
      grows without a status change (a reminder, a second send), so a client hashing list entries sees
      those only at the next status change.
    * Issue date: there is no invoice date field (5 forbids inventing one); an invoice is issued when it
      is first sent, so its issue date is the UTC date of its first ``sent`` event's ``created_at``.
      Drafts have none.
    * Clients (11): GET /clients lists active clients; ``?archived=true`` lists ONLY archived ones
      (``false`` = the default; anything else -> 422); ``q`` is a case-insensitive substring search over
      name, e-mail and phone (a query with digits also matches phones by digits only), within that
      listing. GET /clients/{id} finds archived clients too; DELETE again is an idempotent 200 with the
      client. PUT is a partial update (fields left out keep their value; ``id`` and ``archived_at`` are
      read-only and ignored) and is allowed on archived clients (they stay archived). There is no
      un-archive. Invoices cannot be created for an archived client (422).
    * Validation: name required (non-empty); e-mail must look like one; phone must be E.164; country
      ISO 3166-1 alpha-2 (upper-cased); locale one of four (default ``en``); an empty string reads as
      null. Invoice: client_id of an existing active client, currency one of six, due_date YYYY-MM-DD or
      null, >= 1 line; quantity a JSON number > 0, unit_price_cents a JSON integer (negative allowed for
      discounts), tax_rate a JSON number 0-100. Strings are never accepted for numbers.
    * Money (8): per line net = round_half_up(quantity x unit_price_cents) and tax =
      round_half_up(quantity x unit_price_cents x tax_rate / 100) (halves away from zero, Decimal);
      subtotal = sum of nets, tax = sum of line taxes, total = subtotal + tax.
    * Events (7): ``{"id", "type", "created_at": "YYYY-MM-DDTHH:MM:SSZ", "channel"?, "amount_cents"?,
      "paid_at"?, "data"?}``, oldest first; types created, sent, opened, reminder_sent, paid, overdue,
      cancelled. A send writes one ``sent`` (or ``reminder_sent``) event per channel, with ``channel``.
      ``paid`` carries ``amount_cents`` (the whole total), ``paid_at`` and ``data`` {"method": "card",
      "payment_intent": "pi_..."}. GET /invoices/{id}/events answers ``{"data": [...]}`` (never paged).
    * Status (9): draft -(send)-> sent -(public page viewed)-> opened; sent/opened -(due date passed on
      the sandbox clock, UTC)-> overdue, with an ``overdue`` event dated the next day 00:00:00Z;
      sent/opened/overdue -(payment)-> paid; draft/sent/opened/overdue -(cancel, web app only)->
      cancelled. Sending a cancelled or paid invoice -> 409; a reminder for a draft -> 409; a channel
      the client lacks (email without e-mail, sms without phone) -> 422. Sending again without
      ``reminder`` adds ``sent`` events and keeps the status. A paid invoice cannot be cancelled (409).
    * Errors (10): ``{"error": {"code", "message", "fields"?}}`` with codes invalid_json (400),
      unauthorized (401, with ``WWW-Authenticate: Bearer realm="FastFaktura"``), not_found (404, also
      unknown paths), method_not_allowed (405, with ``Allow``), conflict (409), validation_failed (422,
      ``fields`` by dotted path such as ``lines.0.quantity``), rate_limited (429), server_error (5xx).
    * Rate limit (10): 120 requests per 60 s per supplied key (wrong keys count under their own key),
      fixed windows aligned to epoch multiples on the sandbox clock, counted before the key is
      checked; past it 429 with ``Retry-After`` = seconds to the window's end (at least 1). No
      ``X-RateLimit-*`` headers (none documented). ``rate_limit=None`` turns it off.
    * Numbers (12): ``FF-<year>-<seq>`` (4 digits, wider past 9999), sequence per calendar year (UTC) of
      creation, assigned to drafts too; never reused.
    * ``public_url`` = ``https://app.fastfaktura.io/i/<token>``, the token a hash of the invoice id.
    * Faults (``/_sandbox/faults``) are evaluated after the rate limit and the key; ``drop_after_commit``
      and ``timeout`` answers are logged with status 0. ``page_shift`` fires on a list request with
      ``page`` > 1: on /clients (``body`` "remove", the default) it archives the active client just
      before the page, (``"add"``) creates a client; on /invoices (``"add"``, the default) it creates a
      draft, (``"remove"``, only with a ``status`` filter) cancels the invoice just before the page.
    * ``Date`` on every answer comes from the sandbox clock (UTC). ``/_sandbox/reset`` also puts the
      clock back to real time; the rate-limit configuration stays. The request log holds API requests
      only (not the control surface, not the invoice viewer).
    * Seeding is deterministic (see `seed`) and serializes every record once; a record's JSON is
      rebuilt only after it changes, so list pages and single GETs are served from cached bytes.

Public API
    ``FastFakturaSandbox(port=0, seed=42, clients=0, invoices=0, lines_per_invoice=3, api_key="ffk_test_key",
    rate_limit=120, rate_window_seconds=60)`` with ``start()``, ``stop()``, ``base_url``, ``control_url``,
    ``credentials``, ``state``, ``seed(**spec)``, ``reset()``.
    ``python -m sandboxes.fastfaktura --port N --clients N --invoices N --seed N [--no-rate-limit]``
    serves in the foreground and prints one JSON line with the URLs and credentials.

Quirks
    The quirk switches (``--quirk``, ``POST /_sandbox/quirks``) for the invented list details: see `quirks`.
"""

from sandboxes.fastfaktura.app import FastFakturaSandbox

SANDBOX = FastFakturaSandbox  # found by `sandboxes.sandbox_class`

__all__ = ["SANDBOX", "FastFakturaSandbox"]
