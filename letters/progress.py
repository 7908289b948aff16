"""Progress of a long run (an export of a big letter, a recount, a retention
run, a re-seal, a data migration), for the person watching a terminal.

On a terminal, one line is rewritten in place (a carriage return), at most
`RENDERS_PER_SECOND` times a second:

    12,000 / 1,000,000 signatures (1.2%), 8,300 signatures/s, about 2 min left

Written to anything else (a pipe, a file, a log), nothing: a script or a
log gets what the command printed without it.  `show=True` (a command's
`--progress`) writes plain lines instead, a few seconds apart, for a log
that wants them.  Verbosity 0 (`-v 0`) shows nothing, whatever else says.

When the run ends, the line on the terminal is cleared: the command's own
summary, if it prints one, is what stays.  A run stopped by an error or
Ctrl-C leaves its last line, so the person sees how far it got.

Progress goes to stderr: what a command writes to stdout (an export) stays
the same bytes whether or not anyone watches.

Services take a `Tracker` (this module's `Progress`, or anything with the
same three members) and call `start(total)` once, then `advance(n)`; they
work out a total that costs a query only when `enabled` says someone is
looking."""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from types import TracebackType
from typing import IO, Any, Protocol

from django.core.management.base import CommandParser

RENDERS_PER_SECOND = 4  # on a terminal
LOG_INTERVAL = 5.0  # seconds between lines when forced onto a non-terminal


class Tracker(Protocol):
    """What a service needs of a progress display."""

    @property
    def enabled(self) -> bool: ...

    def start(self, total: int) -> None: ...

    def advance(self, n: int = 1) -> None: ...


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):  # no isatty, or a closed stream
        return False


def time_left(seconds: float) -> str:
    """'about 40 s left', 'about 2 min left', 'about 1 h 5 min left'."""
    if seconds < 60:
        return f"about {max(1, math.ceil(seconds))} s left"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"about {minutes} min left"
    hours, minutes = divmod(minutes, 60)
    return f"about {hours} h {minutes} min left" if minutes else f"about {hours} h left"


class Progress:
    """Rows done of a total, their rate and the time left, on `stream`.

    `show`: None shows it when `stream` is a terminal, True always (plain
    lines on a non-terminal), False never.  `verbosity` 0 never shows it.
    `own_line`: the cursor may be in the middle of someone else's line
    (migrate's "Applying ..."), so the first line starts below it.  Use it
    as a context manager, or call `finish()` at the end."""

    def __init__(
        self,
        total: int = 0,
        *,
        stream: IO[str] | Any,
        unit: str = "rows",
        show: bool | None = None,
        verbosity: int = 1,
        clock: Callable[[], float] = time.monotonic,
        own_line: bool = False,
    ) -> None:
        self.stream = stream
        self.unit = unit
        self.tty = _isatty(stream)
        self.enabled = verbosity > 0 and (self.tty if show is None else show)
        self.clock = clock
        self.total = total
        self.done = 0
        self.started = clock()
        self._last_render: float | None = None
        self._width = 0  # of the line now on the terminal
        self._finished = False
        self._own_line = own_line

    # --- What a service calls ------------------------------------------------------------

    def start(self, total: int) -> None:
        """Set the total (when the caller only knows it now) and show 0 of it."""
        self.total = total
        self.done = 0
        self.started = self.clock()
        if self.enabled and self.tty:
            self._render(self.clock())

    def advance(self, n: int = 1) -> None:
        self.done += n
        if not self.enabled or not n:
            return
        now = self.clock()
        interval = 1 / RENDERS_PER_SECOND if self.tty else LOG_INTERVAL
        if self._last_render is None or now - self._last_render >= interval:
            self._render(now)

    def finish(self, *, failed: bool = False) -> None:
        """The run ended: clear the terminal's line (or, if it `failed`, end
        it so it stays); a forced log gets the last count."""
        if self._finished or not self.enabled:
            self._finished = True
            return
        self._finished = True
        if self.tty:
            if self._width:
                self._write("\n" if failed else "\r" + " " * self._width + "\r")
        else:
            self._render(self.clock())

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.finish(failed=exc_type is not None)

    # --- What a person sees --------------------------------------------------------------

    def line(self, now: float | None = None) -> str:
        """'12,000 / 1,000,000 rows (1.2%), 8,300 rows/s, about 2 min left'."""
        now = self.clock() if now is None else now
        done, total, unit = self.done, self.total, self.unit
        parts = [f"{done:,} / {total:,} {unit}" if total else f"{done:,} {unit}"]
        if total:
            parts[0] += f" ({min(done, total) / total:.1%})"
        elapsed = now - self.started
        if done and elapsed > 0:
            rate = done / elapsed
            parts.append(f"{rate:,.0f} {unit}/s" if rate >= 10 else f"{rate:,.1f} {unit}/s")
            if total and done < total:
                parts.append(time_left((total - done) / rate))
        return ", ".join(parts)

    def _render(self, now: float) -> None:
        self._last_render = now
        text = self.line(now)
        if not self.tty:
            self._write(text + "\n")
            return
        columns = self._columns()
        if columns:
            text = text[: columns - 1]  # a wrapped line could not be rewritten
        pad = max(0, self._width - len(text))
        if self._own_line:
            self._own_line = False
            self._write("\n")
        self._write("\r" + text + " " * pad)
        self._width = len(text)

    def _columns(self) -> int:
        try:
            return os.get_terminal_size(self.stream.fileno()).columns
        except (AttributeError, ValueError, OSError):
            return 0

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()


# --- Management commands ----------------------------------------------------------------


def add_progress_argument(parser: CommandParser) -> None:
    """`--progress` / `--no-progress`: show it even when stderr is not a
    terminal (plain lines), or never.  Default: on a terminal only."""
    parser.add_argument(
        "--progress",
        action="store_true",
        default=None,
        help="show progress on stderr even when it is not a terminal (default: terminal only)",
    )
    parser.add_argument(
        "--no-progress", dest="progress", action="store_false", help="never show progress"
    )


def command_progress(
    command: Any, options: dict[str, Any], *, unit: str = "rows", total: int = 0
) -> Progress:
    """A Progress on a management command's stderr, honouring `--progress`,
    `--no-progress` and `-v 0`.  It writes to the stream under Django's
    OutputWrapper (which would colour it as an error and add newlines)."""
    stream = getattr(command.stderr, "_out", command.stderr)
    return Progress(
        total,
        stream=stream,
        unit=unit,
        show=options.get("progress"),
        verbosity=int(options.get("verbosity", 1)),
    )
