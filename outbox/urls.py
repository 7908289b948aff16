from __future__ import annotations

from django.urls import path

from outbox import views

app_name = "outbox"

urlpatterns = [
    path("", views.outbox_index, name="index"),
    path("<int:pk>/", views.outbox_detail, name="detail"),
]
