//! Files only Herald's own user may read: the JWT signing secret, the SQLite
//! database (with its `-wal` and `-shm`), and export CSVs. Files are made
//! 0600 and directories 0700 when Herald creates them, and the modes of
//! existing ones are checked and fixed at every start, so a file left
//! world-readable by an older version or a careless copy is closed again.
//!
//! Directories Herald did not create (the data directory an operator chose)
//! keep their mode: changing it could break whatever else lives there.
//! Off Unix these only create and write.

use std::{io, path::Path};

/// Owner read/write only.
pub const FILE_MODE: u32 = 0o600;
/// Owner only.
pub const DIR_MODE: u32 = 0o700;

/// `create_dir_all`, with every directory it creates 0700.
pub fn create_dir_all(dir: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, DIR_MODE);
    builder.create(dir)
}

/// Writes `bytes` to a 0600 file, replacing what was there.
pub fn write(path: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, FILE_MODE);
    let mut file = options.open(path)?;
    // `mode` applies only when the file is created.
    restrict(path, FILE_MODE)?;
    file.write_all(bytes)
}

/// Creates an empty 0600 file unless one exists (SQLite accepts an empty
/// file as a new database, and gives its `-wal`/`-shm` the same mode).
pub fn create_if_missing(path: &Path) -> io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, FILE_MODE);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

/// Sets the file to 0600 if it exists and is anything else.
pub fn restrict_file(path: &Path) -> io::Result<()> {
    restrict_existing(path, FILE_MODE)
}

/// A directory Herald owns and every file in it: 0700 and 0600.
pub fn restrict_dir_and_files(dir: &Path) -> io::Result<()> {
    restrict_existing(dir, DIR_MODE)?;
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        if entry.file_type()?.is_file() {
            restrict_existing(&entry.path(), FILE_MODE)?;
        }
    }
    Ok(())
}

fn restrict_existing(path: &Path, mode: u32) -> io::Result<()> {
    match restrict(path, mode) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

#[cfg(unix)]
fn restrict(path: &Path, mode: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let current = std::fs::metadata(path)?.permissions().mode() & 0o777;
    if current != mode {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
        tracing::info!(path = %path.display(), from = format!("{current:o}"), to = format!("{mode:o}"), "made private");
    }
    Ok(())
}

#[cfg(not(unix))]
fn restrict(_path: &Path, _mode: u32) -> io::Result<()> {
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn new_and_existing_files_end_up_private() {
        let dir = tempfile::tempdir().unwrap();
        let nested = dir.path().join("a/b");
        create_dir_all(&nested).unwrap();
        assert_eq!(mode(&nested), DIR_MODE);

        let loose = nested.join("loose");
        std::fs::write(&loose, b"x").unwrap();
        std::fs::set_permissions(&loose, std::fs::Permissions::from_mode(0o644)).unwrap();
        write(&loose, b"secret").unwrap();
        assert_eq!(mode(&loose), FILE_MODE, "rewriting fixes the mode");

        std::fs::set_permissions(&loose, std::fs::Permissions::from_mode(0o644)).unwrap();
        std::fs::set_permissions(&nested, std::fs::Permissions::from_mode(0o755)).unwrap();
        restrict_dir_and_files(&nested).unwrap();
        assert_eq!(mode(&nested), DIR_MODE);
        assert_eq!(mode(&loose), FILE_MODE);

        restrict_file(&nested.join("absent")).unwrap();
        restrict_dir_and_files(&dir.path().join("absent")).unwrap();
    }
}
