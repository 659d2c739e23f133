//! A PostgreSQL of Aftercare's own, for when `DATABASE_URL` is not set: started from the PostgreSQL
//! programs installed on the machine, in a data folder under the user's data directory, listening
//! only on a Unix socket in that folder (so it never clashes with another server), and stopped again
//! when the process that started it is done. As root, the server runs as the unprivileged `postgres`
//! (or `nobody`) user, since PostgreSQL refuses to run as root.

use std::fs::{self, File};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, bail};
use diesel::{Connection, PgConnection, RunQueryDsl};

/// A running local server; stops it on drop if this process started it.
pub struct LocalPostgres {
    bin: PathBuf,
    data: PathBuf,
    user: Option<(u32, u32)>,
    started_here: bool,
}

const HOW_TO_INSTALL: &str = "no PostgreSQL programs (initdb, pg_ctl) were found on the PATH or in \
    /usr/lib/postgresql/*/bin, /usr/local/opt/postgresql*/bin or /opt/homebrew/opt/postgresql*/bin.\n\
    Install them (Debian/Ubuntu: `apt-get install postgresql`; macOS: `brew install postgresql@16`), \
    or set DATABASE_URL to a server of yours, e.g. postgres://user:pass@localhost:5432/aftercare";

impl LocalPostgres {
    /// The server whose data lives in `data` (created on first use), started if it isn't running.
    pub fn start(data: &Path) -> anyhow::Result<LocalPostgres> {
        let bin = find_bin().context(HOW_TO_INSTALL)?;
        let user = if is_root() {
            Some(unprivileged_user()?)
        } else {
            None
        };
        fs::create_dir_all(data).with_context(|| format!("creating {}", data.display()))?;
        // One process at a time sets the server up and starts it; the others then find it running.
        let lock = File::create(data.with_extension("lock"))?;
        lock.lock()?;
        if let Some((uid, gid)) = user {
            chown(data, uid, gid)?;
        }
        fs::set_permissions(data, fs::Permissions::from_mode(0o700))?;
        let mut pg = LocalPostgres {
            bin,
            data: data.to_path_buf(),
            user,
            started_here: false,
        };
        if !data.join("PG_VERSION").exists() {
            pg.run("initdb", |c| {
                c.arg("-D").arg(&pg.data).args([
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "-E",
                    "UTF8",
                    "--locale=C",
                ])
            })?;
        }
        if !pg.is_running() {
            let options = format!("-c listen_addresses='' -k {}", pg.data.display());
            pg.run("pg_ctl", |c| {
                c.arg("-D")
                    .arg(&pg.data)
                    .args(["-o", &options, "-l"])
                    .arg(pg.data.join("server.log"))
                    .args(["-w", "-t", "60", "start"])
            })?;
            pg.started_here = true;
        }
        drop(lock);
        Ok(pg)
    }

    /// Leaves the server running when this is dropped (for the tests, whose processes share it).
    pub fn keep_running(mut self) {
        self.started_here = false;
    }

    /// The URL of `database` on this server, created if it doesn't exist.
    pub fn database(&self, database: &str) -> anyhow::Result<String> {
        let mut conn = PgConnection::establish(&self.url("postgres"))
            .context("connecting to the local PostgreSQL")?;
        #[derive(diesel::QueryableByName)]
        struct Exists {
            #[diesel(sql_type = diesel::sql_types::Bool)]
            exists: bool,
        }
        let exists = diesel::sql_query(
            "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1) AS exists",
        )
        .bind::<diesel::sql_types::Text, _>(database)
        .get_result::<Exists>(&mut conn)?
        .exists;
        if !exists {
            // Another process may create it at the same moment: that is fine too.
            let _ = diesel::sql_query(format!("CREATE DATABASE \"{database}\"")).execute(&mut conn);
        }
        Ok(self.url(database))
    }

    /// The server's URL for `database`: user postgres over the socket in the data folder.
    pub fn url(&self, database: &str) -> String {
        let socket: String = self
            .data
            .display()
            .to_string()
            .bytes()
            .map(|b| match b {
                b'/' => "%2F".to_string(),
                b' ' => "%20".to_string(),
                b => (b as char).to_string(),
            })
            .collect();
        format!("postgres://postgres@{socket}/{database}")
    }

    fn is_running(&self) -> bool {
        self.command("pg_ctl")
            .arg("-D")
            .arg(&self.data)
            .arg("status")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    fn command(&self, program: &str) -> Command {
        let mut c = Command::new(self.bin.join(program));
        if let Some((uid, gid)) = self.user {
            c.uid(uid).gid(gid).current_dir(&self.data);
        }
        c
    }

    fn run(
        &self,
        program: &str,
        args: impl FnOnce(&mut Command) -> &mut Command,
    ) -> anyhow::Result<()> {
        let mut c = self.command(program);
        let out = args(&mut c)
            .output()
            .with_context(|| format!("running {program}"))?;
        if !out.status.success() {
            bail!(
                "{program} failed: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(())
    }
}

impl Drop for LocalPostgres {
    fn drop(&mut self) {
        if self.started_here {
            let stopped = self.run("pg_ctl", |c| {
                c.arg("-D")
                    .arg(&self.data)
                    .args(["-m", "fast", "-w", "stop"])
            });
            if let Err(e) = stopped {
                tracing::warn!(error = %e, "stopping the local PostgreSQL failed");
            }
        }
    }
}

/// Where Aftercare keeps its own data: `$XDG_DATA_HOME/aftercare`, `~/.local/share/aftercare`, or on
/// macOS `~/Library/Application Support/aftercare`. As root (whose home an unprivileged server
/// can't enter), `/var/lib/aftercare`.
pub fn data_dir() -> anyhow::Result<PathBuf> {
    if is_root() {
        return Ok(PathBuf::from("/var/lib/aftercare"));
    }
    if let Some(xdg) = std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(xdg).join("aftercare"));
    }
    let home = PathBuf::from(std::env::var_os("HOME").context("HOME is not set")?);
    if cfg!(target_os = "macos") {
        Ok(home.join("Library/Application Support/aftercare"))
    } else {
        Ok(home.join(".local/share/aftercare"))
    }
}

/// The folder holding `initdb` and `pg_ctl` (and `pg_dump` and `pg_restore` beside them): on the
/// PATH, or where Debian and Homebrew put them (the newest version first).
pub fn find_bin() -> Option<PathBuf> {
    let has_both = |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
    if let Some(path) = std::env::var_os("PATH")
        && let Some(dir) = std::env::split_paths(&path).find(|d| has_both(d))
    {
        return Some(dir);
    }
    let mut candidates = vec![];
    for (parent, prefix, suffix) in [
        ("/usr/lib/postgresql", "", "bin"),
        ("/usr/local/opt", "postgresql", "bin"),
        ("/opt/homebrew/opt", "postgresql", "bin"),
        ("/usr/local/Cellar", "postgresql", ""),
    ] {
        let Ok(entries) = fs::read_dir(parent) else {
            continue;
        };
        for e in entries.flatten() {
            if e.file_name().to_string_lossy().starts_with(prefix) {
                candidates.push(e.path().join(suffix));
            }
        }
    }
    // postgresql@16 after postgresql@15, 16 after 15, by the number in the name.
    let version = |p: &PathBuf| -> u32 {
        let digits: String = p
            .to_string_lossy()
            .chars()
            .filter(char::is_ascii_digit)
            .collect();
        digits.parse().unwrap_or(0)
    };
    candidates.sort_by_key(|p| std::cmp::Reverse(version(p)));
    candidates.into_iter().find(|d| has_both(d))
}

fn is_root() -> bool {
    fs::metadata("/proc/self")
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
        .unwrap_or(false)
}

/// The uid and gid of `postgres`, or else `nobody`, from /etc/passwd.
fn unprivileged_user() -> anyhow::Result<(u32, u32)> {
    let passwd = fs::read_to_string("/etc/passwd").context("reading /etc/passwd")?;
    for name in ["postgres", "nobody"] {
        for line in passwd.lines() {
            let fields: Vec<&str> = line.split(':').collect();
            if fields.len() > 3 && fields[0] == name {
                return Ok((fields[2].parse()?, fields[3].parse()?));
            }
        }
    }
    bail!("running as root, and there is no `postgres` or `nobody` user to run PostgreSQL as")
}

fn chown(path: &Path, uid: u32, gid: u32) -> anyhow::Result<()> {
    std::os::unix::fs::chown(path, Some(uid), Some(gid))
        .with_context(|| format!("giving {} to the PostgreSQL user", path.display()))
}
