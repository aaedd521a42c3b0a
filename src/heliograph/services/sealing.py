"""Secrets at rest: organizations' Ed25519 signing seeds and connector secrets, sealed with a key of the operator's.

With HELIOGRAPH_SECRET_KEY (or HELIOGRAPH_SECRET_KEY_FILE) set, each secret is stored as
`sealed:v1:<key id>:<base64 of nonce + AES-256-GCM ciphertext>`, bound to what it belongs to (the
associated data names the organization or connector and field), so a sealed value copied onto
another row does not open. Without a key values stay plain (the sandbox; a gateway logs a warning).
Plain values always open, so a database from before sealing keeps working: `reseal_all` (run at
start and by `heliograph secrets reseal`) seals them, and re-seals values sealed with a previous key.

Key rotation: start every process with the new key in HELIOGRAPH_SECRET_KEY and the old one in
HELIOGRAPH_PREVIOUS_SECRET_KEYS, run `heliograph secrets reseal` (it reports what is left under old
keys: 0), then drop the old key.

    sealer = Sealer.from_settings(settings)
    stored = sealer.seal(seed, f"signing_seed:{org_id}")
    seed = sealer.open(stored, f"signing_seed:{org_id}")
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import os
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from heliograph.settings import Settings
from heliograph.store import accounts, carriers

logger = logging.getLogger(__name__)

PREFIX = "sealed:v1:"
SECRET_CONFIG_KEYS = ("password", "api_key")  # the connector config fields that are secrets


class SecretKeyError(Exception):
    """A key is malformed, or a sealed value cannot be opened with the keys configured (said which)."""


def parse_key(text: str) -> bytes:
    """32 bytes given as 64 hex digits or base64 (standard or URL-safe)."""
    text = text.strip()
    try:
        raw = (
            bytes.fromhex(text) if len(text) == 64 else base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_")
        )
    except (ValueError, binascii.Error):
        raw = b""
    if len(raw) != 32:
        raise SecretKeyError(
            "A secret key is 32 bytes, written as 64 hex digits or base64 (heliograph secrets new-key)."
        )
    return raw


def new_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def key_id(raw: bytes) -> str:
    """Names a key in sealed values without revealing it."""
    return hashlib.sha256(b"heliograph-secret-key-id:" + raw).hexdigest()[:8]


def is_sealed(value: str | None) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


@dataclass
class Sealer:
    current: str | None = None  # id of the key new values are sealed with; None = store plain
    keys: dict[str, AESGCM] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: Settings) -> Sealer:
        main = settings.secret_key
        if main is None and settings.secret_key_file is not None:
            try:
                main = settings.secret_key_file.read_text()
            except OSError as exc:
                raise SecretKeyError(f"The secret key file {settings.secret_key_file} cannot be read: {exc}") from None
        sealer = cls()
        for text in [p for p in settings.previous_secret_keys.split(",") if p.strip()]:
            raw = parse_key(text)
            sealer.keys[key_id(raw)] = AESGCM(raw)
        if main:
            raw = parse_key(main)
            sealer.current = key_id(raw)
            sealer.keys[sealer.current] = AESGCM(raw)
        return sealer

    def seal(self, value: str, context: str) -> str:
        if self.current is None:
            return value
        nonce = os.urandom(12)
        sealed = self.keys[self.current].encrypt(nonce, value.encode(), context.encode())
        return f"{PREFIX}{self.current}:{base64.b64encode(nonce + sealed).decode()}"

    def open(self, value: str, context: str) -> str:
        if not is_sealed(value):
            return value
        kid, _, payload = value[len(PREFIX) :].partition(":")
        aead = self.keys.get(kid)
        if aead is None:
            raise SecretKeyError(
                f"A secret ({context.split(':')[0]}) is sealed with key {kid}, which is neither "
                "HELIOGRAPH_SECRET_KEY nor one of HELIOGRAPH_PREVIOUS_SECRET_KEYS."
            )
        blob = base64.b64decode(payload)
        try:
            return aead.decrypt(blob[:12], blob[12:], context.encode()).decode()
        except InvalidTag:
            raise SecretKeyError(f"A sealed secret ({context}) does not open: it was altered or moved.") from None

    def needs_reseal(self, value: str) -> bool:
        if self.current is None:
            return False
        return not is_sealed(value) or not value.startswith(f"{PREFIX}{self.current}:")


def seed_context(org_id: str) -> str:
    return f"signing_seed:{org_id}"


def connector_context(name: str, key: str) -> str:
    return f"connector:{name}:{key}"


def sealer(ctx: Any) -> Sealer:
    """The context's sealer (built by bootstrap); plain storage when there is none."""
    return getattr(ctx, "sealer", None) or Sealer()


def open_seed(ctx: Any, org_id: str, stored: str) -> str:
    """An organization's signing seed (hex) as stored: sealed or, from before sealing, plain."""
    return sealer(ctx).open(stored, seed_context(org_id))


def seal_config(ctx: Any, name: str, config: dict[str, Any]) -> dict[str, Any]:
    box = sealer(ctx)
    return {
        k: box.seal(v, connector_context(name, k)) if k in SECRET_CONFIG_KEYS and isinstance(v, str) and v else v
        for k, v in config.items()
    }


def open_config(ctx: Any, name: str, config: dict[str, Any] | None) -> dict[str, Any]:
    box = sealer(ctx)
    return {
        k: box.open(v, connector_context(name, k)) if k in SECRET_CONFIG_KEYS and isinstance(v, str) else v
        for k, v in (config or {}).items()
    }


@dataclass
class ResealReport:
    resealed: int = 0  # values sealed (again) with the current key in this run
    current: int = 0  # values sealed with the current key afterwards
    previous: int = 0  # values still sealed with another key (written while this ran)
    plain: int = 0  # values still plain (no key configured)


async def reseal_all(ctx: Any) -> ResealReport:
    """Seal every plain secret, and re-seal those sealed with a previous key, with the current key.

    Each row is updated only if it still holds the value read (compare and set), so several
    processes starting at once do not undo each other. Raises SecretKeyError when a value cannot
    be opened with the keys configured: better to refuse to start than to sign with nothing."""
    box = sealer(ctx)
    report = ResealReport()
    async with ctx.db.read() as conn:
        orgs = await accounts.signing_seeds_of_all(conn)
        connector_rows = await carriers.connector_configs(conn)
    seed_updates, config_updates = [], []
    for org_id, stored in orgs:
        plain = box.open(stored, seed_context(org_id))
        if box.needs_reseal(stored):
            seed_updates.append((org_id, stored, box.seal(plain, seed_context(org_id))))
    for name, config in connector_rows:
        config = dict(config or {})
        secrets_ = {k: v for k, v in config.items() if k in SECRET_CONFIG_KEYS and isinstance(v, str) and v}
        opened = open_config(ctx, name, secrets_)
        if any(box.needs_reseal(v) for v in secrets_.values()):
            config_updates.append((name, config, {**config, **seal_config(ctx, name, opened)}))
    if seed_updates or config_updates:
        async with ctx.db.transaction() as conn:
            for org_id, old, new in seed_updates:
                report.resealed += await accounts.replace_signing_seed(conn, org_id, old, new)
            for name, _old, new_config in config_updates:
                # JSON columns do not compare portably; a connector's secrets change only through the CLI
                await carriers.replace_connector_config(conn, name, new_config)
                report.resealed += 1
    async with ctx.db.read() as conn:
        values = [seed for _, seed in await accounts.signing_seeds_of_all(conn)]
        for _, config in await carriers.connector_configs(conn):
            values += [v for k, v in (config or {}).items() if k in SECRET_CONFIG_KEYS and isinstance(v, str) and v]
    for value in values:
        if box.current is not None and value.startswith(f"{PREFIX}{box.current}:"):
            report.current += 1
        elif is_sealed(value):
            report.previous += 1
        else:
            report.plain += 1
    if report.resealed:
        logger.info("secrets sealed with the current key", extra={"action": "reseal", "count": report.resealed})
    if box.current is None and report.plain and ctx.settings.mode == "gateway":
        logger.warning(
            "signing seeds are stored unsealed: set HELIOGRAPH_SECRET_KEY (heliograph secrets new-key)",
            extra={"action": "secrets_unsealed", "count": report.plain},
        )
    return report
