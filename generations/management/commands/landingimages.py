"""Render the landing page's examples with the studio's own offline engine.

Each example is one `Spec` rendered by the `typeset` engine, exactly as a generation is,
then saved small as WebP under `static/img/landing/` with `examples.json`, which records
the prompt and settings that made it: the landing page shows real output, and anyone can
make the same image again from what it says.
"""

import json
import re
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from PIL import Image

from generations import specs, storage
from generations.engines import engine_class

# (prompt, aspect ratio, style, colours, seed): picked to show quoted text, styles and palettes.
# The landing page shows them two to a row (16:9 beside 3:4, 1:1 beside 3:2): rows of one height.
EXAMPLES: list[tuple[str, str, str, tuple[str, ...], int]] = [
    ("A serene mountain landscape at sunrise, 'SUMMIT' in the sky", "16:9", "watercolor", (), 11),
    ("Poster with text 'OPEN LATE' in bold red font", "3:4", "retro", ("#ff5a36", "#1d2b53"), 7),
    ("Coffee shop menu card 'FLAT WHITE 3.50'", "1:1", "minimalist", ("#2f2a24", "#e9dcc9"), 3),
    ("Neon city night, text 'TOKYO 2049'", "3:2", "digital-art", ("#ff2e88", "#00e0ff"), 21),
]
MAX_SIDE = 640
MANIFEST = "examples.json"


def landing_dir() -> Path:
    return Path(settings.BASE_DIR) / "static" / "img" / "landing"


def slug(prompt: str, seed: int) -> str:
    return re.sub(r"[^a-z0-9]+", "-", prompt.lower()).strip("-")[:40].rstrip("-") + f"-{seed}"


class Command(BaseCommand):
    help = "Render the landing page's example images with the typeset engine (static/img/landing/)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--out", type=Path, help="Folder to write to (default static/img/landing).")

    def handle(self, *args: object, **opts: Any) -> None:  # argparse's values
        out: Path = opts["out"] or landing_dir()
        out.mkdir(parents=True, exist_ok=True)
        engine = engine_class("typeset")()
        manifest = []
        for prompt, ratio, style, colors, seed in EXAMPLES:
            spec = specs.build_spec(
                {"prompt": prompt, "aspect_ratio": ratio, "style": style, "colors": list(colors) or None, "seed": seed},
                require_model=False,
            )
            image = engine.render(spec, lambda fraction, note: None).image
            small = image.copy()
            small.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
            name = f"{slug(prompt, seed)}.webp"
            (out / name).write_bytes(storage.encode_webp(small, quality=82))
            manifest.append(
                {
                    "file": name,
                    "prompt": prompt,
                    "aspect_ratio": ratio,
                    "style": style,
                    "colors": list(colors),
                    "seed": seed,
                    "engine": engine.name,
                    "width": small.width,
                    "height": small.height,
                }
            )
            self.stdout.write(f"{name}: {small.width}x{small.height}")
        (out / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
        self.stdout.write(f"Wrote {len(manifest)} examples to {out}.")
