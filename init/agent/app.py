"""Reference agent for {{AGENT_NAME}}, written once by tfgen; replace it with your agent, keeping the contract.

It honours the image contract in tfgen's README ("The image contract") with Python's standard library only:

* listens on $PORT and answers GET {{HEALTH_PATH}} with 200 while it can serve;
* when ${{TLS_PORT_VAR}} is set (in-transit encryption), also serves HTTPS on that port, the one the load
  balancer uses, with a self-signed certificate it creates at start (the ALB encrypts to its targets but
  does not check their certificates);
* writes one JSON object per line to stdout (the awslogs driver ships it; metric filters read it);
* logs {"event": "{{DB_FAILURE_EVENT}}", ...} whenever it cannot use the database (only an agent with
  [agent.database] in agents.toml gets the DB_* settings: its own secret and schema, never the master's);
* calls the agents it calls at the URLs in the *_URL environment variables
  (ORDER_MANAGEMENT_URL=http://order-management:8001, through ECS Service Connect);
* reads credentials only from the variables ECS injects from Secrets Manager; writes only to /tmp;
* answers GET .../{{SMOKE_SEGMENT}} (any path ending so, as the ALB forwards paths unchanged) with its own end-to-end
  checks: a database round trip in its own schema, one model call when asked (?model=1), and the smoke
  check of each agent it calls. The environment's generated smoke.py runs it through the ALB.

A request names the agent that should answer: POST / with {"message": "...", "agent": "order-management"}
is answered by this agent when it is the one named, and forwarded to the named agent otherwise.
"""

import hashlib
import hmac
import json
import os
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from threading import Thread
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

AGENT_NAME = os.environ.get("AGENT_NAME", "{{AGENT_NAME}}")
PORT = int(os.environ.get("PORT", "{{PORT}}"))
# Set by the task definition when the environment encrypts in transit: the load balancer's HTTPS port.
TLS_PORT = os.environ.get("{{TLS_PORT_VAR}}")
HEALTH_PATH = "{{HEALTH_PATH}}"
DB_FAILURE_EVENT = "{{DB_FAILURE_EVENT}}"
SMOKE_SUFFIX = "/{{SMOKE_SEGMENT}}"
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


def aws_credentials():
    """The task role's credentials: ECS's container endpoint on Fargate, the standard variables elsewhere."""
    relative = os.environ.get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
    full = os.environ.get("AWS_CONTAINER_CREDENTIALS_FULL_URI")
    if relative or full:
        request = urllib.request.Request(full or "http://169.254.170.2" + relative)
        if os.environ.get("AWS_CONTAINER_AUTHORIZATION_TOKEN"):
            request.add_header("Authorization", os.environ["AWS_CONTAINER_AUTHORIZATION_TOKEN"])
        with urllib.request.urlopen(request, timeout=5) as response:
            creds = json.loads(response.read())
        return creds["AccessKeyId"], creds["SecretAccessKey"], creds.get("Token")
    if not os.environ.get("AWS_ACCESS_KEY_ID"):
        raise RuntimeError("no AWS credentials: neither ECS's container endpoint nor AWS_ACCESS_KEY_ID is set")
    return os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"], os.environ.get("AWS_SESSION_TOKEN")


def aws_call(endpoint_prefix, signing_name, path, payload):
    """POSTs JSON to an AWS API, signed with Signature Version 4, and returns the JSON answer.

    Standard library only; a real agent would use boto3 (add it to requirements.txt). The endpoint can be
    moved with boto3's variables (AWS_ENDPOINT_URL_RDS_DATA, AWS_ENDPOINT_URL_BEDROCK_RUNTIME).
    `path` is already percent-encoded; AWS signs it encoded once more (every service but S3).
    """
    region = os.environ["AWS_DEFAULT_REGION"]
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    variable = "AWS_ENDPOINT_URL_" + endpoint_prefix.upper().replace("-", "_")
    endpoint = os.environ.get(variable) or "https://%s.%s.%s" % (endpoint_prefix, region, suffix)
    endpoint = endpoint.rstrip("/")
    body = json.dumps(payload).encode()
    key, secret, token = aws_credentials()
    amz_date = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    headers = {"content-type": "application/json", "host": urllib.parse.urlsplit(endpoint).netloc,
               "x-amz-date": amz_date}
    if token:
        headers["x-amz-security-token"] = token
    signed = ";".join(sorted(headers))
    canonical = "\n".join([
        "POST", urllib.parse.quote(urllib.parse.urlsplit(endpoint).path + path, safe="/~"), "",
        "".join("%s:%s\n" % (name, headers[name]) for name in sorted(headers)), signed,
        hashlib.sha256(body).hexdigest()])
    scope = "%s/%s/%s/aws4_request" % (amz_date[:8], region, signing_name)
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    signing_key = ("AWS4" + secret).encode()
    for part in (amz_date[:8], region, signing_name, "aws4_request"):
        signing_key = hmac.new(signing_key, part.encode(), hashlib.sha256).digest()
    headers["authorization"] = "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s" % (
        key, scope, signed, hmac.new(signing_key, to_sign.encode(), hashlib.sha256).hexdigest())
    request = urllib.request.Request(endpoint + path, data=body, method="POST", headers=headers)
    with urllib.request.urlopen(request, timeout=CALL_TIMEOUT_SECONDS) as response:
        return json.loads(response.read())


def smoke_database():
    """A round trip to the database in the agent's own schema, through the RDS Data API."""
    answer = aws_call("rds-data", "rds-data", "/Execute", {
        "resourceArn": os.environ["DB_CLUSTER_ARN"], "secretArn": os.environ["DB_SECRET_ARN"],
        "database": os.environ["DB_NAME"], "sql": "SELECT current_user, current_schema()"})
    user, schema = (field.get("stringValue") for field in answer["records"][0])
    if schema != os.environ["DB_SCHEMA"]:
        raise RuntimeError("connected as %s, whose schema is %s, not %s" % (user, schema, os.environ["DB_SCHEMA"]))
    return "schema %s as %s" % (schema, user)


def smoke_model():
    """One small call to the agent's model, through its inference profile (Bedrock's Converse API)."""
    model = os.environ["BEDROCK_MODEL_ID"]
    answer = aws_call("bedrock-runtime", "bedrock", "/model/%s/converse" % urllib.parse.quote(model, safe=""), {
        "messages": [{"role": "user", "content": [{"text": "Reply with the single word OK."}]}],
        "inferenceConfig": {"maxTokens": 10}})
    text = "".join(part.get("text", "") for part in answer["output"]["message"]["content"])
    return "%s answered %r" % (model, text.strip()[:40])


def smoke_call(url):
    """The smoke check of an agent this one calls, through Service Connect (without its own calls)."""
    try:
        with urllib.request.urlopen(url + SMOKE_SUFFIX + "?calls=0", timeout=CALL_TIMEOUT_SECONDS) as response:
            answer = json.loads(response.read())
    except urllib.error.HTTPError as err:  # a 503 carries the checks that failed
        answer = json.loads(err.read() or b"{}")
    failed = sorted(name for name, check in answer.get("checks", {}).items() if not check.get("ok"))
    if failed:
        raise RuntimeError("its checks failed: " + ", ".join(failed))
    return "answered as %s" % answer.get("agent")


def smoke(query):
    """This agent's end-to-end checks, each {"ok": bool, "detail": str}; the database failure is logged."""
    checks, results = [], {}
    database = check_database()  # logs the failure event itself when the settings are unusable
    if database is False:
        results["database"] = {"ok": False, "detail": "the database settings are unusable"}
    elif database:
        checks.append(("database", smoke_database))
    if query.get("model") == ["1"]:
        checks.append(("model", smoke_model))
    if query.get("calls") != ["0"]:
        checks.extend(("call:" + name, lambda url=url: smoke_call(url)) for name, url in sorted(callees().items()))
    for name, run in checks:
        try:
            results[name] = {"ok": True, "detail": run()}
        except Exception as err:  # noqa: BLE001 - every failure is a failed check, reported
            results[name] = {"ok": False, "detail": "%s: %s" % (type(err).__name__, err)}
            if name == "database":
                log(DB_FAILURE_EVENT, level="error", error=str(err))
    return results


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
        url = urllib.parse.urlsplit(self.path)
        if self.path == HEALTH_PATH:
            self.reply(200, {"status": "ok", "agent": AGENT_NAME})
        elif url.path.endswith(SMOKE_SUFFIX):
            checks = smoke(urllib.parse.parse_qs(url.query))
            ok = all(check["ok"] for check in checks.values())
            self.reply(200 if ok else 503, {"agent": AGENT_NAME, "ok": ok, "checks": checks})
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


class TLSServer(ThreadingHTTPServer):
    """HTTPS: each connection's handshake runs in its own thread, so a slow client holds up no other."""

    context = None

    def finish_request(self, request, client_address):
        try:
            request = self.context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as err:
            log("tls_handshake_failed", level="warning", client=client_address[0], error=str(err))
            return
        super().finish_request(request, client_address)


def tls_context():
    """A server TLS context with a certificate and key created now, in /tmp, by the openssl CLI.

    python:3.11-slim has it (ca-certificates depends on it; the Dockerfile checks). A fresh key per task means
    no private key is ever in the image or in Secrets Manager. The ALB checks no target certificate, so
    self-signed is what a target needs; RSA, which every ALB TLS policy offers to targets.
    """
    directory = tempfile.mkdtemp(prefix="tls-")
    cert, key = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    subprocess.run(  # noqa: S603, S607 - fixed arguments, the image's openssl
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30",
         "-subj", "/CN=%s" % AGENT_NAME, "-addext", "subjectAltName=DNS:%s" % AGENT_NAME,
         "-keyout", key, "-out", cert],
        check=True, capture_output=True,
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert, key)
    return context


def main():
    check_scratch()
    check_database()
    server = ThreadingHTTPServer(("0.0.0.0", PORT), Handler)  # noqa: S104 - the task's own network
    if TLS_PORT:
        try:
            context = tls_context()
        except (OSError, subprocess.CalledProcessError) as err:
            log("tls_unavailable", level="error", error=str(err))
            sys.exit(1)
        secure = TLSServer(("0.0.0.0", int(TLS_PORT)), Handler)  # noqa: S104 - as above
        secure.context = context
        Thread(target=secure.serve_forever, daemon=True).start()
    log("started", port=PORT, tls_port=TLS_PORT, calls=sorted(callees()))
    server.serve_forever()


if __name__ == "__main__":
    main()
