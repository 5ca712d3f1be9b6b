"""Identities for Flower's deployment engine: a private CA and the SuperLink's TLS certificate
(SuperNode authentication needs TLS), and each device's SuperNode key derived from its fleet
credential.

A device's SuperNode key is a P-384 key whose private scalar is HKDF-SHA256 of the device's
fleet token (``edgecraft fleet provision`` hands it out once): the device can make it itself,
the operator registers the public half with the SuperLink, and a node without a registered key
is refused. Keys are written in OpenSSH format, which Flower reads.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.x509.oid import NameOID

P384_ORDER = int(
    "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973", 16
)


def _private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    path.chmod(0o600)


def device_key(token: str, device_id: str) -> ec.EllipticCurvePrivateKey:
    """The device's SuperNode key, derived from its fleet token (same token, same key)."""
    material = HKDF(hashes.SHA256(), 64, salt=device_id.encode(), info=b"edgecraft flower supernode").derive(
        token.encode()
    )
    scalar = int.from_bytes(material, "big") % (P384_ORDER - 1) + 1
    return ec.derive_private_key(scalar, ec.SECP384R1())


def write_device_key(token: str, device_id: str, directory: Path) -> tuple[Path, Path]:
    """Write ``<id>.key`` (OpenSSH private, 0600) and ``<id>.pub``; returns both paths."""
    key = device_key(token, device_id)
    priv, pub = directory / f"{device_id}.key", directory / f"{device_id}.pub"
    _private(priv, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                     serialization.NoEncryption()))
    pub.write_bytes(key.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                                  serialization.PublicFormat.OpenSSH) + b"\n")
    return priv, pub


def write_tls(directory: Path, host: str = "127.0.0.1") -> dict[str, Path]:
    """A CA and a server certificate for ``host`` (and localhost), valid one year; reused when
    present. Returns the paths ``ca``, ``cert``, ``key``."""
    paths = {"ca": directory / "ca.pem", "cert": directory / "server.pem", "key": directory / "server.key"}
    if all(p.exists() for p in paths.values()):
        return paths
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP384R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "edgecraft federated CA")])
    ca = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP384R1())
    sans = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(host))]
    cert = (
        x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)]))
        .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=365))
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    paths["ca"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths["cert"].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    _private(paths["key"], key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                             serialization.NoEncryption()))
    return paths
