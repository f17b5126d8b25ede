"""Content Credentials: the files Studio writes say how they were made, read back by independent readers.

c2pa-python's Reader validates each manifest (with the development CA as its trust anchor,
so "no validation errors" includes the signing credential); the XMP is cut out of the PNG's
iTXt chunk and the WebP's RIFF chunk by hand and parsed with ElementTree.
"""

from __future__ import annotations

import io
import json
import struct
import threading
import xml.etree.ElementTree as ET
import zlib
from pathlib import Path
from typing import Any

import c2pa
import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.test import override_settings
from PIL import Image

from generations import devcert, provenance, services, storage
from generations.engines import Engine, ProgressFn, RenderResult
from generations.models import Generation
from generations.specs import Spec
from generations.worker import render as pipeline
from tests.conftest import wait_for
from tests.helpers import spec

PROMPT = "A lighthouse keeper named Ingrid Vasquez-Halloran"
NEGATIVE = "blurry watermark zebra-stripes"
NS = {
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "Iptc4xmpExt": "http://iptc.org/std/Iptc4xmpExt/2008-02-29/",
    "dc": "http://purl.org/dc/elements/1.1/",
    "exif": "http://ns.adobe.com/exif/1.0/",
}


class NeuralFake(Engine):
    """A flat colour that claims to be a trained model; `overlay` reports composited exact text."""

    name = "neuralfake"
    label = "Neural fake (tests)"
    neural = True

    def render(self, spec: Spec, progress: ProgressFn) -> RenderResult:
        progress(1.0, "done")
        plan: dict[str, Any] = {"text_overlay": {"applied": True}} if self.options.get("overlay") else {}
        return RenderResult(image=Image.new("RGB", (spec.width, spec.height), "#4466aa"), plan=plan)


ENGINES = {**settings.STUDIO_ENGINES, "neuralfake": "tests.test_provenance.NeuralFake"}


def models(engine: str, **options: Any) -> Any:
    return override_settings(
        STUDIO_ENGINES=ENGINES, STUDIO_MODELS={"seedream-5.0-lite": {"engine": engine, "options": options}}
    )


# --- independent readers ------------------------------------------------------------------


def png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, at = [], 8
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        chunks.append((data[at + 4 : at + 8], data[at + 8 : at + 8 + length]))
        at += 12 + length
    return chunks


def png_xmp(data: bytes) -> bytes:
    for kind, body in png_chunks(data):
        if kind == b"iTXt" and body.startswith(b"XML:com.adobe.xmp\0"):
            rest = body[len(b"XML:com.adobe.xmp\0") :]
            compressed, rest = rest[0], rest[2:]
            _lang, _translated, text = rest.split(b"\0", 2)
            return zlib.decompress(text) if compressed else text
    raise AssertionError("no XMP iTXt chunk")


def webp_chunks(data: bytes) -> dict[bytes, bytes]:
    assert data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    chunks, at = {}, 12
    while at < len(data):
        kind, (length,) = data[at : at + 4], struct.unpack("<I", data[at + 4 : at + 8])
        chunks[kind] = data[at + 8 : at + 8 + length]
        at += 8 + length + (length & 1)
    return chunks


def xmp_fields(packet: bytes) -> dict[str, str]:
    root = ET.fromstring(packet.decode().split("?>", 1)[1].rsplit("<?xpacket", 1)[0])
    description = root.find("rdf:RDF/rdf:Description", NS)
    assert description is not None
    fields = {key.split("}")[1]: value for key, value in description.attrib.items() if "}" in key}
    for child in description:
        li = child.find("rdf:Alt/rdf:li", NS)
        fields[child.tag.split("}")[1]] = li.text if li is not None and li.text else ""
    return fields


def dev_ca() -> str:
    return (Path(settings.STUDIO_C2PA_DIR) / "dev-ca.pem").read_text()


def c2pa_read(data: bytes, media_type: str, *, trust: bool = True) -> tuple[str, list[dict], dict]:
    """(validation state, failures, active manifest) as c2pa-python's Reader sees them."""
    config: dict[str, Any] = {"verify": {"verify_trust": True}}
    if trust:
        config["trust"] = {"trust_anchors": dev_ca()}
    context = c2pa.Context(settings=c2pa.Settings.from_dict(config))
    with c2pa.Reader(media_type, io.BytesIO(data), context=context) as reader:
        results = reader.get_validation_results() or {}
        return (
            reader.get_validation_state() or "",
            (results.get("activeManifest") or {}).get("failure", []),
            reader.get_active_manifest() or {},
        )


def created_action(manifest: dict) -> dict:
    (actions,) = [a for a in manifest["assertions"] if a["label"].startswith("c2pa.actions")]
    (created,) = [a for a in actions["data"]["actions"] if a["action"] == "c2pa.created"]
    return created


def stored(g: Generation, kind: str) -> bytes:
    name = {"png": g.image_png, "webp": g.image_webp, "thumbnail": g.thumbnail}[kind]
    with default_storage.open(name, "rb") as f:
        return f.read()


def rendered(user: Any, **fields: Any) -> Generation:
    g = services.submit(user=user, spec=spec(prompt=PROMPT, negative_prompt=NEGATIVE, **fields)).generations[0]
    pipeline.render(g.pk)
    g.refresh_from_db()
    assert g.status == "completed", g.error_message
    return g


# --- the source type ----------------------------------------------------------------------


def test_the_source_type_follows_the_engines_neural_flag_and_the_text_overlay():
    assert provenance.source_type(neural=False) == provenance.ALGORITHMIC
    assert provenance.source_type(neural=False, text_composited=True) == provenance.ALGORITHMIC
    assert provenance.source_type(neural=True) == provenance.TRAINED
    assert provenance.source_type(neural=True, text_composited=True) == provenance.COMPOSITE
    assert provenance.TRAINED == "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
    assert provenance.source_type_for_engine("typeset") == provenance.ALGORITHMIC


@pytest.mark.parametrize(
    ("engine", "options", "expected"),
    [
        ("typeset", {}, provenance.ALGORITHMIC),
        ("neuralfake", {}, provenance.TRAINED),
        ("neuralfake", {"overlay": True}, provenance.COMPOSITE),
    ],
)
def test_each_engine_kind_writes_its_source_type_in_xmp_and_in_the_signed_manifest(
    make_user, engine, options, expected
):
    with models(engine, **options):
        g = rendered(make_user())
    png, webp, thumb = stored(g, "png"), stored(g, "webp"), stored(g, "thumbnail")

    for packet in (png_xmp(png), webp_chunks(webp)[b"XMP "], webp_chunks(thumb)[b"XMP "]):
        assert xmp_fields(packet)["DigitalSourceType"] == expected
    for data, media_type in ((png, "image/png"), (webp, "image/webp")):
        state, failures, manifest = c2pa_read(data, media_type)
        assert (state, failures) == ("Trusted", [])
        created = created_action(manifest)
        assert created["digitalSourceType"] == expected
        assert created["parameters"] == {"engine": engine, "model": "seedream-5.0-lite"}
        assert manifest["claim_generator_info"][0]["name"] == "Studio"
        assert manifest["signature_info"]["issuer"] == devcert.ORGANIZATION
        assert PROMPT.encode() not in json.dumps(manifest).encode()  # the manifest never holds the prompt
    assert c2pa.Reader.try_create("image/webp", io.BytesIO(thumb)) is None  # derived: no manifest


def test_the_png_keeps_its_parameters_and_json_chunks_and_the_webp_gets_the_parameters_in_xmp(make_user):
    with models("neuralfake"):
        g = rendered(make_user(), seed=7)
    png = Image.open(io.BytesIO(stored(g, "png")))
    assert png.info["parameters"].startswith(f"{PROMPT}\nNegative prompt: {NEGATIVE}\nSteps: 1")
    assert json.loads(png.info["studio"])["prompt"] == PROMPT

    fields = xmp_fields(webp_chunks(stored(g, "webp"))[b"XMP "])
    assert fields["UserComment"] == fields["description"] == png.info["parameters"]
    assert fields["CreatorTool"] == f"Studio {provenance.version()} (neuralfake engine, model seedream-5.0-lite)"
    assert "Seed: 7" in fields["UserComment"]


def test_an_untrusted_certificate_is_a_valid_signature_with_an_untrusted_credential(make_user):
    """Without the development CA as a trust anchor a validator says so: the one failure it reports."""
    with models("typeset"):
        g = rendered(make_user())
    state, failures, _ = c2pa_read(stored(g, "png"), "image/png", trust=False)
    assert state == "Valid"
    assert [f["code"] for f in failures] == ["signingCredential.untrusted"]


def test_a_changed_pixel_breaks_the_manifest(make_user):
    with models("typeset"):
        g = rendered(make_user())
    png = bytearray(stored(g, "png"))
    idat = png.index(b"IDAT")
    png[idat + 40] ^= 0xFF
    state, failures, _ = c2pa_read(bytes(png), "image/png")
    assert state == "Invalid"
    assert "assertion.dataHash.mismatch" in [f["code"] for f in failures]


# --- the privacy switch -------------------------------------------------------------------


def test_with_embed_parameters_off_no_prompt_is_anywhere_in_any_file_and_provenance_stays(make_user):
    with models("neuralfake"):
        g = rendered(make_user(), embed_parameters=False)
    assert g.embed_parameters is False
    for kind in ("png", "webp", "thumbnail"):
        data = stored(g, kind)
        for secret in (PROMPT, NEGATIVE, "Ingrid", "zebra-stripes"):
            assert secret.encode() not in data, (kind, secret)
            assert secret.encode("utf-16-be") not in data, (kind, secret)
    png = stored(g, "png")
    info = Image.open(io.BytesIO(png)).info
    assert "parameters" not in info
    assert json.loads(info["studio"]) == {
        "task_id": g.public_id,
        "model": "seedream-5.0-lite",
        "engine": "neuralfake",
        "aspect_ratio": "1:1",
        "width": 1024,
        "height": 1024,
        "style_preset": "auto",
        "created_at": g.created_at.isoformat(),
        "embed_parameters": False,
    }
    assert xmp_fields(png_xmp(png))["DigitalSourceType"] == provenance.TRAINED
    webp_fields = xmp_fields(webp_chunks(stored(g, "webp"))[b"XMP "])
    assert webp_fields["DigitalSourceType"] == provenance.TRAINED
    assert "UserComment" not in webp_fields and "description" not in webp_fields
    for data, media_type in ((png, "image/png"), (stored(g, "webp"), "image/webp")):
        state, failures, manifest = c2pa_read(data, media_type)
        assert (state, failures) == ("Trusted", [])
        assert created_action(manifest)["digitalSourceType"] == provenance.TRAINED


def test_the_users_setting_decides_when_the_request_says_nothing(make_user):
    user = make_user()
    user.embed_parameters = False
    user.save(update_fields=["embed_parameters"])
    with models("typeset"):
        quiet = rendered(user)
        loud = rendered(user, embed_parameters=True)
    assert PROMPT.encode() not in stored(quiet, "png")
    assert Image.open(io.BytesIO(stored(loud, "png"))).info["parameters"].startswith(PROMPT)


# --- reading back, signing material -------------------------------------------------------


def test_read_stored_reports_issuer_source_type_time_and_validity(make_user):
    with models("neuralfake", overlay=True):
        g = rendered(make_user())
    credentials = provenance.read_stored(g.image_png)
    assert credentials is not None
    assert (credentials.issuer, credentials.signer) == (devcert.ORGANIZATION, devcert.SIGNER_NAME)
    assert credentials.development
    assert credentials.source_type == provenance.COMPOSITE
    assert credentials.source_type_words == "AI-generated, with exact text composited"
    assert (credentials.valid, credentials.trusted, credentials.failures) == (True, True, ())
    assert credentials.signed_at_time is not None
    assert g.created_at.replace(microsecond=0) <= credentials.signed_at_time <= g.finished_at
    assert credentials.generator == f"Studio {provenance.version()}"


def test_a_file_without_a_manifest_has_no_credentials():
    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, format="PNG")
    assert provenance.read(out.getvalue(), media_type="image/png") is None


def test_the_development_certificate_is_made_once_even_by_processes_starting_together(tmp_path):
    folder = tmp_path / "c2pa"
    made: list[devcert.DevFiles] = []
    threads = [threading.Thread(target=lambda: made.append(devcert.ensure(folder))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    files = made[0]
    chain = files.cert.read_bytes()
    assert chain.count(b"BEGIN CERTIFICATE") == 2 and chain.endswith(files.ca.read_bytes())
    assert oct(files.key.stat().st_mode & 0o777) == "0o600"
    again = devcert.ensure(folder)
    assert again.cert.read_bytes() == chain  # not made anew
    assert sorted(p.name for p in folder.iterdir()) == [".lock", "dev-ca.pem", "dev-cert.pem", "dev-key.pem"]


def test_an_operators_certificate_signs_instead_of_the_development_one(tmp_path, make_user):
    files = devcert.ensure(tmp_path / "operator")  # any chain C2PA accepts; here a second CA
    with (
        models("typeset"),
        override_settings(STUDIO_C2PA_CERT=str(files.cert), STUDIO_C2PA_KEY=str(files.key)),
    ):
        g = rendered(make_user())
        assert provenance.signing_material().development is False
    state, failures, _ = c2pa_read(stored(g, "png"), "image/png")  # trusts only the dev CA
    assert state == "Valid" and [f["code"] for f in failures] == ["signingCredential.untrusted"]


def test_signing_off_keeps_the_xmp_marking(make_user):
    with models("typeset"), override_settings(STUDIO_C2PA=False):
        g = rendered(make_user())
    png = stored(g, "png")
    assert c2pa.Reader.try_create("image/png", io.BytesIO(png)) is None
    assert xmp_fields(png_xmp(png))["DigitalSourceType"] == provenance.ALGORITHMIC


def test_xmp_escapes_markup_and_drops_characters_xml_cannot_hold():
    marking = storage.marking_for(
        {
            "task_id": "img_1",
            "engine": "typeset",
            "model": "m",
            "created_at": "2026-01-01T00:00:00+00:00",
            "prompt": 'a <b>"bold"</b> & \x01 sign',
            "negative_prompt": "",
            "seed": 1,
            "width": 8,
            "height": 8,
            "style": "auto",
            "aspect_ratio": "1:1",
            "deep_thinking": False,
            "colors": [],
        }
    )
    fields = xmp_fields(provenance.xmp_packet(marking, with_parameters=True))
    assert fields["description"].startswith('a <b>"bold"</b> &  sign\n')


# --- through a real worker ------------------------------------------------------------------


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_stores_files_that_carry_content_credentials(make_user, start_worker):
    user = make_user()
    worker = start_worker(STUDIO_MODELS_JSON=json.dumps({"seedream-5.0-lite": {"engine": "typeset"}}))
    with override_settings(STUDIO_MODELS={"seedream-5.0-lite": {"engine": "typeset"}}):
        g = services.submit(user=user, spec=spec(prompt=PROMPT, embed_parameters=False)).generations[0]
    wait_for(
        lambda: Generation.objects.get(pk=g.pk).is_finished, timeout=90, message=f"completion; log:\n{worker.log()}"
    )
    g.refresh_from_db()
    assert g.status == "completed", g.error_message
    for kind, media_type in (("png", "image/png"), ("webp", "image/webp")):
        data = stored(g, kind)
        state, failures, manifest = c2pa_read(data, media_type)
        assert (state, failures) == ("Trusted", [])
        assert created_action(manifest)["digitalSourceType"] == provenance.ALGORITHMIC
        assert PROMPT.encode() not in data
    assert xmp_fields(webp_chunks(stored(g, "thumbnail"))[b"XMP "])["DigitalSourceType"] == provenance.ALGORITHMIC
