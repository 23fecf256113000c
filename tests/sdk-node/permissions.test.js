// The permission matrix with node-appwrite 27.1.0: two users (alice, labelled vip, and bob), a
// guest and the API key, over TablesDB tables and buckets with row/file security off and on. Each
// cell is a real SDK call by that caller; the tables say what Appwrite answers.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { Account, AppwriteException, Client, Permission, Role, Storage, TablesDB, Users } from "node-appwrite";
import { InputFile } from "node-appwrite/file";
import { startEmulator, unique } from "./harness.js";

const ACTORS = ["key", "alice", "bob", "guest"];
const SUCCESS = { create: 201, delete: 204 };
let emu;
let actors;

async function user(name, labels) {
  const key = emu.client();
  const userId = unique(name);
  const email = `${userId}@example.com`;
  await new Users(key).create({ userId, email, password: "password123" });
  if (labels) await new Users(key).updateLabels({ userId, labels });
  const session = await new Account(key).createEmailPasswordSession({ email, password: "password123" });
  return { userId, client: new Client().setEndpoint(emu.endpoint).setProject(emu.project).setSession(session.secret) };
}

before(async () => {
  emu = await startEmulator();
  actors = {
    key: { client: emu.client() },
    alice: await user("alice", ["vip"]),
    bob: await user("bob"),
    guest: { client: emu.client({ withKey: false }) },
  };
});

after(async () => {
  assert.equal(await emu.stop(), 0, "clean shutdown on SIGTERM");
});

const fill = (perms) => perms.map((p) => p.replace("ALICE", actors.alice.userId).replace("BOB", actors.bob.userId));

async function outcome(action, call) {
  try {
    await call();
    return SUCCESS[action] ?? 200;
  } catch (e) {
    if (!(e instanceof AppwriteException)) throw e;
    return e.code;
  }
}

/** Runs every cell of `table` ([action, target, {actor: status}]) and reports every mismatch. */
async function check(table, run) {
  const wrong = [];
  for (const [action, target, row] of table) {
    for (const actor of ACTORS) {
      if (!(actor in row)) continue;
      const got = await run(action, target, actor);
      if (got !== row[actor]) wrong.push(`${actor} ${action} ${target}: expected ${row[actor]}, got ${got}`);
    }
  }
  assert.deepEqual(wrong, []);
}

async function table(db, tableId, permissions, rowSecurity) {
  const t = new TablesDB(actors.key.client);
  await t.createTable({ databaseId: db, tableId, name: "T", permissions, rowSecurity });
  await t.createStringColumn({ databaseId: db, tableId, key: "title", size: 64, required: false });
}

function rowRunner(db, tableId) {
  let n = 0;
  return (action, target, actor) => {
    const t = new TablesDB(actors[actor].client);
    const calls = {
      list: () => t.listRows({ databaseId: db, tableId }),
      get: () => t.getRow({ databaseId: db, tableId, rowId: target }),
      create: () => t.createRow({ databaseId: db, tableId, rowId: `${actor}${n++}`, data: { title: "t" } }),
      update: () => t.updateRow({ databaseId: db, tableId, rowId: target, data: { title: actor } }),
      delete: () => t.deleteRow({ databaseId: db, tableId, rowId: `${target}-${actor}` }),
    };
    return outcome(action, calls[action]);
  };
}

test("tables with row security off: only the table's permissions count", async () => {
  const db = unique("db");
  const key = new TablesDB(actors.key.client);
  await key.create({ databaseId: db, name: "M" });
  await table(db, "t", fill(['read("users")', 'create("users")', 'update("user:ALICE")', 'delete("user:ALICE")']), false);
  for (const id of ["r", ...ACTORS.map((a) => `r-${a}`)]) await key.createRow({ databaseId: db, tableId: "t", rowId: id, data: { title: id }, permissions: [] });
  await check(
    [
      ["list", "t", { key: 200, alice: 200, bob: 200, guest: 401 }],
      ["get", "r", { key: 200, alice: 200, bob: 200, guest: 404 }],
      ["create", "t", { key: 201, alice: 201, bob: 201, guest: 401 }],
      ["update", "r", { key: 200, alice: 200, bob: 401, guest: 401 }],
      ["delete", "r", { key: 204, alice: 204, bob: 401, guest: 401 }],
    ],
    rowRunner(db, "t"),
  );
  await key.delete({ databaseId: db });
});

test("tables with row security on: each row's permissions decide", async () => {
  const db = unique("db");
  const key = new TablesDB(actors.key.client);
  await key.create({ databaseId: db, name: "M" });
  await table(db, "t", ['create("users")'], true);
  const alice = new TablesDB(actors.alice.client);
  const mine = await alice.createRow({ databaseId: db, tableId: "t", rowId: "r_alice", data: { title: "a" } });
  assert.deepEqual(mine.$permissions, fill(['read("user:ALICE")', 'update("user:ALICE")', 'delete("user:ALICE")']));
  const shared = fill(['read("user:BOB")', 'update("user:BOB")', 'delete("user:BOB")']);
  await key.createRow({ databaseId: db, tableId: "t", rowId: "r_shared", data: { title: "b" }, permissions: shared });
  for (const a of ACTORS) {
    await alice.createRow({ databaseId: db, tableId: "t", rowId: `r_alice-${a}`, data: { title: "x" } });
    await key.createRow({ databaseId: db, tableId: "t", rowId: `r_shared-${a}`, data: { title: "x" }, permissions: shared });
  }
  const ids = async (actor) => (await new TablesDB(actors[actor].client).listRows({ databaseId: db, tableId: "t" })).rows.map((r) => r.$id).sort();
  assert.deepEqual(await ids("alice"), ["r_alice", ...ACTORS.map((a) => `r_alice-${a}`)].sort());
  assert.deepEqual(await ids("bob"), ["r_shared", ...ACTORS.map((a) => `r_shared-${a}`)].sort());
  assert.deepEqual(await ids("guest"), []);
  await check(
    [
      ["get", "r_alice", { key: 200, alice: 200, bob: 404, guest: 404 }],
      ["get", "r_shared", { key: 200, alice: 404, bob: 200, guest: 404 }],
      ["create", "t", { key: 201, alice: 201, bob: 201, guest: 401 }],
      ["update", "r_alice", { key: 200, alice: 200, bob: 401, guest: 401 }],
      ["update", "r_shared", { key: 200, alice: 401, bob: 200, guest: 401 }],
      ["delete", "r_alice", { key: 204, alice: 204, bob: 401, guest: 401 }],
      ["delete", "r_shared", { key: 204, alice: 401, bob: 204, guest: 401 }],
    ],
    rowRunner(db, "t"),
  );
  await key.delete({ databaseId: db });
});

function fileRunner(bucketId) {
  let n = 0;
  return (action, target, actor) => {
    const s = new Storage(actors[actor].client);
    const calls = {
      list: () => s.listFiles({ bucketId }),
      get: () => s.getFile({ bucketId, fileId: target }),
      download: () => s.getFileDownload({ bucketId, fileId: target }),
      create: () => s.createFile({ bucketId, fileId: `${actor}${n++}`, file: InputFile.fromBuffer(Buffer.from("x"), "x.txt") }),
      update: () => s.updateFile({ bucketId, fileId: target, name: `${actor}.txt` }),
      delete: () => s.deleteFile({ bucketId, fileId: `${target}-${actor}` }),
    };
    return outcome(action, calls[action]);
  };
}

async function upload(actor, bucketId, fileId, permissions) {
  return new Storage(actors[actor].client).createFile({ bucketId, fileId, file: InputFile.fromBuffer(Buffer.from(fileId), `${fileId}.txt`), permissions });
}

test("buckets with file security off: only the bucket's permissions count (even reads are 401)", async () => {
  const bucketId = unique("b");
  await new Storage(actors.key.client).createBucket({
    bucketId,
    name: "M",
    permissions: fill(['read("users")', 'create("users")', 'update("user:ALICE")', 'delete("user:ALICE")']),
    fileSecurity: false,
  });
  for (const id of ["f", ...ACTORS.map((a) => `f-${a}`)]) await upload("key", bucketId, id, []);
  const reads = { key: 200, alice: 200, bob: 200, guest: 401 };
  await check(
    [
      ["list", bucketId, reads],
      ["get", "f", reads],
      ["download", "f", reads],
      ["create", bucketId, { key: 201, alice: 201, bob: 201, guest: 401 }],
      ["update", "f", { key: 200, alice: 200, bob: 401, guest: 401 }],
      ["delete", "f", { key: 204, alice: 204, bob: 401, guest: 401 }],
    ],
    fileRunner(bucketId),
  );
  await new Storage(actors.key.client).deleteBucket({ bucketId });
});

test("buckets with file security on: each file's permissions decide", async () => {
  const bucketId = unique("b");
  await new Storage(actors.key.client).createBucket({ bucketId, name: "M", permissions: ['create("users")'], fileSecurity: true });
  const shared = fill(['read("user:BOB")', 'update("user:BOB")', 'delete("user:BOB")']);
  await upload("alice", bucketId, "f_alice");
  await upload("key", bucketId, "f_shared", shared);
  for (const a of ACTORS) {
    await upload("alice", bucketId, `f_alice-${a}`);
    await upload("key", bucketId, `f_shared-${a}`, shared);
  }
  const alice = { key: 200, alice: 200, bob: 404, guest: 404 };
  await check(
    [
      ["list", bucketId, { key: 200, alice: 200, bob: 200, guest: 200 }],
      ["get", "f_alice", alice],
      ["download", "f_alice", alice],
      ["get", "f_shared", { key: 200, alice: 404, bob: 200, guest: 404 }],
      ["create", bucketId, { key: 201, alice: 201, bob: 201, guest: 401 }],
      ["update", "f_alice", { key: 200, alice: 200, bob: 401, guest: 401 }],
      ["update", "f_shared", { key: 200, alice: 401, bob: 200, guest: 401 }],
      ["delete", "f_alice", { key: 204, alice: 204, bob: 401, guest: 401 }],
      ["delete", "f_shared", { key: 204, alice: 401, bob: 204, guest: 401 }],
    ],
    fileRunner(bucketId),
  );
  await new Storage(actors.key.client).deleteBucket({ bucketId });
});

test("roles any, guests, users, user:ID and label:X on files", async () => {
  const bucketId = unique("b");
  await new Storage(actors.key.client).createBucket({ bucketId, name: "Roles", permissions: [], fileSecurity: true });
  const roles = {
    any: Permission.read(Role.any()),
    guests: Permission.read(Role.guests()),
    users: Permission.read(Role.users()),
    alice: Permission.read(Role.user(actors.alice.userId)),
    vip: Permission.read(Role.label("vip")),
  };
  for (const [id, p] of Object.entries(roles)) await upload("key", bucketId, id, [p]);
  const sees = { key: Object.keys(roles), alice: ["alice", "any", "users", "vip"], bob: ["any", "users"], guest: ["any", "guests"] };
  for (const [actor, expected] of Object.entries(sees)) {
    const page = await new Storage(actors[actor].client).listFiles({ bucketId });
    assert.deepEqual(page.files.map((f) => f.$id).sort(), [...expected].sort(), actor);
  }
  await new Storage(actors.key.client).deleteBucket({ bucketId });
});
