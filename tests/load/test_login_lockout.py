"""Login lockout (django-axes) per user and per address, unlocked in the admin; bad API tokens per address."""

from __future__ import annotations

import uuid

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.test import Client, override_settings
from rest_framework.test import APIClient

from apps.tenancy.services import token_create

pytestmark = pytest.mark.django_db

PASSWORD = "right-horse-battery-staple"


def _lockout():
    return override_settings(AXES_ENABLED=True, AXES_FAILURE_LIMIT=10)


def _login(client, path, username, password, address="192.0.2.10"):
    return client.post(path, {"username": username, "password": password}, REMOTE_ADDR=address)


@pytest.fixture
def admin_user_named_admin():
    return get_user_model().objects.create_superuser("admin", "admin@example.com", PASSWORD)


def test_fifty_wrong_passwords_lock_admin_until_an_admin_unlocks(admin_user_named_admin):
    client = Client()
    with _lockout():
        answers = [_login(client, "/admin/login/", "admin", f"wrong-{i}").status_code for i in range(50)]
        right = _login(client, "/admin/login/", "admin", PASSWORD)
        right_elsewhere = _login(client, "/admin/login/", "admin", PASSWORD, address="198.51.100.7")
        assert "_auth_user_id" not in client.session
        operator = get_user_model().objects.create_superuser("operator", "op@example.com", "x")
        unlocker = Client()
        unlocker.force_login(operator)
        attempts = list(AccessAttempt.objects.filter(username="admin").values_list("pk", flat=True))
        listed = unlocker.get("/admin/axes/accessattempt/")
        unlocked = unlocker.post(
            "/admin/axes/accessattempt/",
            {"action": "delete_selected", "_selected_action": attempts, "post": "yes"},
        )
        after = _login(client, "/admin/login/", "admin", PASSWORD)
    assert answers[:9] == [200] * 9  # the login form again, with an error
    assert answers[9:] == [429] * 41
    assert right.status_code == 429
    assert right_elsewhere.status_code == 429  # the user is locked, not only the address
    assert listed.status_code == 200 and b"admin" in listed.content
    assert unlocked.status_code == 302
    assert AccessAttempt.objects.count() == 0
    assert after.status_code == 302
    assert client.session["_auth_user_id"] == str(admin_user_named_admin.pk)


def test_an_address_guessing_many_users_is_locked_and_others_are_not(tenant_a):
    user = tenant_a.users["viewer"]
    user.set_password(PASSWORD)
    user.save()
    with _lockout():
        client = Client()
        guesses = [_login(client, "/accounts/login/", f"user{i}", "nope").status_code for i in range(10)]
        same_address = _login(client, "/accounts/login/", user.username, PASSWORD)
        other_address = _login(Client(), "/accounts/login/", user.username, PASSWORD, address="203.0.113.5")
    assert guesses[:9] == [200] * 9
    assert guesses[9] == 429
    assert same_address.status_code == 429
    assert other_address.status_code == 302


def test_without_lockout_the_flag_off_answers_every_attempt(admin_user_named_admin):
    """The counterpart: the same 12 failures with the lockout switched off are all answered with the form."""
    with override_settings(AXES_ENABLED=False):
        answers = [_login(Client(), "/admin/login/", "admin", "wrong").status_code for _ in range(12)]
        right = _login(Client(), "/admin/login/", "admin", PASSWORD)
    assert answers == [200] * 12
    assert right.status_code == 302


def test_an_address_sending_bad_tokens_is_refused_even_with_a_good_one(tenant_a):
    _, raw = token_create(actor=tenant_a.users["admin"], organization=tenant_a.organization, name="ci", role="viewer")
    storage = f"memory://?unique={uuid.uuid4().hex}"
    with override_settings(
        QLRF_RATE_LIMITS_ENABLED=True, QLRF_RATE_LIMIT_STORAGE=storage, QLRF_BAD_TOKEN_LIMIT="5/minute"
    ):
        client = APIClient(REMOTE_ADDR="192.0.2.66")
        bad = [client.get("/api/v1/organizations", HTTP_AUTHORIZATION=f"Bearer qlrf_{i:012d}_guess") for i in range(8)]
        good_here = client.get("/api/v1/organizations", HTTP_AUTHORIZATION=f"Bearer {raw}")
        good_elsewhere = APIClient(REMOTE_ADDR="192.0.2.67").get(
            "/api/v1/organizations", HTTP_AUTHORIZATION=f"Bearer {raw}"
        )
    assert [r.status_code for r in bad] == [401] * 5 + [429] * 3
    assert {r.json()["code"] for r in bad[:5]} == {"invalid_token"}
    assert bad[5].json()["code"] == "too_many_failures"
    assert 1 <= int(bad[5]["Retry-After"]) <= 60
    assert good_here.status_code == 429
    assert good_elsewhere.status_code == 200
