"""The embedded broker: kombu's filesystem transport, made safe to share between processes.

kombu's own transport (`kombu.transport.filesystem`) creates a message file and then
writes into it, trusting an advisory lock that its reader never takes: a consumer that
lists the folder between the two can move the empty file away, read nothing and die of
`JSONDecodeError` in `_get` (kombu issue 1551), losing the message and, under
`studio.run`, stopping a worker. Here:

- a message is written under a hidden temporary name, then renamed into place, so it
  appears whole or not at all (a rename within one folder is atomic). It is not fsynced:
  the database row is the outbox, and the sweeper re-sends work whose message was lost;
- a consumer claims a message by renaming it into its own folder (`processed`), so of two
  consumers exactly one gets it, and it reads only what it has claimed;
- a file that still cannot be decoded (a disk that filled mid-write before this
  transport, a file dropped in by hand) is logged, moved aside into `rejected/` for a
  person to look at, and skipped; it never reaches Celery, so it never kills a consumer.

`studio/celery.py` points the `filesystem://` URL at this transport, so configuration
stays what the README says. Nothing here is needed on Redis.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import uuid
from pathlib import Path
from queue import Empty
from typing import Any

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import bytes_to_str, str_to_bytes
from kombu.utils.json import dumps, loads

log = logging.getLogger(__name__)

TEMP_PREFIX = ".incoming-"
REJECTED = "rejected"


class Channel(filesystem.Channel):
    # kombu names the parameter `message` in AbstractChannel and `payload` in filesystem.Channel.
    def _put(self, queue: str, payload: Any, **kwargs: Any) -> None:  # type: ignore[override]
        """Write `payload` for `queue` so that it appears whole or not at all."""
        folder = Path(self.data_folder_out)
        name = f"{filesystem.monotonic() * 1000:.0f}_{uuid.uuid4()}.{queue}.msg"
        temporary = folder / f"{TEMP_PREFIX}{name}"
        try:
            with open(temporary, "wb") as f:
                f.write(str_to_bytes(dumps(payload)))
            os.rename(temporary, folder / name)
        except OSError as exc:
            with contextlib.suppress(OSError):
                temporary.unlink()
            raise ChannelError(f"Cannot add a message to the broker folder {str(folder)!r}: {exc}") from exc

    def _get(self, queue: str, timeout: Any = None) -> Any:
        """The oldest whole message of `queue`, claimed by renaming it; malformed ones are set aside."""
        wanted = f"{queue}.msg"
        inbox = Path(self.data_folder_in)
        claimed_dir = Path(self.processed_folder)
        for filename in sorted(os.listdir(inbox)):
            if filename.startswith(".") or filename.partition(".")[2] != wanted:
                continue
            claimed = claimed_dir / f"{os.getpid()}-{filename}"
            try:
                os.rename(inbox / filename, claimed)
            except FileNotFoundError:
                continue  # another consumer claimed it first
            except OSError as exc:
                raise ChannelError(f"Cannot claim {filename!r} from the broker folder: {exc}") from exc
            try:
                payload = claimed.read_bytes()
            except OSError as exc:
                raise ChannelError(f"Cannot read the claimed message {str(claimed)!r}: {exc}") from exc
            try:
                message = loads(bytes_to_str(payload))
                if not isinstance(message, dict):
                    raise ValueError(f"a message is a JSON object, not {type(message).__name__}")
            except (ValueError, json.JSONDecodeError) as exc:
                self._reject(claimed, filename, payload, exc)
                continue
            if not self.store_processed:
                claimed.unlink(missing_ok=True)
            return message
        raise Empty()

    def _reject(self, claimed: Path, filename: str, payload: bytes, exc: Exception) -> None:
        rejected = Path(self.data_folder_in).parent / REJECTED
        try:
            rejected.mkdir(exist_ok=True)
            os.rename(claimed, rejected / filename)
            where = f"moved to {rejected / filename}"
        except OSError:
            claimed.unlink(missing_ok=True)
            where = "deleted"
        log.error(
            "broker: skipped a malformed message %s (%d bytes: %s); %s. The sweeper re-sends work whose message "
            "was lost.",
            filename,
            len(payload),
            exc,
            where,
        )


class Transport(filesystem.Transport):
    Channel = Channel
    # The folders are the shared state; kombu's in-process BrokerState is per transport class.
    global_state = filesystem.virtual.BrokerState()
