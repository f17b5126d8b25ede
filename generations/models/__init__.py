"""The generations app's data, one module per behaviour; imported here so Django finds every model.

`generation` (generations, batches, stars), `review` (decisions, comments, boards),
`webhook` (secrets, deliveries, attempts), `export` (ZIPs built by a worker),
`idempotency` (the API's Idempotency-Key replies). Migrations name the id factories
through this package (`generations.models.new_image_id`), so they stay importable here.
"""

from generations.models.export import Export, new_export_id
from generations.models.generation import (
    FINISHED,
    UNFINISHED,
    Batch,
    Generation,
    ReviewStatus,
    Stage,
    Star,
    new_batch_id,
    new_image_id,
    new_public_id,
)
from generations.models.idempotency import IdempotencyRecord
from generations.models.review import COMMENT_MAX_LENGTH, Board, BoardItem, Comment, ReviewEvent, new_board_id
from generations.models.webhook import WebhookAttempt, WebhookDelivery, WebhookEvent, WebhookSecret, new_message_id

__all__ = [
    "COMMENT_MAX_LENGTH",
    "FINISHED",
    "UNFINISHED",
    "Batch",
    "Board",
    "BoardItem",
    "Comment",
    "Export",
    "Generation",
    "IdempotencyRecord",
    "ReviewEvent",
    "ReviewStatus",
    "Stage",
    "Star",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEvent",
    "WebhookSecret",
    "new_batch_id",
    "new_board_id",
    "new_export_id",
    "new_image_id",
    "new_message_id",
    "new_public_id",
]
