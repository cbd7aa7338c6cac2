//! What a push message says: how many notifications stayed unread and the
//! newest one's title, body and link, as small JSON the service worker
//! (`/sw.js`) shows. Kept under [`MAX_BYTES`] whatever the titles hold.

use serde::Serialize;

/// Well under one message's 4096 bytes (with the encryption's 103).
pub const MAX_BYTES: usize = 3000;

#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct Payload {
    /// Notifications in this digest.
    pub count: usize,
    pub title: String,
    pub body: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
}

/// The JSON bytes for `count` notifications, the newest being
/// `title`/`body`/`link`. Long text is cut (by characters, with `…`); a
/// link that does not fit is left out rather than cut.
pub fn encode(count: usize, title: &str, body: &str, link: Option<&str>) -> Vec<u8> {
    let mut payload = Payload {
        count,
        title: cut(title, 200),
        body: cut(body, 1000),
        link: link.filter(|l| l.len() <= 1000).map(str::to_string),
    };
    loop {
        let bytes = serde_json::to_vec(&payload).expect("plain strings serialize");
        if bytes.len() <= MAX_BYTES {
            return bytes;
        }
        // Only escapes (`\u0001` is six bytes) get here: shrink and retry.
        if payload.link.take().is_none() {
            let keep = payload.body.chars().count() / 2;
            payload.body = cut(&payload.body, keep);
            if keep == 0 {
                payload.title = cut(&payload.title, payload.title.chars().count() / 2);
            }
        }
    }
}

fn cut(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max_chars.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_payloads_are_whole_and_large_ones_fit() {
        let p = encode(2, "Disk", "db-1 at 91%", Some("/status"));
        assert_eq!(
            String::from_utf8(p).unwrap(),
            r#"{"count":2,"title":"Disk","body":"db-1 at 91%","link":"/status"}"#
        );
        let control = "\u{1}".repeat(5000);
        for (title, body) in [(&control, &control), (&"t".repeat(9000), &"é".repeat(9000))] {
            let p = encode(1, title, body, Some(&"l".repeat(900)));
            assert!(p.len() <= MAX_BYTES, "{}", p.len());
            serde_json::from_slice::<serde_json::Value>(&p).unwrap();
        }
    }
}
