//! Finding and reading inputs. Discovery is separate from reading so the
//! order of inputs is fixed by a sorted walk, whatever the thread timing;
//! it is lazy, so memory does not grow with the number of inputs. Reading
//! decides per file between a memory map and a reusable buffer, and both
//! give the same bytes.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

/// One input file.
#[derive(Debug, Clone)]
pub struct Input {
    /// Path on disk.
    pub path: PathBuf,
    /// Path relative to its root (forward slashes), as written to the ledger.
    pub rel: String,
    /// Folder under `OUT/bundles` for this root ("" when there is one root).
    pub out_prefix: String,
    /// Set when discovery already knows this entry is not a document to
    /// read: it still gets its ledger line, but nothing is opened.
    pub not_read: Option<NotRead>,
}

/// A directory entry that is accounted for without being read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotRead {
    /// Skipped, with the reason (a FIFO, socket or device; a symbolic link
    /// to a directory, which is not followed).
    Skip(String),
    /// Failed: a broken symbolic link, or a directory that cannot be listed.
    Fail {
        /// Ledger rule.
        rule: &'static str,
        /// What was wrong (no file contents).
        message: String,
    },
}

/// Why discovery failed (a usage error).
#[derive(Debug, thiserror::Error)]
pub enum DiscoverError {
    /// An input path does not exist.
    #[error("input not found: {0}")]
    Missing(String),
}

/// Expand files and directories (recursive) into inputs in sorted order,
/// lazily: the list is never held whole, so memory does not grow with the
/// number of inputs. Within a folder, entries are sorted by name and a
/// sub-folder's entries follow its name (paths compare component by
/// component). A file argument's root is its parent; with several roots
/// each root's outputs go under a folder named after it (made unique).
///
/// Every root is checked before anything is yielded: a missing one is a
/// usage error, not a ledger line.
pub fn discover(inputs: &[PathBuf]) -> Result<Discovery, DiscoverError> {
    let mut roots = Vec::with_capacity(inputs.len());
    let mut used_names: Vec<String> = Vec::new();
    let many = inputs.len() > 1;
    for root in inputs {
        if !root.exists() {
            return Err(DiscoverError::Missing(root.display().to_string()));
        }
        let prefix = if many {
            let base = root
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .filter(|n| !n.is_empty() && n != "." && n != "..")
                .unwrap_or_else(|| "input".into());
            let mut name = base.clone();
            let mut k = 2;
            while used_names.contains(&name) {
                name = format!("{base}-{k}");
                k += 1;
            }
            used_names.push(name.clone());
            name
        } else {
            String::new()
        };
        roots.push((root.clone(), prefix));
    }
    roots.reverse();
    Ok(Discovery { roots, walk: None })
}

/// The inputs of [`discover`], in order.
pub struct Discovery {
    /// Roots not started yet, last first.
    roots: Vec<(PathBuf, String)>,
    /// The folder being walked: its root, output prefix and walker.
    walk: Option<(PathBuf, String, walkdir::IntoIter)>,
}

impl Iterator for Discovery {
    type Item = Input;

    fn next(&mut self) -> Option<Input> {
        loop {
            if let Some((root, prefix, it)) = &mut self.walk {
                // Every entry below the root that is not a directory gets
                // a ledger line: regular files (and symbolic links to them)
                // are read; other entries are skipped or failed with the
                // reason, and a directory that cannot be listed is a
                // failed line, not a stopped batch.
                match it.next() {
                    None => self.walk = None,
                    Some(Ok(e)) => {
                        let ft = e.file_type();
                        if ft.is_dir() {
                            continue;
                        }
                        return Some(Input {
                            rel: rel_of(root, e.path()),
                            not_read: classify(e.path(), ft),
                            path: e.into_path(),
                            out_prefix: prefix.clone(),
                        });
                    }
                    Some(Err(err)) => {
                        let path = err.path().unwrap_or(root).to_path_buf();
                        let what = err
                            .io_error()
                            .map(|io| io.kind().to_string())
                            .unwrap_or_else(|| "filesystem loop".into());
                        return Some(Input {
                            rel: rel_of(root, &path),
                            path,
                            out_prefix: prefix.clone(),
                            not_read: Some(NotRead::Fail {
                                rule: "read-error",
                                message: format!("cannot list directory: {what}"),
                            }),
                        });
                    }
                }
                continue;
            }
            let (root, prefix) = self.roots.pop()?;
            if root.is_file() {
                let rel = root
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "input".into());
                return Some(Input {
                    path: root,
                    rel,
                    out_prefix: prefix,
                    not_read: None,
                });
            }
            let it = walkdir::WalkDir::new(&root)
                .follow_links(false)
                .sort_by_file_name()
                .into_iter();
            self.walk = Some((root, prefix, it));
        }
    }
}

/// `path` relative to `root`, components joined by `/` (the root's own
/// name when they are the same).
fn rel_of(root: &Path, path: &Path) -> String {
    let r = path
        .strip_prefix(root)
        .unwrap_or(path)
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/");
    if r.is_empty() {
        root.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| ".".into())
    } else {
        r
    }
}

/// What to do with a directory entry that is not a directory: `None` to
/// read it (a regular file, or a symbolic link to one).
fn classify(path: &Path, ft: std::fs::FileType) -> Option<NotRead> {
    if ft.is_file() {
        return None;
    }
    if ft.is_symlink() {
        return match std::fs::metadata(path) {
            Ok(m) if m.is_file() => None,
            Ok(m) if m.is_dir() => Some(NotRead::Skip(
                "symbolic link to a directory (not followed)".into(),
            )),
            Ok(m) => Some(NotRead::Skip(format!(
                "symbolic link to {}",
                special_kind(m.file_type())
            ))),
            Err(e) => Some(NotRead::Fail {
                rule: "read-error",
                message: format!("broken symbolic link: {}", e.kind()),
            }),
        };
    }
    Some(NotRead::Skip(special_kind(ft).to_string()))
}

/// Name of a non-regular, non-directory file type.
fn special_kind(ft: std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_fifo() {
            return "not a regular file (FIFO)";
        }
        if ft.is_socket() {
            return "not a regular file (socket)";
        }
        if ft.is_block_device() || ft.is_char_device() {
            return "not a regular file (device)";
        }
    }
    let _ = ft;
    "not a regular file"
}

/// How to read files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MmapPolicy {
    /// Map files at least [`MMAP_THRESHOLD`] bytes long, read the rest.
    Auto,
    /// Always map (falls back to reading when mapping fails).
    Always,
    /// Never map.
    Never,
}

/// Files at least this large are mapped under [`MmapPolicy::Auto`].
pub const MMAP_THRESHOLD: u64 = 1 << 20;

/// The bytes of one file: mapped or in a caller's buffer.
pub enum Bytes<'b> {
    /// A read-only memory map.
    Mapped(memmap2::Mmap),
    /// Read into the caller's reusable buffer.
    Buffer(&'b [u8]),
}

impl std::ops::Deref for Bytes<'_> {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Bytes::Mapped(m) => m,
            Bytes::Buffer(b) => b,
        }
    }
}

/// Read `path` according to `policy`, reusing `buf` for ordinary reads.
/// A file longer than `max_len` is refused (`ErrorKind::FileTooLarge`)
/// before any byte is read.
pub fn read<'b>(
    path: &Path,
    policy: MmapPolicy,
    max_len: u64,
    buf: &'b mut Vec<u8>,
) -> std::io::Result<Bytes<'b>> {
    let mut f = File::open(path)?;
    let len = f.metadata()?.len();
    if len > max_len {
        return Err(std::io::Error::new(
            std::io::ErrorKind::FileTooLarge,
            "larger than the size limit",
        ));
    }
    let want_map = match policy {
        MmapPolicy::Never => false,
        MmapPolicy::Always => len > 0,
        MmapPolicy::Auto => len >= MMAP_THRESHOLD,
    };
    if want_map {
        // SAFETY: memmap2's contract is that the file is not modified or
        // truncated (in or out of this process) while the map is alive. We
        // only map inputs, which this program never writes, and the map
        // lives for the conversion of one document. An archive being
        // rewritten underneath a running conversion breaks that contract;
        // the documented requirement (README, --mmap) is that inputs are
        // quiescent, and `--mmap never` avoids mapping entirely.
        match unsafe { memmap2::Mmap::map(&f) } {
            Ok(m) => {
                #[cfg(unix)]
                let _ = m.advise(memmap2::Advice::Sequential);
                return Ok(Bytes::Mapped(m));
            }
            Err(_) => {
                // Fall back to an ordinary read (e.g. special files).
            }
        }
    }
    buf.clear();
    buf.reserve(len as usize);
    f.read_to_end(buf)?;
    Ok(Bytes::Buffer(buf))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mmap_and_read_give_same_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.xml");
        std::fs::write(&p, b"<a>hello</a>").unwrap();
        let mut b1 = Vec::new();
        let mut b2 = Vec::new();
        let x = read(&p, MmapPolicy::Always, u64::MAX, &mut b1)
            .unwrap()
            .to_vec();
        let y = read(&p, MmapPolicy::Never, u64::MAX, &mut b2)
            .unwrap()
            .to_vec();
        assert_eq!(x, y);
    }

    #[test]
    fn discovery_is_lazy_and_component_ordered() {
        let dir = tempfile::tempdir().unwrap();
        let r = dir.path().join("r");
        for p in ["a/x.xml", "a.xml", "b/c/z.xml", "b/y.xml"] {
            let f = r.join(p);
            std::fs::create_dir_all(f.parent().unwrap()).unwrap();
            std::fs::write(f, b"x").unwrap();
        }
        let mut d = discover(std::slice::from_ref(&r)).unwrap();
        // A folder's entries follow its name: "a/x.xml" before "a.xml".
        assert_eq!(d.next().unwrap().rel, "a/x.xml");
        assert_eq!(d.next().unwrap().rel, "a.xml");
        // Folders not reached yet are not listed yet: the list is never
        // held whole, so memory does not grow with the number of inputs.
        std::fs::remove_dir_all(r.join("b/c")).unwrap();
        let rest: Vec<_> = d.map(|i| i.rel).collect();
        assert_eq!(rest, ["b/y.xml"]);
    }

    #[test]
    fn discovery_is_sorted_and_prefixed() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("r1/sub")).unwrap();
        std::fs::write(dir.path().join("r1/b.xml"), b"x").unwrap();
        std::fs::write(dir.path().join("r1/sub/a.xml"), b"x").unwrap();
        std::fs::write(dir.path().join("r1/a.xml"), b"x").unwrap();
        let v: Vec<_> = discover(&[dir.path().join("r1")]).unwrap().collect();
        let rels: Vec<_> = v.iter().map(|i| i.rel.as_str()).collect();
        assert_eq!(rels, ["a.xml", "b.xml", "sub/a.xml"]);
        assert!(v.iter().all(|i| i.out_prefix.is_empty()));
        let two: Vec<_> = discover(&[dir.path().join("r1"), dir.path().join("r1/sub")])
            .unwrap()
            .collect();
        assert_eq!(two[0].out_prefix, "r1");
        assert_eq!(two.last().unwrap().out_prefix, "sub");
        assert!(discover(&[dir.path().join("nope")]).is_err());
    }
}
