"""The organisation's Ed25519 signing key for evidence bundles.

The private key lives at settings.QMS_SIGNING_KEY_PATH (default var/keys/), is
generated on first use (mode 0600) and never leaves the server; the public key is
exported as PEM into every bundle (signer.pub.pem) and shown on the bundle pages."""
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings


def key_path() -> Path:
    return Path(getattr(settings, "QMS_SIGNING_KEY_PATH", None) or Path(settings.VAR_DIR) / "keys" / "bundle-ed25519.pem")


def private_key() -> Ed25519PrivateKey:
    path = key_path()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        partial = path.with_name(f".{path.name}.{os.getpid()}")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
        try:
            os.link(partial, path)  # atomic; if another process made the key first, keep theirs
        except FileExistsError:
            pass
        finally:
            os.unlink(partial)
    return serialization.load_pem_private_key(path.read_bytes(), password=None)


def public_key_pem() -> bytes:
    return private_key().public_key().public_bytes(serialization.Encoding.PEM,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo)


def sign(data: bytes) -> bytes:
    return private_key().sign(data)


def verify(public_pem: bytes, signature: bytes, data: bytes) -> bool:
    key = serialization.load_pem_public_key(public_pem)
    if not isinstance(key, Ed25519PublicKey):
        return False
    try:
        key.verify(signature, data)
        return True
    except InvalidSignature:
        return False
