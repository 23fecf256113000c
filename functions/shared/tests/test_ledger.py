"""Costs, money rounding and the credit-consistency rules cleanup-cron reports."""

from decimal import Decimal

import pytest

from shared.ledger import account_findings, estimate_cost
from shared.utils import iso, money, parse_time


@pytest.mark.parametrize("seconds, per_minute, cost", [
    (60, "0.006", Decimal("0.006000")),
    (2.5, "0.006", Decimal("0.000250")),
    (90, "0.006", Decimal("0.009000")),
    (3.14159, "0.006", Decimal("0.000314")),
    (0.001, "0.006", Decimal("0.000000")),
    (600, "1", Decimal("10.000000")),
])
def test_cost_is_minutes_times_the_rate_to_six_places(seconds, per_minute, cost):
    assert estimate_cost(seconds, Decimal(per_minute)) == cost


def test_money_adds_up_exactly():
    total = sum((money("0.1") for _ in range(10)), Decimal(0))
    assert total == money(1) and float(money(0.1 + 0.2)) == 0.3


def test_times_are_appwrite_datetimes():
    t = parse_time("2026-12-01T10:20:30.123+00:00")
    assert iso(t) == "2026-12-01T10:20:30.123+00:00"
    assert parse_time("2026-12-01T10:20:30Z").tzinfo is not None and parse_time("") is None


def log(i, action, amount, before, after):
    return {"$id": f"l{i}", "action": action, "amount": amount, "credits_before": before, "credits_after": after}


GOOD_LOGS = [log(1, "credit_grant", 50, 0, 50), log(2, "transcription_charge", 0.5, 50, 49.5), log(3, "transcription_charge", 1.25, 49.5, 48.25)]
GOOD = {"user_id": "u", "credits": 48.25, "total_credits_spent": 1.75, "total_transcriptions": 2}


def kinds(findings):
    return [f["kind"] for f in findings]


def test_a_consistent_account_has_no_finding():
    assert account_findings(GOOD, GOOD_LOGS) == []
    assert account_findings({"user_id": "n", "credits": 0}, []) == []


@pytest.mark.parametrize("account, logs, expected", [
    (GOOD, [GOOD_LOGS[0], GOOD_LOGS[2]], ["broken_chain", "spent_mismatch", "count_mismatch"]),
    (GOOD, [GOOD_LOGS[0], log(2, "transcription_charge", 0.5, 50, 49.0), log(3, "transcription_charge", 1.25, 49.0, 47.75)],
     ["bad_arithmetic", "balance_mismatch"]),
    ({**GOOD, "credits": 40}, GOOD_LOGS, ["balance_mismatch"]),
    ({**GOOD, "credits": -1.0}, GOOD_LOGS, ["negative_balance", "balance_mismatch"]),
    ({**GOOD, "total_credits_spent": 9}, GOOD_LOGS, ["spent_mismatch"]),
    ({**GOOD, "total_transcriptions": 7}, GOOD_LOGS, ["count_mismatch"]),
    ({"user_id": "u", "credits": 5}, [], ["balance_without_logs"]),
    (GOOD, [log(0, "credit_grant", 50, 10, 60)] + GOOD_LOGS[1:], ["broken_chain", "broken_chain"]),
])
def test_each_inconsistency_is_named(account, logs, expected):
    found = account_findings(account, logs)
    assert kinds(found) == expected
    assert all(f["user_id"] == "u" and f["message"] for f in found)
