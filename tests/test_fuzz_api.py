"""Schemathesis against Studio's own `/v1/openapi.json`: generated requests, documented replies.

Every operation in the served document gets schema-valid and schema-invalid requests
(bodies, query strings, headers, path ids; Schemathesis' examples, coverage and fuzzing
phases) sent to the Django WSGI application in this process. Every reply must be no
server error and exactly what the document says: a documented status code, content
type, body and headers. Hypothesis is derandomized, so a run is the same run everywhere.

Submissions only queue: the test database's transaction never commits, so nothing is
sent to a broker and no worker is needed. Most cases carry the Bearer key of an account
with plenty of credits; some carry none, an unknown key, the header as Schemathesis made
it, or the key of a free-tier account whose per-minute allowance runs out, so 401s and
429s are checked too (of the cases where Schemathesis itself breaks Authorization, about
half of its negative ones, three in four are skipped so that the rest reach the endpoints). A third of the cases that name an image or a batch name a real one
of the account's (processing, completed, failed, canceled), so the 200s and 409s of the
id endpoints are checked as well as their 404s.

A second test is Schemathesis' stateful phase: sequences of calls that follow the
document's OpenAPI links (a submission's task_id or batch_id into the operations on it).
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import hypothesis
import pytest
import schemathesis
from django.core.cache import cache
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from django.utils import timezone
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from werkzeug.test import Client

from accounts import services as account_services
from accounts.models import User
from generations.models import Batch, Generation
from generations.models.generation import UNFINISHED, Stage
from tests.api_support import FAKE_MODELS, MODEL, render

# Cases per operation and phase; over every operation of the document this is well over 1 000.
MAX_EXAMPLES = 120
MIN_CASES = 1000
# The per-minute counters start again this often (in cases): the main account's allowance
# never runs out, while the free account's does in every window.
CASES_PER_WINDOW = 200
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
GENERATED = "as generated"  # the Authorization header as Schemathesis made it (often missing or malformed)


def _negative(case: schemathesis.Case) -> bool:
    """Whether Schemathesis meant the case to break the schema somewhere."""
    return case.meta is not None and case.meta.generation.mode == GenerationMode.NEGATIVE


def _negative_in(case: schemathesis.Case, location: ParameterLocation) -> bool:
    """Whether Schemathesis meant the case to break the schema in `location` (headers, say)."""
    component = case.meta.components.get(location) if case.meta is not None else None
    return component is not None and component.mode == GenerationMode.NEGATIVE


def _breaks_authorization(case: schemathesis.Case) -> bool:
    """Whether the header that Schemathesis broke is Authorization."""
    data = case.meta.phase.data if case.meta is not None else None
    names = {getattr(data, "parameter", None)} | {m.parameter for m in getattr(data, "mutations", None) or ()}
    return any(str(name).lower() == "authorization" for name in names if name)


@dataclass
class FuzzRun:
    """The accounts that cases authenticate as, their real images and batches, and what ran."""

    app: WSGIHandler
    keys: dict[str, str]
    users: list[User]
    images: dict[str, str] = field(default_factory=dict)  # status -> task_id
    batches: dict[str, str] = field(default_factory=dict)  # status -> batch_id
    cases: int = 0
    minimum: int = MIN_CASES  # cases the test must have run
    statuses: dict[int, int] = field(default_factory=dict)
    counter: Iterator[int] = field(default_factory=itertools.count)

    def authorization(self, n: int) -> str | None:
        """What case `n` sends as Authorization: mostly the main key; sometimes none or a bad one."""
        slot = n % 10
        if slot == 3:
            return None
        if slot == 7:
            return "Bearer sk_this-key-does-not-exist"
        if slot == 9:
            return GENERATED
        if slot == 5:
            return f"Bearer {self.keys['free']}"
        return f"Bearer {self.keys['main']}"

    def post(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        """A call as the main account, as a client makes it; the reply's JSON."""
        headers = {"Authorization": f"Bearer {self.keys['main']}"}
        with transaction.atomic():
            reply = Client(self.app).post(f"/v1{path}", json=body, headers=headers)
        assert reply.status_code == 200, reply.get_data(as_text=True)
        return reply.get_json()

    def fresh_image(self) -> str:
        return self.post("/images/generate", {"model": MODEL, "prompt": "A red barn at dawn"})["task_id"]

    def fresh_batch(self) -> str:
        items = [{"model": MODEL, "prompt": "A lighthouse"}, {"model": MODEL, "prompt": "A harbour"}]
        return self.post("/images/batch", {"generations": items})["batch_id"]

    def seed(self) -> None:
        """Real images and batches of the main account in every status a client can see."""
        self.images["completed"] = self.fresh_image()
        render(self.images["completed"])
        failed = self.post("/images/generate", {"model": "broken", "prompt": "An engine fault"})["task_id"]
        render(failed)
        self.images["failed"] = failed
        self.images["canceled"] = self.post(f"/images/{self.fresh_image()}/cancel")["task_id"]
        self.images["processing"] = self.fresh_image()
        done = self.fresh_batch()
        for task_id in Generation.objects.filter(batch__public_id=done).values_list("public_id", flat=True):
            render(task_id)
        self.batches["completed"] = done
        self.batches["processing"] = self.fresh_batch()

    def real_id(self, case: schemathesis.Case, n: int) -> tuple[str, str] | None:
        """(parameter, a real id) for a third of the positive cases that name an image or a batch."""
        params = case.path_parameters or {}
        path = case.operation.path
        if n % 3 or case.meta is None or not set(params) & {"task_id", "batch_id"}:
            return None
        if _negative(case):
            return None
        if "task_id" in params:
            if path.endswith("/cancel") and n % 2:
                return "task_id", self.fresh_image()  # 200, and the same id later answers 409
            pool = self.images
            name = "task_id"
        else:
            if path.endswith("/cancel") and n % 2:
                return "batch_id", self.fresh_batch()
            pool = self.batches
            name = "batch_id"
        ids = sorted(pool.values())
        return name, ids[(n // 3) % len(ids)]

    def known_model(self, case: schemathesis.Case, n: int) -> None:
        """Name a model this server has in two thirds of the positive bodies that name one: the schema
        can only say `model` is a string, so most generated ones are unknown (400 `invalid_model`)."""
        body = case.body
        if n % 3 == 2 or not isinstance(body, dict) or _negative(case):
            return
        items = body.get("generations") if isinstance(body.get("generations"), list) else [body]
        if all(isinstance(item, dict) and "model" in item for item in items):
            changed = [{**item, "model": MODEL} for item in items]
            case.body = {**body, "generations": changed} if items is not body else changed[0]

    def own_idempotency_key(self, case: schemathesis.Case, n: int) -> None:
        """Make half of the positive cases' Idempotency-Keys unique: generated ones repeat ("0", "a")
        with other bodies, and every repeat answers 409 `idempotency_key_reused` before the rest is tried."""
        headers = case.headers or {}
        name = next((name for name in headers if name.lower() == "idempotency-key"), None)
        if name is None or n % 2 or _negative(case) or not isinstance(headers[name], str):
            return
        case.headers = {**headers, name: f"{headers[name][:200]}-fuzz-{n}"}

    def settle(self) -> None:
        """End what the last case left in flight (but the seeded ones), so limits on concurrent work
        never refuse every submission."""
        now = timezone.now()
        keep = [self.images["processing"]]
        Generation.objects.filter(user__in=self.users, stage__in=UNFINISHED).exclude(public_id__in=keep).exclude(
            batch__public_id=self.batches["processing"]
        ).update(stage=Stage.CANCELED, finished_at=now)
        Batch.objects.filter(user__in=self.users, finished_at__isnull=True).exclude(
            public_id=self.batches["processing"]
        ).update(finished_at=now)


@pytest.fixture
def fuzz_run(make_user, settings) -> Iterator[FuzzRun]:
    settings.STUDIO_MODELS = FAKE_MODELS
    # An event stream of an image that never finishes here (no worker) ends at once.
    settings.STUDIO_EVENTS_MAX_SECONDS = 0.2
    settings.STUDIO_EVENTS_POLL_SECONDS = 0.05
    cache.clear()
    main = make_user(tier="enterprise", credits=10_000_000)
    free = make_user(tier="free", credits=1_000)
    keys = {}
    for name, user in (("main", main), ("free", free)):
        _, keys[name] = account_services.create_api_key(user=user, name="fuzz")
    # Django's test client does the same: the test's transaction must outlive each request.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    quiet = logging.getLogger("django.request")  # a 4xx per case is the point here, not news
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    try:
        run = FuzzRun(app=WSGIHandler(), keys=keys, users=[main, free])
        run.seed()
        yield run
    finally:
        quiet.setLevel(level)
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
        cache.clear()
    print(f"\nschemathesis: {run.cases} cases, replies by status {dict(sorted(run.statuses.items()))}")
    assert run.cases >= run.minimum, f"only {run.cases} generated cases ran"


def load(run: FuzzRun) -> Any:
    """The document as the server serves it, bound to the same WSGI application, with the main key."""
    config = schemathesis.Config.from_dict({"auth": {"openapi": {"BearerAuth": {"bearer": run.keys["main"]}}}})
    return schemathesis.openapi.from_wsgi("/v1/openapi.json", run.app, config=config)


@pytest.fixture
def api_schema(fuzz_run: FuzzRun) -> Any:
    return load(fuzz_run)


# Schemathesis 4.32 names each operation's subtest by setting the running item's `_nodeid`,
# which pytest 9.2 no longer has; a stand-in that ignores the renaming keeps the reports on this item.
if not hasattr(pytest.Function, "_nodeid"):
    pytest.Function._nodeid = property(lambda item: item.nodeid, lambda item, value: None)  # type: ignore[attr-defined]

schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_generated_request_gets_a_documented_reply(case: schemathesis.Case, fuzz_run: FuzzRun) -> None:
    n = next(fuzz_run.counter)
    if n % CASES_PER_WINDOW == 0:
        cache.clear()  # a new minute for every account
    fuzz_run.known_model(case, n)
    fuzz_run.own_idempotency_key(case, n)
    real = fuzz_run.real_id(case, n)
    if real is not None:
        case.path_parameters = {**(case.path_parameters or {}), real[0]: real[1]}
    credential = fuzz_run.authorization(n)
    if _negative_in(case, ParameterLocation.HEADER) and _breaks_authorization(case):
        # A missing or malformed Authorization is the point of the case. Schemathesis breaks it in
        # about half of its negative cases; three in four are skipped, so the rest reach the endpoints.
        if n % 4:
            hypothesis.reject()
        credential = GENERATED
    if credential is None and case.headers and any(name.lower() == "authorization" for name in case.headers):
        case.headers = {name: value for name, value in case.headers.items() if name.lower() != "authorization"}
    headers = {"Authorization": credential} if credential not in (None, GENERATED) else {}
    with transaction.atomic():  # as a request's own transaction would: a failed one leaves no trace
        response = case.call_and_validate(headers=headers, checks=CHECKS)
    fuzz_run.cases += 1
    fuzz_run.statuses[response.status_code] = fuzz_run.statuses.get(response.status_code, 0) + 1
    fuzz_run.settle()


STATEFUL_SCENARIOS = 40
STATEFUL_STEPS = 6


def test_sequences_that_follow_the_documents_links_get_documented_replies(fuzz_run: FuzzRun) -> None:
    """Submit, then use the reply's id as the document's links say: get, cancel, stream."""
    fuzz_run.minimum = STATEFUL_SCENARIOS
    machine = load(fuzz_run).as_state_machine()
    authorization = {"Authorization": f"Bearer {fuzz_run.keys['main']}"}

    class Studio(machine):  # type: ignore[misc,valid-type]
        def get_call_kwargs(self, case: schemathesis.Case) -> dict[str, Any]:
            return {"headers": authorization}

        def call(self, case: schemathesis.Case, **kwargs: Any) -> schemathesis.Response:
            fuzz_run.known_model(case, fuzz_run.cases)
            with transaction.atomic():
                response = case.call(**kwargs)
            fuzz_run.cases += 1
            fuzz_run.statuses[response.status_code] = fuzz_run.statuses.get(response.status_code, 0) + 1
            return response

        def validate_response(self, response: schemathesis.Response, case: schemathesis.Case, **kwargs: Any) -> None:
            case.validate_response(response, checks=CHECKS, transport_kwargs=kwargs)

        def teardown(self) -> None:
            fuzz_run.settle()

    Studio.run(
        settings=settings(
            max_examples=STATEFUL_SCENARIOS,
            stateful_step_count=STATEFUL_STEPS,
            derandomize=True,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
    )
