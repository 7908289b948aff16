from __future__ import annotations

from django.urls import path

from letters.views import internal, meta, reports, signing
from letters.views import public as views
from letters.views.feed import LetterFeed

app_name = "letters"

urlpatterns = [
    path("", views.letter_index, name="index"),
    path("<slug:slug>/", views.letter_detail, name="detail"),
    path("<slug:slug>/sign/", signing.letter_sign, name="sign"),
    path("<slug:slug>/signatories/", views.letter_signatories, name="signatories"),
    path("<slug:slug>/check-inbox/", signing.check_inbox, name="check_inbox"),
    path("<slug:slug>/feed/", LetterFeed(), name="feed"),
    path("<slug:slug>/report/", reports.report_letter, name="report"),
    path("<slug:slug>/report/sent/", reports.report_sent, name="report_sent"),
    path("<slug:slug>/card.png", meta.share_card, name="card"),
    path("<slug:slug>/read/", internal.read_request, name="read_request"),
    path("<slug:slug>/read/sent/", internal.read_sent, name="read_sent"),
]
