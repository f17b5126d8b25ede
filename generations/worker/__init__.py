"""The worker's side of the one path every image takes.

`queue` (the only module that enqueues), `transitions` (claim, heartbeat, progress,
complete, requeue, fail: every state change a worker makes, each a conditional update),
`render` (claim → engine → files → complete), `sweep` (the safety net for lost messages,
dead workers and deadlines). Celery's entry points are in `generations.tasks`.
"""
