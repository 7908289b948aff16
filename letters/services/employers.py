"""Writes on a letter's employers (letters.models.employers).

The rules for changing employers once people have signed (docs/organisers.md
"Coalition letters"), chosen so that no signer's employer is ever changed
behind their back and no confirmed signature leaves its employer's count:

- a draft's employers change freely (nobody has signed);
- while the letter is open an employer may be added, renamed, or given
  more domains; its domains may not overlap another employer's;
- an employer that anyone has signed for (a confirmed or invalidated
  signature: pending rows, which a stranger can create, decide nothing an
  organiser sees, DESIGN §2 rule 8) cannot be removed, nor lose a domain:
  refused with a message
  next to the field.  We chose refusal over a new version with re-consent:
  the text did not change, and asking every signer of an employer to sign
  again to move a domain would cost real signatures for a clerical change;
- once the letter is closed (or later) the list is frozen but for names;
- a signer's employer is decided once, when they sign, by the employers
  named then: an employer (or domain) added later counts the signers who
  come after, never those before.  Moving earlier signers by their domain
  would let an organiser add a one-person domain as an "employer" and read
  off whether that person had signed (rules 8 and 9).

`Letter.allowed_domains` (the union of the domains) is written in the same
transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from letters.employers import domains_overlap
from letters.models import (
    Employer,
    Letter,
    LetterStatus,
    Signature,
    SignatureStatus,
)
from letters.services.errors import ServiceError

FIELD = "employers"
EDITABLE = (LetterStatus.DRAFT, LetterStatus.OPEN)
# What exports and pages call the signers at no employer's domain.
RESERVED_NAMES = frozenset({"other supporters"})


@dataclass(frozen=True)
class EmployerInput:
    """One employer as an organiser writes it: a name and its domains
    (canonical: lower case, IDNA-encoded)."""

    name: str
    domains: list[str]


def employers_check(entries: list[EmployerInput]) -> None:
    """Names unique, at least one domain each, no domain overlapping
    another's (ServiceError on the employers field)."""
    seen_names: set[str] = set()
    for entry in entries:
        key = entry.name.strip().casefold()
        if key in seen_names:
            raise ServiceError(_("%(name)s is named twice.") % {"name": entry.name}, field=FIELD)
        seen_names.add(key)
        if key in RESERVED_NAMES:
            raise ServiceError(
                _("“%(name)s” is how the site names addresses at no employer: choose another name.")
                % {"name": entry.name},
                field=FIELD,
            )
        if not entry.domains:
            raise ServiceError(
                _("Give %(name)s at least one email domain.") % {"name": entry.name},
                field=FIELD,
            )
    pairs = [(e.name, d) for e in entries for d in e.domains]
    for i, (name, domain) in enumerate(pairs):
        for other_name, other in pairs[i + 1 :]:
            if other_name != name and domains_overlap(domain, other):
                raise ServiceError(
                    _(
                        "%(first)s (%(name)s) and %(second)s (%(other)s) overlap: a signer's"
                        " employer would be unclear. Give each domain to one employer."
                    )
                    % {"first": domain, "name": name, "second": other, "other": other_name},
                    field=FIELD,
                )


def _signed_for(employer: Employer) -> bool:
    """Whether anyone's confirmed (or since invalidated) signature counts
    for the employer: never a pending one (rule 8)."""
    return Signature.objects.filter(
        letter_id=employer.letter_id,
        employer=employer,
        status__in=[SignatureStatus.CONFIRMED, SignatureStatus.INVALIDATED],
    ).exists()


def _match(existing: list[Employer], entry: EmployerInput) -> Employer | None:
    """The existing employer an entry stands for: the same name, else one
    sharing a domain with it (a rename; two employers never share one)."""
    key = entry.name.strip().casefold()
    for employer in existing:
        if employer.name.strip().casefold() == key:
            return employer
    for employer in existing:
        if set(employer.domains) & set(entry.domains):
            return employer
    return None


def employers_save(
    *, letter: Letter, entries: list[EmployerInput], accept_supporters: bool
) -> None:
    """Make the letter's employers `entries` (in order), under the rules in
    the module's docstring; call inside the transaction that holds the
    letter row (letter_create, letter_edit).  A removed employer's pending
    signatures (none confirmed: refused) keep going, as no employer's."""
    employers_check(entries)
    existing = list(Employer.objects.filter(letter=letter).order_by("position", "id"))
    status = letter.status
    kept: dict[int, EmployerInput] = {}
    added: list[EmployerInput] = []
    for entry in entries:
        match = _match([e for e in existing if e.pk not in kept], entry)
        if match is None:
            added.append(entry)
        else:
            kept[match.pk] = entry
    removed = [e for e in existing if e.pk not in kept]
    changed_domains = {
        e.pk: kept[e.pk] for e in existing if e.pk in kept and e.domains != kept[e.pk].domains
    }
    if status not in EDITABLE and (added or removed or changed_domains):
        raise ServiceError(
            _("The employers of a closed or delivered letter cannot change (names can)."),
            field=FIELD,
        )
    if status != LetterStatus.DRAFT:
        for employer in removed:
            if _signed_for(employer):
                raise ServiceError(
                    _(
                        "%(name)s cannot be removed: people have signed as its staff. You"
                        " can rename it or add domains."
                    )
                    % {"name": employer.name},
                    field=FIELD,
                )
        for employer in existing:
            changed = changed_domains.get(employer.pk)
            if changed is None:
                continue
            lost = [d for d in employer.domains if d not in changed.domains]
            if lost and _signed_for(employer):
                raise ServiceError(
                    _(
                        "%(domain)s cannot be taken from %(name)s: people have signed as its"
                        " staff. You can add domains."
                    )
                    % {"domain": lost[0], "name": employer.name},
                    field=FIELD,
                )
    for employer in removed:
        Signature.objects.filter(letter=letter, employer=employer).update(employer=None)
        employer.delete()
    for position, entry in enumerate(entries):
        match = next((e for e in existing if kept.get(e.pk) is entry), None)
        if match is None:
            Employer.objects.create(
                letter=letter, position=position, name=entry.name, domains=entry.domains
            )
        else:
            Employer.objects.filter(pk=match.pk).update(
                position=position, name=entry.name, domains=entry.domains
            )
    Letter.objects.filter(pk=letter.pk).update(
        allowed_domains=[d for e in entries for d in e.domains],
        accept_supporters=accept_supporters,
    )
