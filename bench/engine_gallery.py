"""Render a gallery of typeset-engine previews to look at.

Writes PNGs into test-output/engine/: one per style preset, one per aspect ratio (with
quoted text, so fitting can be checked at every shape), the product document's YouTube
thumbnail prompt with a palette and deep thinking, and a few motif prompts. Prints the
render time of each. Needs no Django settings: it builds `Spec` and the engine directly.

Run: .venv/bin/python bench/engine_gallery.py [--only NAME-PREFIX]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from generations.engines.typeset.engine import TypesetEngine  # noqa: E402
from generations.specs import ASPECT_RATIOS, STYLES, Spec  # noqa: E402

OUT = ROOT / "test-output" / "engine"
THUMBNAIL = (
    "Professional YouTube thumbnail with text 'TOP 10 TIPS' in bold red font, excited person on left, "
    "bright blue background"
)


def gallery() -> dict[str, dict]:
    items: dict[str, dict] = {}
    for style in STYLES:
        items[f"style-{style}"] = {
            "prompt": "A serene mountain landscape at sunrise with a lake, 'Alpine Mornings'",
            "style": style,
        }
    for ratio in ASPECT_RATIOS:
        items[f"ratio-{ratio.replace(':', 'x')}"] = {
            "prompt": "Poster for a jazz night in the city with the title \u201cBlue Note Sessions\u201d and 'FRIDAY 9 PM'",
            "aspect_ratio": ratio,
        }
    items["doc-thumbnail"] = {
        "prompt": THUMBNAIL,
        "aspect_ratio": "16:9",
        "deep_thinking": True,
        "colors": ("#1e6bff", "#ffd400", "#ff2d2d"),
    }
    items["doc-thumbnail-plain"] = {"prompt": THUMBNAIL, "aspect_ratio": "16:9"}
    items["coffee"] = {
        "prompt": "Cozy coffee shop flyer, a warm cup of latte, text 'OPEN LATE' in white",
        "style": "auto",
    }
    items["logo"] = {"prompt": "Minimal logo for a startup called 'Northwind'", "aspect_ratio": "1:1"}
    items["ocean"] = {"prompt": "Tropical ocean sunset with palm beach", "aspect_ratio": "3:2", "style": "digital-art"}
    items["forest"] = {"prompt": "Misty pine forest at dawn, 'Into the Woods'", "aspect_ratio": "3:4", "style": "anime"}
    items["night"] = {"prompt": 'Starry night over the mountains, "Don\'t stop dreaming"', "aspect_ratio": "9:16"}
    items["flowers"] = {"prompt": "Spring flowers garden card 'Happy Birthday, Mom!'", "aspect_ratio": "4:3"}
    items["abstract"] = {"prompt": "An abstract composition about balance", "style": "retro", "seed": 3}
    items["long-text"] = {
        "prompt": "Book cover with the text 'The Extraordinarily Long Title Of A Book That Keeps Going And Going "
        "Until It Has To Wrap Onto Many Lines' and 'A NOVEL'",
        "aspect_ratio": "16:9",
        "deep_thinking": True,
    }
    items["palette"] = {"prompt": "Abstract shapes", "colors": ("#ff0000", "#00ff00"), "style": "watercolor"}
    return items


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", default="")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    engine = TypesetEngine()
    for name, fields in gallery().items():
        if not name.startswith(args.only):
            continue
        spec = Spec(model="seedream-5.0-lite", **{"seed": 42, **fields})
        start = time.perf_counter()
        result = engine.render(spec, lambda fraction, note: None)
        elapsed = time.perf_counter() - start
        result.image.save(OUT / f"{name}.png")
        chosen = result.plan.get("chosen", "-")
        print(
            f"{name:24} {elapsed * 1000:7.0f} ms  {result.info['style_preset']:15} {chosen:7} {result.info['motifs']}"
        )


if __name__ == "__main__":
    main()
