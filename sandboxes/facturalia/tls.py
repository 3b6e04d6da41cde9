"""The run's own certificate authority and server certificate (trustme), and the server's TLS context.

Every sandbox instance makes a fresh CA and a certificate for ``127.0.0.1`` and ``localhost`` signed by
it, and writes the CA certificate to a PEM file (`ca_bundle`) that clients verify against. Nothing is
ever added to a system trust store, so a client that does not name the bundle fails verification.
"""

from __future__ import annotations

import shutil
import ssl
import tempfile
import weakref
from pathlib import Path

import trustme

__all__ = ["RunCertificates"]

HOSTS = ("127.0.0.1", "localhost")


class RunCertificates:
    """A CA and a server certificate made for this run; the CA bundle file lives as long as the object."""

    def __init__(self, hosts: tuple[str, ...] = HOSTS) -> None:
        """Make the CA, issue the server certificate and write the CA bundle to a private temp directory.

        Args:
            hosts: the names and addresses the server certificate is valid for.
        """
        self._ca = trustme.CA(organization_name="Facturalia sandbox (test CA of this run)")
        self._cert = self._ca.issue_cert(*hosts, common_name=hosts[0])
        directory = Path(tempfile.mkdtemp(prefix="facturalia-sandbox-"))
        self._finalizer = weakref.finalize(self, shutil.rmtree, directory, True)
        self.ca_bundle = str(directory / "ca.pem")
        self._ca.cert_pem.write_to_path(self.ca_bundle)

    def server_context(self) -> ssl.SSLContext:
        """A server-side context (TLS 1.2 or newer) presenting the run's certificate."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        self._cert.configure_cert(context)
        return context

    def remove(self) -> None:
        """Delete the CA bundle file now (it is deleted at exit otherwise)."""
        self._finalizer()
