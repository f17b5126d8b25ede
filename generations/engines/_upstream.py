"""What the upstream engines (`ark`, `openai`) share: options, HTTP, errors, pixels.

An upstream engine sends the spec to a provider's images endpoint with the operator's key
and fits the picture that comes back to exactly the spec's size. Style and palette travel
as words in the prompt, because neither provider has fields for them. Errors become
`EngineError`s with the API's codes: a refused key is the operator's problem (not
transient), a busy or unreachable provider is transient (the pipeline requeues), a
request that was sent but never answered is transient only where the engine says a resend
cannot be billed twice, each engine may read its provider's own error codes first, and a
refusal on content grounds is `content_policy`. The key never appears in a message.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import math
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from PIL import Image

from generations.engines._shared import fit_to_size
from generations.engines.base import EngineError, ProgressFn
from generations.specs import Spec

DEFAULT_TIMEOUT = 120.0
MAX_REPLY_BYTES = 64 * 1024 * 1024  # a JSON reply carrying a base64 image
MAX_DOWNLOAD_BYTES = 40 * 1024 * 1024
WAIT_TICK_SECONDS = 1.0
# Words in an upstream error code that mean "refused on content grounds" (ModelArk's
# InputTextSensitiveContentDetected, OutputImageRiskDetection...; OpenAI's
# content_policy_violation, moderation_blocked).
CONTENT_CODE_WORDS = ("sensitivecontent", "riskdetection", "contentpolicy", "moderation", "safety")
# Errors raised before the whole request left: the provider cannot have started on it,
# so nothing was billed and sending again is safe.
NOT_SENT_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.WriteError, httpx.WriteTimeout)

# A provider's own reading of an error reply: (status, code, message, "HTTP 429, Code") ->
# the EngineError for it, or None to fall back to the generic mapping.
ErrorRule = Callable[[int, str, str, str], EngineError | None]


@dataclass(frozen=True)
class Upstream:
    """Where and how to call one provider; built from a catalog entry's options at render time."""

    provider: str
    base_url: str
    api_key: str
    timeout: float
    expected_seconds: float
    # Whether a request that was sent but not answered (read timeout, dropped connection)
    # may be sent again. False where the provider bills a request whose caller went away.
    resend_unanswered: bool = True
    error_rule: ErrorRule | None = None

    @classmethod
    def from_options(
        cls,
        options: dict[str, Any],
        *,
        provider: str,
        default_base_url: str = "",
        default_key_env: str = "",
        default_timeout: float = DEFAULT_TIMEOUT,
        resend_unanswered: bool = True,
        error_rule: ErrorRule | None = None,
    ) -> Upstream:
        base_url = str(options.get("base_url") or default_base_url).rstrip("/")
        if not base_url:
            raise EngineError(f"The model is not configured: {provider} needs options.base_url.")
        key_env = str(options.get("api_key_env") or default_key_env)
        api_key = str(options.get("api_key") or (os.environ.get(key_env, "") if key_env else "")).strip()
        if not api_key:
            where = f"options.api_key or the environment variable {key_env}" if key_env else "options.api_key"
            raise EngineError(f"The model is not configured: no API key for {provider} (set {where}).")
        return cls(
            provider=provider,
            base_url=base_url,
            api_key=api_key,
            timeout=float(options.get("timeout") or default_timeout),
            expected_seconds=float(options.get("expected_seconds") or 20.0),
            resend_unanswered=resend_unanswered,
            error_rule=error_rule,
        )

    def redact(self, text: str) -> str:
        return text.replace(self.api_key, "[redacted]") if self.api_key else text


def post_images(upstream: Upstream, body: dict[str, Any], progress: ProgressFn) -> dict[str, Any]:
    """POST {base_url}/images/generations and return the JSON reply, reporting progress while waiting."""
    progress(0.1, f"sending to {upstream.provider}")
    progress(0.15, f"waiting for {upstream.provider}")
    url = f"{upstream.base_url}/images/generations"
    headers = {"Authorization": f"Bearer {upstream.api_key}", "Accept": "application/json"}

    def call() -> tuple[int, bytes]:
        with (
            httpx.Client(timeout=upstream.timeout) as client,
            client.stream("POST", url, json=body, headers=headers) as response,
        ):
            return response.status_code, _read_bounded(response, MAX_REPLY_BYTES, upstream.provider)

    status, raw = _wait(call, upstream, progress, start=0.15, end=0.8, resend=upstream.resend_unanswered)
    if status >= 400:
        raise error_for(upstream, status, raw)
    try:
        reply = json.loads(raw)
    except ValueError:
        raise EngineError(f"{upstream.provider} answered with something that is not JSON.") from None
    if not isinstance(reply, dict):
        raise EngineError(f"{upstream.provider} answered with an unexpected reply.")
    progress(0.8, f"{upstream.provider} answered")
    return reply


def _wait(call: Any, upstream: Upstream, progress: ProgressFn, *, start: float, end: float, resend: bool = True) -> Any:
    """Run `call` in a thread; meanwhile report a slowly rising estimate from this thread.

    Progress is reported from the caller's thread so that the pipeline's "stop, this was
    canceled" exception reaches the engine; an abandoned request finishes on its own.
    With `resend` false, a request that was sent but never answered is a final failure:
    requeueing it could pay for the same picture twice.
    """
    outcome: dict[str, Any] = {}
    done = threading.Event()

    def run() -> None:
        try:
            outcome["value"] = call()
        except BaseException as exc:  # handed to the waiting thread
            outcome["error"] = exc
        finally:
            done.set()

    threading.Thread(target=run, daemon=True, name=f"upstream-{upstream.provider}").start()
    began = time.monotonic()
    while not done.wait(WAIT_TICK_SECONDS):
        elapsed = time.monotonic() - began
        estimate = start + (end - start) * 0.9 * (1 - math.exp(-elapsed / upstream.expected_seconds))
        progress(round(estimate, 3), f"waiting for {upstream.provider} ({elapsed:.0f} s)")
    error = outcome.get("error")
    if not resend and isinstance(error, httpx.HTTPError) and not isinstance(error, NOT_SENT_ERRORS):
        what = (
            f"did not answer within {upstream.timeout:g} s"
            if isinstance(error, httpx.TimeoutException)
            else f"dropped the connection before answering ({type(error).__name__})"
        )
        raise EngineError(
            f"{upstream.provider} {what}. The request was sent and may still be billed, so it is not "
            "retried automatically; the operator may raise options.timeout."
        )
    if isinstance(error, httpx.TimeoutException):
        raise EngineError(f"{upstream.provider} did not answer within {upstream.timeout:g} s.", transient=True)
    if isinstance(error, httpx.HTTPError):
        raise EngineError(f"Could not reach {upstream.provider} ({type(error).__name__}).", transient=True)
    if error is not None:
        raise error
    return outcome["value"]


def _read_bounded(response: httpx.Response, limit: int, provider: str) -> bytes:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise EngineError(f"{provider} sent {int(declared)} bytes; the limit is {limit}.")
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > limit:
            raise EngineError(f"{provider} sent more than {limit} bytes.")
        chunks.append(chunk)
    return b"".join(chunks)


def _error_fields(raw: bytes | dict[str, Any]) -> tuple[str, str]:
    """(code, message) from {"error": {"code": ..., "message": ...}}, or ("", "")."""
    try:
        reply = raw if isinstance(raw, dict) else json.loads(raw)
    except ValueError:
        return "", ""
    error = reply.get("error") if isinstance(reply, dict) else None
    if not isinstance(error, dict):
        return "", ""
    code = error.get("code") or error.get("type") or ""
    return str(code), str(error.get("message") or "")[:300]


def is_content_code(code: str) -> bool:
    squashed = code.lower().replace("_", "").replace("-", "").replace(".", "")
    return any(word in squashed for word in CONTENT_CODE_WORDS)


def error_for(upstream: Upstream, status: int, raw: bytes | dict[str, Any]) -> EngineError:
    """The EngineError for an upstream error reply (status 0: an error inside a 200 reply)."""
    code, message = _error_fields(raw)
    code, message = upstream.redact(code), upstream.redact(message)
    named = f"HTTP {status}, {code}" if status and code else (f"HTTP {status}" if status else code or "no code")
    provider = upstream.provider
    special = upstream.error_rule(status, code, message, named) if upstream.error_rule else None
    if special is not None:
        return special
    if status in (401, 403):
        return EngineError(
            f"{provider} refused the operator's API key ({named}). The operator must check the key for this model."
        )
    if status == 429 or status >= 500:
        return EngineError(f"{provider} is busy or unavailable ({named}).", transient=True)
    if is_content_code(code):
        return EngineError(f"{provider} refused the request under its content policy ({named}).", code="content_policy")
    return EngineError(f"{provider} rejected the request ({named}){': ' + message if message else ''}")


def first_image(upstream: Upstream, reply: dict[str, Any]) -> dict[str, Any]:
    """The first entry of reply["data"], or the error it carries as an EngineError."""
    if reply.get("error"):
        raise error_for(upstream, 0, reply)
    data = reply.get("data")
    entry = data[0] if isinstance(data, list) and data and isinstance(data[0], dict) else None
    if entry is None:
        raise EngineError(f"{upstream.provider} answered without an image.")
    if entry.get("error") and not (entry.get("b64_json") or entry.get("url")):
        raise error_for(upstream, 0, entry)
    return entry


def image_bytes(upstream: Upstream, entry: dict[str, Any], progress: ProgressFn) -> tuple[bytes, str]:
    """The encoded image of one reply entry (decoded base64, or downloaded) and how it came ("b64_json"/"url")."""
    if entry.get("b64_json"):
        try:
            return base64.b64decode(entry["b64_json"], validate=True), "b64_json"
        except (binascii.Error, ValueError, TypeError):
            raise EngineError(f"{upstream.provider} sent an image that is not valid base64.") from None
    url = entry.get("url")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise EngineError(f"{upstream.provider} answered without an image.")
    progress(0.85, f"downloading the image from {upstream.provider}")

    def call() -> tuple[int, bytes]:
        # The link is the provider's own signed storage URL: the API key is not sent with it.
        with (
            httpx.Client(timeout=upstream.timeout, follow_redirects=True) as client,
            client.stream("GET", url) as response,
        ):
            if response.status_code >= 400:
                return response.status_code, b""
            return response.status_code, _read_bounded(response, MAX_DOWNLOAD_BYTES, upstream.provider)

    status, raw = _wait(call, upstream, progress, start=0.85, end=0.85)
    if status >= 500:
        raise EngineError(f"Downloading the image from {upstream.provider} failed (HTTP {status}).", transient=True)
    if status >= 400:
        raise EngineError(f"Downloading the image from {upstream.provider} failed (HTTP {status}).")
    return raw, "url"


def decode_and_fit(upstream: Upstream, raw: bytes, width: int, height: int) -> tuple[Image.Image, tuple[int, int]]:
    """The image scaled to cover width x height and centre-cropped (no letterboxing), and its original size."""
    try:
        with Image.open(io.BytesIO(raw)) as opened:
            opened.load()
            original = opened.size
            image = opened.convert("RGB")
    except (OSError, ValueError, Image.DecompressionBombError):
        raise EngineError(f"{upstream.provider} sent data that is not a readable image.") from None
    return fit_to_size(image, width, height), original


def fitted_image(
    upstream: Upstream, reply: dict[str, Any], spec: Spec, progress: ProgressFn
) -> tuple[Image.Image, dict]:
    """The reply's image, fitted to the spec's size, and what to record about it in `info`."""
    entry = first_image(upstream, reply)
    raw, delivered = image_bytes(upstream, entry, progress)
    progress(0.9, "decoding")
    image, original = decode_and_fit(upstream, raw, spec.width, spec.height)
    info: dict[str, Any] = {
        "upstream_size": f"{original[0]}x{original[1]}",
        "delivered_as": delivered,
        "fitted": "as sent" if original == (spec.width, spec.height) else "scaled to cover, centre-cropped",
    }
    if isinstance(reply.get("usage"), dict):
        info["usage"] = reply["usage"]
    return image, info
