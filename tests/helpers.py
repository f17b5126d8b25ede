"""Small builders shared by tests."""

from __future__ import annotations

from typing import Any

from generations import specs


def spec(**overrides: Any) -> specs.Spec:
    data = {"model": "seedream-5.0-lite", "prompt": "A serene mountain landscape at sunrise", **overrides}
    return specs.build_spec(data)
