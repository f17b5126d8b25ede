from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from accounts.models import ApiKey, Invite, LedgerEntry, Membership, Team, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "email", "tier", "credits", "is_staff", "date_joined")
    list_filter = ("tier", "is_staff", "is_active")
    readonly_fields = ("credits",)
    fieldsets = (*(BaseUserAdmin.fieldsets or ()), ("Studio", {"fields": ("tier", "credits")}))


@admin.register(LedgerEntry)
class LedgerEntryAdmin(admin.ModelAdmin):
    list_display = ("created_at", "user", "kind", "amount", "balance_after", "generation_public_id", "note")
    list_filter = ("kind",)
    search_fields = ("user__username", "generation_public_id", "note")
    raw_id_fields = ("user", "generation")

    # Balances change only through accounts.ledger (the grantcredits command).
    def has_add_permission(self, request) -> bool:  # noqa: ANN001
        return False

    def has_change_permission(self, request, obj=None) -> bool:  # noqa: ANN001
        return False

    def has_delete_permission(self, request, obj=None) -> bool:  # noqa: ANN001
        return False


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "prefix", "created_at", "last_used_at", "revoked_at")
    search_fields = ("name", "prefix", "user__username")
    readonly_fields = ("prefix", "key_hash", "created_at", "last_used_at")
    raw_id_fields = ("user",)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ("user",)


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "public_id", "created_by", "created_at")
    search_fields = ("name", "public_id")
    raw_id_fields = ("created_by",)
    readonly_fields = ("public_id",)
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("team", "user", "role", "joined_at")
    list_filter = ("role",)
    search_fields = ("team__name", "user__username")
    raw_id_fields = ("team", "user")


@admin.register(Invite)
class InviteAdmin(admin.ModelAdmin):
    """Invites with the start of their token only: the token is stored hashed, and its hash is not shown either."""

    list_display = (
        "team",
        "role",
        "invitee",
        "token_prefix",
        "created_by",
        "created_at",
        "expires_at",
        "accepted_at",
        "revoked_at",
    )
    list_filter = ("role",)
    search_fields = ("team__name", "invitee__username", "token_prefix")
    raw_id_fields = ("team", "invitee", "created_by")
    readonly_fields = ("token_prefix", "uses")
    exclude = ("token_hash",)
