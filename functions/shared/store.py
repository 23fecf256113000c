"""The backend's tables (collections of `schemas/collections/`) through TablesDB, and the one
way every function changes rows that others may change at the same time: a transaction whose
inputs are re-read after staging, retried on `transaction_conflict`.

Why the re-read: a transaction detects writes made to a row *after* the write to it was staged.
A decision taken on a read made before staging (a balance, a job's status) would miss a write
that landed between that read and the staging, so `Store.transact` reads the inputs again once
everything is staged and starts over if they moved. Together with the commit-time check this
makes each transaction a compare-and-set over the rows it read.
"""

import random
import time

from appwrite.exception import AppwriteException
from appwrite.id import ID
from appwrite.services.tables_db import TablesDB

from .utils import each_row, is_conflict, is_not_found, record

JOBS = "transcription_jobs"
USAGE_LOGS = "usage_logs"
CREDITS = "user_credits"
API_REQUESTS = "api_requests"

TRANSACTION_TTL = 60
MAX_ATTEMPTS = 25


class Contended(Exception):
    """Too many concurrent writers: the transaction kept conflicting."""


class Store:
    """The environment's database (DATABASE_ID) through TablesDB."""

    def __init__(self, client, database_id, sleep=time.sleep):
        self.tables = TablesDB(client)
        self.database_id = database_id
        self._sleep = sleep
        self.retries = 0  # transactions started over (conflicts, moved inputs), for the logs

    def get(self, table, row_id, transaction_id=None):
        """The row as a dict, or None when it does not exist."""
        try:
            kw = {"transaction_id": transaction_id} if transaction_id else {}
            return record(self.tables.get_row(database_id=self.database_id, table_id=table, row_id=row_id, **kw))
        except AppwriteException as e:
            if is_not_found(e):
                return None
            raise

    def create(self, table, data, row_id=None, permissions=None, transaction_id=None):
        kw = {"transaction_id": transaction_id} if transaction_id else {}
        row = self.tables.create_row(
            database_id=self.database_id, table_id=table, row_id=row_id or ID.unique(), data=data, permissions=permissions, **kw
        )
        return record(row)

    def update(self, table, row_id, data, transaction_id=None):
        kw = {"transaction_id": transaction_id} if transaction_id else {}
        return record(self.tables.update_row(database_id=self.database_id, table_id=table, row_id=row_id, data=data, **kw))

    def delete(self, table, row_id):
        """Deletes the row; False when it was already gone."""
        try:
            self.tables.delete_row(database_id=self.database_id, table_id=table, row_id=row_id)
            return True
        except AppwriteException as e:
            if is_not_found(e):
                return False
            raise

    def rows(self, table, queries=()):
        return each_row(self.tables, self.database_id, table, queries)

    def list(self, table, queries):
        return [record(r) for r in self.tables.list_rows(database_id=self.database_id, table_id=table, queries=list(queries), total=False).rows]

    def transact(self, plan):
        """Runs `plan(tx)` until it commits.

        `plan` reads what it decides on through `tx.read(table, id)`, stages its writes through
        `tx.create` / `tx.update`, and returns a result; or returns without staging anything to
        stop (the result is returned as it is). After staging, every row read is read again: if
        one moved, the transaction is rolled back and the plan runs again, as it does on
        `transaction_conflict` at commit. Returns the plan's result.
        """
        for attempt in range(MAX_ATTEMPTS):
            tx = Transaction(self)
            try:
                result = plan(tx)
                if not tx.staged:
                    tx.discard()
                    return result
                if tx.inputs_moved():
                    tx.discard()
                else:
                    self.tables.update_transaction(transaction_id=tx.id, commit=True)
                    return result
            except AppwriteException as e:
                tx.discard()
                if not (is_conflict(e) or getattr(e, "type", "") == "transaction_conflict"):
                    raise
            self.retries += 1
            # Jittered backoff so concurrent writers of one balance spread out.
            self._sleep(random.uniform(0.005, 0.02) * min(attempt + 1, 8))
        raise Contended(f"gave up after {MAX_ATTEMPTS} conflicting attempts")


class Transaction:
    """One attempt of `Store.transact`: reads remembered, writes staged."""

    def __init__(self, store):
        self.store = store
        self._id = None
        self.staged = 0
        self.reads = {}

    @property
    def id(self):
        if self._id is None:
            self._id = self.store.tables.create_transaction(ttl=TRANSACTION_TTL).id
        return self._id

    def read(self, table, row_id):
        row = self.store.get(table, row_id)
        self.reads[(table, row_id)] = row
        return row

    def create(self, table, data, row_id=None, permissions=None):
        self.staged += 1
        return self.store.create(table, data, row_id=row_id, permissions=permissions, transaction_id=self.id)

    def update(self, table, row_id, data):
        self.staged += 1
        return self.store.update(table, row_id, data, transaction_id=self.id)

    def inputs_moved(self):
        return any(self.store.get(table, row_id) != seen for (table, row_id), seen in self.reads.items())

    def discard(self):
        if self._id is None:
            return
        try:
            self.store.tables.update_transaction(transaction_id=self._id, rollback=True)
        except AppwriteException:
            pass  # an expired or failed transaction is already gone
