"""TLS between nodes: whom a node trusts when it calls a peer or a feed, why a handshake was
refused (in words an operator can act on), and a check of the node's own certificate and key
before it serves (``accord serve --certfile --keyfile``).

Trust. A client built with ``ca_file=None`` trusts the system's store (OpenSSL's default
paths: ``/etc/ssl/certs`` on Debian, and ``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` when set), or
certifi's bundle where the system has none. A client given a CA file trusts the CAs in that
file and nothing else: a community that runs its own CA names it per peer, and a public CA
then cannot vouch for a peer's name. Verification is never turned off: there is no
"insecure" switch, because a peer's API key (and TLP:AMBER objects) would then go to whoever
answers at that address.

The checks are those of ``ssl.create_default_context`` (RFC 5280 path validation, RFC 6125
host names, TLS 1.2 at least).
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import certifi
from cryptography import x509
from cryptography.x509.oid import ExtensionOID, NameOID

# OpenSSL's X509_V_ERR_* codes (openssl/x509_vfy.h) that `SSLCertVerificationError` carries
# as ``verify_code``: the ones an operator meets, each with what to do about it.
_CERT_NOT_YET_VALID = 9
_CERT_HAS_EXPIRED = 10
_SELF_SIGNED_LEAF = 18
_SELF_SIGNED_IN_CHAIN = 19
_UNABLE_TO_GET_ISSUER_LOCALLY = 20
_UNABLE_TO_VERIFY_LEAF = 21
_HOSTNAME_MISMATCH = 62
_IP_ADDRESS_MISMATCH = 64
_UNKNOWN_ISSUER = {
    _SELF_SIGNED_LEAF,
    _SELF_SIGNED_IN_CHAIN,
    _UNABLE_TO_GET_ISSUER_LOCALLY,
    _UNABLE_TO_VERIFY_LEAF,
}


class TlsFileError(ValueError):
    """A CA, certificate or key file that cannot be used; the message says which and why."""


def client_context(ca_file: str | None = None) -> ssl.SSLContext:
    """The context a client verifies a server with: ``ca_file``'s CAs only, or the system's
    store (see the module's docstring). Raises `TlsFileError` for a CA file that is missing,
    unreadable or holds no PEM certificate."""
    if ca_file is None:
        context = ssl.create_default_context()
        if not context.cert_store_stats()["x509_ca"]:  # a system without a CA store
            context = ssl.create_default_context(cafile=certifi.where())
        return context
    path = Path(ca_file)
    if not path.is_file():
        raise TlsFileError(f"CA file {ca_file}: no such file")
    try:
        return ssl.create_default_context(cafile=str(path))
    except PermissionError:
        raise TlsFileError(f"CA file {ca_file}: not readable by this user") from None
    except ssl.SSLError as exc:
        raise TlsFileError(
            f"CA file {ca_file}: holds no PEM certificate ({exc.reason or exc}); "
            "give the CA's certificate in PEM (-----BEGIN CERTIFICATE-----)"
        ) from None


def handshake_failure(error: BaseException, ca_file: str | None = None) -> str | None:
    """Why a TLS handshake failed, said so that the operator knows what to fix; None when
    ``error`` (or what caused it: httpx wraps the `ssl` error twice) is no TLS error."""
    found = _ssl_error(error)
    if found is None:
        return None
    if isinstance(found, ssl.SSLCertVerificationError):
        code = found.verify_code
        said = str(found.verify_message or found.reason or found)
        if code == _CERT_HAS_EXPIRED:
            return "certificate has expired: the server must renew its certificate"
        if code == _CERT_NOT_YET_VALID:
            return "certificate is not yet valid: check the clocks of both machines"
        if code in (_HOSTNAME_MISMATCH, _IP_ADDRESS_MISMATCH):
            # OpenSSL says "Hostname mismatch, certificate is not valid for 'x'."
            detail = said.split(", ", 1)[-1].rstrip(".")
            return (
                f"hostname mismatch: the {detail} (use the name the certificate was issued "
                "for, or have the server's certificate name this address)"
            )
        if code in _UNKNOWN_ISSUER:
            hint = (
                f"the CA file {ca_file} does not hold the CA that signed it"
                if ca_file is not None
                else "give the peer's CA with --ca-file"
            )
            return f"certificate verify failed: {said} ({hint})"
        return f"certificate verify failed: {said}"
    reason = found.reason or str(found)
    if reason in ("WRONG_VERSION_NUMBER", "RECORD_LAYER_FAILURE", "PACKET_LENGTH_TOO_LONG"):
        return (
            f"TLS handshake failed ({reason}): the server does not speak TLS at that address "
            "(is its URL http://?)"
        )
    return f"TLS handshake failed: {reason}"


def _ssl_error(error: BaseException | None) -> ssl.SSLError | None:
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, ssl.SSLError):
            return error
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return None


# -- the node's own certificate ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ServedCertificate:
    """What the node will present: the names it covers and how long it holds."""

    names: tuple[str, ...]  # subjectAltName DNS names and IP addresses (else the CN)
    not_after: datetime

    def expired(self, now: datetime | None = None) -> bool:
        return (now or datetime.now(UTC)) >= self.not_after


def _refuse_passphrase() -> str:
    # Called by OpenSSL only for an encrypted key; without this callback it would prompt on
    # the terminal (and a service without one would hang).
    raise TlsFileError("encrypted")


def check_server_pair(certfile: str, keyfile: str | None) -> ServedCertificate:
    """Load the certificate and key as uvicorn will, so that a wrong file is said before the
    server starts rather than as a traceback from its workers. ``keyfile`` None: the key is
    in ``certfile``. Raises `TlsFileError` with the file and the cause."""
    for label, name in (("certificate", certfile), ("key", keyfile)):
        if name is None:
            continue
        path = Path(name)
        if not path.is_file():
            raise TlsFileError(f"{label} file {name}: no such file")
        try:
            path.open("rb").close()
        except PermissionError:
            raise TlsFileError(f"{label} file {name}: not readable by this user") from None
    try:
        pem = Path(certfile).read_bytes()
        leaf = x509.load_pem_x509_certificate(pem)
    except ValueError:
        raise TlsFileError(
            f"certificate file {certfile}: no PEM certificate in it "
            "(-----BEGIN CERTIFICATE-----, the server's own first, then its chain)"
        ) from None
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(certfile, keyfile, password=_refuse_passphrase)
    except TlsFileError:
        raise TlsFileError(
            f"key file {keyfile or certfile}: the key is encrypted with a passphrase; give the "
            "key unencrypted (openssl pkey -in KEY -out PLAIN), readable only by the node's user"
        ) from None
    except ssl.SSLError as exc:
        if exc.reason == "KEY_VALUES_MISMATCH":
            raise TlsFileError(
                f"key file {keyfile or certfile} does not match the certificate in {certfile} "
                "(give the key that the certificate was issued for)"
            ) from None
        if keyfile is None:
            raise TlsFileError(
                f"certificate file {certfile} holds no private key: give the key's file too"
            ) from None
        raise TlsFileError(
            f"key file {keyfile}: no usable private key in it "
            "(give a PEM key: -----BEGIN PRIVATE KEY-----)"
        ) from None
    return ServedCertificate(_names(leaf), leaf.not_valid_after_utc)


def _names(leaf: x509.Certificate) -> tuple[str, ...]:
    try:
        alt = leaf.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME).value
    except x509.ExtensionNotFound:
        common = leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        return tuple(str(a.value) for a in common)
    assert isinstance(alt, x509.SubjectAlternativeName)
    dns = alt.get_values_for_type(x509.DNSName)
    addresses = [str(a) for a in alt.get_values_for_type(x509.IPAddress)]
    return (*dns, *addresses)
