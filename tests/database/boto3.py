"""A stand-in for boto3 in tests/database.rs: exactly the two clients the bootstrap handler uses, backed by
a real PostgreSQL instead of AWS.

- rds-data execute_statement runs the statement with psql, logged in as the user of the secret it names
  (the RDS Data API does the same with the secret's username and password);
- secretsmanager get_secret_value returns a secret from the JSON file named by STUB_SECRETS (ARN -> value).

Every statement is appended to the file named by STUB_LOG, so the test can show what reached the server.
"""

import json
import os
import subprocess


def _secrets():
    with open(os.environ["STUB_SECRETS"]) as f:
        return json.load(f)


class _RdsData:
    def execute_statement(self, resourceArn, secretArn, database, sql):
        secret = json.loads(_secrets()[secretArn])
        with open(os.environ["STUB_LOG"], "a") as log:
            log.write(sql + "\n")
        out = subprocess.run(
            ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", os.environ["STUB_PGHOST"], "-p", "5432",
             "-U", secret["username"], "-d", database, "-c", sql],
            env=dict(os.environ, PGPASSWORD=secret["password"]),
            capture_output=True,
            text=True,
        )
        if out.returncode != 0:
            raise RuntimeError("statement failed: %s\n%s" % (sql, out.stderr))
        return {"numberOfRecordsUpdated": 0}


class _SecretsManager:
    def get_secret_value(self, SecretId):
        return {"SecretString": _secrets()[SecretId]}


def client(name):
    return {"rds-data": _RdsData, "secretsmanager": _SecretsManager}[name]()
