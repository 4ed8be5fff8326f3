//! Finding and reading inputs. Discovery is separate from reading so the
//! set and order of inputs is fixed (sorted) before any parallel work
//! starts; reading decides per file between a memory map and a reusable
//! buffer, and both give the same bytes.

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

/// Expand files and directories (recursive) into a sorted input list.
/// A file argument's root is its parent; with several roots each root's
/// outputs go under a folder named after it (made unique).
pub fn discover(inputs: &[PathBuf]) -> Result<Vec<Input>, DiscoverError> {
    let mut out = Vec::new();
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
        if root.is_file() {
            let rel = root
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "input".into());
            out.push(Input {
                path: root.clone(),
                rel,
                out_prefix: prefix,
                not_read: None,
            });
            continue;
        }
        let mut files = Vec::new();
        // Every entry below the root that is not a directory gets a ledger
        // line: regular files (and symbolic links to them) are read; other
        // entries are skipped or failed with the reason, and a directory
        // that cannot be listed is a failed line, not a stopped batch.
        for e in walkdir::WalkDir::new(root)
            .follow_links(false)
            .sort_by_file_name()
        {
            let rel_of = |p: &Path| {
                let r = p
                    .strip_prefix(root)
                    .unwrap_or(p)
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
            };
            let (path, not_read) = match e {
                Ok(e) => {
                    let ft = e.file_type();
                    if ft.is_dir() {
                        continue;
                    }
                    (e.path().to_path_buf(), classify(e.path(), ft))
                }
                Err(err) => {
                    let path = err.path().unwrap_or(root).to_path_buf();
                    let what = err
                        .io_error()
                        .map(|io| io.kind().to_string())
                        .unwrap_or_else(|| "filesystem loop".into());
                    let message = format!("cannot list directory: {what}");
                    let nr = NotRead::Fail {
                        rule: "read-error",
                        message,
                    };
                    (path, Some(nr))
                }
            };
            files.push(Input {
                rel: rel_of(&path),
                path,
                out_prefix: prefix.clone(),
                not_read,
            });
        }
        files.sort_by(|a, b| a.rel.cmp(&b.rel));
        out.extend(files);
    }
    Ok(out)
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
    fn discovery_is_sorted_and_prefixed() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("r1/sub")).unwrap();
        std::fs::write(dir.path().join("r1/b.xml"), b"x").unwrap();
        std::fs::write(dir.path().join("r1/sub/a.xml"), b"x").unwrap();
        std::fs::write(dir.path().join("r1/a.xml"), b"x").unwrap();
        let v = discover(&[dir.path().join("r1")]).unwrap();
        let rels: Vec<_> = v.iter().map(|i| i.rel.as_str()).collect();
        assert_eq!(rels, ["a.xml", "b.xml", "sub/a.xml"]);
        assert!(v.iter().all(|i| i.out_prefix.is_empty()));
        let two = discover(&[dir.path().join("r1"), dir.path().join("r1/sub")]).unwrap();
        assert_eq!(two[0].out_prefix, "r1");
        assert_eq!(two.last().unwrap().out_prefix, "sub");
        assert!(discover(&[dir.path().join("nope")]).is_err());
    }
}
