"""``/metrics`` (SPEC §20.2): off without ``METRICS_TOKEN``, behind the bearer
token with it, in the Prometheus text format; counters that move with what
happens, labels that never name a user, an address, an IP or a raw path."""

from __future__ import annotations

import socket

import pytest
from prometheus_client.parser import text_string_to_metric_families

from accounts.tests.helpers import assert_error, assert_ok, last_code_for
from authsite import metrics

pytestmark = pytest.mark.django_db

TOKEN = "metrics-token-0123456789abcdefghijklmnop"
LOGIN = "/api/v1/auth/login"
REFRESH = "/api/v1/auth/token/refresh"
OTP_REQUEST = "/api/v1/auth/otp/request"
OTP_VERIFY = "/api/v1/auth/otp/verify"
SIGNUP = "/api/v1/auth/signup"
SIGNUP_VERIFY = "/api/v1/auth/signup/verify"
PASSWORD = "Correct-Horse-9-Battery"


@pytest.fixture
def metrics_on(settings):
    settings.METRICS_TOKEN = TOKEN


def scrape(client) -> dict[tuple[str, frozenset], float]:
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200, response.content[:300]
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


class Delta:
    """Counter values before and after a block of requests."""

    def __init__(self, client) -> None:
        self.client = client
        self.before = scrape(client)
        self.after: dict = {}

    def __call__(self, name: str, **labels: str) -> float:
        if not self.after:
            self.after = scrape(self.client)
        return value(self.after, name, **labels) - value(self.before, name, **labels)


def login(client, email: str, password: str):
    return client.post(LOGIN, {"email": email, "password": password}, format="json")


# --- the endpoint ------------------------------------------------------------------------


def test_metrics_are_off_without_a_token(client, settings):
    settings.METRICS_TOKEN = ""
    for headers in (
        {},
        {"HTTP_AUTHORIZATION": "Bearer "},
        {"HTTP_AUTHORIZATION": f"Bearer {TOKEN}"},
    ):
        response = client.get("/metrics", **headers)
        assert response.status_code == 404
        assert b"authsite_" not in response.content
    assert client.post("/metrics").status_code == 404


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Bearer wrong-token",
        f"Bearer {TOKEN[:-1]}",
        f"Bearer {TOKEN}x",
        f"Basic {TOKEN}",
        TOKEN,
    ],
)
def test_metrics_need_the_bearer_token(client, metrics_on, authorization):
    headers = {} if authorization is None else {"HTTP_AUTHORIZATION": authorization}
    response = client.get("/metrics", **headers)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert b"authsite_" not in response.content


def test_metrics_with_the_token_are_the_prometheus_text_format(client, metrics_on):
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    names = {family.name for family in text_string_to_metric_families(response.content.decode())}
    assert {
        "authsite_signins",
        "authsite_second_factor",
        "authsite_messages_sent",
        "authsite_delivery_failures",
        "authsite_token_refreshes",
        "authsite_token_reuse_detections",
        "authsite_signin_lockouts",
        "authsite_rate_limit_refusals",
        "authsite_password_hash_refusals",
        "authsite_http_request_duration_seconds",
    } <= names
    assert client.post("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 405


# --- what the counters count ----------------------------------------------------------------


def test_sign_ins_are_counted_by_method_and_outcome(client, api_client, metrics_on, user):
    delta = Delta(client)
    assert_ok(login(api_client, user.email, PASSWORD))
    assert_error(login(api_client, user.email, "Wrong-Horse-9-x"), 401, "invalid_credentials")
    assert_error(
        login(api_client, "nobody@example.com", "Wrong-Horse-9-x"), 401, "invalid_credentials"
    )
    assert_ok(api_client.post(OTP_REQUEST, {"email": user.email}, format="json"))
    code = last_code_for(user.email)
    assert_ok(api_client.post(OTP_VERIFY, {"email": user.email, "otp": code}, format="json"))

    signins = "authsite_signins_total"
    assert delta(signins, method="password", outcome="success") == 1
    assert delta(signins, method="password", outcome="invalid_credentials") == 2
    assert delta(signins, method="code", outcome="success") == 1
    # The requests' latency, by view name.
    histogram = "authsite_http_request_duration_seconds_count"
    assert delta(histogram, view="accounts_api:login", method="POST", status="2xx") == 1
    assert delta(histogram, view="accounts_api:login", method="POST", status="4xx") == 2
    assert delta(histogram, view="accounts_api:otp_verify", method="POST", status="2xx") == 1


def test_a_sign_up_verification_is_a_sign_in(client, api_client, metrics_on):
    delta = Delta(client)
    email = "new@example.com"
    started = assert_ok(
        api_client.post(SIGNUP, {"email": email, "password": PASSWORD}, format="json"), 201
    )
    code = last_code_for(email)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    body = {"signup_token": started["signup_token"], "otp": wrong}
    assert_error(api_client.post(SIGNUP_VERIFY, body, format="json"), 400, "otp_invalid")
    body["otp"] = code
    assert_ok(api_client.post(SIGNUP_VERIFY, body, format="json"))
    assert delta("authsite_signins_total", method="signup", outcome="otp_invalid") == 1
    assert delta("authsite_signins_total", method="signup", outcome="success") == 1
    assert delta("authsite_messages_sent_total", channel="email", purpose="signup") == 1


def test_refreshes_and_reuse_detections_are_counted(client, api_client, metrics_on, user, clock):
    session = assert_ok(login(api_client, user.email, PASSWORD))
    delta = Delta(client)
    rotated = assert_ok(api_client.post(REFRESH, {"refresh": session["refresh"]}, format="json"))
    clock.advance(seconds=60)  # past the reuse grace
    reused = api_client.post(REFRESH, {"refresh": session["refresh"]}, format="json")
    assert_error(reused, 401, "token_reused")
    # The session is revoked: its newest token is now merely invalid.
    again = api_client.post(REFRESH, {"refresh": rotated["refresh"]}, format="json")
    assert_error(again, 401, "token_invalid")
    assert delta("authsite_token_refreshes_total", outcome="success") == 1
    assert delta("authsite_token_refreshes_total", outcome="token_reused") == 1
    assert delta("authsite_token_refreshes_total", outcome="token_invalid") == 1
    assert delta("authsite_token_reuse_detections_total") == 1


def test_lockouts_and_rate_limit_refusals_are_counted(
    client, api_client, metrics_on, settings, user
):
    settings.LOGIN_FAILURE_LIMIT = 3
    delta = Delta(client)
    for _attempt in range(3):
        assert_error(login(api_client, user.email, "Wrong-Horse-9-x"), 401, "invalid_credentials")
    assert_error(login(api_client, user.email, PASSWORD), 429, "rate_limited")
    assert delta("authsite_signin_lockouts_total") == 1
    assert delta("authsite_signins_total", method="password", outcome="rate_limited") == 1

    settings.RATELIMITS = {**settings.RATELIMITS, "login_ip": "2/m"}
    delta = Delta(client)
    for _attempt in range(2):
        login(api_client, "someone@example.com", "Wrong-Horse-9-x")
    assert_error(login(api_client, "someone@example.com", "Wrong-Horse-9-x"), 429, "rate_limited")
    assert delta("authsite_rate_limit_refusals_total", action="login_ip") == 1


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_codes_sent_and_delivery_failures_are_counted_by_channel_and_purpose(
    client, api_client, metrics_on, settings, closed_port, sms_outbox
):
    delta = Delta(client)
    assert_ok(api_client.post(OTP_REQUEST, {"phone": "+919876543210"}, format="json"))
    assert len(sms_outbox) == 1
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", closed_port
    assert_ok(api_client.post(OTP_REQUEST, {"email": "down@example.com"}, format="json"))
    assert delta("authsite_messages_sent_total", channel="sms", purpose="login") == 1
    assert delta("authsite_messages_sent_total", channel="email", purpose="login") == 0
    assert delta("authsite_delivery_failures_total", channel="email", purpose="login") == 1


def test_second_factor_results_have_a_counter_by_method(client, metrics_on):
    delta = Delta(client)
    metrics.second_factor_recorded(method="totp", outcome="success")
    metrics.second_factor_recorded(method="totp", outcome="otp_invalid")
    assert delta("authsite_second_factor_total", method="totp", outcome="success") == 1
    assert delta("authsite_second_factor_total", method="totp", outcome="otp_invalid") == 1


def test_latency_is_labelled_by_view_name_never_by_path(client, api_client, metrics_on):
    delta = Delta(client)
    api_client.get("/api/v1/no-such-endpoint/12345")
    api_client.get("/api/v1/auth/events/987654/not-me")
    histogram = "authsite_http_request_duration_seconds_count"
    # An unknown API path is answered by the catch-all route, labelled by its name.
    assert delta(histogram, view="api_not_found", method="GET", status="4xx") == 1
    assert delta(histogram, view="accounts_api:event_not_me", method="GET", status="4xx") == 1
    for _name, labels in scrape(client):
        for _label, label_value in labels:
            assert "/" not in label_value and "@" not in label_value, labels
            assert "127.0.0.1" not in label_value


def test_label_values_outside_the_vocabulary_become_other(client, metrics_on):
    delta = Delta(client)
    metrics.rate_limit_refused(action="Robert'); DROP TABLE--")
    metrics.signin_recorded(method="password", outcome="x" * 200)
    assert delta("authsite_rate_limit_refusals_total", action="other") == 1
    assert delta("authsite_signins_total", method="password", outcome="other") == 1


def test_sign_ins_the_bulkhead_refuses_are_counted(client, api_client, metrics_on, settings, user):
    from authsite.hashers import hash_bulkhead
    from authsite.testing.bulkhead import bulkhead_full

    settings.PASSWORD_HASHERS = ["authsite.hashers.Argon2idPasswordHasher"]
    settings.ARGON2_TIME_COST, settings.ARGON2_MEMORY_COST = 1, 256
    settings.PASSWORD_HASH_CONCURRENCY, settings.PASSWORD_HASH_QUEUE = 1, 0
    delta = Delta(client)
    with bulkhead_full(hash_bulkhead):
        for _ in range(2):
            assert_error(login(api_client, user.email, PASSWORD), 503, "service_unavailable")
    assert delta("authsite_password_hash_refusals_total") == 2
