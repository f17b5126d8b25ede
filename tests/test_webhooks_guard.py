"""Webhooks never go into Studio's own network: refused at submit, and again at delivery."""

import ipaddress

import pytest
from django.utils import timezone

from accounts import ledger
from generations import services
from generations.models import Generation, WebhookDelivery
from generations.specs import SpecError
from generations.webhooks import guard as webhook_guard
from tests.helpers import spec
from tests.webhook_support import deliver, finished_generation, use_fake_engine

INSIDE = [
    "http://127.0.0.1/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://10.0.0.1/hook",
    "http://192.168.1.20:8080/hook",
    "http://172.16.0.5/hook",
    "http://100.64.0.1/hook",
    "http://0.0.0.0/hook",
    "http://[::1]/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "http://[::ffff:169.254.169.254]/hook",
    "http://[fe80::1]/hook",
    "http://[fd00::1]/hook",
    "http://224.0.0.1/hook",
    "http://127.1/hook",
    "http://2130706433/hook",
    "http://0x7f000001/hook",
    "http://localhost:8000/hook",
    "http://api.localhost/hook",
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://printer.local/hook",
]


@pytest.fixture(autouse=True)
def _private_targets_refused(settings):
    use_fake_engine(settings, allow_private=False)


@pytest.mark.parametrize("url", INSIDE)
def test_a_webhook_url_pointing_inside_is_refused_at_submit_and_nothing_is_charged(make_user, url):
    user = make_user()
    with pytest.raises(SpecError) as caught:
        services.submit(user=user, spec=spec(webhook_url=url))
    assert (caught.value.code, caught.value.field) == ("invalid_webhook_url", "webhook_url")
    assert "public internet" in caught.value.message
    assert ledger.balance(user) == 50 and not Generation.objects.exists()


def test_a_batch_with_one_inside_webhook_url_is_refused_whole(make_user):
    user = make_user(tier="pro", credits=1000)
    with pytest.raises(SpecError) as caught:
        services.submit_batch(user=user, specs_=[spec(), spec(webhook_url="http://10.0.0.1/x")])
    assert "generations[1].webhook_url" in caught.value.message
    with pytest.raises(SpecError):
        services.submit_batch(user=user, specs_=[spec()], webhook_url="http://169.254.169.254/")
    assert ledger.balance(user) == 1000 and not Generation.objects.exists()


@pytest.mark.parametrize("url", ["https://your-app.com/webhook/image-complete", "http://93.184.215.14:8080/hook"])
def test_a_public_webhook_url_is_accepted_at_submit_without_a_dns_lookup(make_user, url, monkeypatch):
    monkeypatch.setattr(webhook_guard, "_getaddrinfo", lambda *a: pytest.fail("submit must not resolve names"))
    g = services.submit(user=make_user(), spec=spec(webhook_url=url)).generations[0]
    assert g.webhook_url == url


def test_the_api_answers_400_invalid_webhook_url_for_an_inside_address(account):
    acct = account()
    before = acct.refresh().credits
    body = {"model": "seedream-5.0-lite", "prompt": "A lighthouse", "webhook_url": "http://169.254.169.254/latest"}
    response = acct.http.post("/images/generate", json=body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["status"]) == ("invalid_webhook_url", 400)
    assert "169.254.169.254" in error["message"]
    assert acct.refresh().credits == before


def test_private_targets_are_accepted_when_the_setting_allows_them(make_user, settings):
    settings.STUDIO_WEBHOOK_ALLOW_PRIVATE = True
    g = services.submit(user=make_user(), spec=spec(webhook_url="http://127.0.0.1:9/hook")).generations[0]
    assert g.webhook_url == "http://127.0.0.1:9/hook"


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.215.14", True),
        ("2606:4700:4700::1111", True),
        ("127.0.0.1", False),
        ("169.254.169.254", False),
        ("10.0.0.1", False),
        ("100.64.0.1", False),
        ("0.0.0.0", False),
        ("255.255.255.255", False),
        ("240.0.0.1", False),
        ("::", False),
        ("::ffff:10.0.0.1", False),
        ("::ffff:93.184.215.14", True),
        ("64:ff9b::7f00:1", False),
        ("2002:7f00:1::", False),
        ("ff02::1", False),
    ],
)
def test_which_addresses_count_as_public(address, public):
    assert webhook_guard.is_public(ipaddress.ip_address(address)) is public


def _row(user, url: str) -> WebhookDelivery:
    """A delivery whose URL somehow points inside (made before a rule existed, or by hand)."""
    return WebhookDelivery.objects.create(
        user=user, event="image.completed", url=url, body='{"event":"image.completed"}', next_attempt_at=timezone.now()
    )


def test_a_hostname_that_resolves_to_loopback_is_refused_at_delivery_and_nothing_is_sent(
    make_user, httpserver, monkeypatch
):
    httpserver.expect_request("/hook").respond_with_data("ok")
    # Public-looking at submit; at delivery its DNS answer is the receiver's loopback address.
    monkeypatch.setattr(webhook_guard, "_getaddrinfo", lambda host, port: ["93.184.215.14", "127.0.0.1"])
    user = make_user()
    g = finished_generation(user, webhook_url=f"http://hooks.example.com:{httpserver.port}/hook")
    delivery = WebhookDelivery.objects.get(generation=g)
    attempt = deliver(delivery)
    assert len(httpserver.log) == 0
    assert attempt.status_code is None and "127.0.0.1" in attempt.error and "Nothing was sent" in attempt.error
    assert (delivery.status, delivery.next_attempt_at, delivery.attempt_count) == ("failed", None, 1)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_a_stored_loopback_url_is_refused_at_delivery_without_a_connection(make_user, httpserver, host):
    httpserver.expect_request("/hook").respond_with_data("ok")
    delivery = _row(make_user(), f"http://{host}:{httpserver.port}/hook")
    attempt = deliver(delivery)
    assert len(httpserver.log) == 0
    assert "public internet" in attempt.error and delivery.status == "failed"


@pytest.mark.parametrize("url", ["http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/hook"])
def test_a_stored_private_url_is_refused_at_delivery_before_any_connection(make_user, monkeypatch, url):
    import socket

    def no_connection(*args, **kwargs):
        raise AssertionError("a connection was attempted")

    monkeypatch.setattr(socket, "create_connection", no_connection)
    delivery = _row(make_user(), url)
    attempt = deliver(delivery)
    assert "Refused before sending" in attempt.error and delivery.status == "failed"


def test_delivery_connects_to_the_vetted_address_not_to_a_second_dns_answer(make_user, httpserver, monkeypatch):
    """DNS rebinding: the name is resolved once; the connection goes to that vetted address
    with the original Host header, whatever a later lookup would say."""
    httpserver.expect_request("/hook").respond_with_data("ok")
    answers = iter([["127.0.0.1"]])
    monkeypatch.setattr(webhook_guard, "_getaddrinfo", lambda host, port: next(answers))
    # For this test only, the receiver's loopback address counts as public.
    monkeypatch.setattr(webhook_guard, "is_public", lambda ip: str(ip) == "127.0.0.1")
    delivery = _row(make_user(), f"http://hooks.example.com:{httpserver.port}/hook")
    attempt = deliver(delivery)
    assert attempt.succeeded, attempt.error
    request, _ = httpserver.log[0]
    assert request.headers["Host"] == f"hooks.example.com:{httpserver.port}"


def test_a_name_that_does_not_resolve_is_retried_later(make_user, monkeypatch):
    def nxdomain(host, port):
        raise OSError("Name or service not known")

    monkeypatch.setattr(webhook_guard, "_getaddrinfo", nxdomain)
    delivery = _row(make_user(), "https://nowhere.example.com/hook")
    attempt = deliver(delivery)
    assert "DNS lookup of nowhere.example.com failed" in attempt.error
    assert delivery.status == "pending" and delivery.next_attempt_at > timezone.now()


def _self_signed(tmp_path, name: str) -> tuple[str, str]:
    """A certificate for `name` only (not for 127.0.0.1), and its key, as PEM files."""
    from datetime import UTC, datetime, timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return str(cert_path), str(key_path)


def test_https_to_the_vetted_address_checks_the_certificate_for_the_original_name(
    make_user, tmp_path, monkeypatch, settings
):
    import ssl

    from pytest_httpserver import HTTPServer

    from generations.webhooks import delivery as webhook_delivery

    settings.STUDIO_WEBHOOK_ALLOW_PRIVATE = True
    cert, key = _self_signed(tmp_path, "hooks.example.com")
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(cert, key)
    server = HTTPServer(host="127.0.0.1", port=0, ssl_context=server_context)
    server.expect_request("/hook").respond_with_data("ok")
    server.start()
    try:
        monkeypatch.setattr(webhook_guard, "_getaddrinfo", lambda host, port: ["127.0.0.1"])
        monkeypatch.setattr(webhook_delivery, "ssl_context", lambda: ssl.create_default_context(cafile=cert))
        good = deliver(_row(make_user(), f"https://hooks.example.com:{server.port}/hook"))
        # The same server under another name: its certificate does not match, nothing is accepted.
        bad = deliver(_row(make_user(), f"https://other.example.com:{server.port}/hook"))
    finally:
        server.clear()
        server.stop()
    assert good.succeeded, good.error
    assert not bad.succeeded and "certificate" in bad.error.lower()
