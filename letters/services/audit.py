"""The audit log: who did what to whose data.  Entries name ids and counts,
never the personal data itself."""

from __future__ import annotations

from typing import Any

from letters.models import AuditLog, Letter


def audit(
    *,
    actor: Any | None,
    action: str,
    letter: Letter | None = None,
    target: str = "",
    **details: Any,
) -> AuditLog:
    return AuditLog.objects.create(
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        action=action,
        letter=letter,
        target=target,
        details={k: str(v) for k, v in details.items()},
    )
