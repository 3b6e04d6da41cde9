"""``python -m sandboxes.factuursturen``: serve the sandbox in the foreground, print where (JSON)."""

from __future__ import annotations

from sandboxes._main import argument_parser, quirks_given, serve
from sandboxes.factuursturen.app import FactuurSturenSandbox
from sandboxes.factuursturen.quirks import QUIRKS


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, seed, serve until SIGINT/SIGTERM; prints one JSON line first."""
    parser = argument_parser("factuursturen", "FactuurSturen.nl API v1 sandbox on 127.0.0.1", QUIRKS)
    parser.add_argument("--clients", type=int, default=0, help="generated clients (0: invoices / 10)")
    parser.add_argument("--invoices", type=int, default=0, help="generated sent invoices")
    parser.add_argument("--lines-per-invoice", type=int, default=3, help="lines on each generated invoice")
    parser.add_argument("--start-date", help="first sent date (YYYY-MM-DD)")
    parser.add_argument("--end-date", help="last sent date (YYYY-MM-DD; default yesterday)")
    parser.add_argument("--username", default="demo", help="account user name")
    parser.add_argument("--api-key", default="fs_test_key", help="account API key")
    parser.add_argument("--rate-limit", type=int, default=250, help="requests per window (0: unlimited)")
    parser.add_argument("--rate-window", type=float, default=3600, help="rate window in seconds")
    parser.add_argument("--no-rate-limit", action="store_true", help="same as --rate-limit 0")
    args = parser.parse_args(argv)
    quirks = quirks_given(parser, args, QUIRKS)
    return serve(FactuurSturenSandbox(
        port=args.port, username=args.username, api_key=args.api_key, seed=args.seed, clients=args.clients,
        invoices=args.invoices, lines_per_invoice=args.lines_per_invoice,
        rate_limit=None if args.no_rate_limit or not args.rate_limit else args.rate_limit,
        rate_window_seconds=args.rate_window, start_date=args.start_date, end_date=args.end_date,
        quirks=quirks), "factuursturen")


if __name__ == "__main__":
    raise SystemExit(main())
