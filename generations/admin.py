from django.contrib import admin

from generations.models import Batch, Generation, IdempotencyRecord, WebhookAttempt, WebhookDelivery, WebhookSecret


@admin.register(Generation)
class GenerationAdmin(admin.ModelAdmin):
    list_display = ("public_id", "user", "stage", "progress", "model", "aspect_ratio", "style", "created_at")
    list_filter = ("stage", "model", "aspect_ratio", "deep_thinking")
    search_fields = ("public_id", "prompt", "user__username")
    raw_id_fields = ("user", "api_key", "batch")
    readonly_fields = ("public_id", "credits_charged", "created_at", "started_at", "finished_at", "heartbeat_at")


@admin.register(Batch)
class BatchAdmin(admin.ModelAdmin):
    list_display = ("public_id", "user", "total", "created_at", "finished_at")
    search_fields = ("public_id", "user__username")
    raw_id_fields = ("user", "api_key")


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
