//! `[network]`: VPC CIDR and prefix, AZ count, NAT mode, and the subnets (written, inside the VPC and not
//! overlapping, or laid out from the VPC CIDR the plan's way). Raw form, checks and resolved form.
//!
//! It creates no security groups or routes; those are in the `networking` module's templates.

use serde::{Deserialize, Serialize};

use super::context::{Checker, SpecFile, suggest};
use super::defaults::Defaults;
use crate::aws::regions;
use crate::cidr::Ipv4Cidr;
use crate::diag::rules;
use crate::spec::Spanned;

rules! {
    /// The diagnostics this module reports (`[network]`).
    pub enum Rule {
        VpcPrefix,
        VpcCidrInvalid,
        SingleAz,
        AzCount,
        AzCountRegion,
        NatMode,
        ProdNatInstance,
        OneSubnetList,
        VpcTooSmall,
        SubnetCount,
        SubnetCidrInvalid,
        SubnetOutsideVpc,
        SubnetTooSmall,
        SubnetOverlap,
    }
}

/// The plan's VPC.
pub const DEFAULT_VPC_CIDR: &str = "10.0.0.0/16";
/// The plan's two availability zones.
pub const DEFAULT_AZ_COUNT: u8 = 2;

/// `[network]` as written.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NetworkSpec {
    pub vpc_cidr: Option<Spanned<String>>,
    pub az_count: Option<Spanned<i64>>,
    /// `single` (one NAT gateway), `per-az` (one in each AZ) or `instance` (one t4g.nano NAT instance,
    /// dev only: about $4 a month instead of $33).
    pub nat: Option<Spanned<String>>,
    pub public_subnets: Option<Spanned<Vec<Spanned<String>>>>,
    pub private_subnets: Option<Spanned<Vec<Spanned<String>>>>,
    /// VPC endpoints for the AWS services the agents call ([`INTERFACE_ENDPOINTS`]) and S3.
    pub vpc_endpoints: Option<Spanned<bool>>,
}

/// The interface endpoints `vpc_endpoints = true` adds, one per private subnet each: image pulls, logs,
/// secrets, model calls and the Data API then bypass the NAT gateways. (S3, where ECR keeps image
/// layers, gets a free gateway endpoint.)
pub const INTERFACE_ENDPOINTS: &[&str] = &[
    "ecr.api",
    "ecr.dkr",
    "logs",
    "secretsmanager",
    "bedrock-runtime",
    "rds-data",
];

/// Where the private subnets' internet traffic leaves the VPC (`nat`); the `networking` module's `nat`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Nat {
    /// One NAT gateway, in the first AZ.
    Single,
    /// A NAT gateway in every AZ.
    PerAz,
    /// One t4g.nano NAT instance in the first AZ (dev only).
    Instance,
}

impl Nat {
    pub const ALL: [Nat; 3] = [Nat::Single, Nat::PerAz, Nat::Instance];

    /// The spec's (and the module's) spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Nat::Single => "single",
            Nat::PerAz => "per-az",
            Nat::Instance => "instance",
        }
    }

    /// NAT gateways in a VPC of `az_count` AZs.
    pub fn gateways(self, az_count: u8) -> u8 {
        match self {
            Nat::Single => 1,
            Nat::PerAz => az_count,
            Nat::Instance => 0,
        }
    }
}

/// The network, resolved: one public and one private subnet per AZ.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Network {
    pub vpc_cidr: Ipv4Cidr,
    pub az_count: u8,
    pub nat: Nat,
    pub public_subnets: Vec<Ipv4Cidr>,
    pub private_subnets: Vec<Ipv4Cidr>,
    /// Interface endpoints ([`INTERFACE_ENDPOINTS`]) and the S3 gateway endpoint.
    pub vpc_endpoints: bool,
    /// The services of those interface endpoints; empty when `vpc_endpoints` is off.
    pub interface_endpoints: Vec<String>,
}

/// Checks `[network]` and lays out its subnets.
pub fn check(
    cx: &mut Checker,
    net: &NetworkSpec,
    defaults: &Defaults,
    prod: bool,
    region: Option<&str>,
) -> Option<Network> {
    let vpc = match &net.vpc_cidr {
        None => Ipv4Cidr::parse(DEFAULT_VPC_CIDR).ok(),
        Some(v) => match Ipv4Cidr::parse(v.get_ref()) {
            Ok(c) if (16..=28).contains(&c.prefix()) => Some(c),
            Ok(c) => {
                cx.error(
                    Rule::VpcPrefix,
                    SpecFile::Env,
                    v,
                    format!("VPC prefix /{} is outside /16-/28", c.prefix()),
                    "AWS VPCs are between /16 (65,536 addresses) and /28 (16)",
                );
                None
            }
            Err(why) => {
                cx.error(
                    Rule::VpcCidrInvalid,
                    SpecFile::Env,
                    v,
                    format!("invalid VPC CIDR `{}`", v.get_ref()),
                    why,
                );
                None
            }
        },
    };
    let az_count = match &net.az_count {
        None => Some(DEFAULT_AZ_COUNT),
        Some(n) if (2..=6).contains(n.get_ref()) => u8::try_from(*n.get_ref()).ok(),
        Some(n) if *n.get_ref() == 1 => {
            let why = if prod {
                "prod's Multi-AZ database and load balancer need"
            } else {
                "an ALB and an Aurora subnet group need"
            };
            cx.error(
                Rule::SingleAz,
                SpecFile::Env,
                n,
                "one availability zone is not enough",
                format!("{why} at least 2 AZs; set `az_count = 2`"),
            );
            None
        }
        Some(n) => {
            cx.error(
                Rule::AzCount,
                SpecFile::Env,
                n,
                format!("az_count {} is outside 2-6", n.get_ref()),
                "use 2 (the plan) or 3",
            );
            None
        }
    };
    let region_azs = region.and_then(regions::region);
    if let (Some(n), Some(r), Some(count)) = (&net.az_count, region_azs, az_count)
        && count > r.azs
    {
        cx.error(
            Rule::AzCountRegion,
            SpecFile::Env,
            n,
            format!("{} has {} availability zones, not {count}", r.code, r.azs),
            format!("set `az_count` to at most {}", r.azs),
        );
    }
    let az_count = az_count.filter(|c| region_azs.is_none_or(|r| *c <= r.azs));
    let nat = match &net.nat {
        None => defaults.nat,
        Some(v) => match Nat::ALL.into_iter().find(|n| n.as_str() == v.get_ref()) {
            Some(Nat::Instance) if prod => {
                cx.error(
                    Rule::ProdNatInstance,
                    SpecFile::Env,
                    v,
                    "prod may not use a NAT instance",
                    "a NAT instance is one EC2 instance in one AZ that you patch; prod uses `per-az` NAT gateways",
                );
                defaults.nat
            }
            Some(nat) => nat,
            None => {
                let other = v.get_ref();
                let help = suggest(
                    other,
                    Nat::ALL.map(Nat::as_str),
                    "`single` (one NAT gateway), `per-az` (one per AZ) or `instance` (a NAT instance, dev only)",
                );
                cx.error(
                    Rule::NatMode,
                    SpecFile::Env,
                    v,
                    format!("unknown NAT mode `{other}`"),
                    help,
                );
                defaults.nat
            }
        },
    };

    let written = match (&net.public_subnets, &net.private_subnets) {
        (None, None) => None,
        (Some(public), Some(private)) => Some((public, private)),
        (Some(one), None) | (None, Some(one)) => {
            cx.error(
                Rule::OneSubnetList,
                SpecFile::Env,
                one,
                "only one of `public_subnets` and `private_subnets` is set",
                "set both, or neither to derive the plan's layout from the VPC CIDR",
            );
            None
        }
    };
    let (vpc, az_count) = (vpc?, az_count?);
    let subnets = if let Some((public, private)) = written {
        explicit_subnets(cx, vpc, az_count, public, private)
    } else if net.public_subnets.is_some() {
        None
    } else {
        // (With only `private_subnets` written, this still reports a VPC too small for the layout.)
        let laid_out = default_subnets(vpc, az_count);
        if laid_out.is_none()
            && let Some(v) = &net.vpc_cidr
        {
            cx.error(
                Rule::VpcTooSmall,
                SpecFile::Env,
                v,
                format!("VPC {vpc} is too small for {az_count} public and {az_count} private subnets"),
                "use a larger VPC (e.g. a /16) or list `public_subnets` and `private_subnets`",
            );
        }
        laid_out
    };
    let (public_subnets, private_subnets) = subnets?;
    let vpc_endpoints = net.vpc_endpoints.as_ref().is_some_and(|v| *v.get_ref());
    Some(Network {
        vpc_cidr: vpc,
        az_count,
        nat,
        public_subnets,
        private_subnets,
        vpc_endpoints,
        interface_endpoints: if vpc_endpoints {
            INTERFACE_ENDPOINTS.iter().map(ToString::to_string).collect()
        } else {
            Vec::new()
        },
    })
}

/// Subnets as written: one per AZ in each list, inside the VPC, at most /28, none overlapping another.
fn explicit_subnets(
    cx: &mut Checker,
    vpc: Ipv4Cidr,
    az_count: u8,
    public: &Spanned<Vec<Spanned<String>>>,
    private: &Spanned<Vec<Spanned<String>>>,
) -> Option<(Vec<Ipv4Cidr>, Vec<Ipv4Cidr>)> {
    let mut seen: Vec<(Ipv4Cidr, &Spanned<String>)> = Vec::new();
    let mut ok = true;
    let mut lists = Vec::new();
    for (label, list) in [("public_subnets", public), ("private_subnets", private)] {
        if list.get_ref().len() != usize::from(az_count) {
            cx.error(
                Rule::SubnetCount,
                SpecFile::Env,
                list,
                format!(
                    "`{label}` lists {} subnets for {az_count} availability zones",
                    list.get_ref().len()
                ),
                "list exactly one subnet per AZ",
            );
            ok = false;
        }
        let mut out = Vec::new();
        for item in list.get_ref() {
            match Ipv4Cidr::parse(item.get_ref()) {
                Err(why) => {
                    cx.error(
                        Rule::SubnetCidrInvalid,
                        SpecFile::Env,
                        item,
                        format!("invalid subnet CIDR `{}`", item.get_ref()),
                        why,
                    );
                    ok = false;
                }
                Ok(c) if !vpc.contains(c) => {
                    cx.error(
                        Rule::SubnetOutsideVpc,
                        SpecFile::Env,
                        item,
                        format!("subnet {c} is outside the VPC {vpc}"),
                        format!("pick a block inside {vpc}"),
                    );
                    ok = false;
                }
                Ok(c) if c.prefix() > 28 => {
                    cx.error(
                        Rule::SubnetTooSmall,
                        SpecFile::Env,
                        item,
                        format!("subnet {c} is smaller than /28"),
                        "AWS subnets are /16 to /28",
                    );
                    ok = false;
                }
                Ok(c) => {
                    if let Some((first, first_at)) = seen.iter().find(|(s, _)| s.overlaps(c)) {
                        cx.duplicate(
                            Rule::SubnetOverlap,
                            SpecFile::Env,
                            item,
                            first_at,
                            format!("subnet {c} overlaps {first}"),
                            format!("{first} is defined first"),
                            "subnets of one VPC must not overlap",
                        );
                        ok = false;
                    }
                    seen.push((c, item));
                    out.push(c);
                }
            }
        }
        lists.push(out);
    }
    let private = lists.pop()?;
    let public = lists.pop()?;
    ok.then_some((public, private))
}

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

    /// The templates get `nat` through serde; the spec is parsed with `as_str`: one spelling.
    #[test]
    fn nat_spellings_agree() {
        for nat in Nat::ALL {
            assert_eq!(serde_json::to_value(nat).unwrap(), nat.as_str());
        }
    }
}
