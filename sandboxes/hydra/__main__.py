"""``python -m sandboxes.hydra``: serve the sandbox in the foreground, print where (JSON)."""

from __future__ import annotations

from sandboxes._main import argument_parser, quirks_given, serve
from sandboxes.hydra.app import FLAVOURS, HydraSandbox
from sandboxes.hydra.quirks import QUIRKS


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, seed, serve until SIGINT/SIGTERM; prints one JSON line first."""
    parser = argument_parser("hydra", "API Platform 'Facturering & betalingen' sandbox on 127.0.0.1", QUIRKS)
    parser.add_argument("--clients", "--customers", dest="clients", type=int, default=0,
                        help="generated customers (0: invoices / 10)")
    parser.add_argument("--invoices", type=int, default=0, help="generated invoices")
    parser.add_argument("--lines-per-invoice", type=int, default=3, help="rows on each generated invoice")
    parser.add_argument("--token", default="hydra_test_token", help="the bearer token the API accepts")
    parser.add_argument("--flavour", choices=FLAVOURS, default="3", help="API Platform major version to mimic")
    parser.add_argument("--rate-limit", type=int, default=0, help="requests per window (0: none, like the app)")
    parser.add_argument("--rate-window", type=float, default=60, help="rate window in seconds")
    parser.add_argument("--no-rate-limit", action="store_true", help="same as --rate-limit 0 (the default)")
    args = parser.parse_args(argv)
    quirks = quirks_given(parser, args, QUIRKS)
    return serve(HydraSandbox(port=args.port, seed=args.seed, clients=args.clients, invoices=args.invoices,
                              lines_per_invoice=args.lines_per_invoice, token=args.token, flavour=args.flavour,
                              rate_limit=None if args.no_rate_limit else args.rate_limit or None,
                              rate_window_seconds=args.rate_window,
                              quirks=quirks), "hydra")


if __name__ == "__main__":
    raise SystemExit(main())
