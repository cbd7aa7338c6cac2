//! The escalation email: what stayed unread, one digest per user and pass.
//!
//! The subject is fixed text and a number, so nothing a sender wrote can
//! reach a header; titles, bodies and links go into the body (lettre
//! encodes it), and into the HTML part escaped. Links that are not
//! `http(s)://` or site-relative are left out. No token or secret is in it:
//! the links lead to the sign-in like any other visit.

use lettre::message::{header::ContentType, Mailbox, MultiPart, SinglePart};

use crate::model::Severity;

use super::MailError;

/// At most this many characters of a body in the email.
const BODY_CHARS: usize = 600;

/// One notification as the email lists it.
#[derive(Debug, Clone)]
pub struct DigestItem {
    pub title: String,
    pub body: String,
    pub link: Option<String>,
    pub severity: Severity,
}

/// Who it goes to and where Herald is.
pub struct Recipient<'a> {
    pub user_id: i64,
    pub username: &'a str,
    pub email: &'a str,
}

/// The subject: fixed words and the count.
pub fn subject(count: usize) -> String {
    match count {
        1 => "1 unread notification on Herald".to_string(),
        n => format!("{n} unread notifications on Herald"),
    }
}

/// The message for `items` (non-empty). `key` names the digest (the
/// positions it claimed): the same on every retry, so the `Message-ID`
/// is too and a receiving system can tell a resend.
pub fn message(
    from: &Mailbox,
    to: &Recipient<'_>,
    items: &[DigestItem],
    public_url: &str,
    key: (i64, i64),
) -> Result<lettre::Message, MailError> {
    let to_box: Mailbox = to.email.parse().map_err(|_| MailError::Address)?;
    let id = format!(
        "<herald-escalation.{}.{}.{}@{}>",
        to.user_id,
        key.0,
        key.1,
        from.email.domain()
    );
    let text = plain(to.username, items, public_url);
    let html = html(to.username, items, public_url);
    lettre::Message::builder()
        .from(from.clone())
        .to(to_box)
        .subject(subject(items.len()))
        .message_id(Some(id))
        .multipart(
            MultiPart::alternative()
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_PLAIN)
                        .body(text),
                )
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_HTML)
                        .body(html),
                ),
        )
        .map_err(|e| MailError::Build(e.to_string()))
}

/// A link the email may carry, absolute: `http(s)://…` as is, `/path`
/// under the public URL; anything else is left out.
fn absolute(link: &str, public_url: &str) -> Option<String> {
    if link.starts_with("https://") || link.starts_with("http://") {
        Some(link.to_string())
    } else if link.starts_with('/') && !link.starts_with("//") {
        Some(format!("{public_url}{link}"))
    } else {
        None
    }
}

fn clipped(body: &str) -> String {
    let mut out: String = body.chars().take(BODY_CHARS).collect();
    if body.chars().count() > BODY_CHARS {
        out.push('…');
    }
    out
}

fn tag(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "[critical] ",
        Severity::Warning => "[warning] ",
        Severity::Info => "",
    }
}

pub fn plain(username: &str, items: &[DigestItem], public_url: &str) -> String {
    let mut out = format!(
        "Hello {username},\n\n{} while you were away:\n\n",
        subject(items.len())
    );
    for (n, item) in items.iter().enumerate() {
        out.push_str(&format!(
            "{}. {}{}\n",
            n + 1,
            tag(item.severity),
            item.title
        ));
        for line in clipped(&item.body).lines() {
            out.push_str(&format!("   {line}\n"));
        }
        if let Some(link) = item.link.as_deref().and_then(|l| absolute(l, public_url)) {
            out.push_str(&format!("   {link}\n"));
        }
        out.push('\n');
    }
    // Short lines: plain ASCII text then goes out as it is (7bit).
    out.push_str(&format!(
        "Your inbox: {public_url}/\n\nYou get this email because these stayed unread.\n\
         Turn it off or change the delay:\n{public_url}/preferences\n"
    ));
    out
}

/// Text for HTML: `& < > " '` escaped (the `html-escape` crate, already in
/// the tree through Leptos), so a title cannot open a tag or leave an
/// attribute.
pub fn escape(text: &str) -> String {
    html_escape::encode_quoted_attribute(text).into_owned()
}

pub fn html(username: &str, items: &[DigestItem], public_url: &str) -> String {
    let base = escape(public_url);
    let mut out = format!(
        "<!doctype html><html><body><p>Hello {},</p><p>{} while you were away:</p><ol>",
        escape(username),
        escape(&subject(items.len()))
    );
    for item in items {
        out.push_str(&format!(
            "<li><p><strong>{}{}</strong></p><p>{}</p>",
            escape(tag(item.severity)),
            escape(&item.title),
            escape(&clipped(&item.body)).replace('\n', "<br>")
        ));
        if let Some(link) = item.link.as_deref().and_then(|l| absolute(l, public_url)) {
            out.push_str(&format!("<p><a href=\"{0}\">{0}</a></p>", escape(&link)));
        }
        out.push_str("</li>");
    }
    out.push_str(&format!(
        "</ol><p><a href=\"{base}/\">Open your inbox</a></p>\
         <p>You get this email because these stayed unread. \
         <a href=\"{base}/preferences\">Turn it off or change the delay</a>.</p></body></html>"
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(title: &str, body: &str, link: Option<&str>) -> DigestItem {
        DigestItem {
            title: title.into(),
            body: body.into(),
            link: link.map(str::to_string),
            severity: Severity::Info,
        }
    }

    #[test]
    fn the_subject_is_fixed_words_and_a_count() {
        assert_eq!(subject(1), "1 unread notification on Herald");
        assert_eq!(subject(3), "3 unread notifications on Herald");
    }

    #[test]
    fn a_hostile_title_stays_in_the_body_and_is_escaped_in_html() {
        let from: Mailbox = "Herald <herald@example.com>".parse().unwrap();
        let to = Recipient {
            user_id: 7,
            username: "erin",
            email: "erin@example.com",
        };
        let evil = "Hi\r\nBcc: victim@example.com\r\n<script>alert(1)</script>";
        let items = [item(
            evil,
            "a \"quoted\" <b>body</b>",
            Some("javascript:alert(1)"),
        )];
        let message = message(&from, &to, &items, "https://herald.example", (5, 5)).unwrap();
        let raw = String::from_utf8(message.formatted()).unwrap();
        let (headers, _) = raw.split_once("\r\n\r\n").unwrap();
        assert!(!headers.contains("victim"), "{headers}");
        assert!(
            headers.contains("Subject: 1 unread notification on Herald"),
            "{headers}"
        );
        assert!(
            headers.contains("<herald-escalation.7.5.5@example.com>"),
            "{headers}"
        );
        let html = html("erin", &items, "https://herald.example");
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
        assert!(!html.contains("javascript:"), "{html}");
        assert!(!plain("erin", &items, "https://herald.example").contains("javascript:"));
    }

    #[test]
    fn links_are_absolute_or_left_out() {
        let base = "https://h.example";
        assert_eq!(
            absolute("/deploys/1", base).as_deref(),
            Some("https://h.example/deploys/1")
        );
        assert_eq!(
            absolute("https://x.example/a", base).as_deref(),
            Some("https://x.example/a")
        );
        assert_eq!(absolute("//evil.example", base), None);
        assert_eq!(absolute("data:text/html,x", base), None);
        let text = plain("erin", &[item("t", "b", Some("/a"))], base);
        assert!(text.contains("https://h.example/a"), "{text}");
        assert!(text.contains("Your inbox: https://h.example/"), "{text}");
    }
}
