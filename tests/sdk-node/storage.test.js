// Storage with node-appwrite 27.1.0: buckets, the SDK's own parallel chunked upload (12 MB,
// byte-identical), an interrupted upload finished by the SDK, bucket limits, Range downloads,
// previews and file permissions for users and guests.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { Account, AppwriteException, Client, ID, Permission, Query, Role, Storage, Users } from "node-appwrite";
import { InputFile } from "node-appwrite/file";
import { startEmulator, unique } from "./harness.js";

const CHUNK = 5 * 1024 * 1024;
let emu;
let storage;

before(async () => {
  emu = await startEmulator();
  storage = new Storage(emu.client());
});

after(async () => {
  assert.equal(await emu.stop(), 0, "clean shutdown on SIGTERM");
});

const sha = (data) => createHash("sha256").update(Buffer.from(data)).digest("hex");

async function rejects(promise, code, type) {
  await assert.rejects(promise, (e) => {
    assert.ok(e instanceof AppwriteException, String(e));
    assert.equal(e.code, code, e.message);
    assert.equal(e.type, type, e.message);
    return true;
  });
}

async function signedIn(name) {
  const key = emu.client();
  const userId = unique(name);
  const email = `${userId}@example.com`;
  await new Users(key).create({ userId, email, password: "password123", name });
  const session = await new Account(key).createEmailPasswordSession({ email, password: "password123" });
  assert.ok(session.secret, "a key sees the session secret");
  return { userId, client: new Client().setEndpoint(emu.endpoint).setProject(emu.project).setSession(session.secret) };
}

test("buckets: every parameter, defaults, list, update, delete", async () => {
  const bucketId = unique("b");
  const made = await storage.createBucket({
    bucketId,
    name: "Recordings",
    permissions: [Permission.read(Role.users()), Permission.write(Role.user("u1"))],
    fileSecurity: true,
    maximumFileSize: 1000000,
    allowedFileExtensions: ["wav"],
    compression: "zstd",
    encryption: false,
    antivirus: false,
    transformations: false,
  });
  assert.deepEqual(made.$permissions, ['read("users")', 'create("user:u1")', 'update("user:u1")', 'delete("user:u1")']);
  assert.equal(made.maximumFileSize, 1000000);
  assert.deepEqual([made.compression, made.encryption, made.antivirus, made.transformations, made.enabled], ["zstd", false, false, false, true]);
  const page = await storage.listBuckets({ queries: [Query.equal("name", ["Recordings"])], search: bucketId });
  assert.deepEqual(page.buckets.map((b) => b.$id), [bucketId]);
  const up = await storage.updateBucket({ bucketId, name: "Takes" });
  assert.deepEqual([up.name, up.compression, up.fileSecurity, up.maximumFileSize], ["Takes", "none", false, 30000000]);
  await storage.deleteBucket({ bucketId });
  await rejects(storage.getBucket({ bucketId }), 404, "storage_bucket_not_found");
  await rejects(storage.createBucket({ bucketId: unique("b"), name: "x", maximumFileSize: 30000001 }), 400, "general_argument_invalid");
});

test("files: a 12 MB chunked upload downloads byte-identical", async () => {
  const bucketId = unique("b");
  await storage.createBucket({ bucketId, name: "Audio" });
  const data = randomBytes(12 * 1024 * 1024);
  const progress = [];
  const file = await storage.createFile({
    bucketId,
    fileId: ID.unique(),
    file: InputFile.fromBuffer(data, "session.wav"),
    onProgress: (p) => progress.push(p.chunksUploaded),
  });
  assert.equal(file.chunksTotal, 3);
  assert.equal(file.chunksUploaded, 3);
  assert.equal(file.sizeOriginal, data.length);
  assert.equal(file.signature, createHash("md5").update(data).digest("hex"));
  assert.equal(progress.length, 3);
  const got = await storage.getFileDownload({ bucketId, fileId: file.$id });
  assert.equal(got.byteLength, data.length);
  assert.equal(sha(got), sha(data));
  await storage.deleteBucket({ bucketId });
});

test("files: an interrupted upload is finished by the SDK", async () => {
  const bucketId = unique("b");
  await storage.createBucket({ bucketId, name: "Resume" });
  const data = randomBytes(2 * CHUNK + 999);
  const fileId = unique("f");
  // Chunk 1 as the Node SDK sends it (no x-appwrite-id), then the connection drops.
  const form = new FormData();
  form.append("fileId", fileId);
  form.append("file", new File([data.subarray(0, CHUNK)], "big.bin"));
  const first = await fetch(`${emu.endpoint}/storage/buckets/${bucketId}/files`, {
    method: "POST",
    headers: { "X-Appwrite-Project": emu.project, "X-Appwrite-Key": emu.key, "content-range": `bytes 0-${CHUNK - 1}/${data.length}` },
    body: form,
  });
  assert.equal(first.status, 201);
  const body = await first.json();
  assert.deepEqual([body.$id, body.chunksUploaded, body.chunksTotal], [fileId, 1, 3]);
  // The SDK re-sends everything; the chunk already there is simply written again.
  const file = await storage.createFile({ bucketId, fileId, file: InputFile.fromBuffer(data, "big.bin") });
  assert.equal(file.chunksUploaded, 3);
  assert.equal(sha(await storage.getFileDownload({ bucketId, fileId })), sha(data));
  await storage.deleteBucket({ bucketId });
});

test("files: bucket limits answer Appwrite's errors", async () => {
  const bucketId = unique("b");
  await storage.createBucket({ bucketId, name: "Small", maximumFileSize: 100, allowedFileExtensions: ["wav"] });
  await rejects(storage.createFile({ bucketId, fileId: ID.unique(), file: InputFile.fromBuffer(Buffer.alloc(10), "a.txt") }), 400, "storage_file_type_unsupported");
  await rejects(storage.createFile({ bucketId, fileId: ID.unique(), file: InputFile.fromBuffer(Buffer.alloc(101), "a.wav") }), 400, "storage_invalid_file_size");
  await rejects(storage.createFile({ bucketId, fileId: ID.unique(), file: InputFile.fromBuffer(Buffer.alloc(CHUNK + 1), "b.wav") }), 400, "storage_invalid_file_size");
  const ok = await storage.createFile({ bucketId, fileId: ID.unique(), file: InputFile.fromBuffer(Buffer.alloc(100), "a.wav") });
  assert.equal(ok.sizeOriginal, 100);
  await storage.updateBucket({ bucketId, name: "Small", enabled: false, permissions: [Permission.read(Role.any())] });
  const guest = new Storage(emu.client({ withKey: false }));
  await rejects(guest.getFile({ bucketId, fileId: ok.$id }), 404, "storage_bucket_not_found");
  assert.equal((await storage.getFile({ bucketId, fileId: ok.$id })).$id, ok.$id, "keys still reach a disabled bucket");
  await storage.deleteBucket({ bucketId });
});

test("downloads: headers, Range and 416", async () => {
  const bucketId = unique("b");
  await storage.createBucket({ bucketId, name: "Range" });
  const data = randomBytes(1000);
  await storage.createFile({ bucketId, fileId: "f", file: InputFile.fromBuffer(data, "clip.mp3") });
  const url = `${emu.endpoint}/storage/buckets/${bucketId}/files/f/download`;
  const headers = { "X-Appwrite-Project": emu.project, "X-Appwrite-Key": emu.key };
  const full = await fetch(url, { headers });
  assert.equal(full.status, 200);
  assert.equal(full.headers.get("content-disposition"), 'attachment; filename="clip.mp3"');
  assert.equal(full.headers.get("content-type"), "audio/mpeg");
  assert.equal(full.headers.get("cache-control"), "private, max-age=3888000");
  assert.ok(full.headers.get("etag"));
  const part = await fetch(url, { headers: { ...headers, Range: "bytes=100-199" } });
  assert.equal(part.status, 206);
  assert.equal(part.headers.get("content-range"), "bytes 100-199/1000");
  assert.deepEqual(Buffer.from(await part.arrayBuffer()), data.subarray(100, 200));
  const bad = await fetch(url, { headers: { ...headers, Range: "bytes=-50" } });
  assert.equal(bad.status, 416);
  assert.equal((await bad.json()).type, "storage_invalid_range");
  await storage.deleteBucket({ bucketId });
});

test("previews: images resized, other files get the icon", async () => {
  const bucketId = unique("b");
  await storage.createBucket({ bucketId, name: "Prev", permissions: [Permission.read(Role.any())] });
  await storage.createFile({ bucketId, fileId: "a", file: InputFile.fromBuffer(randomBytes(64), "take.ogg") });
  const icon = Buffer.from(await storage.getFilePreview({ bucketId, fileId: "a", width: 120, height: 80 }));
  assert.equal(icon.subarray(1, 4).toString(), "PNG");
  assert.deepEqual([icon.readUInt32BE(16), icon.readUInt32BE(20)], [120, 80]);
  await storage.updateBucket({ bucketId, name: "Prev", transformations: false });
  const guest = new Storage(emu.client({ withKey: false }));
  await rejects(guest.getFilePreview({ bucketId, fileId: "a" }), 403, "storage_bucket_transformations_disabled");
  await storage.deleteBucket({ bucketId });
});

test("permissions: users own what they upload, file security decides reads", async () => {
  const bucketId = unique("b");
  await storage.createBucket({ bucketId, name: "Shared", permissions: [Permission.create(Role.users())], fileSecurity: true });
  const alice = await signedIn("alice");
  const bob = await signedIn("bob");
  const mine = await new Storage(alice.client).createFile({ bucketId, fileId: "mine", file: InputFile.fromBuffer(Buffer.from("hi"), "a.txt") });
  assert.deepEqual(mine.$permissions, [`read("user:${alice.userId}")`, `update("user:${alice.userId}")`, `delete("user:${alice.userId}")`]);
  assert.equal(Buffer.from(await new Storage(alice.client).getFileDownload({ bucketId, fileId: "mine" })).toString(), "hi");
  await rejects(new Storage(bob.client).getFile({ bucketId, fileId: "mine" }), 404, "storage_file_not_found");
  assert.equal((await new Storage(bob.client).listFiles({ bucketId })).total, 0);
  await rejects(new Storage(bob.client).deleteFile({ bucketId, fileId: "mine" }), 401, "user_unauthorized");
  await rejects(
    new Storage(alice.client).createFile({ bucketId, fileId: "x", file: InputFile.fromBuffer(Buffer.from("x"), "x.txt"), permissions: [Permission.read(Role.user(bob.userId))] }),
    401,
    "user_unauthorized",
  );
  const guest = new Storage(emu.client({ withKey: false }));
  await rejects(guest.createFile({ bucketId, fileId: "g", file: InputFile.fromBuffer(Buffer.from("g"), "g.txt") }), 401, "user_unauthorized");
  await new Storage(alice.client).deleteFile({ bucketId, fileId: "mine" });
  await storage.deleteBucket({ bucketId });
});

test("the global limit (_APP_STORAGE_LIMIT / --storage-limit) caps buckets and files", async () => {
  const small = await startEmulator({ extra: ["--storage-limit", "6000000"] });
  try {
    const s = new Storage(small.client());
    const bucket = await s.createBucket({ bucketId: "limited", name: "L" });
    assert.equal(bucket.maximumFileSize, 6000000);
    await assert.rejects(s.createBucket({ bucketId: "over", name: "O", maximumFileSize: 6000001 }), (e) => {
      assert.equal(e.code, 400);
      assert.equal(e.message, "Invalid `maximumFileSize` param: Value must be a valid range between 1 and 6,000,000");
      return true;
    });
    await rejects(s.createFile({ bucketId: "limited", fileId: "big", file: InputFile.fromBuffer(Buffer.alloc(6000001), "big.bin") }), 400, "storage_invalid_file_size");
  } finally {
    assert.equal(await small.stop(), 0);
  }
});
