from django.contrib import admin

from generations.models import Batch, Generation, IdempotencyRecord


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
