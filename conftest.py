"""Shared pytest fixtures for the hub (app-specific ones live in each app's tests/)."""

from __future__ import annotations

import pytest

pytest_plugins = ["hub.allegro.tests.fixtures"]


@pytest.fixture
def user(django_user_model):  # type: ignore[no-untyped-def]
    return django_user_model.objects.create_user(
        username="alice", password="s3cret-pass!"
    )


@pytest.fixture
def logged_in_client(client, user):  # type: ignore[no-untyped-def]
    client.force_login(user)
    return client
