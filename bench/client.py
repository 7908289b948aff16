"""Plain HTTP, for the benchmark and the fault tests: one request on a new
connection (redirects not followed), a form POST as the site's own pages
send it, the status of a GET, and the bytes of one answer on the wire."""

from __future__ import annotations

import http.client
import socket
import time
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage  # names in any case: headers["ETag"], headers["etag"]
    body: bytes
    started: float
    seconds: float


def request(
    base_url: str,
    method: str,
    path: str,
    *,
    body: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = 30,
) -> Answer:
    """One request on a new connection, redirects not followed."""
    parts = urllib.parse.urlsplit(base_url)
    started = time.monotonic()
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=dict(headers or {}))
        response = conn.getresponse()
        data = response.read()
        return Answer(
            status=response.status,
            headers=response.msg,
            body=data,
            started=started,
            seconds=time.monotonic() - started,
        )
    finally:
        conn.close()


def post_form(
    base_url: str,
    path: str,
    fields: Mapping[str, str],
    *,
    headers: Mapping[str, str] | None = None,
    timeout: float = 30,
) -> Answer:
    """A form POST with the site's own Origin, as its pages send one."""
    return request(
        base_url,
        "POST",
        path,
        body=urllib.parse.urlencode(fields).encode(),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Origin": base_url,
            **(headers or {}),
        },
        timeout=timeout,
    )


def get_status(base_url: str, path: str, *, timeout: float = 5) -> int:
    """The status of one GET; 0 if nothing answers."""
    try:
        return request(base_url, "GET", path, timeout=timeout).status
    except (OSError, http.client.HTTPException):
        return 0


def response_bytes(base_url: str, path: str, headers: dict[str, str]) -> tuple[int, int]:
    """(status, bytes on the wire) of one GET: what wrk counts as read for
    that answer.  The server closes the connection after it (sync workers)."""
    parts = urllib.parse.urlsplit(base_url)
    lines = [f"GET {path} HTTP/1.1", f"Host: {parts.netloc}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80), 30) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    status = int(data.split(b" ", 2)[1])
    return status, len(data)
