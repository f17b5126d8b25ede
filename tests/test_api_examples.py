"""The product document's own client code runs against Studio with only the base URL and key changed.

The snippets live in tests/document_examples.py, copied verbatim; each runs in its own
process (python with `requests`, node's fetch, curl) against the live server, while
this process plays the worker by rendering the submitted image in-process.
"""

import json
import shutil
import subprocess
import sys
import threading

import pytest
from PIL import Image

from generations import services
from generations.models import Generation
from tests import document_examples as doc
from tests.api_support import MODEL, render
from tests.conftest import ROOT, wait_for
from tests.helpers import assert_image_link, link_path

pytestmark = pytest.mark.e2e

DOCUMENT = ROOT.parent / "shared" / "seed" / "000_a5a7463e9e317927.txt"
DOCUMENT_BASE_URL = "https://api.seedance.it.com/v1"


def substitute(code: str, api_url: str, key: str) -> str:
    """The only change a user makes: the base URL and the key."""
    return code.replace(DOCUMENT_BASE_URL, api_url).replace("your_api_key_here", key).replace("YOUR_API_KEY", key)


def start(args: list[str], cwd) -> subprocess.Popen:
    return subprocess.Popen(args, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def play_worker(user) -> Generation:
    """Wait for the client's submission, then render it as a worker would."""
    wait_for(lambda: Generation.objects.filter(user=user).exists(), timeout=30, message="the client to submit")
    return render(Generation.objects.get(user=user).public_id)


def finish(proc: subprocess.Popen) -> list[str]:
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    return out.splitlines()


def test_the_copies_are_verbatim():
    if not DOCUMENT.exists():
        pytest.skip("the product document is not beside this checkout")
    text = DOCUMENT.read_text()
    for snippet in (doc.PYTHON_EXAMPLE, doc.JAVASCRIPT_EXAMPLE, doc.DOWNLOAD_EXAMPLE, doc.RETRY_EXAMPLE):
        assert snippet in text
    assert doc.CURL_EXAMPLE in text


def test_the_curl_line_reads_the_credits(account, api_url):
    acct = account(tier="starter", credits=1050)
    result = subprocess.run(
        ["bash", "-c", substitute(doc.CURL_EXAMPLE, api_url, acct.key) + " --silent"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    body = json.loads(result.stdout)
    assert {k: body[k] for k in ("credits_remaining", "tier")} == {"credits_remaining": 1050, "tier": "starter"}


def test_the_python_polling_loop_and_download_helper_run_unchanged(account, api_url, tmp_path):
    acct = account(credits=1050)
    (tmp_path / "output").mkdir()
    code = substitute(doc.PYTHON_EXAMPLE + "\n\n" + doc.DOWNLOAD_EXAMPLE, api_url, acct.key)
    client = start([sys.executable, "-c", code], tmp_path)
    g = play_worker(acct.user)
    lines = finish(client)
    assert lines == [
        f"Task submitted: {g.public_id}",
        "Credits charged: 7",
        "Credits remaining: 1043",
        lines[3],
        "Saved: output/my_image.png",
    ]
    assert lines[3].startswith("Image ready: ")
    assert_image_link(lines[3].removeprefix("Image ready: "), api_url[: -len("/v1")])
    with Image.open(tmp_path / "output" / "my_image.png") as png:
        assert (png.format, png.size) == ("PNG", (1360, 768))  # the example asks for 16:9


def test_the_python_polling_loop_reports_a_failed_generation(account, api_url, tmp_path, settings):
    settings.STUDIO_MODELS = {MODEL: {"engine": "fake", "options": {"fail": "permanent"}}}
    acct = account(credits=100)
    client = start([sys.executable, "-c", substitute(doc.PYTHON_EXAMPLE, api_url, acct.key)], tmp_path)
    play_worker(acct.user)
    assert finish(client)[-1] == "Generation failed: the fake engine was told to fail"


def test_the_retry_helper_backs_off_on_429_and_then_succeeds(account, api_url, tmp_path, monkeypatch):
    acct = account(tier="free", credits=100)  # two generations in flight at most
    for _ in range(2):
        acct.http.post("/images/generate", json={"model": MODEL, "prompt": "busy"}).raise_for_status()
    refused = threading.Event()
    real_submit = services.submit

    def submit(**kwargs):
        try:
            return real_submit(**kwargs)
        except services.RateLimited:
            refused.set()
            raise

    monkeypatch.setattr(services, "submit", submit)
    setup = doc.PYTHON_EXAMPLE[: doc.PYTHON_EXAMPLE.index("# Submit generation request")]
    call = "\nimport json\nprint(json.dumps(generate_with_retry('A cozy coffee shop interior')))\n"
    client = start([sys.executable, "-c", substitute(setup + doc.RETRY_EXAMPLE + call, api_url, acct.key)], tmp_path)

    wait_for(refused.is_set, timeout=30, message="the helper's first attempt to be refused")
    for g in Generation.objects.filter(user=acct.user):
        services.cancel(user=g.user, generation=g)  # the two in flight end, so the retry (after Retry-After) succeeds
    result = json.loads(finish(client)[-1])
    assert result["status"] == "processing" and result["task_id"].startswith("img_")
    assert Generation.objects.filter(user=acct.user, stage="queued").count() == 1


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_the_javascript_fetch_example_runs_unchanged(account, api_url, tmp_path):
    acct = account(credits=100)
    script = tmp_path / "example.mjs"  # a module, for the example's top-level await
    script.write_text(substitute(doc.JAVASCRIPT_EXAMPLE, api_url, acct.key))
    client = start(["node", str(script)], tmp_path)
    g = play_worker(acct.user)
    lines = finish(client)
    assert lines[0] == f"Task submitted: {g.public_id}"
    assert lines[-1].startswith("Image URL: http") and link_path(lines[-1]).endswith(".png")
    # The example spreads its camelCase options into the body: they are ignored, aspect_ratio applies.
    assert (g.aspect_ratio, g.deep_thinking, g.status) == ("16:9", True, "completed")
