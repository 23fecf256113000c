// QuixoticWhisper emulator: the open-runtimes v5 Node runtime server, without Docker.
//
// It reproduces open-runtimes' runtimes/node/versions/latest/src/server.js (context.req,
// context.res, context.log/error, console capture, the x-open-runtimes-* headers, the log files
// named by x-open-runtimes-log-id) on Node's standard library. Differences: it listens on
// 127.0.0.1 on a port it picks and announces on stdout ("READY <port>"), the code lives in
// $QW_CODE_DIR/function, logs go to $QW_LOGS_DIR, and console capture is per execution
// (AsyncLocalStorage) so concurrent executions do not mix their logs.
import http from "node:http";
import fs from "node:fs";
import path from "node:path";
import { AsyncLocalStorage } from "node:async_hooks";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { format } from "node:util";

const SECRET = process.env.OPEN_RUNTIMES_SECRET ?? "";
const ENTRYPOINT = process.env.OPEN_RUNTIMES_ENTRYPOINT ?? "";
const ENV = process.env.OPEN_RUNTIMES_ENV;
const USER_CODE_PATH = path.join(process.env.QW_CODE_DIR, "function");
const LOGS_DIR = process.env.QW_LOGS_DIR;
let HEADERS = {};
try {
  HEADERS = JSON.parse(process.env.OPEN_RUNTIMES_HEADERS || "{}");
} catch {
  HEADERS = {};
}

const TYPE_ERROR = "error";
const TYPE_LOG = "log";

class Logger {
  constructor(status, id) {
    this.enabled = (status ? status : "enabled") === "enabled";
    this.includesNativeInfo = false;
    this.id = "";
    this.files = {};
    if (this.enabled) {
      this.id = id ? id : ENV === "development" ? "dev" : Logger.generateId();
    }
  }

  write(messages, type = TYPE_LOG, native = false) {
    if (!this.enabled) return;
    if (native && !this.includesNativeInfo) {
      this.includesNativeInfo = true;
      this.write(["Native logs detected. Use context.log() or context.error() for better experience."]);
    }
    let stringLog = messages
      .map((message) => {
        if (message instanceof Error) return message.stack || String(message);
        if (typeof message === "string") return message;
        try {
          return JSON.stringify(message);
        } catch {
          return String(message);
        }
      })
      .join(" ");
    if (stringLog.length > 8000) {
      stringLog = stringLog.substring(0, 8000) + "... Log truncated due to size limit (8000 characters)";
    }
    // Written through at once, so what was logged survives a crash of the process.
    const kind = type === TYPE_ERROR ? "errors" : "logs";
    try {
      if (this.files[kind] === undefined) {
        this.files[kind] = fs.openSync(path.join(LOGS_DIR, `${this.id}_${kind}.log`), "a");
      }
      fs.writeSync(this.files[kind], stringLog + "\n");
    } catch {
      // A failed log write must not fail the execution.
    }
  }

  end() {
    if (!this.enabled) return;
    this.enabled = false;
    for (const fd of Object.values(this.files)) fs.closeSync(fd);
  }

  static generateId(padding = 7) {
    const now = new Date();
    const sec = Math.floor(now.getTime() / 1000);
    const baseId = sec.toString(16) + now.getMilliseconds().toString(16).padStart(5, "0");
    let random = "";
    for (let i = 0; i < padding; i++) random += Math.floor(Math.random() * 16).toString(16);
    return baseId + random;
  }
}

// console.* inside an execution goes to that execution's logger.
const capture = new AsyncLocalStorage();
const native = {};
for (const name of ["log", "info", "debug", "warn", "error"]) {
  native[name] = console[name].bind(console);
  console[name] = (...args) => {
    const logger = capture.getStore();
    if (logger && logger.enabled) logger.write(args, TYPE_LOG, true);
    else native[name](format(...args));
  };
}

const require = createRequire(path.join(USER_CODE_PATH, "index.js"));
let cachedModule = null;

async function loadUserModule(file) {
  if (cachedModule) return cachedModule;
  let mod;
  try {
    mod = require(file);
  } catch (err) {
    if (err.code === "ERR_REQUIRE_ESM" || err.code === "ERR_REQUIRE_ASYNC_MODULE") {
      mod = await import(pathToFileURL(file).href);
    } else {
      throw err;
    }
  }
  cachedModule = mod;
  return mod;
}

async function action(logger, req, bodyBinary) {
  const timeout = req.headers["x-open-runtimes-timeout"] ?? "";
  let safeTimeout = null;
  if (timeout) {
    if (isNaN(timeout) || +timeout === 0) {
      return { statusCode: 500, headers: {}, body: 'Header "x-open-runtimes-timeout" must be an integer greater than 0.' };
    }
    safeTimeout = +timeout;
  }
  if (SECRET && req.headers["x-open-runtimes-secret"] !== SECRET) {
    return { statusCode: 500, headers: {}, body: 'Unauthorized. Provide correct "x-open-runtimes-secret" header.' };
  }

  const contentType = (req.headers["content-type"] ?? "text/plain").toLowerCase();
  const headers = {};
  for (const header of Object.keys(req.headers)) {
    if (!header.toLowerCase().startsWith("x-open-runtimes-")) headers[header.toLowerCase()] = req.headers[header];
  }
  for (const header in HEADERS) headers[header.toLowerCase()] = `${HEADERS[header]}`;

  const scheme = req.headers["x-forwarded-proto"] ?? "http";
  const defaultPort = scheme === "https" ? "443" : "80";
  const hostHeader = req.headers["host"] ?? "";
  const host = hostHeader.includes(":") ? hostHeader.split(":")[0] : hostHeader;
  const port = +(hostHeader.includes(":") ? hostHeader.split(":")[1] : defaultPort);
  const reqPath = req.url.includes("?") ? req.url.split("?")[0] : req.url;
  const queryString = req.url.includes("?") ? req.url.split("?")[1] : "";
  const query = {};
  for (const param of queryString.split("&")) {
    const [key, ...valueArr] = param.split("=");
    if (key) query[key] = valueArr.join("=") ?? "";
  }
  const url = `${scheme}://${host}${port.toString() === defaultPort ? "" : `:${port}`}${reqPath}${queryString === "" ? "" : `?${queryString}`}`;

  const context = {
    req: {
      get body() {
        if (contentType.startsWith("application/json")) {
          return this.bodyBinary && this.bodyBinary.length > 0 ? this.bodyJson : {};
        }
        return this.bodyText;
      },
      get bodyRaw() {
        return this.bodyText;
      },
      get bodyText() {
        return this.bodyBinary.toString();
      },
      get bodyJson() {
        return JSON.parse(this.bodyText);
      },
      get bodyBinary() {
        return bodyBinary;
      },
      headers,
      method: req.method,
      host,
      scheme,
      query,
      queryString,
      port,
      url,
      path: reqPath,
    },
    res: {
      send(body, statusCode = 200, headers = {}) {
        return { body, statusCode, headers };
      },
      text(body, statusCode = 200, headers = {}) {
        return this.binary(Buffer.from(body, "utf8"), statusCode, headers);
      },
      binary(bytes, statusCode = 200, headers = {}) {
        return { body: bytes, statusCode, headers };
      },
      json(obj, statusCode = 200, headers = {}) {
        headers["content-type"] = "application/json";
        return this.text(JSON.stringify(obj), statusCode, headers);
      },
      empty() {
        return this.text("", 204, {});
      },
      redirect(url, statusCode = 301, headers = {}) {
        headers["location"] = url;
        return this.text("", statusCode, headers);
      },
    },
    log(...messages) {
      logger.write(messages, TYPE_LOG);
    },
    error(...messages) {
      logger.write(messages, TYPE_ERROR);
    },
  };

  let output = null;
  let userFunction = null;
  const entrypointFilePath = path.join(USER_CODE_PATH, ENTRYPOINT);

  if (!fs.existsSync(entrypointFilePath)) {
    context.error(`Failed to load entrypoint, file ${ENTRYPOINT} does not exist.`);
    output = context.res.text("", 503, {});
  }

  if (output === null) {
    try {
      userFunction = await loadUserModule(entrypointFilePath);
      const fn = userFunction.default || userFunction;
      if (typeof fn !== "function") {
        throw new TypeError("Function signature invalid. Did you forget to export a 'main' function?");
      }
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      if (e instanceof SyntaxError) context.error(`Syntax error in ${ENTRYPOINT}: ${message}`);
      else if (e instanceof TypeError) context.error(message);
      else context.error(`Failed to load module: ${message}`);
      output = context.res.text("", 503, {});
    }
  }

  if (output === null) {
    const execute = async () => {
      const fn = userFunction.default || userFunction;
      output = await fn(context);
    };
    try {
      if (safeTimeout !== null) {
        let executed = true;
        let timer;
        const timeoutPromise = new Promise((resolve) => {
          timer = setTimeout(() => {
            executed = false;
            resolve(true);
          }, safeTimeout * 1000);
        });
        await Promise.race([execute(), timeoutPromise]);
        clearTimeout(timer);
        if (!executed) {
          context.error("Execution timed out.");
          output = context.res.text("", 500, {});
        }
      } else {
        await execute();
      }
    } catch (e) {
      context.error(e.stack || e);
      output = context.res.text("", 500, {});
    }
  }

  if (output === null || output === undefined) {
    context.error("Return statement missing. return context.res.empty() if no response is expected.");
    output = context.res.text("", 500, {});
  }
  return output;
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", async () => {
    if (req.url === "/__opr/health") {
      res.writeHead(200, { "content-type": "text/plain; charset=utf-8" });
      res.end("OK");
      return;
    }
    const logger = new Logger(req.headers["x-open-runtimes-logging"], req.headers["x-open-runtimes-log-id"]);
    let output;
    try {
      output = await capture.run(logger, () => action(logger, req, Buffer.concat(chunks)));
    } catch (e) {
      logger.write([e], TYPE_ERROR);
      output = { statusCode: 500, headers: {}, body: "" };
    }
    const outHeaders = {};
    for (const header in output.headers ?? {}) {
      if (header.toLowerCase().startsWith("x-open-runtimes-")) continue;
      outHeaders[header.toLowerCase()] = output.headers[header];
    }
    const contentTypeValue = `${outHeaders["content-type"] ?? "text/plain"}`.toLowerCase();
    outHeaders["content-type"] =
      !contentTypeValue.startsWith("multipart/") && !contentTypeValue.includes("charset=")
        ? contentTypeValue + "; charset=utf-8"
        : contentTypeValue;
    outHeaders["x-open-runtimes-log-id"] = logger.id;
    logger.end();
    let body = output.body ?? "";
    if (!(body instanceof Uint8Array) && typeof body !== "string") {
      body = typeof body === "object" ? JSON.stringify(body) : String(body);
    }
    try {
      res.writeHead(output.statusCode ?? 200, outHeaders);
      res.end(body);
    } catch (e) {
      res.destroy(e);
    }
  });
});
server.keepAliveTimeout = 600_000;
server.listen(0, "127.0.0.1", () => {
  process.stdout.write(`READY ${server.address().port}\n`);
});
