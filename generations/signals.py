"""Domain events, sent inside the transaction that caused them.

Receivers (webhooks, notifications) that do I/O must defer it with
`transaction.on_commit`, so nothing is sent for a change that rolls back.
"""

from django.dispatch import Signal

# sender=Generation, generation=<Generation> once it is completed, failed or canceled.
generation_finished = Signal()
# sender=Batch, batch=<Batch> once every item of it is finished.
batch_finished = Signal()
