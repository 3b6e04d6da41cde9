"""One exception tree for the whole connector, split on transient versus permanent first.

::

    ConnectorError
    ├── ConfigError(source, key, problem)          bad settings or connections file
    ├── MappingSpecError(file, entity, field, problem)  a mapping file that does not validate
    ├── MappingError(entity, field, problem)       one record the mapping cannot read (-> quarantine)
    ├── StoreError
    │   └── NotMigrated(current, head)            the database needs `connector db upgrade`
    └── ProviderError(provider, connection)        anything a service did or did not answer
        ├── Transient                              worth retrying later, with backoff
        │   ├── RateLimited(retry_after)          429, or a 403 that means "budget spent"
        │   ├── Unavailable(status)               5xx, connection refused or dropped
        │   └── Timeout                           no answer in time
        └── Permanent                              retrying will not help
            ├── AuthFailed(status)                401/403 on credentials
            ├── NotFound(status)                  404
            ├── Rejected(status, code, message, details)  4xx validation from the service
            │   └── IdempotencyConflict               the same idempotency key came with another body
            ├── Unsupported(operation, reason)    the service cannot do this at all
            ├── ProtocolError(problem)            an answer we cannot parse (HTML, truncated JSON)
            └── UntrustedCertificate               the service's TLS certificate did not verify

Messages are built from typed fields, never from raw request data, so a secret cannot leak through an
error text; `connector.http.redact` scrubs anything that came from the wire before it gets here.
"""

from __future__ import annotations

__all__ = [
    "AuthFailed",
    "ConfigError",
    "ConfigErrors",
    "ConnectorError",
    "IdempotencyConflict",
    "Interrupted",
    "MappingError",
    "MappingSpecError",
    "NotFound",
    "NotMigrated",
    "Permanent",
    "ProtocolError",
    "ProviderError",
    "RateLimited",
    "Rejected",
    "StoreError",
    "Timeout",
    "Transient",
    "Unavailable",
    "Unsupported",
    "UntrustedCertificate",
]


class ConnectorError(Exception):
    """Root of every error the connector raises on purpose."""


class Interrupted(ConnectorError):
    """A stop was asked (SIGTERM): the work in hand was committed, the rest waits for the next start."""


class ConfigError(ConnectorError):
    """Settings or the connections file are wrong; names where (connection, key) and what."""

    def __init__(self, source: str, key: str, problem: str) -> None:
        self.source = source
        self.key = key
        self.problem = problem
        super().__init__(f"{source}: {key}: {problem}")


class ConfigErrors(ConfigError):
    """Several configuration problems found at once (`connector config check` reports them all); one per line."""

    def __init__(self, problems: list[ConfigError]) -> None:
        self.problems = problems
        first = problems[0]
        super().__init__(first.source, first.key, first.problem)
        self.args = ("\n".join(str(p) for p in problems),)

    def __str__(self) -> str:
        """Every problem, one per line."""
        return str(self.args[0])


class MappingSpecError(ConnectorError):
    """A mapping file does not validate; names the file, the entity and the field."""

    def __init__(self, file: str, entity: str, field: str, problem: str) -> None:
        self.file = file
        self.entity = entity
        self.field = field
        self.problem = problem
        where = ".".join(p for p in (entity, field) if p)
        super().__init__(f"{file}: {where or '<root>'}: {problem}")


class MappingError(ConnectorError):
    """One record cannot be mapped (bad amount, impossible date); the record goes to quarantine."""

    def __init__(self, entity: str, field: str, problem: str) -> None:
        self.entity = entity
        self.field = field
        self.problem = problem
        super().__init__(f"{entity}.{field}: {problem}")


class StoreError(ConnectorError):
    """The canonical database refused or is not usable."""


class NotMigrated(StoreError):
    """The database schema is behind the code; `connector db upgrade` migrates it."""

    def __init__(self, current: str | None, head: str) -> None:
        self.current = current
        self.head = head
        super().__init__(
            f"database schema is at {current or 'nothing (empty database)'}, the code needs {head}; "
            "run `connector db upgrade` to migrate it"
        )


class ProviderError(ConnectorError):
    """Something went wrong talking to a service; `connection` names the configured connection."""

    def __init__(self, message: str, *, provider: str = "", connection: str = "") -> None:
        self.provider = provider
        self.connection = connection
        self.detail = message
        prefix = f"[{connection or provider}] " if (connection or provider) else ""
        super().__init__(prefix + message)


class Transient(ProviderError):
    """A failure worth retrying after a pause."""


class RateLimited(Transient):
    """The service says the request budget is spent; `retry_after` seconds if it said when to return."""

    def __init__(self, message: str = "rate limited", *, retry_after: float | None = None, **kw: str) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kw)


class Unavailable(Transient):
    """5xx, a refused or dropped connection: the service is (for now) not answering properly."""

    def __init__(self, message: str, *, status: int | None = None, **kw: str) -> None:
        self.status = status
        super().__init__(message, **kw)


class Timeout(Transient):
    """The service did not answer in time; a write may or may not have happened."""


class Permanent(ProviderError):
    """A failure that retrying will not fix."""


class AuthFailed(Permanent):
    """Credentials were refused."""

    def __init__(self, message: str = "credentials refused", *, status: int = 401, **kw: str) -> None:
        self.status = status
        super().__init__(message, **kw)


class NotFound(Permanent):
    """The service does not know the requested record or route."""

    def __init__(self, message: str = "not found", *, status: int = 404, **kw: str) -> None:
        self.status = status
        super().__init__(message, **kw)


class Rejected(Permanent):
    """The service refused the request as invalid; carries its own code, message and field details."""

    def __init__(
        self,
        message: str,
        *,
        status: int = 400,
        code: str = "",
        details: dict[str, str] | None = None,
        **kw: str,
    ) -> None:
        self.status = status
        self.code = code
        self.details = details or {}
        super().__init__(message, **kw)


class IdempotencyConflict(Rejected):
    """The service already holds a create under this idempotency key, made from a different body."""


class Unsupported(Permanent):
    """The service cannot do this operation at all; never retried."""

    def __init__(self, operation: str, reason: str, **kw: str) -> None:
        self.operation = operation
        self.reason = reason
        super().__init__(f"{operation} is not supported: {reason}", **kw)


class ProtocolError(Permanent):
    """The service answered something we cannot read (HTML instead of JSON, truncated JSON, wrong shape)."""


class UntrustedCertificate(Permanent):
    """The service's TLS certificate did not verify (unknown CA, wrong host name, expired).

    Permanent: retrying will not make it trusted. Give the connection a ``ca_bundle`` that signs it;
    verification is never switched off.
    """
