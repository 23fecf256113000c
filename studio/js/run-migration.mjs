// Runs one JavaScript migration for `qw migrate`: node run-migration.mjs FILE up|down.
// The target comes from QW_ENDPOINT, QW_PROJECT, QW_API_KEY and QW_DATABASE_ID. The migration's
// default export gets node-appwrite's Databases bound to it, plus { databaseId, client, sdk }.
// The last stdout line is a JSON report: {"ok": true} or {"ok": false, message, code, type}.
import { copyFileSync, mkdirSync, rmSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import * as sdk from "node-appwrite";

const [file, direction] = process.argv.slice(2);
const report = (value) => process.stdout.write(JSON.stringify(value) + "\n");

// The module is imported from a copy beside this script: as `.mjs` it is an ES module whatever
// package.json the project has, and `import … from "node-appwrite"` inside it resolves here.
const here = path.dirname(fileURLToPath(import.meta.url));
const runDir = path.join(here, ".run");
const copy = path.join(runDir, `${path.basename(file, ".js")}-${process.pid}.mjs`);

try {
  if (direction !== "up" && direction !== "down") throw new Error(`direction must be up or down, not ${direction}`);
  const { QW_ENDPOINT, QW_PROJECT, QW_API_KEY, QW_DATABASE_ID } = process.env;
  const client = new sdk.Client().setEndpoint(QW_ENDPOINT).setProject(QW_PROJECT).setKey(QW_API_KEY);
  const databases = new sdk.Databases(client);
  mkdirSync(runDir, { recursive: true });
  copyFileSync(file, copy);
  const migration = (await import(pathToFileURL(copy).href)).default;
  if (!migration || typeof migration[direction] !== "function") {
    throw new Error(`${path.basename(file)} has no ${direction} function in its default export`);
  }
  await migration[direction](databases, { databaseId: QW_DATABASE_ID, client, sdk });
  report({ ok: true });
} catch (e) {
  report({ ok: false, message: String(e?.message ?? e), code: e?.code ?? null, type: e?.type ?? null });
  process.exitCode = 1;
} finally {
  rmSync(copy, { force: true });
}
