//! Speed benchmark (not a timed test): the PR loop's commands as whole processes, in CPU time (user +
//! system, from `getrusage(RUSAGE_CHILDREN)`), paired in the same run with the process floor
//! (`tfgen --version`), on projects whose `agents.toml` holds 5 (the plan's), 15 and 60 agents (60 is
//! the most an environment may have): a render into an empty directory, a no-op re-render, `check` of dev
//! and prod, `reach prod` and `access prod`.
//!
//! Run with `cargo bench`. Figures are printed with the goals beside them (render within 2x the
//! floor, check within 50 ms); nothing is asserted, because machines differ.
#![allow(unsafe_code)] // getrusage
#![allow(
    clippy::cast_precision_loss,
    clippy::cast_sign_loss,
    clippy::cast_possible_truncation
)] // figures for humans

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const RUNS: usize = 11;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let bin = env!("CARGO_BIN_EXE_tfgen");
    let plan_agents = std::fs::read_to_string(root.join("environments/agents.toml")).unwrap();
    println!("CPU time per process, median of {RUNS} runs (user + system)");
    println!(
        "{:>6}  {:>9}  {:>12}  {:>12}  {:>9}  {:>9}  {:>9}",
        "agents", "--version", "render (new)", "render no-op", "check", "reach", "access"
    );
    for n in [5usize, 15, 60] {
        let project = tempfile::tempdir().unwrap();
        let envs = project.path().join("environments");
        std::fs::create_dir_all(&envs).unwrap();
        for env in ["dev", "prod"] {
            std::fs::copy(
                root.join(format!("environments/{env}.toml")),
                envs.join(format!("{env}.toml")),
            )
            .unwrap();
        }
        std::fs::write(
            envs.join("agents.toml"),
            format!("{plan_agents}\n{}", extra_agents(n - 5)),
        )
        .unwrap();
        let run =
            |args: &[&str]| -> Duration { cpu_of(Command::new(bin).arg("--root").arg(project.path()).args(args)) };
        let floor = median((0..RUNS).map(|_| run(&["--version"])));
        let out = project.path().join("generated/prod");
        let fresh = median((0..RUNS).map(|_| {
            let _ = std::fs::remove_dir_all(&out);
            run(&["render", "prod"])
        }));
        let noop = median((0..RUNS).map(|_| run(&["render", "prod"])));
        run(&["render", "dev"]);
        let check = median((0..RUNS).map(|_| run(&["check"])));
        let reach = median((0..RUNS).map(|_| run(&["reach", "prod"])));
        let access = median((0..RUNS).map(|_| run(&["access", "prod"])));
        println!(
            "{n:>6}  {:>9}  {:>12}  {:>12}  {:>9}  {:>9}  {:>9}",
            ms(floor),
            format!("{} {:.0}x", ms(fresh), ratio(fresh, floor)),
            format!("{} {:.0}x", ms(noop), ratio(noop, floor)),
            ms(check),
            ms(reach),
            ms(access),
        );
    }
    println!("goals (issue 24): render within 2x --version; check of dev and prod within 50 ms");
}

/// Agents beyond the plan's five, each with its own port and path.
fn extra_agents(n: usize) -> String {
    let mut out = String::new();
    for i in 0..n {
        let _ = writeln!(
            out,
            "[[agent]]\nname = \"extra-{i:03}\"\ndescription = \"Benchmark agent\"\nport = {}\npaths = [\"/extra-{i:03}/*\"]\n",
            9000 + i
        );
    }
    out
}

/// The CPU time (user + system) of running `cmd` to completion; it must succeed or report differences.
fn cpu_of(cmd: &mut Command) -> Duration {
    let before = children_cpu();
    let o = cmd.output().unwrap();
    assert!(
        matches!(o.status.code(), Some(0 | 1)),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    children_cpu().saturating_sub(before)
}

/// User + system time of every child waited for so far (Linux `getrusage(RUSAGE_CHILDREN)`).
fn children_cpu() -> Duration {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage writes a rusage struct into the pointer we pass.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, usage.as_mut_ptr()) };
    assert_eq!(rc, 0);
    // SAFETY: initialised by the successful call above.
    let u = unsafe { usage.assume_init() };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, (t.tv_usec as u32) * 1000);
    tv(u.ru_utime) + tv(u.ru_stime)
}

fn median(v: impl Iterator<Item = Duration>) -> Duration {
    let mut v: Vec<Duration> = v.collect();
    v.sort();
    v[v.len() / 2]
}

fn ratio(a: Duration, floor: Duration) -> f64 {
    a.as_secs_f64() / floor.as_secs_f64().max(1e-4)
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}
