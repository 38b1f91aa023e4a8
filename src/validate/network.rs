//! Validate stage, network: VPC CIDR and prefix, AZ count, NAT mode, explicit subnets (inside the VPC, no
//! overlaps). It derives nothing; [`crate::resolve`] lays the subnets out.

use super::{Checker, DEFAULT_AZ_COUNT, DEFAULT_VPC_CIDR, Defaults, File, suggest};
use crate::cidr::Ipv4Cidr;
use crate::resolve::default_subnets;
use crate::spec::{ParsedSpec, Spanned};

impl Checker {
    #[allow(clippy::type_complexity)]
    pub(super) fn network(
        &mut self,
        parsed: &ParsedSpec,
        defaults: &Defaults,
        prod: bool,
    ) -> (
        Option<Ipv4Cidr>,
        Option<u8>,
        bool,
        Option<(Vec<Ipv4Cidr>, Vec<Ipv4Cidr>)>,
    ) {
        let net = &parsed.env.network;
        let vpc = match &net.vpc_cidr {
            None => Ipv4Cidr::parse(DEFAULT_VPC_CIDR).ok(),
            Some(v) => match Ipv4Cidr::parse(v.get_ref()) {
                Ok(c) if (16..=28).contains(&c.prefix()) => Some(c),
                Ok(c) => {
                    self.error(
                        File::Env,
                        v,
                        format!("VPC prefix /{} is outside /16-/28", c.prefix()),
                        "AWS VPCs are between /16 (65,536 addresses) and /28 (16)",
                    );
                    None
                }
                Err(why) => {
                    self.error(File::Env, v, format!("invalid VPC CIDR `{}`", v.get_ref()), why);
                    None
                }
            },
        };
        let az_count = match &net.az_count {
            None => Some(DEFAULT_AZ_COUNT),
            Some(n) if (2..=6).contains(n.get_ref()) => Some(*n.get_ref()),
            Some(n) if *n.get_ref() == 1 => {
                let why = if prod {
                    "prod's Multi-AZ database and load balancer need"
                } else {
                    "an ALB and an Aurora subnet group need"
                };
                self.error(
                    File::Env,
                    n,
                    "one availability zone is not enough",
                    format!("{why} at least 2 AZs; set `az_count = 2`"),
                );
                None
            }
            Some(n) => {
                self.error(
                    File::Env,
                    n,
                    format!("az_count {} is outside 2-6", n.get_ref()),
                    "use 2 (the plan) or 3",
                );
                None
            }
        }
        .and_then(|n| u8::try_from(n).ok());
        let single_nat = match &net.nat {
            None => defaults.single_nat_gateway,
            Some(v) => match v.get_ref().as_str() {
                "single" => true,
                "per-az" => false,
                other => {
                    let help = suggest(
                        other,
                        ["single", "per-az"],
                        "`single` (one NAT gateway) or `per-az` (one per AZ)",
                    );
                    self.error(File::Env, v, format!("unknown NAT mode `{other}`"), help);
                    defaults.single_nat_gateway
                }
            },
        };

        let explicit = match (&net.public_subnets, &net.private_subnets) {
            (None, None) => None,
            (Some(public), Some(private)) => Some((public, private)),
            (Some(one), None) | (None, Some(one)) => {
                self.error(
                    File::Env,
                    one,
                    "only one of `public_subnets` and `private_subnets` is set",
                    "set both, or neither to derive the plan's layout from the VPC CIDR",
                );
                None
            }
        };
        let explicit = match (explicit, vpc, az_count) {
            (Some((public, private)), Some(vpc), Some(n)) => self.explicit_subnets(vpc, n, public, private),
            _ => None,
        };
        if explicit.is_none()
            && net.public_subnets.is_none()
            && let (Some(vpc), Some(n)) = (vpc, az_count)
            && default_subnets(vpc, n).is_none()
            && let Some(v) = &net.vpc_cidr
        {
            self.error(
                File::Env,
                v,
                format!("VPC {vpc} is too small for {n} public and {n} private subnets"),
                "use a larger VPC (e.g. a /16) or list `public_subnets` and `private_subnets`",
            );
        }
        (vpc, az_count, single_nat, explicit)
    }

    pub(super) fn explicit_subnets(
        &mut self,
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
                self.error(
                    File::Env,
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
                        self.error(
                            File::Env,
                            item,
                            format!("invalid subnet CIDR `{}`", item.get_ref()),
                            why,
                        );
                        ok = false;
                    }
                    Ok(c) if !vpc.contains(c) => {
                        self.error(
                            File::Env,
                            item,
                            format!("subnet {c} is outside the VPC {vpc}"),
                            format!("pick a block inside {vpc}"),
                        );
                        ok = false;
                    }
                    Ok(c) if c.prefix() > 28 => {
                        self.error(
                            File::Env,
                            item,
                            format!("subnet {c} is smaller than /28"),
                            "AWS subnets are /16 to /28",
                        );
                        ok = false;
                    }
                    Ok(c) => {
                        if let Some((first, first_at)) = seen.iter().find(|(s, _)| s.overlaps(c)) {
                            let (summary, note) = (
                                format!("subnet {c} overlaps {first}"),
                                format!("{first} is defined first"),
                            );
                            self.duplicate(
                                File::Env,
                                item,
                                first_at,
                                summary,
                                note,
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
}
