"""Requests an ACM certificate from the emulator and prints its ARN (tests/emulator.rs).

prod's spec names a certificate of a real account; the emulated account has none, so the test asks moto
for one and points its copy of the spec at it. Endpoint and credentials come from the environment
(AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY), as for terraform.

    python tests/emulator/acm_certificate.py REGION DOMAIN
"""

import sys

import boto3

region, domain = sys.argv[1], sys.argv[2]
acm = boto3.client("acm", region_name=region)
print(acm.request_certificate(DomainName=domain, ValidationMethod="DNS")["CertificateArn"])
