"""The keys are split as production runs them (config/signer_keys.py): the
web processes can hash and seal a signer's address but hold no key to open
it; only the email worker does, and the confirmation still arrives."""

from __future__ import annotations

from pathlib import Path

from bench.procfs import children
from tests.faults.conftest import FaultStack


def environ(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    pairs = (entry.split(b"=", 1) for entry in raw.split(b"\0") if b"=" in entry)
    return {name.decode(): value.decode(errors="replace") for name, value in pairs}


def test_only_the_email_worker_holds_the_key_that_opens_addresses(stack: FaultStack) -> None:
    sink = stack.start_smtp()
    web = stack.start_web()
    worker = stack.start_worker()
    address = "split-keys@example.org"

    web_pids = [web.pid, *children(web.pid)]
    assert len(web_pids) == 3  # the master and its two workers
    for pid in web_pids:
        env = environ(pid)
        assert env.get("SIGNER_HASH_KEY")
        assert env.get("SIGNER_SEAL_PUBLIC_KEY")
        assert "SIGNER_SEAL_PRIVATE_KEYS" not in env
        assert "SIGNER_KEYS_FILE" not in env
    assert environ(worker.pid).get("SIGNER_SEAL_PRIVATE_KEYS")

    assert stack.sign(address).status == 302
    (mail,) = sink.wait_for(address, timeout=30)
    assert mail.link("/s/")
    assert stack.signature(address)["email"] == address
