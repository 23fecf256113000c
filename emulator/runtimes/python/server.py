"""QuixoticWhisper emulator: the open-runtimes v5 Python runtime server, without Docker.

It reproduces open-runtimes' `runtimes/python/versions/latest/src/server.py` (context.req,
context.res, context.log/error, native print capture, the x-open-runtimes-* headers, the log
files named by x-open-runtimes-log-id) on the standard library only, so it runs inside the
function's own venv. Differences: it listens on 127.0.0.1 on a port it picks and announces on
stdout ("READY <port>"), the code lives in $QW_CODE_DIR/function instead of
/usr/local/server/src/function, and logs go to $QW_LOGS_DIR instead of /mnt/logs.
"""

import asyncio
import contextvars
import importlib
import io
import json
import math
import os
import sys
import traceback
from datetime import datetime

SECRET = os.getenv("OPEN_RUNTIMES_SECRET", "")
ENTRYPOINT = os.getenv("OPEN_RUNTIMES_ENTRYPOINT", "")
ENV = os.getenv("OPEN_RUNTIMES_ENV")
CODE_ROOT = os.environ["QW_CODE_DIR"]
LOGS_DIR = os.environ["QW_LOGS_DIR"]
try:
    HEADERS = json.loads(os.getenv("OPEN_RUNTIMES_HEADERS", "") or "{}")
except ValueError:
    HEADERS = {}

# The user code is importable as `function.<path>`, exactly as in the official image.
sys.path.insert(0, CODE_ROOT)
USER_CODE_PATH = os.path.join(CODE_ROOT, "function")

REASONS = {
    200: "OK", 201: "Created", 202: "Accepted", 204: "No Content", 301: "Moved Permanently",
    302: "Found", 304: "Not Modified", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden",
    404: "Not Found", 500: "Internal Server Error", 503: "Service Unavailable",
}


class Logger:
    TYPE_ERROR = "error"
    TYPE_LOG = "log"

    def __init__(self, status=None, id=None):
        self.enabled = status in (None, "", "enabled")
        self.includes_native_info = False
        self.id = ""
        self.streams = {}
        self.custom_std = None
        if self.enabled:
            self.id = id or ("dev" if ENV == "development" else self.generate_id())

    def write(self, messages, xtype=None, is_native=False):
        if not self.enabled:
            return
        if is_native and not self.includes_native_info:
            self.includes_native_info = True
            self.write(["Native logs detected. Use context.log() or context.error() for better experience."])
        parts = []
        for message in messages:
            if isinstance(message, (list, dict, tuple)):
                parts.append(json.dumps(message, separators=(",", ":")))
            else:
                parts.append(str(message))
        string_log = " ".join(parts)
        if len(string_log) > 8000:
            string_log = string_log[:8000] + "... Log truncated due to size limit (8000 characters)"
        # Written through at once, so what was logged survives a crash of the process.
        kind = Logger.TYPE_ERROR if xtype == Logger.TYPE_ERROR else Logger.TYPE_LOG
        try:
            stream = self.streams.get(kind)
            if stream is None:
                suffix = "_errors.log" if kind == Logger.TYPE_ERROR else "_logs.log"
                stream = self.streams[kind] = open(os.path.join(LOGS_DIR, self.id + suffix), "a", encoding="utf-8")
            stream.write(string_log)
            stream.flush()
        except Exception:
            pass

    def end(self):
        if not self.enabled:
            return
        self.enabled = False
        for stream in self.streams.values():
            stream.close()

    def override_native_logs(self):
        self.custom_std = NativeCapture(self)
        CAPTURE.set(self.custom_std)

    def revert_native_logs(self):
        self.custom_std = None
        CAPTURE.set(None)

    @staticmethod
    def generate_id(padding=7):
        now = datetime.now()
        base_id = f"{int(now.timestamp()):08x}{now.microsecond % 1000:05x}"
        return base_id + os.urandom(math.ceil(padding / 2)).hex()[:padding]


class NativeCapture:
    """print()/sys.stderr of one execution, written through to its logs."""

    def __init__(self, logger):
        self.logger = logger

    def write(self, s):
        if s:
            self.logger.write([s], Logger.TYPE_LOG, True)
        return len(s)


# Native print/sys.stderr capture per execution: concurrent async executions each see their own
# buffer (open-runtimes swaps sys.stdout globally, which mixes concurrent executions).
CAPTURE = contextvars.ContextVar("capture", default=None)


class NativeStream(io.TextIOBase):
    def __init__(self, real):
        self.real = real

    def write(self, s):
        target = CAPTURE.get()
        if target is not None:
            return target.write(s)
        return self.real.write(s)

    def flush(self):
        if CAPTURE.get() is None:
            self.real.flush()

    def fileno(self):
        return self.real.fileno()


class Response:
    def binary(self, bytes, statusCode=200, headers={}):
        return {"body": bytes, "statusCode": statusCode, "headers": headers}

    def text(self, body, statusCode=200, headers={}):
        return self.binary(body.encode("utf-8"), statusCode, headers)

    def send(self, body, statusCode=200, headers={}):
        return {"body": body, "statusCode": statusCode, "headers": headers}

    def json(self, obj, statusCode=200, headers={}):
        headers["content-type"] = "application/json"
        return self.text(json.dumps(obj, separators=(",", ":")), statusCode, headers)

    def empty(self):
        return self.text("", 204, {})

    def redirect(self, url, statusCode=301, headers={}):
        headers["location"] = url
        return self.text("", statusCode, headers)


class Request:
    body_binary = None
    headers = None
    method = None
    url = None
    path = None
    port = None
    query = None
    query_string = None
    scheme = None
    host = None

    @property
    def body_text(self):
        return self.body_binary.decode("utf-8")

    @property
    def body_json(self):
        return json.loads(self.body_text)

    @property
    def body_raw(self):
        return self.body_text

    @property
    def body(self):
        content_type = self.headers.get("content-type", "text/plain").lower()
        if content_type.startswith("application/json"):
            if len(self.body_binary) > 0:
                return self.body_json
            return {}
        return self.body_text


class Context:
    def __init__(self, logger):
        self.req = Request()
        self.res = Response()
        self.logger = logger

    def log(self, *messages):
        self.logger.write(messages, Logger.TYPE_LOG)
        self.logger.write(["\n"], Logger.TYPE_LOG)

    def error(self, *messages):
        self.logger.write(messages, Logger.TYPE_ERROR)
        self.logger.write(["\n"], Logger.TYPE_ERROR)


def text_response(status, text):
    return status, [("content-type", "text/plain; charset=utf-8")], text.encode("utf-8")


async def action(logger, method, target, headers, body):
    timeout = headers.get("x-open-runtimes-timeout", "")
    safe_timeout = None
    if timeout:
        if not timeout.isdigit() or int(timeout) == 0:
            return text_response(500, 'Header "x-open-runtimes-timeout" must be an integer greater than 0.')
        safe_timeout = int(timeout)

    if SECRET != "" and headers.get("x-open-runtimes-secret", "") != SECRET:
        return text_response(500, 'Unauthorized. Provide correct "x-open-runtimes-secret" header.')

    context = Context(logger)
    req = context.req
    req.body_binary = body
    req.method = method
    req.headers = {}
    path, _, query_string = target.partition("?")
    req.path = path
    req.scheme = headers.get("x-forwarded-proto", "http")
    default_port = "443" if req.scheme == "https" else "80"
    req.query_string = query_string
    req.query = {}
    for param in req.query_string.split("&"):
        pair = param.split("=", 1)
        if pair[0]:
            req.query[pair[0]] = pair[1] if len(pair) > 1 else ""
    host = headers.get("host", "")
    if ":" in host:
        req.host = host.split(":")[0]
        req.port = int(host.split(":")[1])
    else:
        req.host = host
        req.port = int(default_port)
    req.url = req.scheme + "://" + req.host
    if req.port != int(default_port):
        req.url += ":" + str(req.port)
    req.url += req.path
    if req.query_string:
        req.url += "?" + req.query_string
    for key, value in headers.items():
        if not key.startswith("x-open-runtimes-"):
            req.headers[key] = value
    for key in HEADERS.keys():
        req.headers[key.lower()] = str(HEADERS[key])

    logger.override_native_logs()
    output = None
    user_module = None

    if not os.path.isfile(os.path.join(USER_CODE_PATH, ENTRYPOINT)):
        context.error("Failed to load entrypoint, file " + ENTRYPOINT + " does not exist.")
        logger.revert_native_logs()
        output = context.res.text("", 503, {})

    if output is None:
        user_path = ENTRYPOINT[:-3] if ENTRYPOINT.endswith(".py") else ENTRYPOINT
        user_path = user_path.replace("/", ".")
        try:
            user_module = importlib.import_module("function." + user_path)
            if not callable(getattr(user_module, "main", None)):
                raise AttributeError("Function signature invalid. Did you forget to export a 'main' function?")
        except ModuleNotFoundError as e:
            context.error("Module not found: " + str(e.name))
            output = context.res.text("", 503, {})
        except SyntaxError as e:
            context.error("Syntax error in " + str(e.filename) + ":" + str(e.lineno) + ": " + str(e.msg))
            output = context.res.text("", 503, {})
        except AttributeError as e:
            context.error(str(e))
            output = context.res.text("", 503, {})
        except Exception as e:
            context.error("Failed to load module: " + "".join(traceback.TracebackException.from_exception(e).format()))
            output = context.res.text("", 503, {})
        finally:
            if output is not None:
                logger.revert_native_logs()

    if output is None:

        async def execute(context):
            if asyncio.iscoroutinefunction(user_module.main):
                return await user_module.main(context)
            return user_module.main(context)

        try:
            if safe_timeout is not None:
                try:
                    output = await asyncio.wait_for(execute(context), timeout=safe_timeout)
                except asyncio.TimeoutError:
                    context.error("Execution timed out.")
                    output = context.res.text("", 500, {})
            else:
                output = await execute(context)
        except Exception as e:
            context.error("".join(traceback.TracebackException.from_exception(e).format()))
            output = context.res.text("", 500, {})
        finally:
            logger.revert_native_logs()

    if output is None:
        context.error("Return statement missing. return context.res.empty() if no response is expected.")
        output = context.res.text("", 500, {})

    out_body = output.get("body", "")
    if out_body is None:
        out_body = b""
    elif isinstance(out_body, str):
        out_body = out_body.encode("utf-8")
    elif not isinstance(out_body, (bytes, bytearray)):
        out_body = str(out_body).encode("utf-8")
    status = int(output.get("statusCode", 200))
    out_headers = {}
    for key, value in (output.get("headers") or {}).items():
        if not key.lower().startswith("x-open-runtimes-"):
            out_headers[key.lower()] = str(value)
    content_type = (output.get("headers") or {}).get("content-type", "text/plain").lower()
    if not content_type.startswith("multipart/") and "charset=" not in content_type:
        content_type += "; charset=utf-8"
    out_headers["content-type"] = content_type
    out_headers["x-open-runtimes-log-id"] = logger.id
    return status, list(out_headers.items()), bytes(out_body)


async def handle_request(method, target, headers, body):
    if target == "/__opr/health":
        return text_response(200, "OK")
    logger = Logger(headers.get("x-open-runtimes-logging", ""), headers.get("x-open-runtimes-log-id", ""))
    try:
        result = await action(logger, method, target, headers, body)
    except Exception as e:
        logger.write(["".join(traceback.TracebackException.from_exception(e).format())], Logger.TYPE_ERROR)
        result = (500, [("x-open-runtimes-log-id", logger.id)], b"")
    logger.end()
    return result


async def serve_connection(reader, writer):
    try:
        while True:
            line = await reader.readline()
            if not line:
                break
            parts = line.decode("latin-1").rstrip("\r\n").split(" ")
            if len(parts) < 2:
                break
            method, target = parts[0], parts[1]
            headers = {}
            while True:
                raw = await reader.readline()
                if raw in (b"\r\n", b"\n", b""):
                    break
                name, _, value = raw.decode("utf-8", "replace").partition(":")
                name = name.strip().lower()
                value = value.strip()
                headers[name] = headers[name] + ", " + value if name in headers else value
            length = int(headers.get("content-length") or 0)
            body = await reader.readexactly(length) if length else b""
            status, out_headers, out_body = await handle_request(method, target, headers, body)
            keep_alive = headers.get("connection", "").lower() != "close"
            head = [f"HTTP/1.1 {status} {REASONS.get(status, 'Status')}"]
            head += [f"{k}: {v}" for k, v in out_headers]
            if status not in (204, 304) and not 100 <= status < 200:
                head.append(f"content-length: {len(out_body)}")
            if not keep_alive:
                head.append("connection: close")
            payload = ("\r\n".join(head) + "\r\n\r\n").encode("utf-8")
            if method != "HEAD" and status not in (204, 304):
                payload += out_body
            writer.write(payload)
            await writer.drain()
            if not keep_alive:
                break
    except (ConnectionError, asyncio.IncompleteReadError, ValueError):
        pass
    finally:
        try:
            writer.close()
        except Exception:
            pass


async def main():
    server = await asyncio.start_server(serve_connection, "127.0.0.1", 0, limit=2**20)
    port = server.sockets[0].getsockname()[1]
    sys.__stdout__.write(f"READY {port}\n")
    sys.__stdout__.flush()
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    sys.stdout = NativeStream(sys.__stdout__)
    sys.stderr = NativeStream(sys.__stderr__)
    asyncio.run(main())
