"""FactuurSturen.nl API v1 sandbox: a stateful simulator of the service on a real loopback socket.

Scope
    Every v1 endpoint a sync needs, over HTTP/1.1 keep-alive on 127.0.0.1, under ``/api/v1``:
    clients and products (GET list/one, POST, PUT, DELETE); invoices (GET list/one by id or full
    number, POST, DELETE; PUT answers 405); invoices_payment (POST 201, PUT 200); invoices_saved and
    invoices_repeated (GET list/one, DELETE); invoices_pdf (a small valid PDF); profiles, taxes,
    countrylist/{nl,en,de,fr,es}, balance; search/{invoices|clients|products}/{field|all}/{query}.
    Quotations, reminders via the API, ``convert_prices_to_euro`` and ``tax_country`` are not simulated
    (the last two are accepted and ignored). Repeating invoices are stored; nothing is ever auto-sent.
    A control surface under ``/_sandbox`` (no auth, JSON) resets, seeds, shows the truth, acts as a
    person in the web app, injects faults, moves the clock and shrinks the rate window; see
    `control` and `sandboxes._control`.

Fidelity (PROVIDERS.md section 3 and decisions 18-28, followed to the letter)
    * HTTP Basic: user name + API key. Wrong or missing -> 401, plain text, ``Content-Type: text/html``.
    * JSON only with ``Accept: application/json``; otherwise XML (minimal, invented shape: list ->
      ``<invoices><invoice>...``, single -> ``<invoice>...``, keyed objects as child elements).
    * JSON is PHP ``json_encode`` style: compact, ``\\/`` for slashes, ``\\uXXXX`` for non-ASCII.
      Content-Type ``application/json``.
    * Every top-level value is a string: ids "1", booleans "true"/"false", money "62.92", ints "30",
      country id "146", empty dates "". Inside ``lines`` the numbers are JSON numbers written from the
      Decimal text (never float): shortest form, like the fixtures (``"price":13``, ``5.952``).
      ``lines`` are keyed "line1".., ``taxes`` "tax1".. (rate a number, sum/sum_of strings), ``history``
      "item1"..; each is ``[]`` when empty. Field order follows the recorded fixtures; the newer
      invoice fields (tax_type, language, tax_shifted, category) come last.
    * Envelopes: lists are bare arrays; one record is wrapped (``client``, ``product``, ``invoice``; saved
      and repeating invoices also ``invoice``). POST -> 201 with the bare id as plain text (clientnr,
      product id, invoice number ``F20250001``; for save/repeat the draft's id). PUT/DELETE -> 200
      ``null``; POST invoices_payment -> 201 ``null``. Unknown id -> 404 plain text.
    * Paging ``start`` (0-based) / ``count`` (default 100, -1 = all, no maximum); invoices ascending by
      creation (= id while the clock only moves forward), clients by clientnr, products and drafts by
      id; past the end -> ``[]``. Non-integer or negative values -> 400.
    * Invoice filters open (open > 0), overdue (open > 0 and duedate < today), sent (all), partly
      (0 < open < total), toomuch (open < 0), paid (open = 0), uncollectible (date set); unknown -> 400.
      ``since``/``until`` filter the ``sent`` date, both inclusive; a bad date -> 400.
    * Rate limit: fixed windows aligned to epoch multiples of the window on the sandbox clock (default
      250 per clock hour; ``POST /_sandbox/ratelimit`` may shrink the window and move the windows off
      that grid by ``phase_seconds``, as the real service does not say where its windows start),
      counted per *supplied* user name, before the credentials are checked (so requests with a wrong
      key count, and a spent budget answers 403 even for wrong credentials).
      ``X-RateLimit-Limit``/``X-RateLimit-Remaining`` on every API answer (401/403/404/500 and faults
      too); over budget -> 403 plain text with Remaining 0. Disabled (``rate_limit=None``/0 or
      ``{"limit": null}``): never 403, and both headers show the nominal limit (the last one set, else 250).
    * ``Date`` on every answer (control answers too) comes from the sandbox clock; ``sent``, history
      times and client ``timestamp`` use it in Europe/Amsterdam.

Decisions where the sources are silent
    * Numbers: invoice number = ``F`` + year of the sent date + sequence (4 digits, wider past 9999),
      ``id`` = its digits. An own ``invoicenr`` (integer) is the sequence in the year of the sent date
      (today); a taken one -> 400. Numbers of deleted invoices are not reused.
    * Money (Decimal throughout): linetotal = round_half_up(amount x price x (1 - discount_pct/100), 2);
      per rate sum_of = sum of its linetotals, sum = round_half_up(sum_of x rate/100, 2) (rate -1 = no
      tax, sum 0); tax = sum of sums; totalintax = sum of sum_of + tax. An invoice-level discount
      (POSTed, or the client's ``stddiscount``) lowers each rate's sum_of (percentage per rate; an amount
      spread pro rata) - so with a discount totalintax != sum(linetotal) + tax. Seeded data never has
      one. Prices are rounded half up to 3 decimals. Prices are always treated as excluding tax.
    * Text-only lines (no amount, no price) show zeros for their numbers and count for nothing. A priced
      line without ``amount`` counts 1; without ``tax_rate`` 21. Any rate from 0 to 100, or -1, is taken.
    * Payments: each appends a history item ``{"date","time","description":"Betaling ontvangen",
      "amount":12.50}`` (2 decimals), sets ``paiddate`` to its date and lowers ``open``, which may go
      negative. ``"full"`` pays the invoice total including tax (as the seed document says), even when
      part is already paid. A zero amount -> 400; negative amounts (refunds) are accepted.
      ``alreadypaid``/``paiddatetime`` at creation book the same kind of history item (``paiddatetime``
      alone means "full"); alreadypaid with action=repeat -> 400.
    * POST invoice: unknown client, or sendmethod=email for a client without e-mail -> 400; save/repeat
      with a name in use -> 400 unless ``overwrite_if_exist``; repeat also needs initialdate, frequency,
      repeattype. Client POST requires nothing; country may be an id or a name in any language (unknown
      -> 400); choice fields (sendmethod, paymentmethod, collecttype, tax_type, default_doclang) are checked.
    * Client ``timestamp`` is absent by default (decision 23, corrected: no recorded answer has it); the
      quirk ``client_timestamp=date|datetime`` shows it as ``YYYY-MM-DD`` or ``YYYY-MM-DD HH:MM:SS`` (local).
      It moves when a value really changes (PUT or the web app), and when a newly sent invoice moves
      ``lastinvoice``; a PUT that changes nothing leaves it. Clients also carry ``email_reminder`` and
      ``custom_1``..``custom_3``, keys the live service was seen sending [C rb].
    * Quirk switches (``--quirk NAME[=VALUE]``, ``POST /_sandbox/quirks``): see `quirks` for the table of
      quirks, defaults and evidence.
    * DELETE client with invoices or drafts -> 403. Deleted invoices take their payments with them.
    * Balance is ``{"balance": "25.00"}``; profiles 1 "Standaard" and 2 "English"; taxes 21 H (default),
      9 L, 0 Z, -1 N. Countries: about 50, with the service's ids (146 Nederland, 18 Belgium, 50 Germany,
      63 France, 224 United Kingdom, 226 United States, ...), names in the five languages.
    * Faults (``/_sandbox/faults``) are evaluated after rate counting and authentication and carry the
      rate headers; ``drop_after_commit`` and ``timeout`` answers are logged with status 0; a
      ``page_shift`` fires only on a list request (invoices or clients) with ``start > 0`` and deletes
      the record just before that page (for clients: the nearest one without documents).
    * ``/_sandbox/reset`` also puts the clock back to real time; the rate-limit configuration stays.
    * Seeding is deterministic (see `seed` for the mix of paid, partly paid, over-paid, open, overdue
      and uncollectible invoices) and serializes every record once, so even the first read of 100,000
      invoices runs at cached speed; a record's JSON is rebuilt only after it changes.
    * Unknown API paths -> 404, a known path with another method -> 405 with ``Allow``; both after the
      rate limit and the credentials, like every API answer.

Public API
    ``FactuurSturenSandbox(port=0, username="demo", api_key="fs_test_key", seed=42, clients=0,
    invoices=0, lines_per_invoice=3, rate_limit=250, rate_window_seconds=3600)`` with ``start()``,
    ``stop()``, ``base_url``, ``control_url``, ``credentials``, ``state``, ``seed(**spec)``, ``reset()``.
    ``python -m sandboxes.factuursturen --port N --clients N --invoices N --seed N`` serves in
    the foreground and prints one JSON line with the URLs and credentials.
"""

from sandboxes.factuursturen.app import FactuurSturenSandbox

SANDBOX = FactuurSturenSandbox  # found by `sandboxes.sandbox_class`

__all__ = ["SANDBOX", "FactuurSturenSandbox"]
