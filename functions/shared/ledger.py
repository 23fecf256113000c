"""Credits: a user's balance (`user_credits`, row ID = user ID) and its ledger (`usage_logs`).

Every change to a balance writes a usage log with `credits_before` and `credits_after` in the
same transaction, so the logs of a user, in order, form a chain from 0 to the current balance.
A job's charge is the usage log whose row ID is the job's ID: a second charge of the same job
cannot commit (the ID exists), whatever runs it again.
"""

from dataclasses import dataclass
from decimal import Decimal

from appwrite.permission import Permission
from appwrite.query import Query
from appwrite.role import Role

from .store import CREDITS, JOBS, USAGE_LOGS
from .utils import iso, money, money_out

SECONDS_PER_MINUTE = Decimal(60)


def estimate_cost(duration_seconds, cost_per_minute) -> Decimal:
    """minutes × COST_PER_MINUTE, to the 6 places credits are kept in."""
    return money(Decimal(str(duration_seconds)) / SECONDS_PER_MINUTE * Decimal(str(cost_per_minute)))


def owner_read(user_id):
    return [Permission.read(Role.user(user_id))]


def ensure_account(store, user_id, default_credits, now):
    """The user's credits row, created with DEFAULT_USER_CREDITS (and its grant logged) on first
    use. Concurrent first uses create it once: the row ID is the user ID."""

    def plan(tx):
        account = tx.read(CREDITS, user_id)
        if account is not None:
            return account
        stamp = iso(now)
        grant = money(default_credits)
        created = tx.create(
            CREDITS,
            {
                "user_id": user_id,
                "credits": money_out(grant),
                "total_transcriptions": 0,
                "total_minutes_transcribed": 0.0,
                "total_credits_spent": 0.0,
                "created_at": stamp,
                "updated_at": stamp,
            },
            row_id=user_id,
            permissions=owner_read(user_id),
        )
        tx.create(
            USAGE_LOGS,
            {
                "user_id": user_id,
                "action": "credit_grant",
                "amount": money_out(grant),
                "credits_before": 0.0,
                "credits_after": money_out(grant),
                "created_at": stamp,
            },
            permissions=owner_read(user_id),
        )
        return created

    account = store.transact(plan)
    # The staged row the transaction answered with lacks server fields: read the real one.
    return store.get(CREDITS, user_id) or account


@dataclass
class ChargeOutcome:
    """What `charge` did: `charged` (this run), `already_charged`, `insufficient_credits` or
    `not_processing` (the job left processing, e.g. failed by cleanup), with the balances."""

    result: str
    job: dict = None
    log: dict = None
    credits_before: Decimal = None
    credits_after: Decimal = None
    cost: Decimal = None


def charge(store, job_id, *, cost, duration_seconds, transcription_text, now):
    """Completes a processing job and charges its cost, in one transaction: the balance goes
    down, the usage log (ID = job ID) is written, the job becomes completed with its transcript
    and actual cost. Idempotent: a job whose log exists is never charged again."""
    cost = money(cost)

    def plan(tx):
        existing = tx.read(USAGE_LOGS, job_id)
        job = tx.read(JOBS, job_id)
        if existing is not None:
            if job is not None and job.get("status") == "processing":
                # Charged before, yet processing again (state restored by hand, a replayed
                # event): complete it without touching the balance.
                tx.update(JOBS, job_id, {
                    "status": "completed",
                    "transcription_text": transcription_text,
                    "actual_cost": existing["amount"],
                    "completed_at": iso(now),
                    "error_message": None,
                })
            return ChargeOutcome("already_charged", job=job, log=existing, cost=money(existing["amount"]))
        if job is None or job.get("status") != "processing":
            return ChargeOutcome("not_processing", job=job)
        user_id = job["user_id"]
        account = tx.read(CREDITS, user_id)
        before = money(account["credits"]) if account else Decimal(0)
        if account is None or before < cost:
            return ChargeOutcome("insufficient_credits", job=job, credits_before=before, cost=cost)
        after = before - cost
        stamp = iso(now)
        minutes = Decimal(str(duration_seconds)) / SECONDS_PER_MINUTE
        tx.update(
            CREDITS,
            user_id,
            {
                "credits": money_out(after),
                "total_transcriptions": int(account.get("total_transcriptions") or 0) + 1,
                "total_minutes_transcribed": money_out(money(account.get("total_minutes_transcribed") or 0) + minutes),
                "total_credits_spent": money_out(money(account.get("total_credits_spent") or 0) + cost),
                "updated_at": stamp,
                "last_transcription_at": stamp,
            },
        )
        log = tx.create(
            USAGE_LOGS,
            {
                "user_id": user_id,
                "job_id": job_id,
                "action": "transcription_charge",
                "amount": money_out(cost),
                "credits_before": money_out(before),
                "credits_after": money_out(after),
                "duration_seconds": float(duration_seconds),
                "api_version": job.get("api_version"),
                "created_at": stamp,
            },
            row_id=job_id,
            permissions=owner_read(user_id),
        )
        tx.update(
            JOBS,
            job_id,
            {
                "status": "completed",
                "transcription_text": transcription_text,
                "actual_cost": money_out(cost),
                "duration_seconds": float(duration_seconds),
                "completed_at": stamp,
                "error_message": None,
            },
        )
        return ChargeOutcome("charged", job=job, log=log, credits_before=before, credits_after=after, cost=cost)

    return store.transact(plan)


def move_job(store, job_id, *, expect, patch):
    """Sets `patch` on the job only while its status is one of `expect` (compare-and-set).
    Returns (moved, job as read)."""

    def plan(tx):
        job = tx.read(JOBS, job_id)
        if job is None or job.get("status") not in expect:
            return False, job
        tx.update(JOBS, job_id, patch)
        return True, job

    return store.transact(plan)


# --- consistency ---------------------------------------------------------------------------

DEBITS = {"transcription_charge"}
CREDITS_IN = {"credit_grant", "refund"}


def account_findings(account, logs):
    """Inconsistencies between one user's balance and their usage logs (in ledger order):
    a log whose arithmetic is wrong, a chain whose `credits_before` is not the previous
    `credits_after`, a chain that does not start at 0 or does not end at the balance, totals
    that disagree with the charges, a negative balance. Pure: for cleanup-cron's report."""
    user_id = account.get("user_id") or account.get("$id")
    findings = []

    def finding(kind, message, **details):
        findings.append({"user_id": user_id, "kind": kind, "message": message, **details})

    balance = money(account.get("credits") or 0)
    if balance < 0:
        finding("negative_balance", f"balance is {balance}", credits=float(balance))
    expected = Decimal(0)
    spent = Decimal(0)
    charges = 0
    for log in logs:
        before, after, amount = money(log["credits_before"]), money(log["credits_after"]), money(log["amount"])
        action = log.get("action")
        if before != expected:
            finding(
                "broken_chain",
                f"log {log['$id']} starts at {before}, but the previous balance was {expected}",
                log_id=log["$id"], credits_before=float(before), expected=float(expected),
            )
        if action in DEBITS:
            charges += 1
            spent += amount
            ok = after == before - amount
        elif action in CREDITS_IN:
            ok = after == before + amount
        else:  # adjustment: signed amount
            ok = after == before + amount
        if not ok:
            finding("bad_arithmetic", f"log {log['$id']} ({action}) goes {before} → {after} for amount {amount}", log_id=log["$id"])
        expected = after
    if logs and expected != balance:
        finding("balance_mismatch", f"the usage logs end at {expected}, the balance is {balance}", logged=float(expected), credits=float(balance))
    if not logs and balance != 0:
        finding("balance_without_logs", f"balance {balance} has no usage log behind it", credits=float(balance))
    total_spent = money(account.get("total_credits_spent") or 0)
    if total_spent != spent:
        finding("spent_mismatch", f"total_credits_spent is {total_spent}, the charges add up to {spent}", recorded=float(total_spent), logged=float(spent))
    total_count = int(account.get("total_transcriptions") or 0)
    if total_count != charges:
        finding("count_mismatch", f"total_transcriptions is {total_count}, there are {charges} charges", recorded=total_count, logged=charges)
    return findings


def user_logs(store, user_id):
    """A user's usage logs in ledger (commit) order."""
    return list(store.rows(USAGE_LOGS, [Query.equal("user_id", [user_id]), Query.order_asc("$sequence")]))
