// Starts the real `qw emulator` binary for a test file and builds node-appwrite clients on it.
import { spawn } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { createInterface } from "node:readline";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "node-appwrite";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const QW = process.env.QW_BIN ?? path.join(root, "target", "debug", "qw");

/** A running emulator: `endpoint`, `project`, `key`, `client()`, `stop()`. */
export async function startEmulator({ project = "test", extra = [] } = {}) {
  const key = "standard_" + randomBytes(64).toString("hex");
  const proc = spawn(QW, ["emulator", "--port", "0", "--in-memory", "--project", project, "--api-key", key, ...extra], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const first = await new Promise((resolve, reject) => {
    const rl = createInterface({ input: proc.stdout });
    rl.once("line", (line) => resolve(line));
    proc.once("exit", (code) => reject(new Error(`emulator exited early (${code})`)));
  });
  const prefix = "emulator listening on ";
  if (!first.startsWith(prefix)) throw new Error(`unexpected first line: ${first}`);
  const endpoint = first.slice(prefix.length);
  return {
    endpoint,
    project,
    key,
    proc,
    client({ withKey = true, projectId = project } = {}) {
      const c = new Client().setEndpoint(endpoint).setProject(projectId);
      return withKey ? c.setKey(key) : c;
    },
    stop() {
      return new Promise((resolve) => {
        if (proc.exitCode !== null) return resolve(proc.exitCode);
        proc.once("exit", (code) => resolve(code));
        proc.kill("SIGTERM");
      });
    },
  };
}

export const unique = (prefix = "t") => prefix + randomUUID().replaceAll("-", "").slice(0, 16);
