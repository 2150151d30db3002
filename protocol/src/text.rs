//! Reading the text files floorctl is given (site files, maps, password files, order books)
//! with a bound on their size, so a path to something without end (`/dev/zero`, a pipe) is
//! an error and not a read until memory runs out.

use std::io::Read as _;
use std::path::Path;

/// Largest site file, map, pick area or password file read: far above any real one.
pub const MAX_CONFIG_BYTES: u64 = 16 << 20;

/// Largest order book read at start.
pub const MAX_ORDERS_BYTES: u64 = 512 << 20;

/// The file at `path` as text, refused when it is larger than `limit` bytes.
pub fn read_text(path: &Path, limit: u64) -> std::io::Result<String> {
    let file = std::fs::File::open(path)?;
    let mut text = String::new();
    file.take(limit + 1).read_to_string(&mut text)?;
    if text.len() as u64 > limit {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "larger than {} MiB, more than such a file ever holds",
                limit >> 20
            ),
        ));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_over_the_limit_is_refused_and_one_within_it_read_whole() {
        let dir = std::env::temp_dir().join(format!("floorctl-text-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("f.txt");
        std::fs::write(&path, vec![b'a'; (2 << 20) + 1]).unwrap();
        let err = read_text(&path, 2 << 20).unwrap_err();
        assert!(err.to_string().contains("larger than 2 MiB"), "{err}");
        assert_eq!(read_text(&path, 3 << 20).unwrap().len(), (2 << 20) + 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
