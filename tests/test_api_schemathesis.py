"""Property-based requests generated from the OpenAPI spec (schemathesis) never get a 500.

Bounded: a fixed number of examples per operation, no example database, no deadline (the
machine is shared). Responses are checked against the documented schemas too.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance

from shopmind.api import create_app
from shopmind.api.testing import copy_shop, demo_shop_template
from shopmind.data.store import Store

EXAMPLES_PER_OPERATION = 12


def _no_training(store, settings, console):
    raise RuntimeError("training is switched off in the schemathesis run")


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    template = demo_shop_template(tmp_path_factory.getbasetemp())
    settings_ = copy_shop(template, tmp_path_factory.mktemp("fuzz") / "shop")
    store = Store(settings=settings_)
    app = create_app(settings_, store, trainer=_no_training, background=False)
    service = app.state.service
    service.start()  # the ASGI transport does not run the lifespan
    token, _ = service.keys.create(["admin"], name="schemathesis")
    yield app, token
    service.stop()
    store.close()


@pytest.fixture(scope="module")
def api_schema(api):
    app, _ = api
    return schemathesis.openapi.from_asgi("/openapi.json", app)


@pytest.mark.slow
def test_no_server_errors(api, api_schema):
    _, token = api
    headers = {"Authorization": f"Bearer {token}"}
    failures = []
    operations = 0
    for result in api_schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None,
                  derandomize=True, suppress_health_check=list(HealthCheck))
        def run(case):
            case.call_and_validate(headers=headers,
                                   checks=[not_a_server_error, response_schema_conformance])

        try:
            run()
        except Exception as exc:  # noqa: BLE001 - collect every operation's failure
            failures.append(f"{operation.label}: {str(exc)[:1500]}")
    assert operations >= 20
    assert not failures, "\n\n".join(failures)
