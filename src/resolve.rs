//! Resolve stage: [`ValidSpec`] → [`Model`]. Derives names, subnets and rule priorities. Never fails:
//! everything that could go wrong was checked by [`crate::validate`].

use crate::addresses::AGENT_KEYED;
use crate::cidr::Ipv4Cidr;
use crate::model::{Agent, Alb, Backend, Database, Deployment, Model, Move, Network, Sizing};
use crate::names::{AgentNames, EnvNames};
use crate::validate::ValidSpec;

/// The plan's subnet layout, generalised: in a /16, public `x.x.1.0/24, x.x.2.0/24, …` and private
/// `x.x.10.0/24, x.x.20.0/24, …`; in a smaller VPC, subnets 8 bits longer (at most /28), packed in order.
/// `None` when the VPC is too small for `az_count` public and private subnets.
pub fn default_subnets(vpc: Ipv4Cidr, az_count: u8) -> Option<(Vec<Ipv4Cidr>, Vec<Ipv4Cidr>)> {
    let new_bits = 8u8.min(28u8.checked_sub(vpc.prefix())?);
    let n = u32::from(az_count);
    let plan_layout = new_bits == 8 && 10 * n < 256;
    let (public, private): (Vec<_>, Vec<_>) = if plan_layout {
        (
            (1..=n).map(|i| vpc.subnet(8, i)).collect(),
            (1..=n).map(|i| vpc.subnet(8, 10 * i)).collect(),
        )
    } else {
        (
            (0..n).map(|i| vpc.subnet(new_bits, i)).collect(),
            (n..2 * n).map(|i| vpc.subnet(new_bits, i)).collect(),
        )
    };
    Some((
        public.into_iter().collect::<Option<_>>()?,
        private.into_iter().collect::<Option<_>>()?,
    ))
}

/// Builds the model templates render from.
pub fn resolve(spec: &ValidSpec) -> Model {
    let (public_subnets, private_subnets) = spec
        .explicit_subnets
        .clone()
        .or_else(|| default_subnets(spec.vpc_cidr, spec.az_count))
        .expect("validate checked the VPC has room for its subnets");
    let names = EnvNames::derive(&spec.env);
    let agents: Vec<Agent> = spec
        .agents
        .iter()
        .zip(1u32..)
        .map(|(a, i)| {
            let physical_name = a.renamed_from.clone().unwrap_or_else(|| a.name.clone());
            Agent {
                names: AgentNames::derive(&spec.env, physical_name.as_str()),
                physical_name,
                name: a.name.clone(),
                renamed_from: a.renamed_from.clone(),
                port: a.port,
                paths: a.paths.clone(),
                health_check_path: a.health_check_path.clone(),
                size: a.size,
                desired_count: a.desired_count,
                max_count: a.max_count,
                priority: i * 10,
            }
        })
        .collect();
    let db = &spec.database;
    Model {
        env: spec.env.clone(),
        spec_file: spec.spec_file.clone(),
        region: spec.region.clone(),
        sizing: spec.sizing,
        image_tag: spec.image_tag.clone(),
        network: Network {
            vpc_cidr: spec.vpc_cidr,
            az_count: spec.az_count,
            single_nat_gateway: spec.single_nat_gateway,
            public_subnets,
            private_subnets,
        },
        database: Database {
            cluster_identifier: names.db_cluster.clone(),
            engine_version: db.engine_version.clone(),
            database_name: db.database_name.clone(),
            master_username: "multi_agent_admin".to_string(),
            min_acu: db.min_acu,
            max_acu: db.max_acu,
            instances: db.instances,
            backup_retention_days: db.backup_retention_days,
            deletion_protection: db.deletion_protection,
            final_snapshot: spec.sizing == Sizing::Prod,
        },
        bedrock: spec.bedrock.clone(),
        alb: Alb {
            name: names.alb.clone(),
            certificate_arn: spec.certificate_arn.clone(),
            deletion_protection: spec.alb_deletion_protection,
        },
        alarm_email: spec.alarm_email.clone(),
        ecr_replication_regions: spec.ecr_replication_regions.clone(),
        deployment: Deployment {
            wait_for_steady_state: spec.wait_for_steady_state,
            cpu_target_percent: spec.cpu_target_percent,
            log_retention_days: spec.log_retention_days,
            health_check_grace_period_seconds: 60,
            minimum_healthy_percent: 50,
            maximum_percent: 200,
            timeout: "10m".to_string(),
        },
        terraform_required_version: match spec.backend {
            Backend::Local => ">= 1.5".to_string(),
            Backend::S3 { .. } => ">= 1.10".to_string(),
        },
        backend: spec.backend.clone(),
        security: spec.security.clone(),
        names,
        moves: moves(&agents),
        agents,
    }
}

/// For every renamed agent, a `moved` block per agent-keyed address (see [`AGENT_KEYED`]).
fn moves(agents: &[Agent]) -> Vec<Move> {
    let mut out = Vec::new();
    for agent in agents {
        let Some(old) = &agent.renamed_from else {
            continue;
        };
        for base in AGENT_KEYED {
            out.push(Move {
                agent: agent.name.to_string(),
                from: format!("{base}[\"{old}\"]"),
                to: format!("{base}[\"{}\"]", agent.name),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plans_layout_comes_from_a_slash_16() {
        let (public, private) = default_subnets(Ipv4Cidr::parse("10.0.0.0/16").unwrap(), 2).unwrap();
        let show = |v: Vec<Ipv4Cidr>| v.iter().map(ToString::to_string).collect::<Vec<_>>();
        assert_eq!(show(public), ["10.0.1.0/24", "10.0.2.0/24"]);
        assert_eq!(show(private), ["10.0.10.0/24", "10.0.20.0/24"]);
    }

    #[test]
    fn small_vpcs_pack_subnets() {
        let (public, private) = default_subnets(Ipv4Cidr::parse("10.0.0.0/24").unwrap(), 3).unwrap();
        assert_eq!(public[0].to_string(), "10.0.0.0/28");
        assert_eq!(private[2].to_string(), "10.0.0.80/28");
        assert!(default_subnets(Ipv4Cidr::parse("10.0.0.0/28").unwrap(), 2).is_none());
    }
}
