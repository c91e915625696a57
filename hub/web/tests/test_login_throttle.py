"""Login throttling (django-axes): wrong passwords lock out that user from that
address for a while; staff see the lockout in the admin; time lifts it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.utils import timezone

pytestmark = pytest.mark.django_db

PASSWORD = "s3cret-pass!"  # the `user` fixture's


@pytest.fixture(autouse=True)
def fast_hashing(settings: Any) -> None:
    # Many logins per test: the real hasher is slow on purpose.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def log_in(client: Client, password: str, address: str = "10.0.0.1") -> Any:
    return client.post(
        "/login/",
        {"username": "alice", "password": password},
        REMOTE_ADDR=address,
    )


def test_the_right_password_is_refused_after_repeated_wrong_ones(user: Any) -> None:
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert log_in(client, "wrong").status_code == 200  # the form again
    assert log_in(client, "wrong").status_code == 429

    response = log_in(client, PASSWORD)

    assert response.status_code == 429
    page = response.content.decode()
    assert "Too many failed logins" in page
    assert "Try again in 15 minutes" in page
    assert "_auth_user_id" not in client.session


def test_the_lockout_is_per_address_and_lifted_by_time(user: Any) -> None:
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        for _ in range(settings.AXES_FAILURE_LIMIT):
            log_in(Client(), "wrong")
        assert log_in(Client(), PASSWORD).status_code == 429
        # another address is not locked out
        assert log_in(Client(), PASSWORD, address="10.0.0.2").status_code == 302

        clock.shift(settings.AXES_COOLOFF_TIME + timedelta(seconds=1))

        client = Client()
        response = log_in(client, PASSWORD)
        assert response.status_code == 302
        assert client.session["_auth_user_id"] == str(user.pk)


def test_a_few_wrong_passwords_do_not_lock_out(user: Any) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        log_in(Client(), "wrong")
    assert log_in(Client(), PASSWORD).status_code == 302


def test_staff_see_the_lockout_in_the_admin_and_may_lift_it(
    user: Any, django_user_model: Any
) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT):
        log_in(Client(), "wrong")
    # staff, not a superuser, with no extra permissions
    staff = django_user_model.objects.create_user(username="carol", is_staff=True)
    admin = Client()
    admin.force_login(staff)

    page = admin.get("/admin/axes/accessattempt/")

    assert page.status_code == 200
    assert "alice" in page.content.decode()
    assert "10.0.0.1" in page.content.decode()
    from axes.models import AccessAttempt

    attempt = AccessAttempt.objects.get()
    response = admin.post(
        f"/admin/axes/accessattempt/{attempt.pk}/delete/", {"post": "yes"}
    )
    assert response.status_code == 302
    assert log_in(Client(), PASSWORD).status_code == 302
