"""The development signing certificate for Content Credentials: a small CA and a leaf it signed.

C2PA validators refuse a self-signed signing certificate, one without an extended key
usage they accept, or one whose key usage is not digitalSignature, so `make run` gets a
proper two-level chain: `dev-ca.pem` (the CA, a trust anchor for the image page and for
tests), `dev-cert.pem` (the leaf followed by the CA: the chain the manifest carries) and
`dev-key.pem` (the leaf's P-256 key, for ES256). For development only: anyone with the
folder can sign as this "issuer", and no public trust list knows it.

Made once, on first use, under `STUDIO_C2PA_DIR`; two processes starting at once take a
lock, and each file is written to a temporary name and renamed, so a reader never sees a
half-written one.
"""

from __future__ import annotations

import datetime
import fcntl
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

ORGANIZATION = "Studio (development only)"
CA_NAME = "Studio Development CA"
SIGNER_NAME = "Studio development signer"


@dataclass(frozen=True)
class DevFiles:
    ca: Path
    cert: Path
    key: Path


def paths(folder: Path) -> DevFiles:
    return DevFiles(ca=folder / "dev-ca.pem", cert=folder / "dev-cert.pem", key=folder / "dev-key.pem")


def ensure(folder: Path) -> DevFiles:
    """The development CA, chain and key under `folder`, made there if any is missing."""
    files = paths(folder)
    if _complete(files):
        return files
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not _complete(files):  # another process may have made them while we waited
                ca_pem, chain_pem, key_pem = _make()
                # Key first, CA last: `_complete` looks for all three, so a reader that finds
                # them finds one matching set.
                _write_atomic(files.key, key_pem, mode=0o600)
                _write_atomic(files.cert, chain_pem)
                _write_atomic(files.ca, ca_pem)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return files


def _complete(files: DevFiles) -> bool:
    return files.key.exists() and files.cert.exists() and files.ca.exists()


def _write_atomic(path: Path, data: bytes, *, mode: int = 0o644) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANIZATION),
        ]
    )


def _key_usage(*, sign: bool, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=sign,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def _make() -> tuple[bytes, bytes, bytes]:
    """(CA PEM, leaf + CA PEM, leaf key PEM)."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name(CA_NAME))
        .issuer_name(_name(CA_NAME))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(sign=False, ca=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(_name(SIGNER_NAME))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=825))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(sign=True, ca=False), critical=True)
        # C2PA accepts document signing, email protection or its own EKU; email protection
        # is the one every validator knows.
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    ca_pem = ca.public_bytes(pem)
    key_pem = key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return ca_pem, leaf.public_bytes(pem) + ca_pem, key_pem
