//! Opening a snapshot: an `etcdctl snapshot save` file (bbolt image + SHA-256 trailer), a raw
//! `member/snap/db`, or an etcd data directory. The file is mapped read-only: never written,
//! never locked, so a snapshot on a read-only mount or in use by etcd can be read.

use std::fs::File;
use std::path::{Path, PathBuf};

use memmap2::{Mmap, UncheckedAdvice};
use rayon::prelude::*;
use sha2::{Digest, Sha256};

use crate::bbolt::Db;
use crate::error::Error;
use crate::mvcc::Store;

/// `etcdctl snapshot save` appends a SHA-256 of the image; etcd detects it by this size rule
/// (`hasChecksum`: `size % 512 == 32`).
const TRAILER_LEN: usize = 32;

/// What kind of file was opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    /// `etcdctl snapshot save` output: image + 32-byte SHA-256.
    SnapshotWithTrailer,
    /// A bbolt file without trailer (`member/snap/db`, a follower's `.snap.db`).
    RawDb,
}

/// The result of checking the SHA-256 trailer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrailerCheck {
    /// No trailer (a raw database file).
    Absent,
    /// The trailer matches the image.
    Valid,
    /// The trailer does not match: the file was truncated, modified or is not a snapshot.
    Mismatch { stored: [u8; 32], computed: [u8; 32] },
}

/// An opened snapshot: a read-only mapping of the file.
pub struct Snapshot {
    path: PathBuf,
    map: Mmap,
    kind: SourceKind,
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshot")
            .field("path", &self.path)
            .field("len", &self.map.len())
            .field("kind", &self.kind)
            .finish()
    }
}

impl Snapshot {
    /// Open a snapshot file, a raw bbolt db, or a data dir (its `member/snap/db`).
    pub fn open(path: impl AsRef<Path>) -> Result<Snapshot, Error> {
        let path = resolve(path.as_ref())?;
        let file = File::open(&path).map_err(|error| Error::Io { path: path.clone(), error })?;
        let len = file.metadata().map_err(|error| Error::Io { path: path.clone(), error })?.len();
        if len == 0 {
            return Err(Error::NotASnapshot { path, reason: "file is empty".into() });
        }
        // SAFETY: the mapping is read-only and private to this process. Another process could
        // still truncate or rewrite the file underneath it (etcd compacting a live db); that
        // is the usual caveat of any mmap reader and is documented on `Snapshot`.
        #[allow(unsafe_code)]
        let map = unsafe { Mmap::map(&file) }.map_err(|error| Error::Io { path: path.clone(), error })?;
        let kind = if map.len() % 512 == TRAILER_LEN && map.len() > TRAILER_LEN {
            SourceKind::SnapshotWithTrailer
        } else {
            SourceKind::RawDb
        };
        let snapshot = Snapshot { path, map, kind };
        // Recognise the file now so that a wrong file fails at open, naming it.
        snapshot.db()?;
        Ok(snapshot)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn kind(&self) -> SourceKind {
        self.kind
    }

    /// The whole file.
    pub fn bytes(&self) -> &[u8] {
        &self.map
    }

    /// The bbolt image (the file without its trailer).
    pub fn image(&self) -> &[u8] {
        match self.kind {
            SourceKind::SnapshotWithTrailer => &self.map[..self.map.len() - TRAILER_LEN],
            SourceKind::RawDb => &self.map,
        }
    }

    /// The bbolt view of the image.
    pub fn db(&self) -> Result<Db<'_>, Error> {
        Db::new(self.image()).map_err(|error| Error::Format { path: self.path.clone(), error })
    }

    /// The etcd MVCC store inside the image.
    pub fn store(&self) -> Result<Store<'_>, Error> {
        Store::open(self.db()?).map_err(|error| Error::Mvcc { path: self.path.clone(), error })
    }

    /// Verify the SHA-256 trailer over the image, as `etcdutl snapshot restore` does. Reads
    /// the whole file, so it is a separate step from opening.
    pub fn verify_trailer(&self) -> TrailerCheck {
        if self.kind == SourceKind::RawDb {
            return TrailerCheck::Absent;
        }
        let image = self.image();
        let stored: [u8; 32] = self.map[image.len()..].try_into().expect("trailer is 32 bytes");
        let computed: [u8; 32] = Sha256::digest(image).into();
        if stored == computed {
            TrailerCheck::Valid
        } else {
            TrailerCheck::Mismatch { stored, computed }
        }
    }
}

/// Mappings at least this large release their page tables on every core when dropped.
const PARALLEL_RELEASE_BYTES: usize = 256 << 20;
/// Each job of that release covers this much of the mapping.
const RELEASE_CHUNK_BYTES: usize = 64 << 20;

#[cfg(target_os = "linux")]
impl Drop for Snapshot {
    /// A scan touches the whole mapping, and `munmap` then clears its page tables on one
    /// core after all other work is done: 100-190 ms for 2 GiB, a seventh of `etcdsnap ls`.
    /// `MADV_DONTNEED` on disjoint ranges runs under the shared mmap lock, so every core
    /// clears its part (70 ms on 2 cores) and `munmap` finds nothing left to do.
    fn drop(&mut self) {
        if self.map.len() < PARALLEL_RELEASE_BYTES || rayon::current_num_threads() < 2 {
            return;
        }
        let len = self.map.len();
        let map = &self.map;
        (0..len.div_ceil(RELEASE_CHUNK_BYTES)).into_par_iter().for_each(|chunk| {
            let start = chunk * RELEASE_CHUNK_BYTES;
            // SAFETY: the mapping is private and read-only, and nothing borrows it any more
            // (`drop` has `&mut self`). Dropping its pages unmaps page-cache pages, which a
            // later access would only fault in again unchanged; the file is not touched.
            #[allow(unsafe_code)]
            let released = unsafe {
                map.unchecked_advise_range(UncheckedAdvice::DontNeed, start, RELEASE_CHUNK_BYTES.min(len - start))
            };
            // Only an optimisation: on failure `munmap` still releases everything.
            drop(released);
        });
    }
}

/// A directory is taken as an etcd data dir (or its `member` dir) holding `member/snap/db`.
fn resolve(path: &Path) -> Result<PathBuf, Error> {
    let meta = std::fs::metadata(path).map_err(|error| Error::Io { path: path.to_path_buf(), error })?;
    if !meta.is_dir() {
        return Ok(path.to_path_buf());
    }
    for candidate in [path.join("member/snap/db"), path.join("snap/db")] {
        if candidate.is_file() {
            return Ok(candidate);
        }
    }
    Err(Error::NotASnapshot {
        path: path.to_path_buf(),
        reason: "directory is not an etcd data dir (no member/snap/db inside)".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A snapshot mapping large enough to be released on every core when dropped: a real
    /// fixture grown with zeros past its last page (bbolt ignores what lies beyond its
    /// high-water mark; the file is sparse, so nothing is written to disk but its header).
    #[test]
    fn a_large_mapping_reads_the_same_after_another_was_released() {
        let fixture = testdata::project_fixtures().join("etcd-3.5-cluster/snapshot.db");
        let original = std::fs::read(&fixture).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        std::fs::write(&path, &original[..original.len() - TRAILER_LEN]).unwrap();
        File::options().write(true).open(&path).unwrap().set_len(PARALLEL_RELEASE_BYTES as u64 + 4096).unwrap();
        let live_keys = |snapshot: &Snapshot| -> Vec<Vec<u8>> {
            let store = snapshot.store().unwrap();
            store.live(b"", None).unwrap().items.iter().map(|record| record.kv.key.to_vec()).collect()
        };
        let first = Snapshot::open(&path).unwrap();
        assert_eq!(first.kind(), SourceKind::RawDb);
        let keys = live_keys(&first);
        assert!(!keys.is_empty());
        // Dropping releases the pages of this mapping only: another mapping of the same file,
        // open meanwhile, and the file itself are unchanged.
        let second = Snapshot::open(&path).unwrap();
        drop(first);
        assert_eq!(live_keys(&second), keys);
        drop(second);
        assert_eq!(live_keys(&Snapshot::open(&path).unwrap()), keys);
        let image = &original[..original.len() - TRAILER_LEN];
        let mut head = vec![0; image.len()];
        std::io::Read::read_exact(&mut File::open(&path).unwrap(), &mut head).unwrap();
        assert_eq!(head, image);
        assert_eq!(std::fs::metadata(&path).unwrap().len(), PARALLEL_RELEASE_BYTES as u64 + 4096);
    }
}
