"""Reads. Public selectors return only what anyone may see: anonymous signers
appear in counts, never by name, email or any other field.

One module per reader; callers use the names from here
(`selectors.letter_counts(...)`):
- `counts`: a letter's exact counts (shared by every reader);
- `public`: the index (open letters, then past ones with their outcome),
  the public letter, its text, versions, timeline, responses and public
  signatories, and the letter a sign POST is for;
- `organiser`: the organiser's dashboard, co-organisers, group counts,
  deliveries, status and version counts;
- `day_counts`: the day-by-day changes that public charts draw;
- `comments`: what anyone sees of a signer's comment, and the organisers'
  list of comments to moderate;
- `templates`: the letter templates offered to organisers;
- `paper`: the batches of signatures on paper;
- `groups`: organising groups: a member's groups, a group's members,
  invitations and letters, and its public page;
- `employer_status`: where each employer of a coalition letter stands with
  its leadership (delivered, acknowledged, responded, overdue);
- `internal`: internal letters' reading passes.

Selectors import models and helpers, never services or tasks.
"""

from __future__ import annotations

from letters.selectors.bearer import invitation_get, leadership_link_get
from letters.selectors.comments import CommentRow, comment_to_hide, letter_comments, shown_comment
from letters.selectors.counts import Counts, letter_counts, letter_counts_many
from letters.selectors.day_counts import letter_day_counts, letter_day_counts_cached
from letters.selectors.employer_status import (
    EmployerDeliveries,
    EmployerState,
    EmployerStatus,
    employer_deliveries,
    employer_status,
    employer_statuses,
)
from letters.selectors.groups import (
    MyGroup,
    group_invitation_get,
    group_invitations_open,
    group_letters,
    group_members,
    group_public_get,
    group_public_index,
    groups_of,
    groups_to_assign,
)
from letters.selectors.internal import read_pass_find
from letters.selectors.organiser import (
    DashboardRow,
    HeldCounts,
    held_review_start,
    held_signatures,
    invitations_open,
    letter_deliveries,
    letter_group_counts,
    letter_held_counts,
    letter_latest_delivery,
    letter_named_subscribers,
    letter_office_ranges,
    letter_status_counts,
    letter_version_counts,
    letters_for_organiser,
    organisers_of,
    organisers_to_tell,
)
from letters.selectors.paper import PaperBatchRow, paper_batches, paper_batches_counted
from letters.selectors.public import (
    PAST_STATUSES,
    AnsweredDemand,
    LetterIndex,
    LetterText,
    Outcome,
    PastLetter,
    PublicSignatory,
    ResponseView,
    VersionRow,
    _signing_letters,
    letter_by_preview_token,
    letter_events,
    letter_for_signing,
    letter_internal_get,
    letter_public_get,
    letter_public_signatories,
    letter_published_get,
    letter_responses,
    letter_text,
    letter_versions,
    letters_index,
    letters_listed,
    letters_open,
    names_visible,
    version_fingerprint,
)
from letters.selectors.templates import letter_template_offered, letter_templates_offered

__all__ = [
    "PAST_STATUSES",
    "AnsweredDemand",
    "CommentRow",
    "Counts",
    "DashboardRow",
    "EmployerDeliveries",
    "EmployerState",
    "EmployerStatus",
    "HeldCounts",
    "LetterIndex",
    "LetterText",
    "MyGroup",
    "Outcome",
    "PaperBatchRow",
    "PastLetter",
    "PublicSignatory",
    "ResponseView",
    "VersionRow",
    "_signing_letters",
    "comment_to_hide",
    "employer_deliveries",
    "employer_status",
    "employer_statuses",
    "group_invitation_get",
    "group_invitations_open",
    "group_letters",
    "group_members",
    "group_public_get",
    "group_public_index",
    "groups_of",
    "groups_to_assign",
    "held_review_start",
    "held_signatures",
    "invitation_get",
    "invitations_open",
    "leadership_link_get",
    "letter_by_preview_token",
    "letter_comments",
    "letter_counts",
    "letter_counts_many",
    "letter_day_counts",
    "letter_day_counts_cached",
    "letter_deliveries",
    "letter_events",
    "letter_for_signing",
    "letter_group_counts",
    "letter_held_counts",
    "letter_internal_get",
    "letter_latest_delivery",
    "letter_named_subscribers",
    "letter_office_ranges",
    "letter_public_get",
    "letter_public_signatories",
    "letter_published_get",
    "letter_responses",
    "letter_status_counts",
    "letter_template_offered",
    "letter_templates_offered",
    "letter_text",
    "letter_version_counts",
    "letter_versions",
    "letters_for_organiser",
    "letters_index",
    "letters_listed",
    "letters_open",
    "names_visible",
    "organisers_of",
    "organisers_to_tell",
    "paper_batches",
    "paper_batches_counted",
    "read_pass_find",
    "shown_comment",
    "version_fingerprint",
]
