"""The keys that seal signers' addresses (letters/sealing.py), from the
environment: SIGNER_HASH_KEY and SIGNER_SEAL_PUBLIC_KEY on every process,
SIGNER_SEAL_PRIVATE_KEYS (comma-separated, newest first) only on the
processes that send email; or the same lines in the file SIGNER_KEYS_FILE
names.  With DEBUG on and none given (`make run`), a set is made once under
VAR_DIR and kept; with DEBUG off, the site refuses to start without them."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from letters.sealing import read_keys_file, write_keys_file

REQUIRED = ("SIGNER_HASH_KEY", "SIGNER_SEAL_PUBLIC_KEY")


@dataclass(frozen=True)
class SignerKeys:
    hash_key: str
    public: str
    privates: list[str]


def load_signer_keys(env: environ.Env, *, debug: bool, var_dir: Path) -> SignerKeys:
    values = {name: env.str(name, default="") for name in (*REQUIRED, "SIGNER_SEAL_PRIVATE_KEYS")}
    keys_file = env.str("SIGNER_KEYS_FILE", default="")
    if not keys_file and debug and not all(values[name] for name in REQUIRED):
        keys_file = str(var_dir / "signer-keys.env")
        if write_keys_file(Path(keys_file)):
            sys.stderr.write(
                f"Made signer keys for this development site in {keys_file} (DEBUG on): "
                "addresses are sealed to them; keep the file, or pending signers "
                "cannot be emailed.\n"
            )
    if keys_file:
        from_file = read_keys_file(Path(keys_file))
        values = {name: values[name] or from_file.get(name, "") for name in values}
    missing = [name for name in REQUIRED if not values[name]]
    if missing:
        raise ImproperlyConfigured(
            f"{missing[0]} must be set (or SIGNER_KEYS_FILE name a file that sets it) "
            "when DEBUG is off; `manage.py signer_keys` makes the keys."
        )
    privates = [key.strip() for key in values["SIGNER_SEAL_PRIVATE_KEYS"].split(",") if key.strip()]
    return SignerKeys(values["SIGNER_HASH_KEY"], values["SIGNER_SEAL_PUBLIC_KEY"], privates)
