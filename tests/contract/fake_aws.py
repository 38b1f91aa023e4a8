"""The two AWS APIs the reference agent's smoke check calls, for tests/contract.rs: the RDS Data API
(ExecuteStatement) and Bedrock's Converse, plus ECS's container credentials endpoint.

It proves the agent's standard-library Signature Version 4 against botocore's own signer: each request's
signature is recomputed by botocore (pinned in the test's venv) over the headers the request says it
signed, with the credentials this endpoint handed out, and a mismatch is refused with 403 as AWS would.
Every request is logged as one JSON line on stdout. Loopback only.

    python fake_aws.py PORT CONFIG_JSON
CONFIG_JSON: {"token": <container authorization token>, "region": ..., "schemas": {<secret ARN>: <schema>}}
"""

import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

PORT = int(sys.argv[1])
CONFIG = json.loads(sys.argv[2])
KEY, SECRET, TOKEN = "ASIAFAKEFORTFGENTEST", "fake/secret/for+tfgen+tests", "fake-session-token"


def log(**record):
    sys.stdout.write(json.dumps(record, sort_keys=True) + "\n")
    sys.stdout.flush()


def signature_problem(handler, body, service):
    """None when botocore computes the same signature for the request; else what is wrong."""
    auth = handler.headers.get("Authorization", "")
    try:
        algorithm, rest = auth.split(" ", 1)
        fields = dict(part.strip().split("=", 1) for part in rest.split(","))
        credential, signed, signature = fields["Credential"], fields["SignedHeaders"], fields["Signature"]
    except ValueError:
        return "no SigV4 Authorization header: %r" % auth
    key, day, region, scope_service, terminal = credential.split("/")
    if (algorithm, key, region, scope_service, terminal) != ("AWS4-HMAC-SHA256", KEY, CONFIG["region"], service,
                                                           "aws4_request"):
        return "credential scope %s, expected %s/<day>/%s/%s/aws4_request" % (credential, KEY, CONFIG["region"],
                                                                              service)
    names = signed.split(";")
    for required in ("host", "x-amz-date", "x-amz-security-token"):
        if required not in names:
            return "%s is not signed" % required
    headers = {name: handler.headers[name] for name in names}
    request = AWSRequest(method="POST", url="http://%s%s" % (headers["host"], handler.path), data=body,
                         headers=headers)
    request.context["timestamp"] = headers["x-amz-date"]
    signer = SigV4Auth(Credentials(KEY, SECRET, TOKEN), service, region)
    expected = signer.signature(signer.string_to_sign(request, signer.canonical_request(request)), request)
    return None if expected == signature else "signature %s, botocore computes %s" % (signature, expected)


class Handler(BaseHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002
        pass

    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):  # noqa: N802
        if self.path == "/creds" and self.headers.get("Authorization") == CONFIG["token"]:
            log(api="credentials")
            self.reply(200, {"AccessKeyId": KEY, "SecretAccessKey": SECRET, "Token": TOKEN,
                             "Expiration": "2099-01-01T00:00:00Z"})
        else:
            log(api="credentials", refused=True)
            self.reply(403, {"message": "no such credentials"})

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path == "/Execute":
            service = "rds-data"
        elif self.path.startswith("/model/") and self.path.endswith("/converse"):
            service = "bedrock"
        else:
            self.reply(404, {"message": "unknown operation %s" % self.path})
            return
        problem = signature_problem(self, body, service)
        request = json.loads(body)
        if service == "rds-data":
            schema = CONFIG["schemas"].get(request.get("secretArn"))
            log(api=service, secret=request.get("secretArn"), sql=request.get("sql"), problem=problem)
            if problem:
                self.reply(403, {"message": problem})
            elif schema is None:
                self.reply(400, {"message": "no such secret"})
            else:
                user = {"stringValue": schema}
                self.reply(200, {"records": [[user, {"stringValue": schema}]], "numberOfRecordsUpdated": 0})
        else:
            model = unquote(self.path[len("/model/"):-len("/converse")])
            log(api=service, model=model, problem=problem)
            if problem:
                self.reply(403, {"message": problem})
            else:
                self.reply(200, {"output": {"message": {"role": "assistant", "content": [{"text": "OK"}]}},
                                 "stopReason": "end_turn", "usage": {"inputTokens": 14, "outputTokens": 2}})


ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
