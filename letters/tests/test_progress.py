"""Long runs show an operator how far they got on a terminal, and nothing
when piped (letters/progress.py): `export_counts`, `reseal_addresses`,
`recount_counts`, `erase_retained` and the migration that sealed addresses.

The commands run with their stderr (and, where said, stdout) on a real
pseudo-terminal (os.openpty): what is read from its other end is what a
person would see, replayed by `screen()` the way a terminal draws it.  The
display is throttled to a few lines a second; these runs take milliseconds,
so the tests lift the throttle (RENDERS_PER_SECOND) to see every line."""

from __future__ import annotations

import importlib
import io
import os
import re
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from letters import progress as progress_module
from letters.models import Display, LetterEvent, Signature, SignatureStatus
from letters.progress import Progress, time_left
from letters.tests.factories import confirmed_signature, pending_signature

pytestmark = pytest.mark.django_db

# What a progress line looks like: rows done of the total, the share, the
# rate and (before the end) the time left.
LINE = re.compile(
    r"^(?P<done>[\d,]+) / (?P<total>[\d,]+) (?P<unit>[a-z]+) \(\d+\.\d%\)"
    r", [\d,.]+ (?P=unit)/s(?P<left>, about \d+ (s|min|h)( \d+ min)? left)?$"
)


class Terminal:
    """A pseudo-terminal: `stream` is the program's end (a tty); `seen()`
    is everything that arrived at the other end."""

    def __init__(self) -> None:
        master, slave = os.openpty()
        self._master = master
        self.stream = os.fdopen(slave, "w", encoding="utf-8")
        self._data = bytearray()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self._master, 4096)
            except OSError:  # EIO: the program's end was closed
                return
            if not chunk:
                return
            self._data.extend(chunk)

    def seen(self) -> str:
        self.stream.close()
        self._reader.join(timeout=10)
        os.close(self._master)
        return self._data.decode("utf-8")


class Pipe:
    """A pipe: `stream` is the program's end (not a tty)."""

    def __init__(self) -> None:
        read, write = os.pipe()
        self._read = os.fdopen(read, "rb")
        self.stream = os.fdopen(write, "w", encoding="utf-8")

    def seen(self) -> str:
        self.stream.close()
        text = self._read.read().decode("utf-8")
        self._read.close()
        return text


def screen(raw: str) -> list[str]:
    """The lines a terminal shows after drawing `raw` (carriage returns
    overwrite from the start of the line)."""
    lines: list[list[str]] = [[]]
    column = 0
    for char in raw:
        if char == "\n":
            lines.append([])
            column = 0
        elif char == "\r":
            column = 0
        else:
            line = lines[-1]
            if column < len(line):
                line[column] = char
            else:
                line.append(char)
            column += 1
    return ["".join(line).rstrip() for line in lines]


def frames(raw: str) -> list[str]:
    """Every state the progress line was drawn in, in order."""
    return [f.strip() for f in re.split(r"[\r\n]", raw) if f.strip()]


@pytest.fixture
def every_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(progress_module, "RENDERS_PER_SECOND", 1e9)


def _progress_lines(raw: str, unit: str) -> list[re.Match[str]]:
    shown = [LINE.match(f) for f in frames(raw)]
    matches = [m for m in shown if m and m["unit"] == unit]
    assert matches, f"no progress line in {raw!r}"
    return matches


# --- The helper ------------------------------------------------------------------------------


class FakeTty(io.StringIO):
    def isatty(self) -> bool:
        return True


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_line_says_rows_done_the_rate_and_the_time_left() -> None:
    clock = Clock()
    progress = Progress(stream=FakeTty(), clock=clock)
    progress.start(1_000_000)
    clock.now += 1.445
    progress.advance(12_000)

    assert progress.line() == "12,000 / 1,000,000 rows (1.2%), 8,304 rows/s, about 2 min left"
    assert time_left(42.2) == "about 43 s left"
    assert time_left(3 * 3600 + 20 * 60) == "about 3 h 20 min left"


def test_a_terminal_gets_at_most_a_few_lines_a_second_and_a_clean_line_at_the_end() -> None:
    clock, tty = Clock(), FakeTty()
    with Progress(stream=tty, clock=clock) as progress:
        progress.start(10_000)
        for _ in range(1000):  # ten seconds of work, a row every 10 ms
            clock.now += 0.01
            progress.advance(10)

    drawn = tty.getvalue()
    assert "\n" not in drawn
    assert 10 * 3 <= drawn.count("\r") <= 10 * progress_module.RENDERS_PER_SECOND + 3
    assert screen(drawn) == [""]  # the run is over: nothing left on the line


def test_a_pipe_gets_nothing_unless_forced_and_quiet_means_quiet() -> None:
    for stream, show, verbosity, shown in [
        (io.StringIO(), None, 1, False),
        (io.StringIO(), True, 1, True),
        (FakeTty(), None, 0, False),
        (FakeTty(), True, 0, False),
        (FakeTty(), False, 1, False),
    ]:
        clock = Clock()
        with Progress(stream=stream, clock=clock, show=show, verbosity=verbosity) as progress:
            progress.start(100)
            clock.now += 10
            progress.advance(50)
        assert bool(stream.getvalue()) == shown, (show, verbosity)
    forced = io.StringIO()
    with Progress(stream=forced, clock=Clock(), show=True) as progress:
        progress.start(100)
        progress.advance(100)
    assert "\r" not in forced.getvalue()  # a log gets whole lines
    assert forced.getvalue().splitlines()[-1].startswith("100 / 100 rows (100.0%)")


def test_a_stopped_run_leaves_its_last_line_on_the_terminal() -> None:
    clock, tty = Clock(), FakeTty()

    def run() -> None:
        with Progress(stream=tty, clock=clock) as progress:
            progress.start(100)
            clock.now += 1
            progress.advance(40)
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run()
    assert screen(tty.getvalue())[0].startswith("40 / 100 rows (40.0%), 40 rows/s, about 2 s left")


# --- The commands --------------------------------------------------------------------------


def _export(letter: Any, *more: str, stdout: Any, stderr: Any) -> None:
    call_command("export_counts", "--letter", letter.slug, *more, stdout=stdout, stderr=stderr)


@pytest.fixture
def big_letter(open_letter: Any) -> Any:
    for n in range(7):
        confirmed_signature(open_letter, name=f"Signer {n}", email=f"s{n}@example.org", team="Ops")
    return open_letter


def test_export_counts_shows_progress_on_a_terminal_and_the_export_is_the_same_piped(
    big_letter: Any, every_line: None, tmp_path: Any
) -> None:
    watched, piped = io.StringIO(), io.StringIO()
    terminal, pipe = Terminal(), Pipe()

    _export(big_letter, stdout=watched, stderr=terminal.stream)
    _export(big_letter, stdout=piped, stderr=pipe.stream)

    on_terminal = terminal.seen()
    lines = _progress_lines(on_terminal, "signatures")
    assert lines[0]["total"] == "7"  # the letter's signature rows
    assert any(m["left"] for m in lines)  # before the end: the time left
    assert lines[-1]["done"] == "7"
    assert screen(on_terminal) == [""]  # cleared: the export is on stdout
    assert pipe.seen() == ""  # piped: nothing but the export
    assert watched.getvalue() == piped.getvalue()
    assert "letter,kind,key,count,suppressed" in piped.getvalue()

    out = tmp_path / "counts.csv"
    terminal = Terminal()
    _export(big_letter, "--output", str(out), stdout=io.StringIO(), stderr=terminal.stream)
    assert _progress_lines(terminal.seen(), "signatures")
    assert out.read_text(encoding="utf-8") == piped.getvalue()


def test_export_counts_to_the_terminal_itself_is_not_mixed_with_progress(
    big_letter: Any, every_line: None
) -> None:
    terminal = Terminal()
    _export(big_letter, stdout=terminal.stream, stderr=terminal.stream)

    shown = screen(terminal.seen())
    assert not any("signatures/s" in line for line in shown)
    assert any(line.startswith(f"{big_letter.slug},status,confirmed,") for line in shown), shown


def test_export_counts_summary_shows_progress_over_every_letter(
    big_letter: Any, every_line: None
) -> None:
    terminal = Terminal()
    call_command("export_counts", "--summary", stdout=io.StringIO(), stderr=terminal.stream)
    assert _progress_lines(terminal.seen(), "signatures")[-1]["done"] == "7"


def test_reseal_addresses_shows_progress_on_a_terminal_and_only_its_summary_piped(
    big_letter: Any, every_line: None
) -> None:
    terminal, out_tty, pipe, out_pipe = Terminal(), io.StringIO(), Pipe(), io.StringIO()

    call_command("reseal_addresses", "--batch", "2", stdout=out_tty, stderr=terminal.stream)
    call_command("reseal_addresses", "--batch", "2", stdout=out_pipe, stderr=pipe.stream)

    lines = _progress_lines(terminal.seen(), "addresses")
    assert [m["done"] for m in lines] == ["2", "4", "6", "7"]
    assert all(m["total"] == "7" for m in lines)
    assert all(m["left"] for m in lines[:-1])
    assert pipe.seen() == ""
    assert (
        out_tty.getvalue()
        == out_pipe.getvalue()
        == ("resealed=0 rehashed=0 unopenable=0 dropped=0\n")
    )


def test_quiet_commands_print_nothing_even_on_a_terminal(big_letter: Any, every_line: None) -> None:
    terminal, out = Terminal(), Terminal()
    call_command("reseal_addresses", "-v", "0", stdout=out.stream, stderr=terminal.stream)
    call_command("recount_counts", "-v", "0", stdout=out.stream, stderr=terminal.stream)
    assert (terminal.seen(), out.seen()) == ("", "")


def test_recount_counts_shows_progress_and_forced_progress_goes_to_a_log_as_lines(
    big_letter: Any, every_line: None
) -> None:
    terminal, out, log = Terminal(), io.StringIO(), Pipe()

    call_command("recount_counts", stdout=out, stderr=terminal.stream)
    call_command("recount_counts", "--progress", stdout=io.StringIO(), stderr=log.stream)

    assert _progress_lines(terminal.seen(), "signatures")[-1]["done"] == "7"
    assert out.getvalue() == "Recounted 1 letter.\n"
    logged = log.seen()
    assert "\r" not in logged
    assert logged.splitlines()[-1].startswith("7 / 7 signatures (100.0%)")


def test_erase_retained_shows_progress_on_a_terminal(
    big_letter: Any, organiser: Any, every_line: None, settings: Any
) -> None:
    from letters import services

    pending_signature(big_letter, name="Pat Pending", email="pat@example.org")
    services.letter_close(letter=big_letter, by=organiser)
    LetterEvent.objects.filter(letter=big_letter).update(
        created_at=timezone.now() - timedelta(days=settings.RETENTION_DAYS + 1)
    )
    terminal, out = Terminal(), io.StringIO()

    call_command("erase_retained", stdout=out, stderr=terminal.stream)

    lines = _progress_lines(terminal.seen(), "signatures")
    assert lines[-1]["done"] == lines[-1]["total"] == "8"  # the pending one deleted, 7 erased
    assert out.getvalue() == "Erased the personal data of 7 signatures.\n"
    assert not Signature.objects.filter(letter=big_letter, erased_at__isnull=True).exists()


# --- The data migration --------------------------------------------------------------------


@contextmanager
def _stderr(stream: Any) -> Iterator[None]:
    saved = sys.stderr
    sys.stderr = stream
    try:
        yield
    finally:
        sys.stderr = saved


@pytest.mark.django_db(transaction=True)
def test_the_sealing_migration_shows_progress_on_a_terminal_only(
    open_letter: Any, every_line: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = importlib.import_module("letters.migrations.0011_seal_addresses")
    monkeypatch.setattr(module, "BATCH", 1)
    before = [("letters", "0010_sealed_address_columns")]
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes("letters")
    MigrationExecutor(connection).migrate(before)
    try:
        old = MigrationExecutor(connection).loader.project_state(before).apps
        old_signature = old.get_model("letters", "Signature")

        def add(*emails: str) -> None:
            for email in emails:
                old_signature.objects.create(
                    letter_id=open_letter.pk, version_id=open_letter.current_version_id,
                    status=SignatureStatus.CONFIRMED, secret="s" * 24, emails_sent=1,
                    email=email, name="Pia Public", display=Display.PUBLIC,
                )  # fmt: skip

        add("a@example.org", "b@example.org")
        pipe = Pipe()
        with _stderr(pipe.stream):
            module.seal_addresses(old, None)
        assert pipe.seen() == ""

        add("c@example.org", "d@example.org", "e@example.org")
        terminal = Terminal()
        with _stderr(terminal.stream):
            MigrationExecutor(connection).migrate(latest)
        seen = terminal.seen()
    finally:
        MigrationExecutor(connection).migrate(latest)

    lines = _progress_lines(seen, "addresses")
    assert [m["done"] for m in lines] == ["1", "2", "3"]
    assert all(m["total"] == "3" for m in lines)
    assert seen.startswith("\n") or seen.startswith("\r\n")  # below migrate's "Applying ..."
    assert screen(seen)[-1] == ""
    assert Signature.objects.filter(letter=open_letter).count() == 5
