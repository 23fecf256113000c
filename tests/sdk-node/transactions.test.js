// Transactions with node-appwrite 27.1.0 through both services: lifecycle, staging on every write
// route and through createOperations, reads inside the transaction, atomic commit, rollback,
// conflicts, the operation limit, and 50 concurrent transfers that keep the books balanced.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { AppwriteException, Permission, Query, Role } from "node-appwrite";
import { startEmulator, unique } from "./harness.js";
import { KINDS, service } from "./services.js";

let emu;

before(async () => {
  emu = await startEmulator();
});

after(async () => {
  assert.equal(await emu.stop(), 0, "clean shutdown on SIGTERM");
});

async function rejects(promise, code, type, message) {
  await assert.rejects(promise, (e) => {
    assert.ok(e instanceof AppwriteException, String(e));
    assert.equal(e.code, code, e.message);
    assert.equal(e.type, type, e.message);
    if (message !== undefined) assert.equal(e.message, message);
    return true;
  });
}

async function accounts(kind, balances = { a1: 100, a2: 50 }) {
  const s = service(kind, emu.client());
  const db = unique("db");
  await s.create({ databaseId: db, name: "T" });
  await s.createTable({ databaseId: db, tableId: "acc", name: "acc", permissions: [Permission.read(Role.any())] });
  await s.createString({ databaseId: db, tableId: "acc", key: "name", size: 64, required: false });
  await s.createInteger({ databaseId: db, tableId: "acc", key: "bal", required: false, min: 0 });
  for (const [id, bal] of Object.entries(balances)) await s.createRow({ databaseId: db, tableId: "acc", rowId: id, data: { bal } });
  return { s, db };
}

async function balances(s, db, extra = {}) {
  const { rows } = await s.listRows({ databaseId: db, tableId: "acc", queries: [Query.limit(100)], ...extra });
  return Object.fromEntries(rows.map((r) => [r.$id, r.bal]));
}

for (const kind of KINDS) {
  test(`${kind}: lifecycle and validation`, async () => {
    const s = service(kind, emu.client());
    const t = await s.createTransaction({ ttl: 120 });
    assert.deepEqual([t.status, t.operations], ["pending", 0]);
    const ttl = (Date.parse(t.expiresAt) - Date.parse(t.$createdAt)) / 1000;
    assert.ok(ttl >= 119 && ttl <= 121, String(ttl));
    await rejects(s.createTransaction({ ttl: 30 }), 400, "general_argument_invalid", "Invalid `ttl` param: Value must be a valid range between 60 and 3,600");
    assert.equal((await s.getTransaction({ transactionId: t.$id })).$id, t.$id);
    const listed = await s.listTransactions({ queries: [Query.equal("status", ["pending"])] });
    assert.ok(listed.transactions.some((x) => x.$id === t.$id));
    await rejects(s.updateTransaction({ transactionId: t.$id }), 400, "general_bad_request", "Either commit or rollback must be true");
    await rejects(s.updateTransaction({ transactionId: t.$id, commit: true, rollback: true }), 400, "general_bad_request", "Cannot commit and rollback at the same time");
    await s.deleteTransaction({ transactionId: t.$id });
    await rejects(s.getTransaction({ transactionId: t.$id }), 404, "transaction_not_found");
  });

  test(`${kind}: staging on every route, reads inside, commit`, async () => {
    const { s, db } = await accounts(kind);
    const { $id: transactionId } = await s.createTransaction();
    const made = await s.createRow({ databaseId: db, tableId: "acc", rowId: "a3", data: { bal: 3 }, transactionId });
    assert.equal(made.$id, "a3");
    await s.updateRow({ databaseId: db, tableId: "acc", rowId: "a1", data: { name: "one" }, transactionId });
    await s.upsertRow({ databaseId: db, tableId: "acc", rowId: "a4", data: { bal: 4 }, transactionId });
    const inc = await s.increment({ databaseId: db, tableId: "acc", rowId: "a2", column: "bal", value: 5, transactionId });
    assert.equal(inc.bal, 5);
    await s.decrement({ databaseId: db, tableId: "acc", rowId: "a1", column: "bal", value: 10, transactionId });
    await s.deleteRow({ databaseId: db, tableId: "acc", rowId: "a4", transactionId });
    assert.equal((await s.createRows({ databaseId: db, tableId: "acc", rows: [{ $id: "b1", bal: 1 }], transactionId })).total, 1);
    await s.updateRows({ databaseId: db, tableId: "acc", data: { name: "small" }, queries: [Query.lessThan("bal", 2)], transactionId });
    await s.upsertRows({ databaseId: db, tableId: "acc", rows: [{ $id: "b2", bal: 2 }], transactionId });
    await s.deleteRows({ databaseId: db, tableId: "acc", queries: [Query.equal("$id", ["b2"])], transactionId });
    assert.equal((await s.getTransaction({ transactionId })).operations, 10);
    assert.deepEqual(await balances(s, db), { a1: 100, a2: 50 });
    const inside = { a1: 90, a2: 55, a3: 3, b1: 1 };
    assert.deepEqual(await balances(s, db, { transactionId }), inside);
    assert.equal((await s.getRow({ databaseId: db, tableId: "acc", rowId: "b1", transactionId })).name, "small");
    assert.equal((await s.updateTransaction({ transactionId, commit: true })).status, "committed");
    assert.deepEqual(await balances(s, db), inside);
    await rejects(s.updateTransaction({ transactionId, commit: true }), 400, "transaction_not_ready");
    await s.delete({ databaseId: db });
  });

  test(`${kind}: createOperations with every action, rollback, atomicity`, async () => {
    const { s, db } = await accounts(kind);
    const col = s.legacy ? "attribute" : "column";
    const { $id: transactionId } = await s.createTransaction();
    const staged = await s.createOperations({
      transactionId,
      operations: [
        s.op("create", db, "acc", "n1", { bal: 10 }),
        s.op("update", db, "acc", "n1", { bal: 11 }),
        s.op("increment", db, "acc", "n1", { [col]: "bal", value: 4 }),
        s.op("decrement", db, "acc", "a1", { [col]: "bal", value: 30, min: 0 }),
        s.op("upsert", db, "acc", "a2", { bal: 60 }),
        s.op("bulkCreate", db, "acc", undefined, [{ $id: "m1", bal: 1 }, { $id: "m2", bal: 2 }]),
        s.op("bulkUpdate", db, "acc", undefined, { queries: [Query.lessThan("bal", 3)], data: { name: "tiny" } }),
        s.op("bulkUpsert", db, "acc", undefined, [{ $id: "m2", bal: 20 }]),
        s.op("bulkDelete", db, "acc", undefined, { queries: [Query.equal("$id", ["m1"])] }),
        s.op("delete", db, "acc", "n1"),
      ],
    });
    assert.equal(staged.operations, 10);
    await s.updateTransaction({ transactionId, commit: true });
    assert.deepEqual(await balances(s, db), { a1: 70, a2: 60, m2: 20 });

    const rolled = await s.createTransaction();
    await s.createOperations({ transactionId: rolled.$id, operations: [s.op("delete", db, "acc", "a1")] });
    assert.equal((await s.updateTransaction({ transactionId: rolled.$id, rollback: true })).status, "failed");
    assert.equal((await balances(s, db)).a1, 70);

    const broken = await s.createTransaction();
    await s.createOperations({
      transactionId: broken.$id,
      operations: [s.op("create", db, "acc", "ok", { bal: 1 }), s.op("update", db, "acc", "a2", { bal: -1 }), s.op("create", db, "acc", "ok2", { bal: 2 })],
    });
    await rejects(s.updateTransaction({ transactionId: broken.$id, commit: true }), 400, "document_invalid_structure");
    assert.equal((await s.getTransaction({ transactionId: broken.$id })).status, "failed");
    assert.deepEqual(await balances(s, db), { a1: 70, a2: 60, m2: 20 });
    await rejects(s.createOperations({ transactionId: broken.$id, operations: [s.op("delete", db, "acc", "a1")] }), 400, "general_bad_request");
    await s.delete({ databaseId: db });
  });

  test(`${kind}: conflicts and the operation limit`, async () => {
    const { s, db } = await accounts(kind);
    const t1 = await s.createTransaction();
    const t2 = await s.createTransaction();
    await s.updateRow({ databaseId: db, tableId: "acc", rowId: "a1", data: { bal: 1 }, transactionId: t1.$id });
    await s.updateRow({ databaseId: db, tableId: "acc", rowId: "a1", data: { bal: 2 }, transactionId: t2.$id });
    await s.updateTransaction({ transactionId: t1.$id, commit: true });
    await rejects(s.updateTransaction({ transactionId: t2.$id, commit: true }), 409, "transaction_conflict");
    assert.equal((await balances(s, db)).a1, 1);
    const big = await s.createTransaction();
    const ops = Array.from({ length: 100 }, (_, i) => s.op("create", db, "acc", `x${i}`, { bal: i }));
    assert.equal((await s.createOperations({ transactionId: big.$id, operations: ops })).operations, 100);
    await rejects(
      s.createRow({ databaseId: db, tableId: "acc", rowId: "y", data: { bal: 1 }, transactionId: big.$id }),
      400,
      "transaction_limit_exceeded",
      "Transaction already has 100 operations, adding 1 would exceed the maximum of 100",
    );
    await s.updateTransaction({ transactionId: big.$id, commit: true });
    assert.equal((await s.listRows({ databaseId: db, tableId: "acc" })).total, 102);
    await s.delete({ databaseId: db });
  });
}

test("50 concurrent transfers between 10 accounts keep the sum and never go negative", async () => {
  const start = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`acct${i}`, 100]));
  const { s, db } = await accounts("tables", start);
  let conflicts = 0;
  const transfer = async (n) => {
    const c = service("tables", emu.client());
    const src = `acct${n % 10}`;
    const dst = `acct${(n * 7 + 3) % 10 === n % 10 ? (n + 1) % 10 : (n * 7 + 3) % 10}`;
    const want = 1 + ((n * 37) % 60);
    for (let attempt = 0; attempt < 200; attempt++) {
      const { $id: transactionId } = await c.createTransaction();
      const a = (await c.getRow({ databaseId: db, tableId: "acc", rowId: src })).bal;
      const b = (await c.getRow({ databaseId: db, tableId: "acc", rowId: dst })).bal;
      const amount = Math.min(want, a);
      await c.updateRow({ databaseId: db, tableId: "acc", rowId: src, data: { bal: a - amount }, transactionId });
      await c.updateRow({ databaseId: db, tableId: "acc", rowId: dst, data: { bal: b + amount }, transactionId });
      const a2 = (await c.getRow({ databaseId: db, tableId: "acc", rowId: src })).bal;
      const b2 = (await c.getRow({ databaseId: db, tableId: "acc", rowId: dst })).bal;
      if (a2 !== a || b2 !== b) {
        await c.updateTransaction({ transactionId, rollback: true });
        continue;
      }
      try {
        await c.updateTransaction({ transactionId, commit: true });
        return amount;
      } catch (e) {
        assert.equal(e.type, "transaction_conflict", e.message);
        conflicts++;
      }
    }
    throw new Error("transfer never committed");
  };
  const moved = await Promise.all(Array.from({ length: 50 }, (_, n) => transfer(n)));
  assert.equal(moved.length, 50);
  const final = Object.values(await balances(s, db));
  assert.equal(final.reduce((x, y) => x + y, 0), 1000);
  assert.ok(Math.min(...final) >= 0);
  assert.ok(conflicts >= 0);
  await s.delete({ databaseId: db });
});
