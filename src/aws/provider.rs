//! What the AWS provider (hashicorp/aws 5.100.0) does with each resource type tfgen generates: which
//! attributes force a replacement when they change, and which are write-only (never compared by a
//! plan). It holds no other provider facts.
//!
//! Source: the provider's resource schemas at tag v5.100.0: `ForceNew: true` in SDKv2 schemas and
//! `RequiresReplace` plan modifiers in Plugin Framework resources (attributes of a force-new nested block
//! are listed by the block's path). Read 2026-11-25 in hashicorp/terraform-provider-aws (the code index's
//! snapshot, commit 3cdebe9581b24f1fb9f059af76f6e2e36d520776, for internal/service/rds; the other
//! services from the v5.100.0 schemas; `internal/service/acmpca` read 2026-12-07). Attributes that exist
//! only for features tfgen never sets (imports, snapshots, outposts) are left out. Tests: every generated resource type has an entry, every
//! path exists in `terraform providers schema -json` of the mirrored provider, and tests/emulator.rs
//! compares predictions built on this table with the emulator's real plans.

/// Resource type → attribute paths whose change replaces the resource. A path names a top-level argument
/// (`name`) or a nested block or its argument (`encryption_configuration`, `runtime_platform.cpu_architecture`);
/// a block's path covers everything inside it.
pub const FORCE_NEW: [(&str, &[&str]); 75] = [
    (
        "aws_acmpca_certificate",
        &[
            "api_passthrough",
            "certificate_authority_arn",
            "certificate_signing_request",
            "signing_algorithm",
            "template_arn",
            "validity",
        ],
    ),
    (
        "aws_acmpca_certificate_authority",
        &[
            "certificate_authority_configuration.key_algorithm",
            "certificate_authority_configuration.signing_algorithm",
            "certificate_authority_configuration.subject",
            "key_storage_security_standard",
            "type",
        ],
    ),
    (
        "aws_acmpca_certificate_authority_certificate",
        &["certificate", "certificate_authority_arn", "certificate_chain"],
    ),
    (
        "aws_appautoscaling_policy",
        &["name", "resource_id", "scalable_dimension", "service_namespace"],
    ),
    (
        "aws_appautoscaling_target",
        &["resource_id", "scalable_dimension", "service_namespace"],
    ),
    ("aws_backup_plan", &["name"]),
    (
        "aws_backup_selection",
        &[
            "condition",
            "iam_role_arn",
            "name",
            "not_resources",
            "plan_id",
            "resources",
            "selection_tag",
        ],
    ),
    ("aws_backup_vault", &["kms_key_arn", "name"]),
    ("aws_budgets_budget", &["account_id", "name", "name_prefix"]),
    ("aws_cloudwatch_dashboard", &["dashboard_name"]),
    ("aws_cloudwatch_event_rule", &["event_bus_name", "name", "name_prefix"]),
    ("aws_cloudwatch_event_target", &["event_bus_name", "rule", "target_id"]),
    ("aws_cloudwatch_log_group", &["log_group_class", "name", "name_prefix"]),
    ("aws_cloudwatch_log_metric_filter", &["log_group_name", "name"]),
    ("aws_cloudwatch_metric_alarm", &["alarm_name"]),
    ("aws_codebuild_project", &["name"]),
    ("aws_codepipeline", &["name"]),
    (
        "aws_codestarconnections_connection",
        &["host_arn", "name", "provider_type"],
    ),
    ("aws_db_subnet_group", &["name", "name_prefix"]),
    ("aws_default_security_group", &["vpc_id"]),
    ("aws_ecr_lifecycle_policy", &["repository"]),
    ("aws_ecr_registry_scanning_configuration", &[]),
    ("aws_ecr_replication_configuration", &[]),
    ("aws_ecr_repository", &["encryption_configuration", "name"]),
    ("aws_ecr_repository_creation_template", &["prefix"]),
    ("aws_ecs_cluster", &["name"]),
    ("aws_ecs_cluster_capacity_providers", &["cluster_name"]),
    (
        "aws_ecs_service",
        &[
            "cluster",
            "deployment_controller",
            "iam_role",
            "launch_type",
            "name",
            "scheduling_strategy",
        ],
    ),
    (
        "aws_ecs_task_definition",
        &[
            "container_definitions",
            "cpu",
            "ephemeral_storage",
            "execution_role_arn",
            "family",
            "inference_accelerator",
            "ipc_mode",
            "memory",
            "network_mode",
            "pid_mode",
            "placement_constraints",
            "proxy_configuration",
            "requires_compatibilities",
            "runtime_platform",
            "task_role_arn",
            "volume",
        ],
    ),
    (
        "aws_eip",
        &[
            "address",
            "customer_owned_ipv4_pool",
            "domain",
            "ipam_pool_id",
            "network_border_group",
            "public_ipv4_pool",
        ],
    ),
    (
        "aws_flow_log",
        &[
            "deliver_cross_account_role",
            "destination_options",
            "eni_id",
            "iam_role_arn",
            "log_destination",
            "log_destination_type",
            "log_format",
            "log_group_name",
            "max_aggregation_interval",
            "subnet_id",
            "traffic_type",
            "transit_gateway_attachment_id",
            "transit_gateway_id",
            "vpc_id",
        ],
    ),
    ("aws_iam_policy", &["description", "name", "name_prefix", "path"]),
    ("aws_iam_role", &["name", "name_prefix", "path"]),
    ("aws_iam_role_policy", &["name", "name_prefix", "role"]),
    ("aws_iam_role_policy_attachment", &["policy_arn", "role"]),
    (
        // `user_data` replaces only with `user_data_replace_on_change = true`, which the NAT instance sets.
        "aws_instance",
        &[
            "ami",
            "associate_public_ip_address",
            "availability_zone",
            "ebs_block_device",
            "ephemeral_block_device",
            "key_name",
            "network_interface",
            "placement_group",
            "private_ip",
            "root_block_device.encrypted",
            "root_block_device.kms_key_id",
            "security_groups",
            "subnet_id",
            "tenancy",
            "user_data",
            "user_data_base64",
        ],
    ),
    ("aws_internet_gateway", &[]),
    ("aws_kms_alias", &["name", "name_prefix"]),
    (
        "aws_kms_key",
        &[
            "custom_key_store_id",
            "customer_master_key_spec",
            "key_usage",
            "multi_region",
            "xks_key_id",
        ],
    ),
    ("aws_lambda_function", &["function_name"]),
    // `input` is force-new through a CustomizeDiff (customizeDiffInputChangeWithCreateOnlyScope) while
    // `lifecycle_scope` is CREATE_ONLY, its default, which tfgen's bootstrap keeps.
    (
        "aws_lambda_invocation",
        &["function_name", "input", "qualifier", "triggers"],
    ),
    ("aws_lb", &["internal", "load_balancer_type", "name", "name_prefix"]),
    ("aws_lb_listener", &["load_balancer_arn"]),
    ("aws_lb_listener_rule", &["listener_arn"]),
    (
        "aws_lb_target_group",
        &[
            "ip_address_type",
            "name",
            "name_prefix",
            "port",
            "protocol",
            "protocol_version",
            "target_type",
            "vpc_id",
        ],
    ),
    (
        "aws_nat_gateway",
        &["allocation_id", "connectivity_type", "private_ip", "subnet_id"],
    ),
    (
        "aws_rds_cluster",
        &[
            "availability_zones",
            "cluster_identifier",
            "cluster_identifier_prefix",
            "database_name",
            "db_subnet_group_name",
            "engine",
            "engine_mode",
            "kms_key_id",
            "master_username",
            "restore_to_point_in_time",
            "s3_import",
            "snapshot_identifier",
            "source_region",
            "storage_encrypted",
        ],
    ),
    (
        "aws_rds_cluster_instance",
        &[
            "availability_zone",
            "cluster_identifier",
            "db_subnet_group_name",
            "engine",
            "identifier",
            "identifier_prefix",
        ],
    ),
    (
        "aws_rds_cluster_parameter_group",
        &["description", "family", "name", "name_prefix"],
    ),
    (
        "aws_route",
        &[
            "destination_cidr_block",
            "destination_ipv6_cidr_block",
            "destination_prefix_list_id",
            "route_table_id",
        ],
    ),
    ("aws_route_table", &["vpc_id"]),
    ("aws_route_table_association", &["gateway_id", "subnet_id"]),
    ("aws_s3_bucket", &["bucket", "bucket_prefix", "object_lock_enabled"]),
    (
        "aws_s3_bucket_lifecycle_configuration",
        &["bucket", "expected_bucket_owner"],
    ),
    ("aws_s3_bucket_ownership_controls", &["bucket"]),
    ("aws_s3_bucket_policy", &["bucket"]),
    ("aws_s3_bucket_public_access_block", &["bucket"]),
    (
        "aws_s3_bucket_server_side_encryption_configuration",
        &["bucket", "expected_bucket_owner"],
    ),
    ("aws_s3_bucket_versioning", &["bucket", "expected_bucket_owner"]),
    ("aws_s3_object", &["bucket", "key"]),
    ("aws_secretsmanager_secret", &["name", "name_prefix"]),
    ("aws_secretsmanager_secret_version", &["secret_id"]),
    ("aws_security_group", &["description", "name", "name_prefix", "vpc_id"]),
    ("aws_service_discovery_http_namespace", &["description", "name"]),
    ("aws_sns_topic", &["fifo_topic", "name", "name_prefix"]),
    ("aws_sns_topic_policy", &["arn"]),
    (
        "aws_sns_topic_subscription",
        &[
            "confirmation_timeout_in_minutes",
            "endpoint",
            "endpoint_auto_confirms",
            "protocol",
            "topic_arn",
        ],
    ),
    (
        "aws_subnet",
        &[
            "availability_zone",
            "availability_zone_id",
            "cidr_block",
            "ipv6_native",
            "outpost_arn",
            "vpc_id",
        ],
    ),
    ("aws_vpc", &["cidr_block", "ipv4_ipam_pool_id", "ipv4_netmask_length"]),
    ("aws_vpc_endpoint", &["service_name", "vpc_endpoint_type", "vpc_id"]),
    ("aws_vpc_security_group_egress_rule", &["security_group_id"]),
    ("aws_vpc_security_group_ingress_rule", &["security_group_id"]),
    ("aws_wafv2_web_acl", &["name", "name_prefix", "scope"]),
    ("aws_wafv2_web_acl_association", &["resource_arn", "web_acl_arn"]),
    ("aws_wafv2_web_acl_logging_configuration", &["resource_arn"]),
];

/// Write-only attributes (Terraform 1.11+): sent to the provider on the run that sets them and never
/// stored, so a plan never shows them changing; their `_version` companion decides when they are sent.
/// Source: `"write_only": true` in `terraform providers schema -json` of the mirrored 5.100.0 provider,
/// read 2026-11-25; `tests/terraform.rs` holds this table to that schema for every type in
/// [`FORCE_NEW`].
pub const WRITE_ONLY: [(&str, &str); 2] = [
    ("aws_rds_cluster", "master_password_wo"),
    ("aws_secretsmanager_secret_version", "secret_string_wo"),
];

/// Computed attributes the provider marks unknown again when an in-place update changes one of the listed
/// arguments (a `CustomizeDiff` calling `SetNewComputed`): resource type, those arguments, the attributes.
/// What reads them is updated too. Source: `resourceObjectCustomizeDiff` and `hasObjectContentChanges`
/// in internal/service/s3/object.go of hashicorp/terraform-provider-aws (the code index's snapshot, read
/// 2026-12-07); `tests/terraform.rs` holds every name to the mirrored 5.100.0 provider's schema.
pub const RECOMPUTED_ON_UPDATE: [(&str, &[&str], &[&str]); 2] = [
    (
        "aws_s3_object",
        &[
            "bucket_key_enabled",
            "cache_control",
            "checksum_algorithm",
            "content_base64",
            "content_disposition",
            "content_encoding",
            "content_language",
            "content_type",
            "content",
            "etag",
            "kms_key_id",
            "metadata",
            "server_side_encryption",
            "source",
            "source_hash",
            "storage_class",
            "website_redirect",
        ],
        &["version_id"],
    ),
    ("aws_s3_object", &["source_hash"], &["version_id", "etag"]),
];

/// The attributes of a `resource_type` that an update changing `paths` makes unknown again.
pub fn recomputed_on_update(resource_type: &str, paths: &[String]) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = RECOMPUTED_ON_UPDATE
        .iter()
        .filter(|(t, args, _)| *t == resource_type && paths.iter().any(|p| args.contains(&p.as_str())))
        .flat_map(|(_, _, attrs)| attrs.iter().copied())
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// Is `path` of `resource_type` a write-only attribute (or inside one), which no plan compares?
pub fn is_write_only(resource_type: &str, path: &str) -> bool {
    WRITE_ONLY.iter().any(|(t, a)| {
        *t == resource_type && (path == *a || path.strip_prefix(a).is_some_and(|rest| rest.starts_with('.')))
    })
}

/// The force-new paths of a resource type; `None` when the type is not in the table.
pub fn force_new(resource_type: &str) -> Option<&'static [&'static str]> {
    FORCE_NEW
        .iter()
        .find(|(t, _)| *t == resource_type)
        .map(|(_, paths)| *paths)
}

/// Does a change at `path` (e.g. `serverlessv2_scaling_configuration.min_capacity`) replace a
/// `resource_type`? Unknown types are treated as replaced, the cautious answer.
pub fn forces_replacement(resource_type: &str, path: &str) -> bool {
    force_new(resource_type).is_none_or(|paths| {
        paths
            .iter()
            .any(|p| path == *p || path.strip_prefix(p).is_some_and(|rest| rest.starts_with('.')))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_paths_are_covered_by_their_block() {
        assert!(forces_replacement(
            "aws_ecr_repository",
            "encryption_configuration.kms_key"
        ));
        assert!(forces_replacement("aws_rds_cluster", "database_name"));
        assert!(!forces_replacement(
            "aws_rds_cluster",
            "serverlessv2_scaling_configuration.min_capacity"
        ));
        assert!(!forces_replacement("aws_rds_cluster", "database_name_x"));
    }

    #[test]
    fn write_only_attributes_are_known_by_type() {
        assert!(is_write_only("aws_secretsmanager_secret_version", "secret_string_wo"));
        assert!(!is_write_only(
            "aws_secretsmanager_secret_version",
            "secret_string_wo_version"
        ));
        assert!(!is_write_only("aws_secretsmanager_secret_version", "secret_string"));
        assert!(!is_write_only("aws_ssm_parameter", "secret_string_wo"));
        assert!(forces_replacement("aws_lambda_invocation", "input"));
    }

    #[test]
    fn the_table_is_sorted_and_has_no_duplicates() {
        let types: Vec<&str> = FORCE_NEW.iter().map(|(t, _)| *t).collect();
        let mut sorted = types.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(types, sorted);
    }
}
