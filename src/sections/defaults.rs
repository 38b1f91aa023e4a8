//! The one table of defaults that depend on the sizing: the plan's "Resource Sizing", dev and prod.
//!
//! A default that is the same for every sizing is a constant next to its field in the section module
//! (e.g. [`super::alb`]'s idle timeout); a default that differs by sizing is a column here, and nowhere
//! else. This module checks nothing.

use super::network::Nat;
use crate::model::Sizing;

/// Every default that differs between `dev` and `prod`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Defaults {
    /// Agent task CPU units (1024 = 1 vCPU).
    pub cpu: i64,
    /// Agent task memory, MiB.
    pub memory: i64,
    pub desired_count: i64,
    pub max_count: i64,
    /// Aurora instances (writer + readers).
    pub db_instances: u32,
    /// Deletion protection of the database and the load balancer.
    pub deletion_protection: bool,
    /// Take a final database snapshot on destroy.
    pub final_snapshot: bool,
    /// One NAT gateway (`single`) or one per AZ (`per-az`).
    pub nat: Nat,
    /// `[security] alb_access_logs_expiration_days`
    pub alb_access_logs_expiration_days: u32,
    /// `[security] backup_retention_days` (AWS Backup recovery points).
    pub backup_plan_retention_days: u32,
}

impl Defaults {
    pub const DEV: Self = Self {
        cpu: 512,
        memory: 1024,
        desired_count: 1,
        max_count: 2,
        db_instances: 1,
        deletion_protection: false,
        final_snapshot: false,
        nat: Nat::Single,
        alb_access_logs_expiration_days: 90,
        backup_plan_retention_days: 7,
    };

    pub const PROD: Self = Self {
        cpu: 1024,
        memory: 2048,
        desired_count: 2,
        max_count: 4,
        db_instances: 2,
        deletion_protection: true,
        final_snapshot: true,
        nat: Nat::PerAz,
        alb_access_logs_expiration_days: 365,
        backup_plan_retention_days: 35,
    };

    pub fn for_sizing(sizing: Sizing) -> Self {
        match sizing {
            Sizing::Dev => Self::DEV,
            Sizing::Prod => Self::PROD,
        }
    }
}
