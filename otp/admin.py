"""Codes in the admin (SPEC §7): a read-only list. The code itself is not
recoverable, and neither the hash nor the full destination is shown."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from otp.models import OneTimeCode


@admin.register(OneTimeCode)
class OneTimeCodeAdmin(admin.ModelAdmin):
    list_display = (
        "purpose",
        "channel",
        "masked_destination",
        "created_at",
        "expires_at",
        "attempts",
        "consumed_at",
        "delivery_status",
    )
    list_filter = ("purpose", "channel", "delivery_status")
    # Exact (case-insensitive) normalised address: staff who know an address
    # can find its codes; a partial search would let them browse addresses.
    search_fields = ("=destination",)
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-id")
    show_full_result_count = False
    # The view page: every field read-only; code_hash and the raw destination
    # are not among them.
    fields = readonly_fields = (
        "purpose",
        "channel",
        "masked_destination",
        "user_id",
        "created_at",
        "expires_at",
        "attempts",
        "consumed_at",
        "delivery_status",
        "delivery_error",
    )

    @admin.display(description=_("destination"))
    def masked_destination(self, obj: OneTimeCode) -> str:
        return obj.masked_destination

    def has_add_permission(self, request, obj=None) -> bool:
        # Codes come from the services only, with their limits and delivery.
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        # Editing attempts or consumed_at would bypass the rules of SPEC §4.
        # Deleting stays allowed (with the delete permission), so deleting a
        # user in the admin can cascade to their codes.
        return False
