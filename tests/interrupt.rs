//! `render` is atomic: the real binary is killed at random points (SIGKILL, SIGTERM, SIGINT) while it
//! switches an output directory between two environments whose trees differ in every file, and the next
//! command must find exactly the complete old or the complete new tree, with no staging state left.
//! A render into a directory that does not exist yet, killed at any point, leaves no directory or the whole
//! tree, before any other command runs. Also: concurrent renders of different specs into one directory,
//! and into two directories.
//!
//! `TFGEN_KILL_ROUNDS` (default 200) sets the number of kills; `TFGEN_KILL_SEED` replays a run.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

type Snapshot = BTreeMap<String, Vec<u8>>;

struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("environments");
        std::fs::create_dir_all(dir.path().join("environments")).unwrap();
        for entry in std::fs::read_dir(src).unwrap() {
            let entry = entry.unwrap();
            std::fs::copy(entry.path(), dir.path().join("environments").join(entry.file_name())).unwrap();
        }
        Self { dir }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tfgen"));
        cmd.arg("--root")
            .arg(self.dir.path())
            .args(args)
            .env_remove("BEDROCK_MODEL_ID")
            .env_remove("TFGEN_IMAGE_TAG");
        cmd
    }

    fn render(&self, env: &str, out: &Path) -> Child {
        self.command(&["render", env, "--out", out.to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    /// Renders `env` into a fresh directory and returns its files: the reference tree.
    fn reference(&self, env: &str) -> Snapshot {
        let out = self.path(&format!("reference/{env}"));
        let o = wait(self.render(env, &out));
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        snapshot(&out)
    }
}

/// Every entry under `dir` (hidden ones included), files with their bytes. Anything but a regular file
/// or a directory fails the test.
fn snapshot(dir: &Path) -> Snapshot {
    fn walk(root: &Path, dir: &Path, out: &mut Snapshot) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            let ty = std::fs::symlink_metadata(&p).unwrap().file_type();
            let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            if ty.is_dir() {
                walk(root, &p, out);
            } else {
                assert!(ty.is_file(), "{rel} is not a regular file");
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    let mut out = Snapshot::new();
    walk(dir, dir, &mut out);
    out
}

/// Waits for a child, failing the test if it runs for more than a minute.
fn wait(mut child: Child) -> std::process::Output {
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("tfgen did not finish within a minute");
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    child.wait_with_output().unwrap()
}

#[allow(unsafe_code)]
fn signal(child: &Child, sig: libc::c_int) {
    let pid = libc::pid_t::try_from(child.id()).unwrap();
    // SAFETY: kill(2) has no memory-safety preconditions; the child is not reaped yet, so the pid is ours.
    let rc = unsafe { libc::kill(pid, sig) };
    assert_eq!(rc, 0, "kill({pid}, {sig}) failed");
}

/// Where a render is, as seen from outside: `.tfgen/` appears when staging starts, `.tfgen/committed` at
/// the commit point.
#[derive(Debug, Clone, Copy)]
enum Phase {
    Start,
    Staging,
    Committed,
}

/// Spins until `phase` has begun; false if the render exited first.
fn wait_for(out: &Path, phase: Phase, child: &mut Child) -> bool {
    let marker = match phase {
        Phase::Start => return true,
        Phase::Staging => out.join(".tfgen"),
        Phase::Committed => out.join(".tfgen/committed"),
    };
    loop {
        if std::fs::symlink_metadata(&marker).is_ok() {
            return true;
        }
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        std::thread::yield_now();
    }
}

fn median(samples: &[Duration]) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort();
    sorted
        .get(sorted.len() / 2)
        .copied()
        .unwrap_or(Duration::from_millis(5))
}

/// xorshift64*: enough randomness for delays, and replayable from the printed seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..max`.
    fn below(&mut self, max: Duration) -> Duration {
        let nanos = u64::try_from(max.as_nanos()).unwrap().max(1);
        Duration::from_nanos(self.next() % nanos)
    }
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name).map_or(default, |v| {
        v.parse().unwrap_or_else(|_| panic!("{name}={v:?} is not a number"))
    })
}

/// Which of `trees` `dir` holds (its index), failing unless it is exactly one of them and nothing else.
fn which(dir: &Path, trees: &[(&str, &Snapshot)], context: &str) -> usize {
    let now = snapshot(dir);
    let stray: Vec<&String> = now.keys().filter(|k| k.starts_with(".tfgen")).collect();
    assert!(stray.is_empty(), "{context}: staging state left behind: {stray:?}");
    if let Some(i) = trees.iter().position(|(_, tree)| now == **tree) {
        return i;
    }
    let mixed = trees
        .iter()
        .map(|(name, tree)| {
            let same = tree.iter().filter(|(k, v)| now.get(*k) == Some(*v)).count();
            format!("{same}/{} files of {name}", tree.len())
        })
        .collect::<Vec<_>>();
    panic!(
        "{context}: the tree is no complete tree ({} files; {})",
        now.len(),
        mixed.join(", ")
    );
}

/// A generated file no spec renders (as an older tfgen left it): each render must delete it and its folder.
const STALE: &str = "modules/legacy/main.tf";

fn plant_stale(out: &Path) {
    let path = out.join(STALE);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, "# Generated by tfgen from an older spec. DO NOT EDIT.\n").unwrap();
}

#[test]
fn killed_renders_leave_the_old_or_the_new_tree_and_the_next_command_recovers() {
    let p = Project::new();
    let dev = p.reference("dev");
    let prod = p.reference("prod");
    let differing = dev.iter().filter(|(k, v)| prod.get(*k) != Some(*v)).count();
    assert!(differing >= 50, "the two trees differ in only {differing} files");
    let out = p.path("generated/shared");
    let reference = |env: &str| if env == "dev" { &dev } else { &prod };

    // How long each phase of a render that rewrites every file takes, to spread the kills over it.
    let mut current = "dev";
    let mut samples: [Vec<Duration>; 3] = Default::default();
    for _ in 0..6 {
        current = if current == "dev" { "prod" } else { "dev" };
        plant_stale(&out);
        let mut child = p.render(current, &out);
        let mut last = Instant::now();
        for phase in [Phase::Staging, Phase::Committed] {
            if wait_for(&out, phase, &mut child) {
                samples[phase as usize - 1].push(last.elapsed());
                last = Instant::now();
            }
        }
        assert!(wait(child).status.success());
        samples[Phase::Committed as usize].push(last.elapsed());
    }
    // The windows follow the machine: each render that outlived its phase without being killed adds
    // how long it ran past that phase, and each window is 1.2 times the median of its last five samples.
    // A calibration taken while the machine was busier would otherwise put most kills after the end.
    let mut remaining: [Vec<Duration>; 3] = [
        // A render's whole length, from its spawn.
        vec![samples.iter().map(|s| median(s)).sum()],
        // From staging to the end.
        vec![median(&samples[1]) + median(&samples[2])],
        // From the commit to the end.
        vec![median(&samples[2])],
    ];
    let span = |remaining: &[Vec<Duration>; 3], phase: Phase| {
        let recent = &remaining[phase as usize];
        median(&recent[recent.len().saturating_sub(5)..]).mul_f64(1.2)
    };
    // Kills go uniformly over the whole render (a few land after it ended), over staging up to the
    // end, and over the commit up to the end.

    let rounds = env_number("TFGEN_KILL_ROUNDS", 200);
    let seed = env_number(
        "TFGEN_KILL_SEED",
        u64::from(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .subsec_nanos(),
        ) | 1,
    );
    println!(
        "seed {seed} (TFGEN_KILL_SEED), {rounds} rounds, first windows {:?}",
        [Phase::Start, Phase::Staging, Phase::Committed].map(|ph| span(&remaining, ph))
    );
    let mut rng = Rng(seed);
    let signals = [
        ("SIGKILL", libc::SIGKILL),
        ("SIGTERM", libc::SIGTERM),
        ("SIGINT", libc::SIGINT),
    ];
    let (mut killed, mut forward, mut back, mut switched) = (0, 0, 0, 0);
    let started = Instant::now();
    for round in 0..rounds {
        let target = if current == "dev" { "prod" } else { "dev" };
        // Old tree: `current` plus a stale file, so the transaction both writes and removes.
        plant_stale(&out);
        let mut old = reference(current).clone();
        old.insert(STALE.to_string(), std::fs::read(out.join(STALE)).unwrap());
        let trees = [(current, &old), (target, reference(target))];

        // Every phase meets every signal.
        let round_no = usize::try_from(round).unwrap();
        let phase = [Phase::Start, Phase::Staging, Phase::Committed][round_no % 3];
        let (sig_name, sig) = signals[round_no / 3 % signals.len()];
        let delay = rng.below(span(&remaining, phase));
        let mut child = p.render(target, &out);
        let mut began = None;
        if wait_for(&out, phase, &mut child) {
            began = Some(Instant::now());
            std::thread::sleep(delay);
            if child.try_wait().unwrap().is_none() {
                signal(&child, sig);
            }
        }
        let o = wait(child);
        if o.status.code().is_none() {
            killed += 1;
        } else {
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            if let Some(began) = began {
                remaining[phase as usize].push(began.elapsed());
            }
        }

        // The next command: `diff` takes the lock and recovers before it reads.
        let next = p
            .command(&["diff", current, "--stat", "--out", out.to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let next = wait(next);
        let stderr = String::from_utf8_lossy(&next.stderr);
        assert!(matches!(next.status.code(), Some(0 | 1)), "diff failed: {stderr}");
        forward += usize::from(stderr.contains("completed an interrupted render"));
        back += usize::from(stderr.contains("discarded an interrupted render"));
        let context =
            format!("round {round} (seed {seed}, {sig_name} {delay:?} after {phase:?}, {current} -> {target})");
        let now = which(&out, &trees, &context);
        let leftovers: Vec<_> = std::fs::read_dir(out.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(".tfgen"))
            .collect();
        assert!(leftovers.is_empty(), "{context}: {leftovers:?}");
        if now == 1 {
            switched += 1;
            assert!(
                !out.join("modules/legacy").exists(),
                "{context}: the stale file's folder was kept"
            );
            current = target;
        }
    }
    println!(
        "{rounds} rounds in {:?}: {killed} renders killed, {switched} completed the switch; \
         recovery rolled {back} back and {forward} forward",
        started.elapsed()
    );
    // Not vacuous: many kills must land inside the transaction, on both sides of the commit point.
    let rounds = usize::try_from(rounds).unwrap();
    assert!(killed >= rounds / 4, "only {killed} of {rounds} renders were killed");
    assert!(
        back + forward >= rounds / 10,
        "only {} kills landed mid-transaction",
        back + forward
    );
    assert!(
        back >= rounds / 50 && forward >= rounds / 50,
        "rolled back {back}, forward {forward}"
    );
}

/// The `.tfgen-stage-*` folders beside `out`.
fn staging_beside(out: &Path) -> Vec<String> {
    std::fs::read_dir(out.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".tfgen"))
        .collect()
}

#[test]
fn killed_renders_into_a_fresh_directory_leave_nothing_or_the_whole_tree() {
    let p = Project::new();
    let dev = p.reference("dev");
    let out = p.path("generated/fresh");
    // A whole render's length, measured unkilled now and again: under CI's load a render takes
    // several times what it took at the start, and a window measured once put every kill before
    // the end (60 of 60 left no directory, so the "some renders finish" side was never tried).
    let timed_render = |lengths: &mut Vec<Duration>| {
        let started = Instant::now();
        assert!(wait(p.render("dev", &out)).status.success());
        lengths.push(started.elapsed());
        std::fs::remove_dir_all(&out).unwrap();
    };
    let mut lengths = Vec::new();
    for _ in 0..3 {
        timed_render(&mut lengths);
    }
    let rounds = env_number("TFGEN_FRESH_KILL_ROUNDS", 60);
    let seed = env_number("TFGEN_KILL_SEED", 0x9e37_79b9) | 1;
    let mut rng = Rng(seed);
    let (mut absent, mut whole, mut staged) = (0, 0, 0);
    for round in 0..rounds {
        if round % 10 == 9 {
            timed_render(&mut lengths);
        }
        let span = median(&lengths[lengths.len().saturating_sub(5)..]).mul_f64(1.2);
        // Half the kills go anywhere in 1.5 renders (so about a third land after it ended), half
        // after its staging folder appeared.
        let after_staging = round % 2 == 1;
        let delay = rng.below(if after_staging { span / 4 } else { span.mul_f64(1.5) });
        let mut child = p.render("dev", &out);
        while after_staging && staging_beside(&out).is_empty() && child.try_wait().unwrap().is_none() {
            std::thread::yield_now();
        }
        std::thread::sleep(delay);
        if child.try_wait().unwrap().is_none() {
            signal(&child, libc::SIGKILL);
        }
        let _ = wait(child);
        // What `terraform plan` would see now, before any tfgen command recovers anything.
        let from = if after_staging { "staging began" } else { "the spawn" };
        let context = format!("round {round} (seed {seed}, SIGKILL {delay:?} after {from})");
        if std::fs::symlink_metadata(&out).is_err() {
            absent += 1;
        } else {
            assert!(snapshot(&out) == dev, "{context}: a partial tree appeared");
            whole += 1;
            std::fs::remove_dir_all(&out).unwrap();
        }
        staged += usize::from(!staging_beside(&out).is_empty());
    }
    // The next render deletes what killed ones left beside the directory, and its tree is complete.
    assert!(wait(p.render("dev", &out)).status.success());
    assert!(snapshot(&out) == dev);
    assert_eq!(
        staging_beside(&out),
        Vec::<String>::new(),
        "staging folders left behind"
    );
    println!("{rounds} kills: {absent} left no directory ({staged} mid-staging), {whole} the whole tree");
    // Not vacuous: kills land while the tree is being staged, and some renders finish.
    let rounds = usize::try_from(rounds).unwrap();
    assert!(
        staged >= rounds / 5,
        "only {staged} of {rounds} kills landed while staging"
    );
    assert!(whole >= 1 && absent >= rounds / 4, "absent {absent}, whole {whole}");
}

#[test]
fn concurrent_renders_of_different_specs_into_one_directory_leave_one_complete_tree() {
    let p = Project::new();
    let dev = p.reference("dev");
    let prod = p.reference("prod");
    let trees = [("dev", &dev), ("prod", &prod)];
    let out = p.path("generated/shared");
    for round in 0..10 {
        let (a, b) = if round % 2 == 0 {
            ("dev", "prod")
        } else {
            ("prod", "dev")
        };
        let first = p.render(a, &out);
        let second = p.render(b, &out);
        for o in [wait(first), wait(second)] {
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        }
        which(&out, &trees, &format!("round {round}"));
    }
}

#[test]
fn concurrent_renders_into_two_directories_both_complete() {
    let p = Project::new();
    let dev = p.reference("dev");
    let prod = p.reference("prod");
    for round in 0..5 {
        let (a, b) = (p.path(&format!("out/{round}/a")), p.path(&format!("out/{round}/b")));
        let first = p.render("dev", &a);
        let second = p.render("prod", &b);
        for o in [wait(first), wait(second)] {
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        }
        assert!(snapshot(&a) == dev, "round {round}: dev tree incomplete");
        assert!(snapshot(&b) == prod, "round {round}: prod tree incomplete");
    }
}
