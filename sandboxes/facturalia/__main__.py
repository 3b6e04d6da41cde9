"""``python -m sandboxes.facturalia``: serve the sandbox in the foreground, print where (JSON)."""

from __future__ import annotations

from sandboxes._main import argument_parser, quirks_given, serve
from sandboxes.facturalia.app import FacturaliaSandbox
from sandboxes.facturalia.quirks import QUIRKS


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, serve until SIGINT/SIGTERM; prints one JSON line first (with the CA bundle's path)."""
    parser = argument_parser("facturalia", "Facturalia API v1 sandbox on https://127.0.0.1", QUIRKS)
    parser.add_argument("--clients", type=int, default=0, help="generated customers (0: invoices / 10)")
    parser.add_argument("--invoices", type=int, default=0, help="invoices created at start")
    parser.add_argument("--api-key", default="fac_live_test", help="API key with scopes off")
    parser.add_argument("--scoped-key", default="fac_live_scoped", help="API key lacking invoices:create")
    parser.add_argument("--rate-limit", type=int, default=60, help="requests per window and key (0: unlimited)")
    parser.add_argument("--rate-window", type=float, default=60, help="rate window in seconds")
    parser.add_argument("--no-rate-limit", action="store_true", help="same as --rate-limit 0")
    args = parser.parse_args(argv)
    quirks = quirks_given(parser, args, QUIRKS)
    sandbox = FacturaliaSandbox(port=args.port, seed=args.seed, clients=args.clients, invoices=args.invoices,
                                api_key=args.api_key, scoped_key=args.scoped_key or None,
                                rate_limit=None if args.no_rate_limit else args.rate_limit or None,
                                rate_window_seconds=args.rate_window, quirks=quirks)
    return serve(sandbox, "facturalia", lambda s: {"credentials": s.credentials, "ca_bundle": s.ca_bundle})


if __name__ == "__main__":
    raise SystemExit(main())
