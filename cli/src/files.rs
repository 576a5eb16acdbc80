//! Output layouts for `extract -o DIR`: safe file names from untrusted key names, and
//! writing files that nobody else can read.
//!
//! Names come from the snapshot, so they are hostile input: every path component is
//! percent-encoded down to `[A-Za-z0-9.:@+=,-]` (`/`, NUL, `%`, `_`, control and non-ASCII
//! bytes encoded; `_` because it separates the parts of flat names, and Kubernetes names
//! never contain it), `.`/`..` and leading dots are encoded, long components are shortened
//! with a hash, and names that still collide get a deterministic `~N` suffix in output order.

use std::collections::HashSet;
use std::fs::{self, DirBuilder, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{bail, Context, Result};

/// How files are laid out under the output directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Layout {
    /// `DIR/<namespace or _cluster>/<resource>/<name>.yaml` (`DIR/namespaces/<namespace>/…`
    /// when namespaces must come after `_cluster` in name order)
    Tree,
    /// `DIR/<resource>_<namespace>_<name>.yaml` (`<resource>_<name>.yaml` if cluster-scoped)
    Flat,
}

/// Longest file name written (most file systems allow 255 bytes; room for `~N` and `.yaml`).
const MAX_COMPONENT: usize = 200;

/// Percent-encode one path component so that it is a plain file name.
pub fn sanitize_component(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for (i, b) in raw.bytes().enumerate() {
        let keep = b.is_ascii_alphanumeric() || matches!(b, b'-' | b':' | b'@' | b'+' | b'=' | b',')
            // A leading dot would hide the file (and `.`/`..` would leave the directory).
            || b == b'.' && i > 0;
        if keep {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    if out.is_empty() {
        out.push_str("%00");
    }
    shorten(out)
}

/// Cut an over-long name, keeping it unique with a hash of the whole.
fn shorten(name: String) -> String {
    if name.len() <= MAX_COMPONENT {
        return name;
    }
    // Sanitised names are ASCII, so any byte index is a char boundary.
    format!("{}~{:016x}", &name[..MAX_COMPONENT - 17], fnv1a(name.as_bytes()))
}

/// FNV-1a 64: stable across runs and platforms, unlike std's hasher.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// The tree layout's directory of cluster-scoped objects.
pub const CLUSTER_DIR: &str = "_cluster";

/// Where the tree layout puts namespaces' directories when they must come after
/// [`CLUSTER_DIR`] in name order (`kubectl create -R -f` reads files in that order, and the
/// Namespace objects must be created first): `_cluster` sorts before every name starting
/// with a lowercase letter, but not before one starting with a digit (`3scale`), which a
/// namespace may.
pub const NAMESPACES_DIR: &str = "namespaces";

/// Where one object goes, relative to the output directory. With `namespaces_after_cluster`,
/// the tree layout nests namespaces' directories in [`NAMESPACES_DIR`], which always sorts
/// after [`CLUSTER_DIR`].
pub fn relative_path(
    layout: Layout,
    namespaces_after_cluster: bool,
    resource: &str,
    namespace: Option<&str>,
    name: &str,
    ext: &str,
) -> PathBuf {
    let resource = sanitize_component(resource);
    let name_part = sanitize_component(name);
    match layout {
        Layout::Tree => {
            let mut path = PathBuf::new();
            match namespace {
                None => path.push(CLUSTER_DIR),
                Some(ns) if namespaces_after_cluster => path.extend([NAMESPACES_DIR, &sanitize_component(ns)]),
                Some(ns) => path.push(sanitize_component(ns)),
            }
            path.extend([resource, format!("{name_part}.{ext}")]);
            path
        }
        Layout::Flat => {
            let stem = match namespace {
                Some(ns) => format!("{resource}_{}_{name_part}", sanitize_component(ns)),
                None => format!("{resource}_{name_part}"),
            };
            PathBuf::from(format!("{}.{ext}", shorten(stem)))
        }
    }
}

/// Gives each object a distinct path: later ones that collide with an earlier one (compared
/// case-insensitively, for case-insensitive file systems) get `~2`, `~3`… before the extension.
///
/// Only a 64-bit hash of each path is remembered, so millions of objects cost a few MB. A
/// hash collision between two different paths (odds about n²/2⁶⁵) gives one of them a `~N`
/// suffix it did not need; files are still never overwritten.
#[derive(Debug, Default)]
pub struct PathAllocator {
    used: HashSet<u64>,
}

impl PathAllocator {
    pub fn allocate(&mut self, path: PathBuf) -> PathBuf {
        let fold = |p: &Path| fnv1a(p.to_string_lossy().to_lowercase().as_bytes());
        if self.used.insert(fold(&path)) {
            return path;
        }
        let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        let ext = path.extension().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        for n in 2.. {
            let candidate = path.with_file_name(format!("{stem}~{n}.{ext}"));
            if self.used.insert(fold(&candidate)) {
                return candidate;
            }
        }
        unreachable!("the counter is unbounded")
    }
}

/// Writes files under one directory: directories 0700, files 0600 created exclusively.
#[derive(Debug)]
pub struct OutputDir {
    root: PathBuf,
    force: bool,
    /// Directories made (or checked) already; files are written from several threads.
    made: Mutex<HashSet<PathBuf>>,
}

impl OutputDir {
    pub fn create(root: &Path, force: bool) -> Result<OutputDir> {
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(root)
            .with_context(|| format!("cannot create {}", root.display()))?;
        Ok(OutputDir { root: root.to_path_buf(), force, made: Mutex::new(HashSet::new()) })
    }

    /// Whether the directory already holds anything (a fresh one needs no existence checks).
    pub fn has_entries(&self) -> Result<bool> {
        let mut entries = fs::read_dir(&self.root).with_context(|| format!("cannot read {}", self.root.display()))?;
        Ok(entries.next().is_some())
    }

    /// Fail before writing anything if a target exists and `--force` is not given.
    pub fn check_free(&self, paths: impl IntoIterator<Item = PathBuf>) -> Result<()> {
        if self.force {
            return Ok(());
        }
        let existing: Vec<PathBuf> =
            paths.into_iter().map(|p| self.root.join(p)).filter(|p| p.symlink_metadata().is_ok()).collect();
        if let Some(first) = existing.first() {
            bail!("{} already exists ({} file(s) in all); use --force to overwrite", first.display(), existing.len());
        }
        Ok(())
    }

    /// Make the directories a file at `relative` needs (see [`make_dirs`](Self::make_dirs)).
    pub fn make_dirs_for(&self, relative: &Path) -> Result<()> {
        match relative.parent().filter(|p| !p.as_os_str().is_empty()) {
            Some(parent) => self.make_dirs(parent),
            None => Ok(()),
        }
    }

    /// Write one file at `relative` (made by [`relative_path`], so it has no `..`), whose
    /// directories [`make_dirs_for`](Self::make_dirs_for) made. Takes `&self`: files are
    /// written from several threads.
    pub fn write(&self, relative: &Path, bytes: &[u8]) -> Result<()> {
        let path = self.root.join(relative);
        if self.force {
            // Replace, never write through: a symlink planted at the path is removed, not followed.
            match fs::remove_file(&path) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => {
                    return Err(e).with_context(|| format!("cannot replace {}", path.display()))
                }
                _ => {}
            }
        }
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        file.write_all(bytes).with_context(|| format!("cannot write {}", path.display()))?;
        Ok(())
    }

    /// Make each directory of `relative` (0700), refusing to go through symlinks.
    fn make_dirs(&self, relative: &Path) -> Result<()> {
        // One lock for the whole path: two threads never race to create the same directory.
        let mut made = self.made.lock().unwrap_or_else(|e| e.into_inner());
        let mut dir = self.root.clone();
        for component in relative.components() {
            dir.push(component);
            if made.contains(&dir) {
                continue;
            }
            match dir.symlink_metadata() {
                Ok(meta) if meta.is_dir() => {}
                Ok(_) => bail!("{} exists and is not a directory", dir.display()),
                Err(_) => DirBuilder::new()
                    .mode(0o700)
                    .create(&dir)
                    .with_context(|| format!("cannot create {}", dir.display()))?,
            }
            made.insert(dir.clone());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;
    use std::path::Component;

    #[test]
    fn hostile_names_stay_inside() {
        let long = "a".repeat(5000);
        for name in
            ["..", ".", "../../etc/passwd", "/etc/passwd", "a/b", "nul\0byte", "", ".hidden", long.as_str(), "é"]
        {
            for (layout, nested) in
                [(Layout::Tree, false), (Layout::Tree, true), (Layout::Flat, false), (Layout::Flat, true)]
            {
                for ns in [Some(name), None] {
                    let p = relative_path(layout, nested, name, ns, name, "yaml");
                    assert!(p.is_relative(), "{p:?}");
                    let components: Vec<Component> = p.components().collect();
                    assert!(components.iter().all(|c| matches!(c, Component::Normal(_))), "{p:?}");
                    let depth = match layout {
                        Layout::Tree if nested && ns.is_some() => 4,
                        Layout::Tree => 3,
                        Layout::Flat => 1,
                    };
                    assert_eq!(components.len(), depth, "{p:?}");
                    for c in &components {
                        let s = c.as_os_str().to_str().unwrap();
                        assert!(s.len() <= 255 && !s.starts_with('.') && !s.contains('\0'), "{s:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn names_follow_the_docs() {
        for (layout, nested, resource, ns, name, ext, path) in [
            (
                Layout::Flat,
                false,
                "deployments",
                Some("infra-production"),
                "supercronic",
                "yaml",
                "deployments_infra-production_supercronic.yaml",
            ),
            (Layout::Flat, false, "namespaces", None, "default", "yaml", "namespaces_default.yaml"),
            (
                Layout::Tree,
                false,
                "clusterroles",
                None,
                "system:node",
                "json",
                "_cluster/clusterroles/system:node.json",
            ),
            (Layout::Tree, false, "05-secrets", Some("3scale"), "db", "yaml", "3scale/05-secrets/db.yaml"),
            (Layout::Tree, true, "05-secrets", Some("3scale"), "db", "yaml", "namespaces/3scale/05-secrets/db.yaml"),
            (Layout::Tree, true, "01-namespaces", None, "3scale", "yaml", "_cluster/01-namespaces/3scale.yaml"),
            // Flat names start with the resource, so nesting changes nothing there.
            (Layout::Flat, true, "05-secrets", Some("3scale"), "db", "yaml", "05-secrets_3scale_db.yaml"),
        ] {
            assert_eq!(relative_path(layout, nested, resource, ns, name, ext), PathBuf::from(path));
        }
        // Why: a namespace may start with a digit, which sorts before `_`.
        assert!("3scale" < CLUSTER_DIR && CLUSTER_DIR < NAMESPACES_DIR);
        assert_eq!(sanitize_component("a_b/c%d"), "a%5Fb%2Fc%25d");
        assert_eq!(sanitize_component(".."), "%2E.");
        // Different long names stay different after shortening.
        let a = sanitize_component(&format!("{}x", "a".repeat(300)));
        let b = sanitize_component(&format!("{}y", "a".repeat(300)));
        assert_ne!(a, b);
        assert!(a.len() <= MAX_COMPONENT);
    }

    #[test]
    fn collisions_are_disambiguated_in_order() {
        let mut alloc = PathAllocator::default();
        let p = PathBuf::from("ns/pods/web.yaml");
        assert_eq!(alloc.allocate(p.clone()), p);
        assert_eq!(alloc.allocate(p.clone()), PathBuf::from("ns/pods/web~2.yaml"));
        // Case-insensitively equal to `web.yaml` and `web~2.yaml`, both taken.
        assert_eq!(alloc.allocate(PathBuf::from("ns/pods/WEB.yaml")), PathBuf::from("ns/pods/WEB~3.yaml"));
        assert_eq!(alloc.allocate(p), PathBuf::from("ns/pods/web~4.yaml"));
    }

    #[test]
    fn modes_and_no_overwrite() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("out");
        let out = OutputDir::create(&root, false).unwrap();
        assert!(!out.has_entries().unwrap());
        let rel = PathBuf::from("ns/pods/web.yaml");
        out.make_dirs_for(&rel).unwrap();
        out.write(&rel, b"a: 1\n").unwrap();
        assert!(out.has_entries().unwrap());
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&root.join(&rel)), 0o600);
        assert_eq!(mode(&root.join("ns")), 0o700);
        assert_eq!(mode(&root.join("ns/pods")), 0o700);
        assert!(out.check_free([rel.clone()]).is_err());
        assert!(out.write(&rel, b"b: 2\n").is_err(), "never overwrites without --force");
        let forced = OutputDir::create(&root, true).unwrap();
        // A planted symlink is replaced, not followed.
        let victim = tmp.path().join("victim");
        fs::write(&victim, "keep").unwrap();
        fs::remove_file(root.join(&rel)).unwrap();
        std::os::unix::fs::symlink(&victim, root.join(&rel)).unwrap();
        forced.write(&rel, b"b: 2\n").unwrap();
        assert_eq!(fs::read_to_string(&victim).unwrap(), "keep");
        assert_eq!(fs::read_to_string(root.join(&rel)).unwrap(), "b: 2\n");
        // A symlinked directory is refused.
        std::os::unix::fs::symlink(tmp.path(), root.join("evil")).unwrap();
        assert!(forced.make_dirs_for(Path::new("evil/pods/x.yaml")).is_err());
    }
}
