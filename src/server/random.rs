//! Random identifiers — session ids, task ids, device ids, instance labels,
//! a generated signing secret: `N` bytes from the operating system's
//! generator, hex-encoded. One place, so every id has the same alphabet
//! (which `export::is_task_id` and the device cookie's parser rely on).

/// `bytes` random bytes as `2 × bytes` lowercase hex digits.
pub fn hex_id(bytes: usize) -> Result<String, getrandom::Error> {
    let mut raw = vec![0u8; bytes];
    getrandom::getrandom(&mut raw)?;
    Ok(hex::encode(raw))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_lowercase_hex_of_the_asked_length_and_differ() {
        let a = hex_id(16).unwrap();
        let b = hex_id(16).unwrap();
        assert_eq!(a.len(), 32);
        assert!(a
            .bytes()
            .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c)));
        assert_ne!(a, b);
    }
}
