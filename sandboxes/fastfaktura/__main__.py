"""``python -m sandboxes.fastfaktura``: serve the sandbox in the foreground, print where (JSON)."""

from __future__ import annotations

from sandboxes._main import argument_parser, quirks_given, serve
from sandboxes.fastfaktura.app import FastFakturaSandbox
from sandboxes.fastfaktura.quirks import QUIRKS


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, seed, serve until SIGINT/SIGTERM; prints one JSON line first."""
    parser = argument_parser("fastfaktura", "FastFaktura API v1 sandbox on 127.0.0.1", QUIRKS)
    parser.add_argument("--clients", type=int, default=0, help="generated clients (0: invoices / 10)")
    parser.add_argument("--invoices", type=int, default=0, help="generated invoices")
    parser.add_argument("--lines-per-invoice", type=int, default=3, help="lines on each generated invoice")
    parser.add_argument("--start-date", help="first invoice creation date (YYYY-MM-DD)")
    parser.add_argument("--end-date", help="last event date (YYYY-MM-DD; default yesterday)")
    parser.add_argument("--api-key", default="ffk_test_key", help="account API key")
    parser.add_argument("--rate-limit", type=int, default=120, help="requests per window (0: unlimited)")
    parser.add_argument("--rate-window", type=float, default=60, help="rate window in seconds")
    parser.add_argument("--no-rate-limit", action="store_true", help="same as --rate-limit 0")
    args = parser.parse_args(argv)
    quirks = quirks_given(parser, args, QUIRKS)
    return serve(FastFakturaSandbox(
        port=args.port, seed=args.seed, clients=args.clients, invoices=args.invoices,
        lines_per_invoice=args.lines_per_invoice, api_key=args.api_key,
        rate_limit=None if args.no_rate_limit or not args.rate_limit else args.rate_limit,
        rate_window_seconds=args.rate_window, start_date=args.start_date, end_date=args.end_date,
        quirks=quirks), "fastfaktura")


if __name__ == "__main__":
    raise SystemExit(main())
