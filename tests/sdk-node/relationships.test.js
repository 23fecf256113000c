// Relationships with node-appwrite 27.1.0, through the legacy Databases API and TablesDB: creation
// of both sides, nested writes, reads with and without select, queries through relationships,
// onDelete (restrict, setNull, cascade over three levels), updates (Node's `…/{key}/relationship`
// shape for TablesDB) and deletion of both sides.
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

async function fresh(kind, ...tables) {
  const s = service(kind, emu.client());
  const db = unique("db");
  await s.create({ databaseId: db, name: "R" });
  for (const t of tables) {
    await s.createTable({ databaseId: db, tableId: t, name: t, permissions: [Permission.read(Role.any())] });
    await s.createString({ databaseId: db, tableId: t, key: "name", size: 64, required: false });
  }
  return { s, db };
}

const ids = (rows) => rows.map((r) => r.$id).sort();

for (const kind of KINDS) {
  test(`${kind}: both sides, defaults and refusals`, async () => {
    const { s, db } = await fresh(kind, "p", "c");
    const rel = await s.createRelationship({ databaseId: db, tableId: "p", relatedTableId: "c", type: "oneToMany", twoWay: true, twoWayKey: "parent" });
    assert.equal(rel.key, "c", "the key defaults to the related ID");
    assert.deepEqual([rel.relationType, rel.twoWay, rel.onDelete, rel.side, rel.status], ["oneToMany", true, "restrict", "parent", "processing"]);
    assert.equal(s.legacy ? rel.relatedCollection : rel.relatedTable, "c");
    const child = await s.getColumn({ databaseId: db, tableId: "c", key: "parent" });
    assert.deepEqual([child.side, child.twoWayKey, child.status], ["child", "c", "available"]);
    await rejects(s.createRelationship({ databaseId: db, tableId: "p", relatedTableId: "nope", type: "oneToOne" }), 404, s.err("collection_not_found"));
    await rejects(s.createRelationship({ databaseId: db, tableId: "p", relatedTableId: "c", type: "oneToOne", key: "name" }), 409, s.err("attribute_already_exists"));
    await rejects(
      s.createRelationship({ databaseId: db, tableId: "p", relatedTableId: "c", type: "sideways" }),
      400,
      "general_argument_invalid",
      "Invalid `type` param: Value must be one of (oneToOne, manyToOne, manyToMany, oneToMany)",
    );
    assert.deepEqual((await s.listColumns({ databaseId: db, tableId: "p" })).map((c) => c.key), ["name", "c"]);
    await s.delete({ databaseId: db });
  });

  test(`${kind}: nested writes, select, queries`, async () => {
    const { s, db } = await fresh(kind, "books", "authors", "tags");
    await s.createRelationship({ databaseId: db, tableId: "books", relatedTableId: "authors", type: "manyToOne", key: "author", twoWay: true, twoWayKey: "books" });
    await s.createRelationship({ databaseId: db, tableId: "books", relatedTableId: "tags", type: "manyToMany", key: "tags" });
    const made = await s.createRow({ databaseId: db, tableId: "books", rowId: "b1", data: { name: "One", author: { $id: "a1", name: "Ann" }, tags: [{ name: "new" }] } });
    assert.equal(made.author.name, "Ann");
    assert.equal(made.tags.length, 1);
    await s.createRow({ databaseId: db, tableId: "books", rowId: "b2", data: { name: "Two", author: "a1" } });
    const plain = await s.getRow({ databaseId: db, tableId: "books", rowId: "b2" });
    assert.equal(plain.author, "a1", "without select the stored ID is returned");
    assert.equal("tags" in plain, false, "virtual sides are absent without select");
    const author = await s.getRow({ databaseId: db, tableId: "authors", rowId: "a1", queries: [Query.select(["*", "books.*"])] });
    assert.deepEqual(author.books.map((b) => b.$id), ["b1", "b2"]);
    assert.equal("author" in author.books[0], false);
    const found = await s.listRows({ databaseId: db, tableId: "books", queries: [Query.equal("author.name", ["Ann"]), Query.equal("name", ["Two"])] });
    assert.deepEqual(ids(found.rows), ["b2"]);
    await rejects(
      s.listRows({ databaseId: db, tableId: "authors", queries: [Query.equal("books", ["b1"])] }),
      400,
      "general_query_invalid",
      "Invalid query: Cannot query on virtual relationship attribute",
    );
    await s.updateRow({ databaseId: db, tableId: "authors", rowId: "a1", data: { books: ["b2"] } });
    assert.equal((await s.getRow({ databaseId: db, tableId: "books", rowId: "b1" })).author, null);
    await rejects(
      s.createRow({ databaseId: db, tableId: "books", rowId: "b3", data: { author: ["a1"] } }),
      400,
      "relationship_value_invalid",
      "Invalid relationship value. Must be either a document ID or a document, array given.",
    );
    await s.delete({ databaseId: db });
  });

  test(`${kind}: onDelete restrict, setNull and a three-level cascade`, async () => {
    const { s, db } = await fresh(kind, "orgs", "teams", "people", "notes");
    await s.createRelationship({ databaseId: db, tableId: "orgs", relatedTableId: "teams", type: "oneToMany", key: "teams", twoWay: true, twoWayKey: "org", onDelete: "cascade" });
    await s.createRelationship({ databaseId: db, tableId: "teams", relatedTableId: "people", type: "oneToMany", key: "people", onDelete: "cascade" });
    await s.createRelationship({ databaseId: db, tableId: "people", relatedTableId: "notes", type: "oneToOne", key: "note", onDelete: "restrict" });
    await s.createRow({
      databaseId: db,
      tableId: "orgs",
      rowId: "o1",
      data: { name: "O", teams: [{ $id: "t1", people: [{ $id: "p1" }, { $id: "p2" }] }, { $id: "t2", people: [{ $id: "p3" }] }] },
    });
    // three levels down is as deep as a nested write goes, so the note is linked on its own
    await s.updateRow({ databaseId: db, tableId: "people", rowId: "p2", data: { note: { $id: "n1", name: "N" } } });
    await rejects(s.deleteRow({ databaseId: db, tableId: "orgs", rowId: "o1" }), 403, s.err("document_delete_restricted"));
    assert.equal((await s.listRows({ databaseId: db, tableId: "people" })).total, 3, "a refused cascade changes nothing");
    await s.updateRelationship({ databaseId: db, tableId: "people", key: "note", onDelete: "setNull" });
    await s.deleteRow({ databaseId: db, tableId: "orgs", rowId: "o1" });
    for (const t of ["orgs", "teams", "people"]) {
      assert.equal((await s.listRows({ databaseId: db, tableId: t })).total, 0, `${t} left an orphan`);
    }
    assert.deepEqual(ids((await s.listRows({ databaseId: db, tableId: "notes" })).rows), ["n1"], "setNull keeps the related row");
    await s.delete({ databaseId: db });
  });

  test(`${kind}: update and delete of a relationship`, async () => {
    const { s, db } = await fresh(kind, "p", "c");
    await s.createRelationship({ databaseId: db, tableId: "p", relatedTableId: "c", type: "oneToOne", key: "c", twoWay: true, twoWayKey: "p" });
    const up = await s.updateRelationship({ databaseId: db, tableId: "p", key: "c", onDelete: "cascade", newKey: "child" });
    assert.deepEqual([up.key, up.onDelete], ["child", "cascade"]);
    const back = await s.getColumn({ databaseId: db, tableId: "c", key: "p" });
    assert.deepEqual([back.twoWayKey, back.onDelete], ["child", "cascade"]);
    await s.createRow({ databaseId: db, tableId: "p", rowId: "p1", data: { child: { $id: "c1", name: "k" } } });
    assert.equal((await s.getRow({ databaseId: db, tableId: "c", rowId: "c1" })).p, "p1");
    await s.deleteColumn({ databaseId: db, tableId: "p", key: "child" });
    assert.deepEqual((await s.listColumns({ databaseId: db, tableId: "c" })).map((c) => c.key), ["name"]);
    assert.deepEqual(Object.keys(await s.getRow({ databaseId: db, tableId: "p", rowId: "p1" })).filter((k) => !k.startsWith("$")), ["name"]);
    await s.delete({ databaseId: db });
  });
}
