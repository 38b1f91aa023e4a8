//! Speed benchmark (not a timed test): `tfgen render prod` as a whole process, and the in-process
//! pipeline on specs with 15, 30 and 60 agents (60 is the most an environment may have) to show how time
//! grows with agents, with the access proof and the reachability graph (both part of compile) on their own.
//!
//! Run with `cargo bench`. Figures are printed; nothing is asserted (machines differ).
#![allow(unsafe_code)] // getrusage, for the peak-memory figure
#![allow(clippy::cast_precision_loss)] // figures for humans

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use tfgen::load::{Inputs, Overrides};

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let bin = env!("CARGO_BIN_EXE_tfgen");
    let out = tempfile::tempdir().unwrap();
    let target = out.path().join("prod");

    // Whole process: fresh render (writes every file), then re-render (nothing changes).
    let run = || {
        let t = Instant::now();
        let status = Command::new(bin)
            .args(["--root"])
            .arg(root)
            .args(["render", "prod", "--out"])
            .arg(&target)
            .output()
            .unwrap();
        assert!(status.status.success(), "{}", String::from_utf8_lossy(&status.stderr));
        t.elapsed()
    };
    let first = run();
    let rerenders: Vec<Duration> = (0..50).map(|_| run()).collect();
    println!(
        "render prod, whole process: first {first:.2?}, re-render median {:.2?} (min {:.2?}) over 50 runs",
        median(&rerenders),
        rerenders.iter().min().unwrap()
    );
    println!(
        "render prod, peak memory of the process: {:.1} MiB",
        max_child_rss_kib() as f64 / 1024.0
    );

    // In process, by number of agents.
    let env = std::fs::read_to_string(root.join("environments/prod.toml"))
        .unwrap()
        .replace(
            "[agents.supervisor]\n# The entry point takes every request first: let it scale further.\nmax_count = 6\n",
            "",
        );
    let mut per_agent = Vec::new();
    for n in [15usize, 30, 60] {
        let inputs = Inputs::from_text("prod", &env, &agents(n), Overrides::default());
        let tree = tfgen::compile(&inputs).map_err(|e| format!("{e:?}")).unwrap().tree;
        let times: Vec<Duration> = (0..30)
            .map(|_| {
                let t = Instant::now();
                std::hint::black_box(tfgen::compile(&inputs).is_ok());
                t.elapsed()
            })
            .collect();
        let m = median(&times);
        let bytes: usize = tree.files.values().map(String::len).sum();
        println!(
            "{n:>3} agents: compile median {m:.2?} ({:.1} µs per agent), {} files, {bytes} bytes",
            m.as_secs_f64() * 1e6 / n as f64,
            tree.files.len()
        );
        // The two proofs that read the rendered tree back, each on its own (compile runs both).
        let model = tfgen::compile(&inputs).map_err(|e| format!("{e:?}")).unwrap().model;
        let time = |f: &dyn Fn()| -> Duration {
            let times: Vec<Duration> = (0..10)
                .map(|_| {
                    let t = Instant::now();
                    f();
                    t.elapsed()
                })
                .collect();
            median(&times)
        };
        let access = time(&|| {
            std::hint::black_box(tfgen::access::check(&model, &tree).unwrap());
        });
        let reach = time(&|| {
            std::hint::black_box(tfgen::reach::from_tree(&tree).unwrap());
        });
        println!("{n:>3} agents: access proof median {access:.2?}, reachability graph median {reach:.2?}");
        per_agent.push(m.as_secs_f64() / n as f64);
    }
    println!(
        "time per agent at 60 vs 15 agents: {:.2}x (1.0 = linear)",
        per_agent[2] / per_agent[0]
    );
}

fn agents(n: usize) -> String {
    let mut out = String::new();
    for i in 0..n {
        let _ = writeln!(
            out,
            "[[agent]]\nname = \"agent-{i:03}\"\nport = {}\npaths = [\"/agent-{i:03}/*\"]\n",
            9000 + i
        );
    }
    out
}

fn median(v: &[Duration]) -> Duration {
    let mut v = v.to_vec();
    v.sort();
    v[v.len() / 2]
}

/// Peak resident set of the largest child waited for, in KiB (Linux `getrusage(RUSAGE_CHILDREN)`).
fn max_child_rss_kib() -> i64 {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage writes a rusage struct into the pointer we pass.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, usage.as_mut_ptr()) };
    assert_eq!(rc, 0);
    // SAFETY: initialised by the successful call above.
    unsafe { usage.assume_init() }.ru_maxrss
}
