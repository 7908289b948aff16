from __future__ import annotations

from django.urls import path

from letters.views import comments, delivery, exports, groups, held, paper, reports, steps
from letters.views import organise as views

app_name = "organise"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("new/", views.letter_new, name="new"),
    path("invitations/<str:token>/", views.invitation_accept, name="invitation"),
    # Organising groups (letters/views/groups.py); "groups" is no letter's address.
    path("groups/", groups.groups_mine, name="groups"),
    path("groups/new/", groups.group_new, name="group_new"),
    path(
        "groups/invitations/<str:token>/",
        groups.group_invitation_accept,
        name="group_invitation",
    ),
    path("groups/<slug:group_slug>/", groups.group_overview, name="group"),
    path("groups/<slug:group_slug>/settings/", groups.group_settings, name="group_settings"),
    path("groups/<slug:group_slug>/invite/", groups.group_invite, name="group_invite"),
    path(
        "groups/<slug:group_slug>/members/<int:member_id>/role/",
        groups.group_member_role,
        name="group_member_role",
    ),
    path(
        "groups/<slug:group_slug>/members/<int:member_id>/remove/",
        groups.group_member_remove,
        name="group_member_remove",
    ),
    path(
        "groups/<slug:group_slug>/letters/<slug:letter_slug>/remove/",
        groups.group_letter_remove,
        name="group_letter_remove",
    ),
    path("<slug:slug>/", views.letter_overview, name="letter"),
    path("<slug:slug>/edit/", views.letter_edit, name="edit"),
    path("<slug:slug>/publish/", steps.letter_publish, name="publish"),
    path("<slug:slug>/close/", steps.letter_close, name="close"),
    path("<slug:slug>/archive/", steps.letter_archive, name="archive"),
    path("<slug:slug>/make-public/", steps.letter_make_public, name="make_public"),
    path("<slug:slug>/duplicate/", views.letter_duplicate, name="duplicate"),
    path("<slug:slug>/preview-link/", views.letter_preview_link, name="preview_link"),
    path("<slug:slug>/paper/", paper.paper, name="paper"),
    path("<slug:slug>/erase/", views.letter_erase_identities, name="erase"),
    path("<slug:slug>/appeal/", reports.letter_appeal, name="appeal"),
    path("<slug:slug>/translation/", views.letter_translation, name="translation"),
    path("<slug:slug>/group/", groups.letter_group, name="letter_group"),
    path("<slug:slug>/organisers/invite/", views.organiser_invite, name="invite"),
    path("<slug:slug>/organisers/<int:organiser_id>/role/", views.organiser_role, name="role"),
    path(
        "<slug:slug>/organisers/<int:organiser_id>/remove/",
        views.organiser_remove,
        name="remove",
    ),
    path("<slug:slug>/deliver/", delivery.deliver, name="deliver"),
    path("<slug:slug>/delivery/", delivery.delivery_overview, name="delivery"),
    path("<slug:slug>/delivery/email-link/", delivery.link_email, name="link_email"),
    path(
        "<slug:slug>/delivery/links/<int:link_id>/revoke/",
        delivery.link_revoke,
        name="link_revoke",
    ),
    path("<slug:slug>/response/", delivery.record_response, name="response"),
    path("<slug:slug>/update/", delivery.post_update, name="update"),
    path("<slug:slug>/packet/", delivery.packet, name="packet"),
    path("<slug:slug>/export/counts/", exports.export_counts, name="export_counts"),
    path("<slug:slug>/export/signatories/", exports.export_signatories, name="export_signatories"),
    path("<slug:slug>/signatures/", views.signatures, name="signatures"),
    path("<slug:slug>/comments/", comments.comments, name="comments"),
    path("<slug:slug>/comments/setting/", comments.comments_setting, name="comments_setting"),
    path(
        "<slug:slug>/comments/<str:signature_ref>/hide/",
        comments.comment_hide,
        name="comment_hide",
    ),
    path(
        "<slug:slug>/signatures/<str:signature_ref>/invalidate/",
        views.signature_invalidate,
        name="invalidate",
    ),
    path(
        "<slug:slug>/signatures/invalidate/",
        views.signatures_invalidate_matching,
        name="invalidate_matching",
    ),
    path("<slug:slug>/signatures/held/", held.held_signatures, name="held"),
    path("<slug:slug>/signatures/held/office-ranges/", held.office_ranges, name="office_ranges"),
    path(
        "<slug:slug>/signatures/held/office-ranges/<int:range_id>/remove/",
        held.office_range_remove,
        name="office_range_remove",
    ),
]
