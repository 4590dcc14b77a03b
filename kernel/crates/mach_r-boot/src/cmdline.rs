//! Kernel command-line words: `flag` and `key=value`, separated by spaces.

/// Whether the command line contains the word `flag`.
pub fn has_flag(cmdline: &[u8], flag: &[u8]) -> bool {
    cmdline.split(|&c| c == b' ').any(|w| w == flag)
}

/// The value of the first `key=value` word, if any.
pub fn value<'a>(cmdline: &'a [u8], key: &[u8]) -> Option<&'a [u8]> {
    cmdline.split(|&c| c == b' ').find_map(|w| {
        let rest = w.strip_prefix(key)?;
        rest.strip_prefix(b"=")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_and_values() {
        let c = b"test  timer=pit only=hello";
        assert!(has_flag(c, b"test"));
        assert!(!has_flag(c, b"tes"));
        assert_eq!(value(c, b"timer"), Some(&b"pit"[..]));
        assert_eq!(value(c, b"only"), Some(&b"hello"[..]));
        assert_eq!(value(c, b"tim"), None);
        assert_eq!(value(b"", b"x"), None);
    }
}
