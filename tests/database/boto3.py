"""A stand-in for boto3 in tests/database.rs: exactly the two clients the bootstrap handler uses, backed by
a real PostgreSQL instead of AWS.

- rds-data execute_statement runs the statement with psql, logged in as the user of the secret it names
  (the RDS Data API does the same with the secret's username and password); begin_transaction opens one
  psql session that keeps a transaction open, execute_statement with its transactionId runs there, and
  commit_transaction/rollback_transaction end it, as the Data API's transactions do;
- secretsmanager get_secret_value returns a secret from the JSON file named by STUB_SECRETS (ARN -> value).

Every statement is appended to the file named by STUB_LOG, so the test can show what reached the server.
"""

import json
import os
import subprocess
import tempfile


def _secrets():
    with open(os.environ["STUB_SECRETS"]) as f:
        return json.load(f)


_SESSIONS = {}


def _psql(secret, database, *args, **kw):
    return ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", os.environ["STUB_PGHOST"], "-p", "5432",
            "-U", secret["username"], "-d", database, *args], dict(os.environ, PGPASSWORD=secret["password"])


def _errors(session):
    session.errors.seek(0)
    return session.errors.read()


def _log(sql):
    with open(os.environ["STUB_LOG"], "a") as log:
        log.write(sql + "\n")


class _RdsData:
    def begin_transaction(self, resourceArn, secretArn, database):
        argv, env = _psql(json.loads(_secrets()[secretArn]), database)
        # stderr to a file: psql's notices ("already exists, skipping") must not fill a pipe nobody reads.
        errors = tempfile.TemporaryFile(mode="w+")
        session = subprocess.Popen(argv, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                   stderr=errors, text=True)
        session.errors = errors
        transaction = "tx-%d" % (len(_SESSIONS) + 1)
        _SESSIONS[transaction] = session
        self._send(transaction, "BEGIN")
        return {"transactionId": transaction}

    def _send(self, transaction, sql):
        session = _SESSIONS[transaction]
        session.stdin.write(sql + ";\n\\echo __stub_done__\n")
        session.stdin.flush()
        while True:
            line = session.stdout.readline()
            if line == "":  # ON_ERROR_STOP: psql quit on the error
                raise RuntimeError("statement failed: %s\n%s" % (sql, _errors(session)))
            if line.strip() == "__stub_done__":
                return

    def execute_statement(self, resourceArn, secretArn, database, sql, transactionId=None):
        _log(sql)
        if transactionId is not None:
            self._send(transactionId, sql)
            return {"numberOfRecordsUpdated": 0}
        argv, env = _psql(json.loads(_secrets()[secretArn]), database, "-c", sql)
        out = subprocess.run(argv, env=env, capture_output=True, text=True)
        if out.returncode != 0:
            raise RuntimeError("statement failed: %s\n%s" % (sql, out.stderr))
        return {"numberOfRecordsUpdated": 0}

    def _end(self, transactionId, sql):
        session = _SESSIONS.pop(transactionId)
        if session.poll() is None:
            session.stdin.write(sql + ";\n")
            session.stdin.close()
        session.wait()
        return session

    def commit_transaction(self, resourceArn, secretArn, transactionId):
        session = self._end(transactionId, "COMMIT")
        if session.returncode != 0:
            raise RuntimeError("commit failed: %s" % _errors(session))
        return {"transactionStatus": "Transaction Committed"}

    def rollback_transaction(self, resourceArn, secretArn, transactionId):
        self._end(transactionId, "ROLLBACK")
        return {"transactionStatus": "Rollback Complete"}


class _SecretsManager:
    def get_secret_value(self, SecretId):
        return {"SecretString": _secrets()[SecretId]}


def client(name):
    return {"rds-data": _RdsData, "secretsmanager": _SecretsManager}[name]()
