"""Shared pytest fixtures for the hub (app-specific ones live in each app's tests/)."""

from __future__ import annotations

import pytest

pytest_plugins = ["hub.allegro.tests.fixtures"]


@pytest.fixture
def user(django_user_model):  # type: ignore[no-untyped-def]
    """alice, staff: she may manage channels (hub/allegro/permissions.py)."""
    return django_user_model.objects.create_user(
        username="alice", password="s3cret-pass!", is_staff=True
    )


@pytest.fixture
def logged_in_client(client, user):  # type: ignore[no-untyped-def]
    client.force_login(user)
    return client


@pytest.fixture
def plain_user(django_user_model):  # type: ignore[no-untyped-def]
    """bob, not staff: inventory, orders and his own API tokens only."""
    return django_user_model.objects.create_user(username="bob", password="b0b-pass!")


@pytest.fixture
def plain_client(plain_user):  # type: ignore[no-untyped-def]
    from django.test import Client

    client = Client()
    client.force_login(plain_user)
    return client
