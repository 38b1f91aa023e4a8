"""tfgen's database bootstrap: creates the agents' schemas, roles and grants in the Aurora database.

Invoked by Terraform (aws_lambda_invocation) on every apply whose input changed. What it runs travels in
its own code package, built by tfgen and committed (readable) with the environment's Terraform:
bootstrap.sql (one statement per line) and bootstrap.json (each agent role and the name of its secret).
The cluster, the master secret, the database and the suffix of the secret names (SECRET_NAME_SUFFIX, empty
or "-<id of the environment's key>") come from the function's environment, which only Terraform sets. The event selects nothing but is checked: it carries the SHA-256 of the SQL it was
rendered with (a package that does not hold that SQL refuses to run) and the agents' password versions
(whose bump re-runs it). Whoever may invoke the function can therefore only re-run what was reviewed.

Every statement runs through the RDS Data API with the master secret: the database is never reachable
from outside the VPC, and only this function's role may read the master secret. For each agent of the
package, the function reads the agent's secret and sets the role's password, so no password passes
through Terraform. It sends PostgreSQL a SCRAM-SHA-256 verifier, never the password itself, because the
cluster logs DDL statements (log_statement = ddl). Everything it runs is idempotent.

Two Data API transactions, each under the transaction-level advisory lock LOCK_KEY (so a second bootstrap,
a retry or a parallel apply, waits for the first instead of racing it on CREATE ROLE): the first creates
the roles and sets every password from its secret, which Terraform has already rewritten; the second runs
the rest (schemas, grants, revocations). A failure in the second leaves every agent able to log in with
the password its secret holds; a failure in either rolls that transaction back whole. (A reserved
concurrency of 1 would serialise runs too, at the cost of a Lambda quota a fresh account does not have.)

Standard library and boto3 only (both in the Lambda Python runtime).
"""

import base64
import hashlib
import hmac
import json
import os
import re
import time

import boto3

ROLE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
PASSWORD = re.compile(r"^[A-Za-z0-9]{32,128}$")
SCRAM_ITERATIONS = 4096
# The advisory lock every bootstrap transaction holds (pg_advisory_xact_lock(hashtext(...))).
LOCK_KEY = "tfgen database bootstrap"
# The line of bootstrap.sql after which passwords are set and the first transaction commits.
PASSWORDS_MARKER = "-- tfgen-bootstrap: passwords"
# The only keys an event may hold.
EVENT_KEYS = {"sql_sha256", "password_versions"}
HERE = os.path.dirname(os.path.abspath(__file__))

def statements(sql):
    """The statements of the bootstrap SQL: every line that is neither blank nor a `--` comment."""
    for line in sql.splitlines():
        line = line.strip()
        if line and not line.startswith("--"):
            yield line

def scram_verifier(password, salt):
    """PostgreSQL's stored form of a SCRAM-SHA-256 password (RFC 5802 / 7677), as pg_authid keeps it."""
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, SCRAM_ITERATIONS)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    b64 = lambda raw: base64.b64encode(raw).decode()  # noqa: E731
    return "SCRAM-SHA-256$%d:%s$%s:%s" % (SCRAM_ITERATIONS, b64(salt), b64(stored_key), b64(server_key))

def password_statement(role, secret):
    """The ALTER ROLE that gives `role` the password kept in its secret (a JSON object)."""
    if not ROLE.match(role):
        raise ValueError("not a plain role name: %r" % role)
    value = json.loads(secret)
    if value.get("username") != role:
        raise ValueError("the secret of role %s names another user" % role)
    password = value.get("password", "")
    if not PASSWORD.match(password):
        raise ValueError("the password of role %s is not 32-128 letters and digits" % role)
    return "ALTER ROLE %s WITH PASSWORD '%s'" % (role, scram_verifier(password, os.urandom(16)))

def package():
    """The SQL and the role -> secret name manifest this code package was built with."""
    with open(os.path.join(HERE, "bootstrap.sql"), encoding="utf-8") as f:
        sql = f.read()
    with open(os.path.join(HERE, "bootstrap.json"), encoding="utf-8") as f:
        manifest = json.load(f)
    return sql, manifest

def check_event(event, sql):
    """Refuses an event that carries anything but the digest of this package's SQL and password versions."""
    extra = sorted(set(event) - EVENT_KEYS)
    if extra:
        raise ValueError("the event may carry only %s, not %s" % (sorted(EVENT_KEYS), extra))
    digest = hashlib.sha256(sql.encode("utf-8")).hexdigest()
    if event.get("sql_sha256") != digest:
        raise ValueError("the event names SQL %r; this package holds %s" % (event.get("sql_sha256"), digest))

def handler(event, context):
    sql, manifest = package()
    check_event(event, sql)
    roles_part, rest = split(sql)
    data = boto3.client("rds-data")
    secrets = boto3.client("secretsmanager")
    database = os.environ["DATABASE"]
    target = dict(resourceArn=os.environ["CLUSTER_ARN"], secretArn=os.environ["MASTER_SECRET_ARN"])

    def call(method, **args):
        # A cluster that scaled to zero answers DatabaseResumingException while it wakes: wait, up to 5 minutes.
        for attempt in range(30):
            try:
                return getattr(data, method)(**target, **args)
            except Exception as error:  # noqa: BLE001 (only the resuming error is retried)
                if "DatabaseResuming" not in type(error).__name__ or attempt == 29:
                    raise
                time.sleep(10)

    def transaction(body):
        """Runs body(run) in one Data API transaction under the advisory lock: committed whole or not at all."""
        tx = call("begin_transaction", database=database)["transactionId"]

        def run(statement):
            return call("execute_statement", database=database, transactionId=tx, sql=statement)

        try:
            run("SELECT pg_advisory_xact_lock(hashtext('%s'))" % LOCK_KEY)
            result = body(run)
            call("commit_transaction", transactionId=tx)
            return result
        except BaseException:
            call("rollback_transaction", transactionId=tx)
            raise

    def roles_and_passwords(run):
        for statement in statements(roles_part):
            run(statement)
        roles = []
        for role, secret_name in sorted(manifest["roles"].items()):
            secret_id = secret_name + os.environ["SECRET_NAME_SUFFIX"]
            secret = secrets.get_secret_value(SecretId=secret_id)["SecretString"]
            run(password_statement(role, secret))
            roles.append(role)
        return roles

    def the_rest(run):
        count = 0
        for statement in statements(rest):
            run(statement)
            count += 1
        return count

    roles = transaction(roles_and_passwords)
    count = transaction(the_rest)
    # Kept in Terraform state: counts and names only, never a secret.
    return {"statements": len(list(statements(roles_part))) + count, "passwords_set": roles}

def split(sql):
    """The SQL before the passwords marker line (roles) and after it (everything else)."""
    before, marker, after = sql.partition("\n" + PASSWORDS_MARKER)
    if not marker:
        raise ValueError("bootstrap.sql has no %r line" % PASSWORDS_MARKER)
    return before, after.split("\n", 1)[1] if "\n" in after else ""
