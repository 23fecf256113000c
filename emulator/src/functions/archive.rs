//! Deployment archives: a `.tar.gz` is checked entry by entry BEFORE anything is written —
//! absolute paths, `..` components, links leading outside the folder, special files and archives
//! that expand past the size limit are refused — then unpacked. Also packs a build folder for the
//! `output` download.

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::{Component, Path, PathBuf};

use flate2::read::GzDecoder;

/// The default cap on the unpacked size of one deployment (`QW_FUNCTIONS_MAX_UNPACKED_BYTES`).
pub const DEFAULT_MAX_UNPACKED: u64 = 256 * 1024 * 1024;
/// The most entries one archive may hold.
pub const MAX_ENTRIES: usize = 100_000;

/// The unpacked-size limit in force.
pub fn max_unpacked() -> u64 {
    std::env::var("QW_FUNCTIONS_MAX_UNPACKED_BYTES").ok().and_then(|v| v.parse().ok()).unwrap_or(DEFAULT_MAX_UNPACKED)
}

/// Why an archive was refused (the text is shown to the client).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused(pub String);

/// What one entry will become.
#[derive(Debug)]
enum Planned {
    Dir(PathBuf),
    File { path: PathBuf, mode: u32 },
    Symlink { path: PathBuf, target: PathBuf },
    Hardlink { path: PathBuf, target: PathBuf },
}

/// Normalises an archive-relative path: strips `./`, refuses absolute paths and `..`.
fn relative(raw: &Path, what: &str) -> Result<PathBuf, Refused> {
    let mut out = PathBuf::new();
    for c in raw.components() {
        match c {
            Component::Normal(p) => out.push(p),
            Component::CurDir => {}
            Component::ParentDir => {
                return Err(Refused(format!("{what} '{}' contains a '..' component.", raw.display())));
            }
            Component::RootDir | Component::Prefix(_) => {
                return Err(Refused(format!("{what} '{}' is an absolute path.", raw.display())));
            }
        }
    }
    Ok(out)
}

/// Resolves a symlink target against the link's folder; refuses targets that leave the root.
fn link_target(entry: &Path, target: &Path) -> Result<PathBuf, Refused> {
    if target.is_absolute() {
        return Err(Refused(format!(
            "Link '{}' points to the absolute path '{}', outside the deployment.",
            entry.display(),
            target.display()
        )));
    }
    let mut resolved: Vec<&std::ffi::OsStr> = entry.parent().map(|p| p.iter().collect()).unwrap_or_default();
    for c in target.components() {
        match c {
            Component::Normal(p) => resolved.push(p),
            Component::CurDir => {}
            Component::ParentDir => {
                if resolved.pop().is_none() {
                    return Err(Refused(format!(
                        "Link '{}' points to '{}', outside the deployment.",
                        entry.display(),
                        target.display()
                    )));
                }
            }
            _ => return Err(Refused(format!("Link '{}' has an invalid target.", entry.display()))),
        }
    }
    Ok(resolved.iter().collect())
}

fn open(archive: &Path) -> io::Result<tar::Archive<GzDecoder<BufReader<File>>>> {
    Ok(tar::Archive::new(GzDecoder::new(BufReader::new(File::open(archive)?))))
}

fn corrupt(e: impl std::fmt::Display) -> Refused {
    Refused(format!("The archive is not a valid .tar.gz file: {e}."))
}

/// Checks every entry of `archive`; nothing is written.
fn plan(archive: &Path, limit: u64) -> Result<Vec<Planned>, Refused> {
    let mut ar = open(archive).map_err(corrupt)?;
    let mut planned = Vec::new();
    let mut total: u64 = 0;
    for entry in ar.entries().map_err(corrupt)? {
        let mut entry = entry.map_err(corrupt)?;
        if planned.len() >= MAX_ENTRIES {
            return Err(Refused(format!("The archive has more than {MAX_ENTRIES} entries.")));
        }
        let raw = entry.path().map_err(corrupt)?.into_owned();
        let path = relative(&raw, "Entry")?;
        let kind = entry.header().entry_type();
        if path.as_os_str().is_empty() {
            if kind.is_dir() {
                continue;
            }
            return Err(Refused(format!("Entry '{}' has an empty name.", raw.display())));
        }
        // Count what the entry really expands to, not what its header claims.
        let size = io::copy(&mut (&mut entry).take(limit.saturating_sub(total) + 1), &mut io::sink()).map_err(corrupt)?;
        total += size;
        if total > limit {
            return Err(Refused(format!("The archive expands past the {limit}-byte limit for a deployment.")));
        }
        let item = if kind.is_dir() {
            Planned::Dir(path)
        } else if kind.is_file() || kind == tar::EntryType::Continuous || kind == tar::EntryType::GNUSparse {
            let mode = entry.header().mode().unwrap_or(0o644);
            Planned::File { path, mode }
        } else if kind.is_symlink() {
            let target = entry.link_name().map_err(corrupt)?.ok_or_else(|| corrupt("symlink without target"))?.into_owned();
            link_target(&path, &target)?;
            Planned::Symlink { path, target }
        } else if kind.is_hard_link() {
            let target = entry.link_name().map_err(corrupt)?.ok_or_else(|| corrupt("hard link without target"))?.into_owned();
            let target = relative(&target, "Hard link target")?;
            Planned::Hardlink { path, target }
        } else if kind.is_pax_global_extensions() || kind.is_pax_local_extensions() || kind.is_gnu_longname() || kind.is_gnu_longlink() {
            continue;
        } else {
            return Err(Refused(format!("Entry '{}' is a special file ({:?}); only files, folders and links are allowed.", raw.display(), kind)));
        };
        planned.push(item);
    }
    Ok(planned)
}

/// Unpacks `archive` into `dest` (created) after checking all of it. On refusal nothing exists
/// at `dest`; the total unpacked size is returned.
pub fn unpack(archive: &Path, dest: &Path) -> Result<u64, Refused> {
    let planned = plan(archive, max_unpacked())?;
    let write = || -> io::Result<u64> {
        std::fs::create_dir_all(dest)?;
        let mut ar = open(archive)?;
        let mut written = 0;
        let mut files = planned.iter().filter(|p| matches!(p, Planned::File { .. }));
        for p in &planned {
            match p {
                Planned::Dir(path) => std::fs::create_dir_all(dest.join(path))?,
                Planned::Symlink { path, target } => {
                    let at = dest.join(path);
                    if let Some(parent) = at.parent() {
                        std::fs::create_dir_all(parent)?;
                    }
                    let _ = std::fs::remove_file(&at);
                    std::os::unix::fs::symlink(target, at)?;
                }
                _ => {}
            }
        }
        // Second pass over the stream for file contents, in archive order.
        let mut next = files.next();
        for entry in ar.entries()? {
            let mut entry = entry?;
            let kind = entry.header().entry_type();
            if !(kind.is_file() || kind == tar::EntryType::Continuous || kind == tar::EntryType::GNUSparse) {
                continue;
            }
            let Some(Planned::File { path, mode }) = next else { break };
            let at = dest.join(path);
            if let Some(parent) = at.parent() {
                std::fs::create_dir_all(parent)?;
            }
            let _ = std::fs::remove_file(&at);
            let mut out = File::create(&at)?;
            written += io::copy(&mut entry, &mut out)?;
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&at, std::fs::Permissions::from_mode((mode & 0o777) | 0o600))?;
            next = files.next();
        }
        for p in &planned {
            if let Planned::Hardlink { path, target } = p {
                let at = dest.join(path);
                let _ = std::fs::remove_file(&at);
                std::fs::copy(dest.join(target), at)?;
            }
        }
        Ok(written)
    };
    write().map_err(|e| {
        let _ = std::fs::remove_dir_all(dest);
        Refused(format!("The archive could not be unpacked: {e}."))
    })
}

/// Checks `archive` without unpacking it.
pub fn check(archive: &Path) -> Result<(), Refused> {
    plan(archive, max_unpacked()).map(|_| ())
}

/// Packs `dir` into a `.tar.gz` at `out` (links kept as links).
pub fn pack(dir: &Path, out: &Path) -> io::Result<()> {
    let file = File::create(out)?;
    let gz = flate2::write::GzEncoder::new(file, flate2::Compression::fast());
    let mut builder = tar::Builder::new(gz);
    builder.follow_symlinks(false);
    builder.append_dir_all(".", dir)?;
    builder.into_inner()?.finish()?;
    Ok(())
}

/// Bytes used by the files under `dir`.
pub fn dir_size(dir: &Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else { continue };
        for e in rd.flatten() {
            let Ok(meta) = e.path().symlink_metadata() else { continue };
            if meta.is_dir() {
                stack.push(e.path());
            } else {
                total += meta.len();
            }
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    fn archive(dir: &Path, build: impl FnOnce(&mut tar::Builder<flate2::write::GzEncoder<File>>)) -> PathBuf {
        let path = dir.join("code.tar.gz");
        let gz = flate2::write::GzEncoder::new(File::create(&path).unwrap(), flate2::Compression::fast());
        let mut b = tar::Builder::new(gz);
        build(&mut b);
        b.into_inner().unwrap().finish().unwrap();
        path
    }

    fn file(b: &mut tar::Builder<flate2::write::GzEncoder<File>>, name: &str, data: &[u8]) {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_entry_type(tar::EntryType::Regular);
        // set_path refuses `..`; write the raw name like a hostile archiver would.
        let bytes = name.as_bytes();
        h.as_old_mut().name[..bytes.len()].copy_from_slice(bytes);
        h.set_cksum();
        b.append(&h, data).unwrap();
    }

    fn link(b: &mut tar::Builder<flate2::write::GzEncoder<File>>, name: &str, target: &str) {
        let mut h = tar::Header::new_gnu();
        h.set_size(0);
        h.set_entry_type(tar::EntryType::Symlink);
        h.set_path(name).unwrap();
        h.set_link_name(target).unwrap();
        h.set_cksum();
        b.append(&h, io::empty()).unwrap();
    }

    #[test]
    fn unpacks_good_archives() {
        let t = tempfile::tempdir().unwrap();
        let a = archive(t.path(), |b| {
            file(b, "src/main.py", b"def main(context): pass\n");
            link(b, "src/alias.py", "main.py");
            link(b, "top", "src/../src");
        });
        let dest = t.path().join("out");
        assert!(unpack(&a, &dest).unwrap() > 0);
        assert!(dest.join("src/main.py").is_file());
        assert_eq!(std::fs::read_link(dest.join("src/alias.py")).unwrap(), PathBuf::from("main.py"));
    }

    #[test]
    fn refuses_hostile_archives_and_writes_nothing() {
        let t = tempfile::tempdir().unwrap();
        let cases: Vec<(&str, Box<dyn FnOnce(&mut tar::Builder<flate2::write::GzEncoder<File>>)>)> = vec![
            ("absolute", Box::new(|b| file(b, "/etc/evil", b"x"))),
            ("dotdot", Box::new(|b| {
                file(b, "ok.txt", b"fine");
                file(b, "a/../../evil", b"x");
            })),
            ("link", Box::new(|b| {
                file(b, "ok.txt", b"fine");
                link(b, "escape", "../../etc");
            })),
            ("abs-link", Box::new(|b| link(b, "passwd", "/etc/passwd"))),
        ];
        for (name, build) in cases {
            let dir = t.path().join(name);
            std::fs::create_dir_all(&dir).unwrap();
            let a = archive(&dir, build);
            let dest = dir.join("out");
            let err = unpack(&a, &dest).unwrap_err();
            assert!(!err.0.is_empty(), "{name}");
            assert!(!dest.exists(), "{name}: nothing may be unpacked");
        }
    }

    #[test]
    fn refuses_archives_expanding_past_the_limit() {
        let t = tempfile::tempdir().unwrap();
        let a = archive(t.path(), |b| file(b, "zeros", &vec![0u8; 4096]));
        assert!(plan(&a, 1000).unwrap_err().0.contains("limit"));
        assert!(plan(&a, 5000).is_ok());
    }
}
