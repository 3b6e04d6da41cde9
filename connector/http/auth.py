"""Credentials as `httpx.Auth` flows, so provider code never builds an Authorization header itself."""

from __future__ import annotations

import base64
from collections.abc import Generator

import httpx

__all__ = ["ApiKeyHeader", "BasicAuth", "BearerToken", "secrets_of"]


class _SecretAuth(httpx.Auth):
    """Shared behaviour: a repr without the secret and the values a redactor must scrub."""

    _header: str
    _value: str
    _secrets: tuple[str, ...]

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Set the credential header on the request and send it once."""
        request.headers[self._header] = self._value
        yield request

    @property
    def secrets(self) -> tuple[str, ...]:
        """Values that must never appear in a message (the secret and the header value carrying it)."""
        return self._secrets

    def __repr__(self) -> str:
        return f"{type(self).__name__}(header={self._header!r}, value='***')"


class BasicAuth(_SecretAuth):
    """HTTP Basic: ``Authorization: Basic base64(username:password)`` (FactuurSturen: password = API key)."""

    def __init__(self, username: str, password: str) -> None:
        """Encode the pair once.

        Args:
            username: the account user name.
            password: the password or API key.
        """
        token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
        self.username = username
        self._header = "Authorization"
        self._value = f"Basic {token}"
        self._secrets = tuple(s for s in (password, token) if s)


class BearerToken(_SecretAuth):
    """``Authorization: Bearer <token>``."""

    def __init__(self, token: str) -> None:
        """Keep the header value.

        Args:
            token: the API key or access token.
        """
        self._header = "Authorization"
        self._value = f"Bearer {token}"
        self._secrets = (token,) if token else ()


class ApiKeyHeader(_SecretAuth):
    """The key in a header of its own, e.g. ``X-Api-Key: <key>``."""

    def __init__(self, header_name: str, key: str) -> None:
        """Keep the header name and value.

        Args:
            header_name: the header that carries the key (``X-Api-Key``).
            key: the API key.
        """
        self._header = header_name
        self._value = key
        self._secrets = (key,) if key else ()


def secrets_of(auth: httpx.Auth | None) -> tuple[str, ...]:
    """Return the secret values an auth object carries (empty for unknown kinds).

    Args:
        auth: an auth object from this module, `httpx.BasicAuth`, or anything else.

    Returns:
        The values to scrub from messages.
    """
    if isinstance(auth, _SecretAuth):
        return auth.secrets
    if isinstance(auth, httpx.BasicAuth):
        header = auth._auth_header  # httpx keeps only the encoded header value
        return (header.split(" ", 1)[-1],)
    return ()
