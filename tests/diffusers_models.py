"""Diffusers pipelines built from configs with random weights, saved as an operator's model folder.

Nothing is downloaded: every config is written out here, and the tokenizers are CLIP
tokenizers over printable ASCII characters (one token per character, no merges). The
weights are random, so the pictures are noise, but the architecture, and so the cost of
a render, is the real one's:

- `build_tiny_sd`: a Stable Diffusion pipeline a few MB in size (the engine's tests, `make bench`);
- `build_sdxl`: Stable Diffusion XL base's architecture (about 3.5 billion parameters: two text
  encoders, the 2.6 B UNet, the VAE), for `bench/gpu.py` on a GPU; `tiny=True` keeps the same
  structure at a few MB, so that the SDXL path runs anywhere.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import torch

MAX_TOKENS = 128  # the tiny SD's text encoder: room for a prompt with its style and palette (one token a character)
SDXL_MAX_TOKENS = 77  # CLIP's, as in SDXL base


def tiny_tokenizer(folder: Path, *, max_tokens: int = MAX_TOKENS) -> Any:
    """A CLIP tokenizer over printable ASCII characters (each alone, and at a word's end), with no merges."""
    from transformers import CLIPTokenizer

    chars = [chr(code) for code in range(33, 127)]
    tokens = [*chars, *(f"{char}</w>" for char in chars), "<|startoftext|>", "<|endoftext|>"]
    folder.mkdir()
    (folder / "vocab.json").write_text(json.dumps({token: index for index, token in enumerate(tokens)}))
    (folder / "merges.txt").write_text("#version: 0.2\n")
    return CLIPTokenizer.from_pretrained(folder, local_files_only=True, model_max_length=max_tokens)


def _tokenizer(max_tokens: int = MAX_TOKENS) -> Any:
    """`tiny_tokenizer` held in memory (its vocabulary files are not needed once loaded)."""
    with tempfile.TemporaryDirectory(prefix="tiny-vocab-") as vocab:
        return tiny_tokenizer(Path(vocab) / "vocab", max_tokens=max_tokens)


def _special_ids(tokenizer: Any) -> dict[str, int]:
    end_of_text = tokenizer.convert_tokens_to_ids("<|endoftext|>")
    start = tokenizer.convert_tokens_to_ids("<|startoftext|>")
    return {"bos_token_id": start, "eos_token_id": end_of_text, "pad_token_id": end_of_text}


def build_tiny_sd(folder: Path) -> Path:
    """A Stable Diffusion pipeline a few MB in size, random weights (seed 0), saved to `folder`."""
    from diffusers import AutoencoderKL, DDIMScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    tokenizer = _tokenizer()
    torch.manual_seed(0)
    unet = UNet2DConditionModel(
        block_out_channels=(32, 64),
        layers_per_block=1,
        sample_size=8,
        in_channels=4,
        out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=32,
    )
    vae = AutoencoderKL(
        block_out_channels=(32, 64),
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D", "DownEncoderBlock2D"),
        up_block_types=("UpDecoderBlock2D", "UpDecoderBlock2D"),
        latent_channels=4,
    )
    text_encoder = CLIPTextModel(
        CLIPTextConfig(
            **_special_ids(tokenizer),
            hidden_size=32,
            intermediate_size=37,
            num_attention_heads=4,
            num_hidden_layers=2,
            max_position_embeddings=MAX_TOKENS,
            vocab_size=1000,
        )
    )
    pipeline = StableDiffusionPipeline(
        unet=unet,
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        scheduler=DDIMScheduler(clip_sample=False, steps_offset=1),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipeline.save_pretrained(folder)
    return folder


# Stable Diffusion XL base 1.0's component configs, as its model folder has them; `tiny` swaps
# in small widths and depths with the same structure (three UNet levels, text-time embedding,
# two text encoders whose hidden states are concatenated for cross-attention).
_SDXL_UNET = {
    "sample_size": 128,
    "in_channels": 4,
    "out_channels": 4,
    "down_block_types": ("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
    "up_block_types": ("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"),
    "block_out_channels": (320, 640, 1280),
    "layers_per_block": 2,
    "transformer_layers_per_block": (1, 2, 10),
    "attention_head_dim": (5, 10, 20),  # diffusers' name for the number of heads here
    "cross_attention_dim": 2048,  # 768 + 1280: both text encoders' hidden states
    "use_linear_projection": True,
    "addition_embed_type": "text_time",
    "addition_time_embed_dim": 256,
    "projection_class_embeddings_input_dim": 2816,  # 6 * 256 (sizes and crops) + 1280 (pooled text)
}
_SDXL_VAE = {
    "in_channels": 3,
    "out_channels": 3,
    "down_block_types": ("DownEncoderBlock2D",) * 4,
    "up_block_types": ("UpDecoderBlock2D",) * 4,
    "block_out_channels": (128, 256, 512, 512),
    "layers_per_block": 2,
    "latent_channels": 4,
    "sample_size": 1024,
    "scaling_factor": 0.13025,
    "force_upcast": True,
}
_SDXL_TEXT = {  # CLIP ViT-L/14's text tower
    "hidden_size": 768,
    "intermediate_size": 3072,
    "num_attention_heads": 12,
    "num_hidden_layers": 12,
    "projection_dim": 768,
    "hidden_act": "quick_gelu",
    "vocab_size": 49408,
    "max_position_embeddings": SDXL_MAX_TOKENS,
}
_SDXL_TEXT_2 = {  # OpenCLIP ViT-bigG/14's text tower
    "hidden_size": 1280,
    "intermediate_size": 5120,
    "num_attention_heads": 20,
    "num_hidden_layers": 32,
    "projection_dim": 1280,
    "hidden_act": "gelu",
    "vocab_size": 49408,
    "max_position_embeddings": SDXL_MAX_TOKENS,
}
_TINY_SDXL = {
    "unet": {
        "block_out_channels": (32, 64, 64),
        "layers_per_block": 1,
        "transformer_layers_per_block": (1, 1, 1),
        "attention_head_dim": (2, 4, 4),
        "cross_attention_dim": 64,
        "addition_time_embed_dim": 8,
        "projection_class_embeddings_input_dim": 80,  # 6 * 8 + 32
    },
    "vae": {"block_out_channels": (32, 32, 64, 64), "layers_per_block": 1},
    "text": {"hidden_size": 32, "intermediate_size": 37, "num_attention_heads": 4, "num_hidden_layers": 2},
}
_TINY_SDXL["text"].update(projection_dim=32, vocab_size=1000)
_TINY_SDXL["text_2"] = _TINY_SDXL["text"]


def build_sdxl(folder: Path, *, device: str = "cpu", dtype: torch.dtype = torch.float32, tiny: bool = False) -> Path:
    """An SDXL base pipeline (random weights, seed 0), made on `device`, saved to `folder` in `dtype`.

    Full size it is about 7 GB in float16: make it on the GPU, where the random
    initialisation takes seconds rather than minutes.
    """
    from diffusers import AutoencoderKL, EulerDiscreteScheduler, StableDiffusionXLPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    small: dict[str, dict[str, Any]] = _TINY_SDXL if tiny else {"unet": {}, "vae": {}, "text": {}, "text_2": {}}
    tokenizer, tokenizer_2 = _tokenizer(SDXL_MAX_TOKENS), _tokenizer(SDXL_MAX_TOKENS)
    torch.manual_seed(0)
    with torch.device(device):
        unet = UNet2DConditionModel(**{**_SDXL_UNET, **small["unet"]})
        vae = AutoencoderKL(**{**_SDXL_VAE, **small["vae"]})
        text_encoder = CLIPTextModel(CLIPTextConfig(**_special_ids(tokenizer), **{**_SDXL_TEXT, **small["text"]}))
        text_encoder_2 = CLIPTextModelWithProjection(
            CLIPTextConfig(**_special_ids(tokenizer_2), **{**_SDXL_TEXT_2, **small["text_2"]})
        )
    scheduler = EulerDiscreteScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        steps_offset=1,
        timestep_spacing="leading",
    )
    pipeline = StableDiffusionXLPipeline(
        vae=vae,
        text_encoder=text_encoder,
        text_encoder_2=text_encoder_2,
        tokenizer=tokenizer,
        tokenizer_2=tokenizer_2,
        unet=unet,
        scheduler=scheduler,
        add_watermarker=False,
    )
    pipeline.to("cpu", dtype).save_pretrained(folder)
    return folder
