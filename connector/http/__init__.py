"""The HTTP layer: paced, classified, retried and redacted access to the invoicing services."""

from __future__ import annotations

from connector.http.auth import ApiKeyHeader, BasicAuth, BearerToken, secrets_of
from connector.http.body import ACCEPT_ENCODING, BodyTooLarge, UnreadableBody, read_bounded
from connector.http.classify import (
    DEFAULT_STATUS_MAP,
    EXCEPTION_MAP,
    Classifier,
    Override,
    classify_exception,
    describe,
    forbidden_with_zero_remaining_is_rate_limit,
    parse_http_date,
    rejection_fields,
    retry_after_seconds,
)
from connector.http.client import HttpSession, encode_json, split_json_array
from connector.http.config import DEADLINE_PER_TIMEOUT, MAX_BODY_BYTES, HttpConfig
from connector.http.deadline import DeadlineBackend, DeadlineClient, DeadlineTransport, deadline
from connector.http.pacing import MAX_HOLD_SECONDS, Pacer
from connector.http.paging import (
    NextLinkPaginator,
    PageNumberPaginator,
    Paginator,
    StartCountPaginator,
    link_header_next,
)
from connector.http.redact import MASK, RedactingFilter, excerpt, redact
from connector.http.retry import RetryAfterOrJitteredBackoff, StopOnClock, retry_policy

__all__ = [
    "ACCEPT_ENCODING",
    "DEADLINE_PER_TIMEOUT",
    "DEFAULT_STATUS_MAP",
    "EXCEPTION_MAP",
    "MASK",
    "MAX_BODY_BYTES",
    "MAX_HOLD_SECONDS",
    "ApiKeyHeader",
    "BasicAuth",
    "BearerToken",
    "BodyTooLarge",
    "Classifier",
    "DeadlineBackend",
    "DeadlineClient",
    "DeadlineTransport",
    "HttpConfig",
    "HttpSession",
    "NextLinkPaginator",
    "Override",
    "Pacer",
    "PageNumberPaginator",
    "Paginator",
    "RedactingFilter",
    "RetryAfterOrJitteredBackoff",
    "StartCountPaginator",
    "StopOnClock",
    "UnreadableBody",
    "classify_exception",
    "deadline",
    "describe",
    "encode_json",
    "excerpt",
    "forbidden_with_zero_remaining_is_rate_limit",
    "link_header_next",
    "parse_http_date",
    "read_bounded",
    "redact",
    "rejection_fields",
    "retry_after_seconds",
    "retry_policy",
    "secrets_of",
    "split_json_array",
]
