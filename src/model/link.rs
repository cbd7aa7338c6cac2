//! The link rule: which notification links may be stored and opened. One
//! rule for both ends: the server refuses any other link when an
//! announcement is parsed (`domain::announcement`), and the inbox checks
//! again before it renders an `href`, because a `javascript:` link would run
//! in the user's session, and a stored row (an older version, a hand-edited
//! database) should not be able to.

/// Only http(s) URLs and same-origin paths. Browsers read `//host`,
/// `/\host` and `\\host` as "another host, same scheme", so a path must
/// start with exactly one `/`, and no backslash or control character is
/// allowed anywhere (URL parsing turns `\` into `/` and drops tabs and
/// newlines).
pub fn link_opens(link: &str) -> bool {
    let absolute = link.starts_with("https://") || link.starts_with("http://");
    let same_origin = link.starts_with('/') && !link.starts_with("//");
    let smuggles = link.contains('\\') || link.chars().any(char::is_control);
    (absolute || same_origin) && !smuggles
}

#[cfg(test)]
mod tests {
    use super::link_opens;

    #[test]
    fn scripts_data_and_other_hosts_in_disguise_do_not_open() {
        for bad in [
            "javascript:alert(1)",
            "JavaScript:alert(1)",
            " javascript:alert(1)",
            "vbscript:msgbox(1)",
            "data:text/html,<script>alert(1)</script>",
            "//evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "\\/evil.example",
            "/ok\\..\\x",
            "https:\\\\evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "evil.example/path",
            "HTTPS://example.com",
            "",
        ] {
            assert!(!link_opens(bad), "{bad:?} would open");
        }
    }

    #[test]
    fn web_links_and_paths_open() {
        for good in [
            "/changelog",
            "/inbox?x=1#top",
            "https://example.com/a",
            "http://example.com",
        ] {
            assert!(link_opens(good), "{good:?} was refused");
        }
    }
}
