"""The JavaScript SDK (`sdk/js`, `@seedance/sdk`): its unit tests, and the document's snippet on a real Studio.

Node runs the SDK's own tests (`node --test`, against fakes on loopback), then a script that
imports `@seedance/sdk` as the document does, against the live server with a real worker.
"""

import json
import os
import shutil
import subprocess

import pytest
from PIL import Image

from accounts import ledger
from tests.conftest import ROOT

pytestmark = pytest.mark.e2e

SDK_JS = ROOT / "sdk" / "js"
DOCUMENT = ROOT.parent / "shared" / "seed" / "000_a5a7463e9e317927.txt"
MODEL = "seedream-5.0-lite"
TYPESET = {MODEL: {"engine": "typeset"}}

# The document's JavaScript SDK snippet, verbatim.
SDK_SNIPPET = """import { SeedanceClient } from '@seedance/sdk';

const client = new SeedanceClient({ apiKey: 'your_key' });
const result = await client.images.generate({
    model: 'seedream-5.0-lite',
    prompt: 'A beautiful sunset',
    deepThinking: true
});"""

# Appended to the snippet: a 16:9 image (key and base URL from the environment), then the results.
CHECKS = """
const wide = await new SeedanceClient().images.generate({
  model: 'seedream-5.0-lite',
  prompt: "Poster with text 'OPEN LATE'",
  aspectRatio: '16:9',
  deepThinking: true,
  metadata: { postId: 7 },
});
const png = await client.download(wide.image_url);
(await import('node:fs')).writeFileSync('wide.png', png);
console.log(JSON.stringify({ result, wide, isUint8Array: png instanceof Uint8Array }));
"""


def node() -> str:
    path = shutil.which("node")
    if path is None:
        pytest.fail("node is not installed: `make system-deps` installs Debian's nodejs")
    return path


def test_the_snippet_is_the_documents():
    if not DOCUMENT.exists():
        pytest.skip("the product document is not beside this checkout")
    assert SDK_SNIPPET in DOCUMENT.read_text()


def test_the_sdks_own_tests_pass():
    files = sorted(str(p) for p in (SDK_JS / "test").glob("*.test.js"))
    assert files, "no tests in sdk/js/test"
    done = subprocess.run([node(), "--test", *files], cwd=SDK_JS, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-3000:]
    assert "# fail 0" in done.stdout


@pytest.mark.django_db(transaction=True)
def test_the_documents_snippet_generates_and_waits_on_a_real_studio(account, api_url, settings, start_worker, tmp_path):
    settings.STUDIO_MODELS = TYPESET
    worker = start_worker(STUDIO_MODELS_JSON=json.dumps(TYPESET))
    acct = account(credits=100)
    # `@seedance/sdk` resolves as after `npm install`: node_modules/@seedance/sdk is the package folder.
    package = tmp_path / "node_modules" / "@seedance" / "sdk"
    package.parent.mkdir(parents=True)
    package.symlink_to(SDK_JS, target_is_directory=True)
    script = tmp_path / "snippet.mjs"  # a module, for the snippet's import and top-level await
    script.write_text(SDK_SNIPPET.replace("your_key", acct.key) + "\n" + CHECKS)
    env = {**os.environ, "SEEDANCE_BASE_URL": api_url, "SEEDANCE_API_KEY": acct.key}
    done = subprocess.run([node(), str(script)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{done.stderr}\nworker log:\n{worker.log()}"
    out = json.loads(done.stdout.strip().splitlines()[-1])

    result, wide = out["result"], out["wide"]
    assert result["status"] == "completed" and result["deep_thinking_used"] is True
    assert (result["width"], result["height"]) == (1024, 1024)
    assert wide["status"] == "completed" and wide["deep_thinking_used"] is True
    assert (wide["width"], wide["height"]) == (1360, 768)
    assert wide["metadata"] == {"postId": 7}  # the caller's own data is sent as given
    assert out["isUint8Array"] is True
    with Image.open(tmp_path / "wide.png") as image:
        assert (image.format, image.size) == ("PNG", (1360, 768))
    assert ledger.balance(acct.user) == 100 - 14


STREAM_SCRIPT = """
import { SeedanceClient } from '@seedance/sdk';

const client = new SeedanceClient();
const submitted = await client.images.generate({ model: 'seedream-5.0-lite', prompt: 'A red barn', wait: false });
const events = [];
for await (const event of client.images.stream(submitted.task_id)) events.push(event);
const again = [];
for await (const event of client.images.stream(submitted.task_id, { lastEventId: events.at(-1).id })) again.push(event);
console.log(JSON.stringify({ taskId: submitted.task_id, events, again }));
"""


@pytest.mark.django_db(transaction=True)
def test_stream_follows_a_real_render_across_reconnections(account, api_url, settings, start_worker, tmp_path):
    settings.STUDIO_MODELS = TYPESET
    # Streams end every 0.3 s: the SDK reconnects with Last-Event-ID on the way to `completed`.
    settings.STUDIO_EVENTS_POLL_SECONDS = 0.05
    settings.STUDIO_EVENTS_MAX_SECONDS = 0.3
    settings.STUDIO_EVENTS_RETRY_MS = 50
    worker = start_worker(STUDIO_MODELS_JSON=json.dumps(TYPESET))
    acct = account(credits=100)
    package = tmp_path / "node_modules" / "@seedance" / "sdk"
    package.parent.mkdir(parents=True)
    package.symlink_to(SDK_JS, target_is_directory=True)
    script = tmp_path / "stream.mjs"
    script.write_text(STREAM_SCRIPT)
    env = {**os.environ, "SEEDANCE_BASE_URL": api_url, "SEEDANCE_API_KEY": acct.key}
    done = subprocess.run([node(), str(script)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{done.stderr}\nworker log:\n{worker.log()}"
    out = json.loads(done.stdout.strip().splitlines()[-1])

    events = out["events"]
    assert events[-1]["event"] == "completed" and {e["event"] for e in events[:-1]} <= {"progress"}
    ids = [int(e["id"]) for e in events]
    assert ids == sorted(set(ids))
    assert events[-1]["data"]["task_id"] == out["taskId"] and events[-1]["data"]["image_url"]
    assert out["again"] == []  # 204 after the terminal event: the iterator just ends
