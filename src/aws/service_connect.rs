//! ECS Service Connect TLS: what AWS requires of the CA and role, and how often certificates are issued.
//! Data only; `modules/service_connect_tls` follows it and `tfgen cost` counts certificates with it.
//!
//! Sources, checked 2026-12-07:
//! - Amazon ECS Developer Guide, "Service Connect TLS"
//!   (<https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-connect-tls.html>): any AWS
//!   Private CA, root or subordinate, tagged `AmazonECSManaged = true`; short-lived certificate mode
//!   recommended; the proxies speak TLS 1.3; private keys in ECS-created Secrets Manager secrets.
//! - AWS Managed Policy Reference, `AmazonECSInfrastructureRolePolicyForServiceConnectTransportLayerSecurity`
//!   (version 4): Private CA actions only on CAs with that tag; no KMS permission.
//! - AWS Containers Blog, "Secure Amazon Elastic Container Service workloads with Amazon ECS Service
//!   Connect": certificates rotate every 5 days and live 7. How many per service is not documented; the
//!   secrets ECS creates are tagged with the service (or task set), so tfgen counts one certificate per
//!   agent per rotation, and says so where it prices them.
//! - AWS Private CA User Guide, "Short-lived certificates": at most 7 days' validity.

/// The AWS managed policy of the ECS infrastructure role for Service Connect TLS (under `service-role/`).
pub const TLS_ROLE_POLICY: &str = "AmazonECSInfrastructureRolePolicyForServiceConnectTransportLayerSecurity";

/// The tag a Private CA needs before ECS may issue from it.
pub const CA_TAG: (&str, &str) = ("AmazonECSManaged", "true");

/// Days between two certificates of one Service Connect service.
pub const CERTIFICATE_ROTATION_DAYS: f64 = 5.0;
