"""Orders set aside (import problems): recorded once, counted, resolved, shown."""

from __future__ import annotations

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from hub.orders.models import ImportProblem
from hub.orders.problems import open_problems, record_problems, resolve_problems

pytestmark = pytest.mark.django_db


def test_a_problem_met_again_is_one_row_with_more_attempts():
    with time_machine.travel("2026-11-01 10:00Z", tick=False):
        record_problems("allegro", "1", "Shop", {"cf-1": "No line items."})
    with time_machine.travel("2026-11-02 10:00Z", tick=False):
        record_problems("allegro", "1", "Shop", {"cf-1": "Quantity 0."})

    (problem,) = ImportProblem.objects.all()
    assert (problem.external_id, str(problem.reason), problem.attempts) == (
        "cf-1",
        "Quantity 0.",
        2,
    )
    assert problem.first_seen_at.isoformat() == "2026-11-01T10:00:00+00:00"
    assert problem.last_seen_at.isoformat() == "2026-11-02T10:00:00+00:00"


def test_problems_are_per_account_and_resolve_only_their_own():
    record_problems("allegro", "1", "Shop", {"cf-1": "x", "cf-2": "y"})
    record_problems("allegro", "2", "Other", {"cf-1": "z"})

    assert resolve_problems("allegro", "1", ["cf-1", "cf-9"]) == 1
    assert resolve_problems("allegro", "1", []) == 0

    assert [p.external_id for p in open_problems("allegro", "1")] == ["cf-2"]
    assert [str(p.reason) for p in open_problems("allegro", "2")] == ["z"]


def test_an_account_without_problems_resolves_with_no_statement_naming_its_orders():
    record_problems("allegro", "2", "Other", {"cf-1": "z"})

    with CaptureQueriesContext(connection) as queries:
        assert resolve_problems("allegro", "1", ["cf-1", "cf-2"]) == 0

    assert len(queries) == 1
    assert "DELETE" not in queries[0]["sql"]
    assert "cf-1" not in queries[0]["sql"]
    assert [p.external_id for p in open_problems("allegro", "2")] == ["cf-1"]


def test_orders_page_lists_orders_set_aside_with_the_reason(logged_in_client: Client):
    record_problems(
        "allegro", "1", "Shop", {"cf-bad": "Line item li-1 has quantity 0."}
    )
    record_problems(
        "allegro", "1", "Shop", {"cf-bad": "Line item li-1 has quantity 0."}
    )

    html = logged_in_client.get(reverse("orders")).content.decode()

    assert "1 order could not be imported." in html
    assert 'class="id">cf-bad</td>' in html
    assert ">Line item li-1 has quantity 0.</td>" in html
    assert 'data-label="Attempts">2</td>' in html  # attempts
    resolve_problems("allegro", "1", ["cf-bad"])
    html = logged_in_client.get(reverse("orders")).content.decode()
    assert 'id="import-problems"' not in html
