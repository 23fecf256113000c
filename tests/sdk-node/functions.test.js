// Functions with node-appwrite 27.1.0: Node functions (ESM and CommonJS) deployed from tar.gz
// archives built here, executed synchronously and asynchronously on the open-runtimes contract.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import os from "node:os";
import path from "node:path";
import { AppwriteException, Functions, Query } from "node-appwrite";
import { InputFile } from "node-appwrite/file";
import { startEmulator, unique } from "./harness.js";

let emu;
let functions;
let nodeRuntime;

before(async () => {
  emu = await startEmulator();
  functions = new Functions(emu.client());
  // `GET /functions/runtimes` is a public route: keys lack its scope, guests have it.
  const runtimes = await new Functions(emu.client({ withKey: false })).listRuntimes();
  nodeRuntime = runtimes.runtimes.map((r) => r.$id).find((id) => id.startsWith("node-"));
  assert.ok(nodeRuntime, "a Node runtime is installed");
  assert.ok(Number(nodeRuntime.split("-")[1].split(".")[0]) >= 20);
});

after(async () => {
  assert.equal(await emu.stop(), 0, "clean shutdown on SIGTERM");
});

/** A .tar.gz of `files` ({path: content}), made with the system tar. */
function targz(files) {
  const dir = mkdtempSync(path.join(os.tmpdir(), "qw-fn-"));
  try {
    for (const [name, content] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(dir, "src-root", name)), { recursive: true });
      writeFileSync(path.join(dir, "src-root", name), content);
    }
    execFileSync("tar", ["-czf", path.join(dir, "code.tar.gz"), "-C", path.join(dir, "src-root"), "."]);
    return readFileSync(path.join(dir, "code.tar.gz"));
  } finally {
    // Read before removal above; the buffer outlives the folder.
    setImmediate(() => rmSync(dir, { recursive: true, force: true }));
  }
}

async function waitFor(fn, what, timeoutMs = 120000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

async function deploy(functionId, files, extra = {}) {
  const archive = targz(files);
  let d = await functions.createDeployment({ functionId, code: InputFile.fromBuffer(archive, "code.tar.gz"), activate: true, ...extra });
  d = await waitFor(async () => {
    const x = await functions.getDeployment({ functionId, deploymentId: d.$id });
    return ["ready", "failed", "canceled"].includes(x.status) ? x : null;
  }, "the build");
  assert.equal(d.status, "ready", d.buildLogs);
  await waitFor(async () => (await functions.get({ functionId })).deploymentId === d.$id, "activation");
  return { deployment: d, archive };
}

const ECHO_ESM = `
export default async (context) => {
  const req = context.req;
  switch (req.path) {
    case "/text": return context.res.text("plain", 201, { "x-kind": "text" });
    case "/binary": return context.res.binary(Buffer.from([0, 1, 2, 250]));
    case "/empty": return context.res.empty();
    case "/redirect": return context.res.redirect("https://example.com/n", 307);
    case "/send": return context.res.send("sent", 200, { "x-kind": "send" });
    case "/throw": throw new Error("node kaboom");
    case "/hang": return new Promise(() => {});
    case "/crash":
      process.stderr.write("fatal: node runtime is going down\\n");
      process.exit(3);
  }
  context.log("log line", { n: 1 });
  context.error("error line");
  console.log("console output");
  let bodyJson = null;
  try { bodyJson = req.bodyJson; } catch {}
  return context.res.json({
    method: req.method, path: req.path, query: req.query, queryString: req.queryString,
    host: req.host, port: req.port, scheme: req.scheme, url: req.url, headers: req.headers,
    body: req.body, bodyText: req.bodyText, bodyRaw: req.bodyRaw, bodyJson,
    bodyBinaryLength: req.bodyBinary.length, pid: process.pid,
    endpoint: process.env.APPWRITE_FUNCTION_API_ENDPOINT, functionId: process.env.APPWRITE_FUNCTION_ID,
    runtimeName: process.env.APPWRITE_FUNCTION_RUNTIME_NAME,
  }, 200, { "x-echo": "yes" });
};
`;

const ECHO_CJS = `
module.exports = async (context) => context.res.json({ style: "commonjs", path: context.req.path });
`;

function headerMap(list) {
  return Object.fromEntries(list.map((h) => [h.name, h.value]));
}

test("node: an ESM function runs sync and async on the open-runtimes contract", async () => {
  const functionId = unique("node");
  await functions.create({ functionId, name: "Node echo", runtime: nodeRuntime, entrypoint: "src/main.js", execute: ["any"], timeout: 1 });
  const { deployment } = await deploy(functionId, {
    "package.json": JSON.stringify({ name: "echo", type: "module", version: "1.0.0" }),
    "src/main.js": ECHO_ESM,
  });
  assert.match(deployment.buildLogs, /npm|Deployment finished/);

  const e = await functions.createExecution({
    functionId, body: JSON.stringify({ a: 1 }), async: false, xpath: "/echo?x=1&y",
    method: "PATCH", headers: { "content-type": "application/json", "x-custom": "node" },
  });
  assert.equal(e.status, "completed");
  assert.equal(e.responseStatusCode, 200);
  assert.equal(e.functionId, functionId);
  const out = JSON.parse(e.responseBody);
  assert.equal(out.method, "PATCH");
  assert.equal(out.path, "/echo");
  assert.deepEqual(out.query, { x: "1", y: "" });
  assert.equal(out.queryString, "x=1&y");
  assert.deepEqual(out.body, { a: 1 });
  assert.deepEqual(out.bodyJson, { a: 1 });
  assert.equal(out.bodyText, '{"a":1}');
  assert.equal(out.headers["x-custom"], "node");
  assert.equal(out.headers["x-appwrite-trigger"], "http");
  assert.ok(out.headers["x-appwrite-key"].startsWith("ephemeral_"));
  assert.equal(out.endpoint, emu.endpoint);
  assert.equal(out.functionId, functionId);
  assert.equal(out.runtimeName, "Node.js");
  assert.equal(headerMap(e.responseHeaders)["x-echo"], "yes");
  assert.match(e.logs, /log line \{"n":1\}/);
  assert.match(e.logs, /console output/);
  assert.match(e.logs, /Native logs detected/);
  assert.match(e.errors, /error line/);

  const t = await functions.createExecution({ functionId, xpath: "/text" });
  assert.equal(t.responseStatusCode, 201);
  assert.equal(t.responseBody, "plain");
  assert.equal((await functions.createExecution({ functionId, xpath: "/empty" })).responseStatusCode, 204);
  const r = await functions.createExecution({ functionId, xpath: "/redirect" });
  assert.equal(r.responseStatusCode, 307);
  assert.equal(headerMap(r.responseHeaders).location, "https://example.com/n");
  assert.equal((await functions.createExecution({ functionId, xpath: "/send" })).responseBody, "sent");
  const thrown = await functions.createExecution({ functionId, xpath: "/throw" });
  assert.equal(thrown.status, "failed");
  assert.match(thrown.errors, /node kaboom/);

  // The function's 1 s timeout.
  const hung = await functions.createExecution({ functionId, xpath: "/hang" });
  assert.equal(hung.status, "failed");
  assert.equal(hung.responseStatusCode, 500);
  assert.match(hung.errors, /Execution timed out\./);

  // A crash: failed, the process's stderr in errors, and a fresh runtime afterwards.
  const crashed = await functions.createExecution({ functionId, xpath: "/crash" });
  assert.equal(crashed.status, "failed");
  assert.match(crashed.errors, /fatal: node runtime is going down/);
  assert.equal((await functions.createExecution({ functionId })).status, "completed");

  // Asynchronous.
  const a = await functions.createExecution({ functionId, async: true, body: "later" });
  assert.equal(a.status, "waiting");
  const done = await waitFor(async () => {
    const x = await functions.getExecution({ functionId, executionId: a.$id });
    return ["completed", "failed"].includes(x.status) ? x : null;
  }, "the async execution");
  assert.equal(done.status, "completed");
  assert.equal(done.responseStatusCode, 200);
  assert.match(done.logs, /console output/);

  const failed = await functions.listExecutions({ functionId, queries: [Query.equal("status", ["failed"])] });
  assert.equal(failed.total, 3);
  await functions.delete({ functionId });
});

test("node: a CommonJS function, warm between executions", async () => {
  const functionId = unique("cjs");
  await functions.create({ functionId, name: "CJS", runtime: nodeRuntime, entrypoint: "index.js", execute: ["any"] });
  await deploy(functionId, { "index.js": ECHO_CJS });
  const a = await functions.createExecution({ functionId, xpath: "/one" });
  assert.deepEqual(JSON.parse(a.responseBody), { style: "commonjs", path: "/one" });
  const res = await fetch(`${emu.endpoint.replace(/\/v1$/, "")}/fn/${functionId}/via/domain?z=9`);
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { style: "commonjs", path: "/via/domain" });
  const runs = await functions.listExecutions({ functionId });
  assert.equal(runs.total, 2);
  await functions.delete({ functionId });
});

test("node: a chunked (multi-part, parallel) deployment upload", async () => {
  const functionId = unique("big");
  await functions.create({ functionId, name: "Big", runtime: nodeRuntime, entrypoint: "index.js", execute: ["any"] });
  const { deployment, archive } = await deploy(functionId, { "index.js": ECHO_CJS, "blob.bin": randomBytes(12 * 1024 * 1024) });
  assert.ok(archive.length > 10 * 1024 * 1024);
  assert.equal(deployment.sourceSize, archive.length);
  const downloaded = Buffer.from(await functions.getDeploymentDownload({ functionId, deploymentId: deployment.$id }));
  assert.ok(downloaded.equals(archive), "the assembled upload is byte-identical");
  await functions.delete({ functionId });
});

test("node: errors match Appwrite", async () => {
  await assert.rejects(functions.get({ functionId: unique("none") }), (e) => {
    assert.ok(e instanceof AppwriteException);
    assert.equal(e.code, 404);
    assert.equal(e.type, "function_not_found");
    return true;
  });
  const functionId = unique("noentry");
  await functions.create({ functionId, name: "No entrypoint", runtime: nodeRuntime });
  await assert.rejects(
    functions.createDeployment({ functionId, code: InputFile.fromBuffer(targz({ "a.js": "" }), "code.tar.gz"), activate: true }),
    (e) => e.type === "function_entrypoint_missing" && e.code === 404,
  );
  await functions.delete({ functionId });
});
