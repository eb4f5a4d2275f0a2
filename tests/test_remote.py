"""Remote policy sources against real boto3 over HTTP on loopback, never AWS.

S3 and SSM are served by moto in server mode. moto has no AppConfig Data API, so a small server
below speaks its wire protocol (single-use session tokens, an empty body when nothing changed),
which is what Powertools' AppConfigProvider relies on.
"""

from __future__ import annotations

import json
import socket
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import boto3
import pytest
from moto.server import ThreadedMotoServer

from authorizer import handler
from authorizer.stores import open_store
from authorizer.stores.file import FilePolicyStore
from authorizer.stores.remote import RETRY_WITHOUT_POLICY_SECONDS, RemotePolicyStore, parse_location
from tests.conftest import load_fixture

REFRESH = 1  # seconds: the smallest max age AUTHORIZER_REFRESH_SECONDS allows besides 0 (every request)
EVENT = "aws-lambda-go/apigw-custom-auth-request-type-request.json"  # HeaderAuth1: headerValue1


def policy(name: str, header_value: str = "headerValue1") -> str:
    rule = f"  - name: {name}\n    effect: allow\n    when:\n      header.HeaderAuth1: {header_value}\n"
    return "version: 1\nrules:\n" + rule


BROKEN = "version: 1\nrules:\n  - name: broken\n    efect: allow\n"  # a typo: fails validation


def wait_past_max_age() -> None:
    time.sleep(REFRESH + 0.1)


def rule_of(store: Any) -> str | None:
    current = store.current()
    return current.rules[0].name if current is not None else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch, moto_url: str) -> str:
    """Fake credentials, no profile, every client pointed at moto; state reset per test."""
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "AWS_ENDPOINT_URL": moto_url,
    }.items():
        monkeypatch.setenv(key, value)
    for key in ("AWS_PROFILE", "AWS_REGION", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_SSM"):
        monkeypatch.delenv(key, raising=False)
    urllib.request.urlopen(urllib.request.Request(f"{moto_url}/moto-api/reset", method="POST")).close()
    return moto_url


@pytest.fixture
def bucket(aws: str) -> Any:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="policies")
    return s3


def put_s3(s3: Any, text: str) -> None:
    s3.put_object(Bucket="policies", Key="prod/policy.yaml", Body=text.encode())


def put_ssm(text: str) -> None:
    boto3.client("ssm").put_parameter(Name="/authorizer/prod/policy", Value=text, Type="String", Overwrite=True)


# --- locations --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("location", "kind", "parts"),
    [
        ("s3://b/dir/policy.yaml", "s3", ("b", "dir/policy.yaml")),
        ("ssm:/authorizer/prod/policy", "ssm", ("/authorizer/prod/policy",)),
        ("appconfig:app/env/profile", "appconfig", ("app", "env", "profile")),
    ],
)
def test_locations_parse_into_their_parts(location: str, kind: str, parts: tuple[str, ...]) -> None:
    parsed = parse_location(location)
    assert (parsed.kind, parsed.parts) == (kind, parts)


@pytest.mark.parametrize(
    ("location", "expected"),
    [
        ("s3://bucket-only", "s3://bucket/key"),
        ("s3:bucket/key", "s3://bucket/key"),
        ("ssm:", "ssm:/parameter/name"),
        ("appconfig:app/env", "appconfig:application/environment/profile"),
        ("appconfig:app//profile", "appconfig:application/environment/profile"),
    ],
)
def test_malformed_location_refuses_and_names_the_expected_form(location: str, expected: str) -> None:
    store = open_store(location, refresh_seconds=REFRESH)
    assert store.current() is None
    assert store.last_error is not None and expected in store.last_error


def test_file_locations_do_not_import_boto3(tmp_path: Any) -> None:
    """A bundled policy must not pay for boto3 at cold start; checked in a fresh interpreter."""
    path = tmp_path / "policy.yaml"
    path.write_text(policy("file"))
    code = (
        "import sys; from authorizer.stores import open_store; "
        f"assert open_store({str(path)!r}).current() is not None; "
        "print(sorted(m for m in ('boto3', 'botocore') if m in sys.modules))"
    )
    import subprocess

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    assert isinstance(open_store(str(path)), FilePolicyStore)


# --- S3 ---------------------------------------------------------------------------------------


def test_s3_update_is_picked_up_after_the_max_age(bucket: Any) -> None:
    put_s3(bucket, policy("v1"))
    store = open_store("s3://policies/prod/policy.yaml", refresh_seconds=REFRESH)
    assert isinstance(store, RemotePolicyStore) and rule_of(store) == "v1"
    put_s3(bucket, policy("v2"))
    assert rule_of(store) == "v1"  # still within the max age: served from memory
    wait_past_max_age()
    assert rule_of(store) == "v2"
    assert store.last_error is None


def test_s3_bad_update_keeps_the_last_good_policy_and_says_so(bucket: Any, log_output: Any) -> None:
    put_s3(bucket, policy("good"))
    store = open_store("s3://policies/prod/policy.yaml", refresh_seconds=REFRESH)
    good = store.current()
    put_s3(bucket, BROKEN)
    wait_past_max_age()
    assert store.current() is good
    logged = log_output.getvalue()
    assert "s3://policies/prod/policy.yaml:4:5:" in logged  # file:line:col of the typo
    assert f"keeping policy {good.digest}" in logged
    assert store.last_error is not None and "efect" in store.last_error

    wait_past_max_age()  # the broken version is still there: still the last good policy, said again
    assert store.current() is good
    assert log_output.getvalue().count("keeping policy") == 2

    put_s3(bucket, policy("fixed"))
    wait_past_max_age()
    assert rule_of(store) == "fixed" and store.last_error is None


def test_s3_object_removed_keeps_the_last_good_policy(bucket: Any) -> None:
    put_s3(bucket, policy("good"))
    store = open_store("s3://policies/prod/policy.yaml", refresh_seconds=REFRESH)
    bucket.delete_object(Bucket="policies", Key="prod/policy.yaml")
    wait_past_max_age()
    assert rule_of(store) == "good"
    assert store.last_error is not None and "NoSuchKey" in store.last_error


def test_s3_missing_object_at_start_refuses_every_request(bucket: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTHORIZER_POLICY", "s3://policies/prod/policy.yaml")
    monkeypatch.setenv("AUTHORIZER_METRICS", "false")
    handler.reset()
    try:
        with pytest.raises(Exception, match=r"^Unauthorized$"):
            handler.lambda_handler(load_fixture(EVENT), None)
    finally:
        handler.reset()


def test_oversized_object_is_refused_without_reading_it_all(bucket: Any) -> None:
    put_s3(bucket, policy("big") + "#" * (5 * 1024 * 1024))
    store = open_store("s3://policies/prod/policy.yaml", refresh_seconds=REFRESH)
    assert store.current() is None
    assert store.last_error is not None and "larger than" in store.last_error


# --- the handler, end to end ------------------------------------------------------------------


def test_handler_follows_a_policy_changed_in_s3(bucket: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """What a deployed stage does: allow, rules change in S3, the change applies after the max age."""
    put_s3(bucket, policy("open"))
    monkeypatch.setenv("AUTHORIZER_POLICY", "s3://policies/prod/policy.yaml")
    monkeypatch.setenv("AUTHORIZER_REFRESH_SECONDS", str(REFRESH))
    monkeypatch.setenv("AUTHORIZER_METRICS", "false")
    handler.reset()
    event = load_fixture(EVENT)
    try:
        allowed = handler.lambda_handler(event, None)
        assert allowed["policyDocument"]["Statement"][0]["Effect"] == "Allow"
        put_s3(bucket, policy("closed", header_value="another-value"))
        wait_past_max_age()
        with pytest.raises(Exception, match=r"^Unauthorized$"):
            handler.lambda_handler(event, None)
    finally:
        handler.reset()


# --- SSM --------------------------------------------------------------------------------------


def test_ssm_update_is_picked_up_after_the_max_age(aws: str) -> None:
    put_ssm(policy("v1"))
    store = open_store("ssm:/authorizer/prod/policy", refresh_seconds=REFRESH)
    assert rule_of(store) == "v1"
    put_ssm(policy("v2"))
    assert rule_of(store) == "v1"
    wait_past_max_age()
    assert rule_of(store) == "v2"


def test_ssm_bad_update_keeps_the_last_good_policy(aws: str, log_output: Any) -> None:
    put_ssm(policy("good"))
    store = open_store("ssm:/authorizer/prod/policy", refresh_seconds=REFRESH)
    put_ssm(BROKEN)
    wait_past_max_age()
    assert rule_of(store) == "good"
    assert "ssm:/authorizer/prod/policy:4:5:" in log_output.getvalue()


def test_ssm_parameter_missing_refuses(aws: str) -> None:
    store = open_store("ssm:/authorizer/none", refresh_seconds=REFRESH)
    assert store.current() is None
    assert store.last_error is not None and "ParameterNotFound" in store.last_error


# --- unreachable ------------------------------------------------------------------------------


def test_unreachable_source_with_nothing_loaded_refuses_and_retries_soon(aws: str, monkeypatch: Any) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")  # nothing listens there
    started = time.monotonic()
    store = open_store("s3://policies/prod/policy.yaml", refresh_seconds=3600)
    assert time.monotonic() - started < 10  # short timeouts and few retries: within API Gateway's budget
    assert store.current() is None
    assert store.last_error is not None and "cannot fetch" in store.last_error
    assert isinstance(store, RemotePolicyStore)
    assert store._next_fetch - time.time() <= RETRY_WITHOUT_POLICY_SECONDS  # not an hour of refusals


def test_source_going_away_keeps_the_last_good_policy(aws: str, monkeypatch: pytest.MonkeyPatch) -> None:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://{host}:{port}")
    try:
        put_ssm(policy("good"))
        store = open_store("ssm:/authorizer/prod/policy", refresh_seconds=REFRESH)
        assert rule_of(store) == "good"
    finally:
        server.stop()
    wait_past_max_age()
    assert rule_of(store) == "good"
    assert store.last_error is not None and "cannot fetch" in store.last_error


# --- AppConfig --------------------------------------------------------------------------------


class AppConfigData:
    """AppConfig Data's two calls over HTTP: sessions with single-use tokens; empty when unchanged."""

    def __init__(self) -> None:
        self.profiles: dict[tuple[str, str, str], tuple[int, bytes]] = {}
        self.tokens: dict[str, tuple[tuple[str, str, str], int]] = {}
        self.calls = 0

    def deploy(self, app: str, env: str, profile: str, text: str) -> None:
        version = self.profiles.get((app, env, profile), (0, b""))[0] + 1
        self.profiles[(app, env, profile)] = (version, text.encode())

    def serve(self) -> ThreadingHTTPServer:
        data = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def reply(self, status: int, body: bytes, headers: dict[str, str]) -> None:
                self.send_response(status)
                for key, value in {**headers, "Content-Length": str(len(body))}.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(body)

            def error(self, status: int, kind: str) -> None:
                body = json.dumps({"Message": kind}).encode()
                self.reply(status, body, {"x-amzn-ErrorType": kind, "Content-Type": "application/json"})

            def do_POST(self) -> None:  # StartConfigurationSession
                request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                key = (
                    request["ApplicationIdentifier"],
                    request["EnvironmentIdentifier"],
                    request["ConfigurationProfileIdentifier"],
                )
                if self.path != "/configurationsessions" or key not in data.profiles:
                    return self.error(404, "ResourceNotFoundException")
                token = uuid.uuid4().hex
                data.tokens[token] = (key, 0)
                self.reply(201, json.dumps({"InitialConfigurationToken": token}).encode(), {})

            def do_GET(self) -> None:  # GetLatestConfiguration
                url = urlparse(self.path)
                token = parse_qs(url.query).get("configuration_token", [""])[0]
                if url.path != "/configuration" or token not in data.tokens:
                    return self.error(400, "BadRequestException")
                data.calls += 1
                key, seen = data.tokens.pop(token)
                version, content = data.profiles[key]
                following = uuid.uuid4().hex
                data.tokens[following] = (key, version)
                headers = {
                    "Next-Poll-Configuration-Token": following,
                    "Next-Poll-Interval-In-Seconds": "60",
                    "Content-Type": "application/x-yaml",
                    "Version-Label": str(version),
                }
                self.reply(200, content if version != seen else b"", headers)

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server


@pytest.fixture
def appconfig(aws: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[AppConfigData]:
    data = AppConfigData()
    server = data.serve()
    monkeypatch.setenv("AWS_ENDPOINT_URL_APPCONFIGDATA", f"http://127.0.0.1:{server.server_address[1]}")
    yield data
    server.shutdown()


def test_appconfig_update_is_picked_up_after_the_max_age(appconfig: AppConfigData) -> None:
    appconfig.deploy("authorizer", "prod", "policy", policy("v1"))
    store = open_store("appconfig:authorizer/prod/policy", refresh_seconds=REFRESH)
    assert rule_of(store) == "v1"
    wait_past_max_age()
    assert rule_of(store) == "v1" and appconfig.calls == 2  # polled again: unchanged (empty body)
    appconfig.deploy("authorizer", "prod", "policy", policy("v2"))
    assert rule_of(store) == "v1"
    wait_past_max_age()
    assert rule_of(store) == "v2"


def test_appconfig_bad_update_keeps_the_last_good_policy(appconfig: AppConfigData) -> None:
    appconfig.deploy("authorizer", "prod", "policy", policy("good"))
    store = open_store("appconfig:authorizer/prod/policy", refresh_seconds=REFRESH)
    appconfig.deploy("authorizer", "prod", "policy", BROKEN)
    wait_past_max_age()
    assert rule_of(store) == "good"
    assert store.last_error is not None and "appconfig:authorizer/prod/policy:4:5: unknown key" in store.last_error


def test_appconfig_names_application_environment_profile_in_that_order(appconfig: AppConfigData) -> None:
    appconfig.deploy("authorizer", "prod", "policy", policy("v1"))
    assert rule_of(open_store("appconfig:prod/authorizer/policy", refresh_seconds=REFRESH)) is None
    assert rule_of(open_store("appconfig:authorizer/prod/policy", refresh_seconds=REFRESH)) == "v1"
