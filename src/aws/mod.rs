//! Facts about AWS and its Terraform provider, one table per file, each with its source and date.

pub mod provider;
