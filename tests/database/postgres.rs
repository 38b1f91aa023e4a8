//! A throwaway PostgreSQL 15 server for tests: Debian's `postgresql-15` (installed with apt-get when
//! missing, `apt-get update` first only then), `initdb` in a temporary directory, listening only on a Unix
//! socket there, stopped and deleted on drop. As root (CI), the server runs as the `postgres` user, as
//! PostgreSQL refuses to run as root.
//!
//! Authentication is real: the superuser `postgres` is trusted on the socket (for setup and catalog
//! dumps only); every other role logs in with SCRAM-SHA-256, so a role's password is part of what a test
//! proves. It does not tune or secure the server beyond that.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = "/usr/lib/postgresql/15/bin";

/// Installs Debian packages whose `probe` file is missing.
pub fn ensure_debian_packages(packages: &[(&str, &str)]) {
    let missing: Vec<&str> = packages
        .iter()
        .filter(|(probe, _)| !Path::new(probe).exists())
        .map(|(_, package)| *package)
        .collect();
    if missing.is_empty() {
        return;
    }
    let install = |update: bool| {
        if update {
            let _ = Command::new("apt-get").args(["update", "-qq"]).status();
        }
        Command::new("apt-get")
            .args(["install", "-y", "-qq", "--no-install-recommends"])
            .args(&missing)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .is_ok_and(|s| s.success())
    };
    assert!(
        install(false) || install(true),
        "could not install {missing:?} with apt-get (run as root with Debian's registry reachable)"
    );
}

pub struct Postgres {
    dir: tempfile::TempDir,
    as_postgres: bool,
}

impl Postgres {
    /// initdb + pg_ctl start, on a socket in a fresh temporary directory.
    pub fn start() -> Self {
        ensure_debian_packages(&[
            (&format!("{BIN}/initdb"), "postgresql-15"),
            ("/usr/bin/psql", "postgresql-client-15"),
        ]);
        let dir = tempfile::tempdir().unwrap();
        let as_postgres = is_root();
        if as_postgres {
            chown_postgres(dir.path());
        }
        let pg = Self { dir, as_postgres };
        let data = pg.data();
        pg.run_server(
            &format!("{BIN}/initdb"),
            &[
                "-D",
                data.to_str().unwrap(),
                "-U",
                "postgres",
                "--auth-local=trust",
                "--auth-host=reject",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            ],
        );
        let hba = "local all postgres trust\nlocal all all scram-sha-256\n";
        std::fs::write(data.join("pg_hba.conf"), hba).unwrap();
        if as_postgres {
            chown_postgres(&data.join("pg_hba.conf"));
        }
        let opts = format!(
            "-c listen_addresses='' -k {} -p 5432 -c fsync=off",
            pg.socket_dir().display()
        );
        pg.run_server(
            &format!("{BIN}/pg_ctl"),
            &[
                "-D",
                data.to_str().unwrap(),
                "-l",
                pg.dir.path().join("server.log").to_str().unwrap(),
                "-o",
                &opts,
                "-w",
                "start",
            ],
        );
        pg
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// The directory holding the server's socket (`host` for libpq).
    pub fn socket_dir(&self) -> &Path {
        self.dir.path()
    }

    fn run_server(&self, program: &str, args: &[&str]) {
        let mut cmd = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--", program]);
            c
        } else {
            Command::new(program)
        };
        let out = cmd.args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{program} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Runs `sql` with psql as `user` (with `password`, or trusted as `postgres`) in `db`.
    pub fn psql(&self, user: &str, password: Option<&str>, db: &str, sql: &str) -> Output {
        let mut cmd = Command::new("psql");
        cmd.args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h"])
            .arg(self.socket_dir())
            .args(["-p", "5432", "-U", user, "-d", db, "-c", sql])
            .env_remove("PGPASSWORD")
            .env("PGCONNECT_TIMEOUT", "10");
        if let Some(p) = password {
            cmd.env("PGPASSWORD", p);
        }
        cmd.output().unwrap()
    }

    /// Like [`Self::psql`], panicking on failure; returns stdout.
    pub fn ok(&self, user: &str, password: Option<&str>, db: &str, sql: &str) -> String {
        let out = self.psql(user, password, db, sql);
        assert!(
            out.status.success(),
            "as {user}: `{sql}` failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// A dump of every role (without passwords) and of `db`'s schema and privileges, as the superuser.
    pub fn catalog_dump(&self, db: &str) -> String {
        let host = self.socket_dir().to_str().unwrap().to_string();
        let roles = Command::new(format!("{BIN}/pg_dumpall"))
            .args([
                "-h",
                &host,
                "-p",
                "5432",
                "-U",
                "postgres",
                "--roles-only",
                "--no-role-passwords",
            ])
            .output()
            .unwrap();
        assert!(roles.status.success(), "{}", String::from_utf8_lossy(&roles.stderr));
        let schema = Command::new(format!("{BIN}/pg_dump"))
            .args([
                "-h",
                &host,
                "-p",
                "5432",
                "-U",
                "postgres",
                "--schema-only",
                "--create",
                db,
            ])
            .output()
            .unwrap();
        assert!(schema.status.success(), "{}", String::from_utf8_lossy(&schema.stderr));
        // `\restrict <random key>` lines (pg_dump 15.14+) differ on every dump.
        format!(
            "{}\n{}",
            String::from_utf8_lossy(&roles.stdout),
            String::from_utf8_lossy(&schema.stdout)
        )
        .lines()
        .filter(|l| !l.starts_with("\\restrict") && !l.starts_with("\\unrestrict"))
        .collect::<Vec<_>>()
        .join("\n")
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let data = self.data();
        let args = ["-D", data.to_str().unwrap(), "-m", "immediate", "stop"];
        let program = format!("{BIN}/pg_ctl");
        let _ = if self.as_postgres {
            Command::new("runuser")
                .args(["-u", "postgres", "--", &program])
                .args(args)
                .output()
        } else {
            Command::new(&program).args(args).output()
        };
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn chown_postgres(path: &Path) {
    let ok = Command::new("chown")
        .args(["-R", "postgres:postgres"])
        .arg(path)
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "chown postgres {}", path.display());
}
