// Core Databases/TablesDB scenarios with node-appwrite 27.1.0 (response format 1.9.5).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { AppwriteException, Databases, ID, Permission, Query, Role, TablesDB } from "node-appwrite";
import { startEmulator, unique } from "./harness.js";

let emu;
let tables;
let databases;

before(async () => {
  emu = await startEmulator();
  tables = new TablesDB(emu.client());
  databases = new Databases(emu.client());
});

after(async () => {
  assert.equal(await emu.stop(), 0, "clean shutdown on SIGTERM");
});

async function rejects(promise, code, type) {
  await assert.rejects(promise, (e) => {
    assert.ok(e instanceof AppwriteException, String(e));
    assert.equal(e.code, code, e.message);
    assert.equal(e.type, type, e.message);
    return true;
  });
}

test("tablesdb: database, table, columns, rows end to end", async () => {
  const db = unique("db");
  const made = await tables.create({ databaseId: db, name: "Main" });
  assert.equal(made.type, "tablesdb");
  await tables.createTable({ databaseId: db, tableId: "jobs", name: "Jobs", permissions: [Permission.read(Role.any())], rowSecurity: false });
  await tables.createStringColumn({ databaseId: db, tableId: "jobs", key: "title", size: 64, required: true });
  await tables.createIntegerColumn({ databaseId: db, tableId: "jobs", key: "n", required: false, min: 0, max: 100 });
  await tables.createEnumColumn({ databaseId: db, tableId: "jobs", key: "status", elements: ["uploaded", "processing", "completed", "failed"], required: false, xdefault: "uploaded" });
  await tables.createIndex({ databaseId: db, tableId: "jobs", key: "by_status", type: "key", columns: ["status"] });
  const cols = await tables.listColumns({ databaseId: db, tableId: "jobs" });
  assert.deepEqual(cols.columns.map((c) => [c.key, c.status]), [["title", "available"], ["n", "available"], ["status", "available"]]);

  const row = await tables.createRow({ databaseId: db, tableId: "jobs", rowId: ID.unique(), data: { title: "a", n: 1 } });
  assert.equal(typeof row.$sequence, "string", "1.9.x clients get $sequence as a string");
  assert.equal(row.status, "uploaded");
  assert.equal(row.$tableId, "jobs");
  await tables.createRow({ databaseId: db, tableId: "jobs", rowId: "b", data: { title: "b", n: 2, status: "completed" } });
  const done = await tables.listRows({ databaseId: db, tableId: "jobs", queries: [Query.equal("status", ["completed"])] });
  assert.equal(done.total, 1);
  assert.equal(done.rows[0].$id, "b");

  const up = await tables.updateRow({ databaseId: db, tableId: "jobs", rowId: "b", data: { n: 5 } });
  assert.equal(up.n, 5);
  assert.equal(up.title, "b");
  const inc = await tables.incrementRowColumn({ databaseId: db, tableId: "jobs", rowId: "b", column: "n", value: 3 });
  assert.equal(inc.n, 8);
  const dec = await tables.decrementRowColumn({ databaseId: db, tableId: "jobs", rowId: "b", column: "n" });
  assert.equal(dec.n, 7);
  const ups = await tables.upsertRow({ databaseId: db, tableId: "jobs", rowId: "c", data: { title: "c" } });
  assert.equal(ups.title, "c");
  const sel = await tables.getRow({ databaseId: db, tableId: "jobs", rowId: "c", queries: [Query.select(["title"])] });
  assert.deepEqual(Object.keys(sel).filter((k) => !k.startsWith("$")), ["title"]);
  await tables.deleteRow({ databaseId: db, tableId: "jobs", rowId: "c" });
  await rejects(tables.getRow({ databaseId: db, tableId: "jobs", rowId: "c" }), 404, "row_not_found");
  await tables.delete({ databaseId: db });
});

test("legacy databases service on the same store", async () => {
  const db = unique("db");
  await databases.create({ databaseId: db, name: "Legacy" });
  await databases.createCollection({ databaseId: db, collectionId: "c", name: "C", documentSecurity: true });
  await databases.createFloatAttribute({ databaseId: db, collectionId: "c", key: "x", required: false, min: 0, max: 1 });
  const doc = await databases.createDocument({ databaseId: db, collectionId: "c", documentId: "d", data: { x: 0.25 } });
  assert.equal(doc.$collectionId, "c");
  const asRow = await tables.getRow({ databaseId: db, tableId: "c", rowId: "d" });
  assert.equal(asRow.x, 0.25);
  await rejects(databases.createDocument({ databaseId: db, collectionId: "c", documentId: "e", data: { x: 2 } }), 400, "document_invalid_structure");
  await rejects(databases.createDocument({ databaseId: db, collectionId: "c", documentId: "d", data: { x: 0.5 } }), 409, "document_already_exists");
  await databases.delete({ databaseId: db });
});

test("bulk rows and query paging", async () => {
  const db = unique("db");
  await tables.create({ databaseId: db, name: "Bulk" });
  await tables.createTable({ databaseId: db, tableId: "t", name: "T" });
  await tables.createIntegerColumn({ databaseId: db, tableId: "t", key: "i", required: true });
  const made = await tables.createRows({ databaseId: db, tableId: "t", rows: Array.from({ length: 30 }, (_, i) => ({ $id: `r${String(i).padStart(2, "0")}`, i })) });
  assert.equal(made.total, 30);
  const first = await tables.listRows({ databaseId: db, tableId: "t" });
  assert.equal(first.total, 30);
  assert.equal(first.rows.length, 25, "default limit 25");
  const next = await tables.listRows({ databaseId: db, tableId: "t", queries: [Query.cursorAfter(first.rows.at(-1).$id)] });
  assert.deepEqual(next.rows.map((r) => r.i), [25, 26, 27, 28, 29]);
  const upd = await tables.updateRows({ databaseId: db, tableId: "t", data: { i: 0 }, queries: [Query.greaterThan("i", 27)] });
  assert.equal(upd.total, 2);
  const del = await tables.deleteRows({ databaseId: db, tableId: "t", queries: [Query.equal("i", [0])] });
  assert.equal(del.total, 3);
  assert.equal((await tables.listRows({ databaseId: db, tableId: "t", total: true })).total, 27);
  await tables.delete({ databaseId: db });
});

test("errors: project, key, scope, unknown attribute, missing search index", async () => {
  const db = unique("db");
  await tables.create({ databaseId: db, name: "E" });
  await tables.createTable({ databaseId: db, tableId: "t", name: "T" });
  await tables.createStringColumn({ databaseId: db, tableId: "t", key: "s", size: 10, required: false });
  const noProject = new TablesDB(emu.client({ projectId: "missing" }));
  await rejects(noProject.list({}), 404, "project_not_found");
  const badKey = new TablesDB(emu.client({ withKey: false }).setKey("standard_nope"));
  await rejects(badKey.list({}), 401, "user_unauthorized");
  const guest = new TablesDB(emu.client({ withKey: false }));
  await rejects(guest.list({}), 401, "general_unauthorized_scope");
  await rejects(tables.listRows({ databaseId: db, tableId: "t", queries: [Query.equal("zz", ["a"])] }), 400, "general_query_invalid");
  await assert.rejects(tables.listRows({ databaseId: db, tableId: "t", queries: [Query.search("s", "a")] }), /requires a fulltext index/);
  await rejects(tables.getTable({ databaseId: db, tableId: "nope" }), 404, "table_not_found");
  await tables.delete({ databaseId: db });
});
