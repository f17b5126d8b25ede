from django.contrib import admin

from generations.models import (
    Batch,
    Board,
    BoardItem,
    Comment,
    Export,
    Generation,
    IdempotencyRecord,
    ReviewEvent,
    Star,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSecret,
)


class ReviewEventInline(admin.TabularInline):
    model = ReviewEvent
    extra = 0
    can_delete = False
    readonly_fields = ("created_at", "actor", "from_status", "to_status")

    def has_add_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(Generation)
class GenerationAdmin(admin.ModelAdmin):
    list_display = ("public_id", "user", "team", "stage", "review_status", "model", "aspect_ratio", "created_at")
    list_filter = ("stage", "review_status", "model", "aspect_ratio", "deep_thinking")
    search_fields = ("public_id", "prompt", "user__username", "team__name")
    raw_id_fields = ("user", "api_key", "batch", "team", "reviewed_by")
    # Where a generation stands, what it cost and who reviewed it change only through the
    # services (which refund, notify and record history), never by editing the row here.
    readonly_fields = (
        "public_id", "user", "team", "stage", "progress", "credits_charged", "error_code", "error_message",
        "attempts", "review_status", "reviewed_by", "reviewed_at", "created_at", "started_at", "finished_at",
        "heartbeat_at",
    )  # fmt: skip
    inlines = [ReviewEventInline]

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False  # the studio deletes through services.delete, which cancels, refunds and removes the files


@admin.register(Batch)
class BatchAdmin(admin.ModelAdmin):
    list_display = ("public_id", "user", "team", "total", "created_at", "finished_at")
    search_fields = ("public_id", "user__username")
    raw_id_fields = ("user", "api_key", "team")


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(admin.ModelAdmin):
    list_display = ("key", "user", "endpoint", "response_status", "created_at")
    search_fields = ("key", "user__username")
    raw_id_fields = ("user",)


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    extra = 0
    can_delete = False
    readonly_fields = ("number", "attempted_at", "status_code", "duration_ms", "succeeded", "error", "response_excerpt")


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ("public_id", "user", "event", "status", "attempt_count", "next_attempt_at", "created_at")
    list_filter = ("status", "event")
    search_fields = ("public_id", "subject_id", "url", "user__username")
    raw_id_fields = ("user", "generation", "batch")
    readonly_fields = ("public_id", "body", "created_at", "finished_at", "last_attempt_at")
    inlines = [WebhookAttemptInline]


@admin.register(WebhookSecret)
class WebhookSecretAdmin(admin.ModelAdmin):
    # Metadata only: the encrypted values are of no use to read and must not be edited.
    list_display = ("user", "created_at", "rotated_at", "previous_expires_at")
    fields = ("user", "created_at", "rotated_at", "previous_expires_at")
    readonly_fields = fields
    search_fields = ("user__username",)

    def has_add_permission(self, request: object) -> bool:
        return False


@admin.register(Star)
class StarAdmin(admin.ModelAdmin):
    list_display = ("generation", "user", "created_at")
    search_fields = ("generation__public_id", "user__username")
    raw_id_fields = ("user", "generation")


@admin.register(Export)
class ExportAdmin(admin.ModelAdmin):
    list_display = ("public_id", "user", "state", "done", "total", "size", "created_at", "finished_at")
    list_filter = ("state",)
    search_fields = ("public_id", "user__username")
    raw_id_fields = ("user",)
    readonly_fields = ("public_id", "generation_ids", "file", "size", "created_at", "finished_at")


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    list_display = ("generation", "author", "created_at", "resolved_at")
    list_filter = ("resolved_at",)
    search_fields = ("body", "generation__public_id", "author__username")
    raw_id_fields = ("generation", "author", "resolved_by")


class BoardItemInline(admin.TabularInline):
    model = BoardItem
    extra = 0
    raw_id_fields = ("generation", "added_by")


@admin.register(Board)
class BoardAdmin(admin.ModelAdmin):
    list_display = ("name", "public_id", "team", "user", "created_at")
    search_fields = ("name", "public_id", "team__name", "user__username")
    raw_id_fields = ("team", "user")
    inlines = [BoardItemInline]
