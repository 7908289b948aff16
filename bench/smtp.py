"""An SMTP server in this process: the benchmark's sink, which timestamps
every message, and the server the fault tests run their own sinks in."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from aiosmtpd.controller import Controller


class Handler(Protocol):
    """An aiosmtpd handler that says where it listens."""

    host: str
    port: int


@dataclass
class Sink:
    """An aiosmtpd handler that accepts everything and records, per message,
    the recipients and the arrival time (time.monotonic, this process)."""

    host: str = "127.0.0.1"
    port: int = 0
    arrivals: list[tuple[float, tuple[str, ...]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # Messages to an address starting with `keep` are kept whole, in `kept`
    # (the mixed load reads real confirmation links from them); no others,
    # so a million-email run keeps only timestamps.
    keep: str = ""
    kept: list[tuple[str, bytes]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        now = time.monotonic()
        rcpts = tuple(a.lower() for a in envelope.rcpt_tos)
        with self.lock:
            self.arrivals.append((now, rcpts))
            if self.keep:
                self.kept += [(a, envelope.content) for a in rcpts if a.startswith(self.keep)]
        return "250 Message accepted"

    def count(self) -> int:
        with self.lock:
            return len(self.arrivals)

    def matching(self, prefix: str) -> list[tuple[float, str]]:
        """(arrival, address) of every message to an address starting with `prefix`."""
        with self.lock:
            return [(t, a) for t, rcpts in self.arrivals for a in rcpts if a.startswith(prefix)]


class SmtpServer[H: Handler]:
    """aiosmtpd serving `sink` on its host and port, in a thread of this process."""

    def __init__(self, sink: H) -> None:
        self.sink = sink
        self.controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://{self.sink.host}:{self.sink.port}"

    def start(self) -> None:
        self.controller = Controller(self.sink, hostname=self.sink.host, port=self.sink.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None
