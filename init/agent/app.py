"""Reference agent for {{AGENT_NAME}}, written once by tfgen; replace it with your agent, keeping the contract.

It honours the image contract in tfgen's README ("The image contract") with Python's standard library only:

* listens on $PORT and answers GET {{HEALTH_PATH}} with 200 while it can serve;
* writes one JSON object per line to stdout (the awslogs driver ships it; metric filters read it);
* logs {"event": "{{DB_FAILURE_EVENT}}", ...} whenever it cannot use the database (only an agent with
  [agent.database] in agents.toml gets the DB_* settings: its own secret and schema, never the master's);
* calls the agents it calls at the URLs in the *_URL environment variables
  (ORDER_MANAGEMENT_URL=http://order-management:8001, through ECS Service Connect);
* reads credentials only from the variables ECS injects from Secrets Manager; writes only to /tmp.

A request names the agent that should answer: POST / with {"message": "...", "agent": "order-management"}
is answered by this agent when it is the one named, and forwarded to the named agent otherwise.
"""

import json
import os
import sys
import tempfile
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

AGENT_NAME = os.environ.get("AGENT_NAME", "{{AGENT_NAME}}")
PORT = int(os.environ.get("PORT", "{{PORT}}"))
HEALTH_PATH = "{{HEALTH_PATH}}"
DB_FAILURE_EVENT = "{{DB_FAILURE_EVENT}}"
# The image contract: the ALB's idle timeout, which Service Connect also allows a call between agents.
CALL_TIMEOUT_SECONDS = float(os.environ.get("CALL_TIMEOUT_SECONDS", "300"))


def log(event, level="info", **fields):
    """One JSON object per line on stdout: the contract's log format."""
    record = {"time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "level": level,
              "agent": AGENT_NAME, "environment": os.environ.get("ENVIRONMENT", ""), "event": event}
    record.update(fields)
    sys.stdout.write(json.dumps(record, sort_keys=True) + "\n")
    sys.stdout.flush()


def callees():
    """The agents this one calls: FOO_BAR_URL=http://foo-bar:8001 gives {"foo-bar": "http://foo-bar:8001"}."""
    urls = {}
    for key, value in os.environ.items():
        if key.endswith("_URL") and value.startswith("http"):
            urls[key[: -len("_URL")].lower().replace("_", "-")] = value.rstrip("/")
    return urls


def check_database():
    """Whether the database settings ECS injects are usable; logs the contract's failure event if not.

    None for an agent without a database (no [agent.database] in agents.toml): it gets no settings.

    The real agent calls the RDS Data API (boto3 rds-data execute_statement with resourceArn=DB_CLUSTER_ARN,
    secretArn=DB_SECRET_ARN, database=DB_NAME; its role's search_path is DB_SCHEMA) and logs the same event
    on every failure: errors, throttling, timeouts, denials. This reference agent checks the settings only.
    """
    settings = ("DB_CLUSTER_ARN", "DB_SECRET_ARN", "DB_NAME", "DB_SCHEMA")
    if not any(os.environ.get(k) for k in settings):
        return None  # an agent without a database: ECS gives it no database settings at all
    missing = [k for k in settings if not os.environ.get(k)]
    if missing:
        log(DB_FAILURE_EVENT, level="error", error="missing settings: " + ", ".join(missing))
        return False
    for key, service in (("DB_CLUSTER_ARN", "rds"), ("DB_SECRET_ARN", "secretsmanager")):
        parts = os.environ[key].split(":")
        if len(parts) < 7 or parts[0] != "arn" or parts[2] != service:
            log(DB_FAILURE_EVENT, level="error", error="%s is not an %s ARN" % (key, service))
            return False
    return True


class Handler(BaseHTTPRequestHandler):
    server_version = "reference-agent"

    def log_message(self, format, *args):  # noqa: A002 - the base class's signature
        pass  # access logs go through log() instead, as JSON

    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        log("request", method=self.command, path=self.path, status=status)

    def do_GET(self):  # noqa: N802 - http.server's naming
        if self.path == HEALTH_PATH:
            self.reply(200, {"status": "ok", "agent": AGENT_NAME})
        else:
            self.reply(200, {"agent": AGENT_NAME, "path": self.path, "calls": sorted(callees())})

    def do_POST(self):  # noqa: N802 - http.server's naming
        length = int(self.headers.get("Content-Length") or 0)
        try:
            request = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            self.reply(400, {"error": "the body is not JSON"})
            return
        target = request.get("agent", AGENT_NAME)
        if target == AGENT_NAME:
            self.reply(200, {"agent": AGENT_NAME, "answer": "received: %s" % request.get("message", "")})
            return
        url = callees().get(target)
        if url is None:
            self.reply(404, {"error": "%s does not call %s" % (AGENT_NAME, target)})
            return
        try:
            forward = urllib.request.Request(url + "/", data=json.dumps(request).encode(), method="POST",
                                             headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(forward, timeout=CALL_TIMEOUT_SECONDS) as response:
                answer = json.loads(response.read())
            log("call", callee=target, url=url, status=response.status)
            self.reply(200, {"agent": AGENT_NAME, "via": target, "reply": answer})
        except (urllib.error.URLError, OSError, ValueError) as err:
            log("call_failed", level="error", callee=target, url=url, error=str(err))
            self.reply(502, {"error": "calling %s failed" % target})


def check_scratch():
    """Exits, logging the contract's `scratch_unwritable` event, when no temporary file can be written.

    The root file system is read-only: /tmp, the task's scratch volume, is the only writable place, and
    Fargate mounts it root-owned 0755 unless the image declares it a VOLUME (see the Dockerfile). Failing
    here, at start, keeps a task that could never write a file from passing its health check.
    """
    try:
        with tempfile.TemporaryFile() as scratch:
            scratch.write(b"ok")
    except OSError as err:
        log("scratch_unwritable", level="error", tmpdir=os.environ.get("TMPDIR", "/tmp"), error=str(err))
        sys.exit(1)


def main():
    check_scratch()
    check_database()
    server = ThreadingHTTPServer(("0.0.0.0", PORT), Handler)  # noqa: S104 - the task's own network
    log("started", port=PORT, calls=sorted(callees()))
    server.serve_forever()


if __name__ == "__main__":
    main()
