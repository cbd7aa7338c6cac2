//! Just enough HTTP/1.1 and `text/event-stream` parsing for the load
//! generator. Subscribers use this instead of an HTTP client library so that
//! ten thousand of them stay cheap: one read buffer, one event buffer, no
//! per-event allocation.

use std::{borrow::Cow, fmt};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireError(pub String);

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for WireError {}

fn err(msg: impl Into<String>) -> WireError {
    WireError(msg.into())
}

/// The parts of a response head the load generator cares about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseHead {
    pub status: u16,
    pub chunked: bool,
    pub content_length: Option<usize>,
    /// Bytes of the head, including the blank line that ends it.
    pub len: usize,
}

/// Parses a response head from the start of `buf`; `Ok(None)` while it is
/// still incomplete.
pub fn parse_head(buf: &[u8]) -> Result<Option<ResponseHead>, WireError> {
    let Some(end) = find(buf, b"\r\n\r\n") else {
        if buf.len() > 16 * 1024 {
            return Err(err("response head larger than 16 KiB"));
        }
        return Ok(None);
    };
    let text = std::str::from_utf8(&buf[..end]).map_err(|_| err("response head is not UTF-8"))?;
    let mut lines = text.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or_default();
    if !version.starts_with("HTTP/1.") {
        return Err(err(format!("not an HTTP/1.x status line: {status_line:?}")));
    }
    let status = parts
        .next()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| err(format!("bad status line: {status_line:?}")))?;
    let mut chunked = false;
    let mut content_length = None;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value
                .rsplit(',')
                .next()
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("chunked"));
        } else if name.eq_ignore_ascii_case("content-length") {
            content_length = Some(
                value
                    .parse()
                    .map_err(|_| err(format!("bad content-length {value:?}")))?,
            );
        }
    }
    Ok(Some(ResponseHead {
        status,
        chunked,
        content_length,
        len: end + 4,
    }))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ChunkState {
    Size,
    Data(usize),
    DataEnd,
    /// After the zero-size chunk: trailer lines up to a blank line.
    Trailer,
    Done,
}

/// Incremental decoder for a `Transfer-Encoding: chunked` body: feed it
/// whatever arrived, it appends the payload to `out` and says how much of
/// the input it used (the rest is an incomplete size line or chunk end,
/// to be offered again with more bytes).
#[derive(Debug, Clone)]
pub struct Dechunker {
    state: ChunkState,
}

impl Default for Dechunker {
    fn default() -> Self {
        Dechunker {
            state: ChunkState::Size,
        }
    }
}

impl Dechunker {
    pub fn decode(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<usize, WireError> {
        let mut pos = 0;
        loop {
            let rest = &input[pos..];
            match self.state {
                ChunkState::Done => return Ok(pos),
                ChunkState::Size => {
                    let Some(eol) = find(rest, b"\r\n") else {
                        if rest.len() > 1024 {
                            return Err(err("chunk size line too long"));
                        }
                        return Ok(pos);
                    };
                    let line = std::str::from_utf8(&rest[..eol])
                        .map_err(|_| err("chunk size is not UTF-8"))?;
                    // Chunk extensions (`;name=value`) are allowed and ignored.
                    let hex = line.split(';').next().unwrap_or_default().trim();
                    let size = usize::from_str_radix(hex, 16)
                        .map_err(|_| err(format!("bad chunk size {line:?}")))?;
                    pos += eol + 2;
                    // A zero chunk ends the body; trailers are skipped.
                    self.state = if size == 0 {
                        ChunkState::Trailer
                    } else {
                        ChunkState::Data(size)
                    };
                }
                ChunkState::Data(left) => {
                    if rest.is_empty() {
                        return Ok(pos);
                    }
                    let take = left.min(rest.len());
                    out.extend_from_slice(&rest[..take]);
                    pos += take;
                    self.state = if take == left {
                        ChunkState::DataEnd
                    } else {
                        ChunkState::Data(left - take)
                    };
                }
                ChunkState::Trailer => {
                    let Some(eol) = find(rest, b"\r\n") else {
                        return Ok(pos);
                    };
                    pos += eol + 2;
                    if eol == 0 {
                        self.state = ChunkState::Done;
                    }
                }
                ChunkState::DataEnd => {
                    if rest.len() < 2 {
                        return Ok(pos);
                    }
                    if &rest[..2] != b"\r\n" {
                        return Err(err("chunk not followed by CRLF"));
                    }
                    pos += 2;
                    self.state = ChunkState::Size;
                }
            }
        }
    }

    /// True once the whole body, trailers included, was read.
    pub fn is_done(&self) -> bool {
        self.state == ChunkState::Done
    }
}

/// One dispatched SSE event. `event` is empty for a block that had no
/// `event:` field (e.g. a keep-alive comment); `data` borrows from the
/// buffer unless the event had several `data:` lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent<'a> {
    pub event: &'a str,
    pub id: Option<&'a str>,
    pub data: Cow<'a, str>,
}

/// Finds the first complete event block in `buf`. Returns the block (without
/// its terminating blank line) and how many bytes it used, blank line included.
pub fn next_block(buf: &[u8]) -> Option<(&[u8], usize)> {
    let mut start = 0;
    while let Some(nl) = buf[start..].iter().position(|&b| b == b'\n') {
        let line = &buf[start..start + nl];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            let block = &buf[..start];
            let block = block.strip_suffix(b"\n").unwrap_or(block);
            let block = block.strip_suffix(b"\r").unwrap_or(block);
            return Some((block, start + nl + 1));
        }
        start += nl + 1;
    }
    None
}

/// Splits an event block into its fields (as the SSE spec reads them: one
/// optional space after the colon, comments and unknown fields ignored).
pub fn parse_event(block: &[u8]) -> SseEvent<'_> {
    let mut event = "";
    let mut id = None;
    let mut data: Option<Cow<'_, str>> = None;
    for line in block.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let Ok(line) = std::str::from_utf8(line) else {
            continue;
        };
        if line.is_empty() || line.starts_with(':') {
            continue;
        }
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "event" => event = value,
            "id" => id = Some(value),
            "data" => {
                data = Some(match data {
                    None => Cow::Borrowed(value),
                    Some(prev) => Cow::Owned(format!("{prev}\n{value}")),
                })
            }
            _ => {}
        }
    }
    SseEvent {
        event,
        id,
        data: data.unwrap_or(Cow::Borrowed("")),
    }
}

/// What the load generator reads from a notification's `data:`: the index of
/// its `"bench N"` title, and the log channel and offset when the server
/// sends them (`"ch":"all","off":17`). Each is looked for at the top level of
/// the object first, then inside `"notification"`, so both the flattened
/// frames of today's server and the nested ones of the event log parse.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BenchFrame<'a> {
    pub index: Option<usize>,
    pub ch: Option<Cow<'a, str>>,
    pub off: Option<u64>,
}

#[derive(serde::Deserialize, Default)]
struct InnerFields<'a> {
    #[serde(borrow, default)]
    title: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    ch: Option<Cow<'a, str>>,
    #[serde(default)]
    off: Option<u64>,
}

#[derive(serde::Deserialize)]
struct FrameData<'a> {
    #[serde(borrow, default)]
    title: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    ch: Option<Cow<'a, str>>,
    #[serde(default)]
    off: Option<u64>,
    #[serde(borrow, default)]
    notification: Option<InnerFields<'a>>,
}

/// Parses a notification's `data:`; `None` when it is not a JSON object.
/// Borrowed: no allocation unless a string has escapes.
pub fn bench_frame(data: &str) -> Option<BenchFrame<'_>> {
    let d: FrameData<'_> = serde_json::from_str(data).ok()?;
    let inner = d.notification.unwrap_or_default();
    let title = d.title.or(inner.title);
    Some(BenchFrame {
        index: title.and_then(|t| t.strip_prefix("bench ")?.trim().parse().ok()),
        ch: d.ch.or(inner.ch),
        off: d.off.or(inner.off),
    })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn head_is_parsed_once_complete() {
        let raw = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\nabc";
        assert_eq!(parse_head(&raw[..20]).unwrap(), None);
        let head = parse_head(raw).unwrap().unwrap();
        assert_eq!(head.status, 200);
        assert!(head.chunked);
        assert_eq!(head.content_length, None);
        assert_eq!(&raw[head.len..], b"abc");

        let head = parse_head(b"HTTP/1.1 401 Unauthorized\r\ncontent-length: 12\r\n\r\n")
            .unwrap()
            .unwrap();
        assert_eq!(head.status, 401);
        assert!(!head.chunked);
        assert_eq!(head.content_length, Some(12));
        assert!(parse_head(b"SSH-2.0-x\r\n\r\n").is_err());
    }

    #[test]
    fn chunks_decode_across_any_split() {
        let body = b"5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\n\r\n";
        // Every way of cutting the input in two gives the same payload.
        for cut in 0..body.len() {
            let mut d = Dechunker::default();
            let mut out = Vec::new();
            let mut pending = body[..cut].to_vec();
            let used = d.decode(&pending, &mut out).unwrap();
            pending.drain(..used);
            pending.extend_from_slice(&body[cut..]);
            let used = d.decode(&pending, &mut out).unwrap();
            assert_eq!(used, pending.len(), "cut at {cut}");
            assert_eq!(out, b"hello, world", "cut at {cut}");
            assert!(d.is_done());
        }
        assert!(Dechunker::default()
            .decode(b"zz\r\n", &mut Vec::new())
            .is_err());
    }

    #[test]
    fn blocks_split_on_blank_lines() {
        let buf =
            b"retry: 3000\nevent: connected\ndata: {}\n\nevent: ping\r\ndata: x\r\n\r\nevent: part";
        let (block, used) = next_block(buf).unwrap();
        assert_eq!(block, b"retry: 3000\nevent: connected\ndata: {}");
        let ev = parse_event(block);
        assert_eq!(ev.event, "connected");
        assert_eq!(ev.data, "{}");
        let rest = &buf[used..];
        let (block, used) = next_block(rest).unwrap();
        let ev = parse_event(block);
        assert_eq!(ev.event, "ping");
        assert_eq!(ev.data, "x");
        assert_eq!(next_block(&rest[used..]), None);
    }

    #[test]
    fn fields_follow_the_spec() {
        let ev = parse_event(b": comment\nevent:notification\nid: 17\ndata: a\ndata:b\nretry: 1");
        assert_eq!(ev.event, "notification");
        assert_eq!(ev.id, Some("17"));
        assert_eq!(ev.data, "a\nb");
        // A keep-alive comment is a block with no event name and no data.
        let ev = parse_event(b":");
        assert_eq!(ev.event, "");
        assert_eq!(ev.data, "");
    }

    #[test]
    fn bench_frames_parse_flat_or_nested() {
        let flat = r#"{"id":3,"seq":3,"title":"bench 7","body":"","unread":2}"#;
        assert_eq!(
            bench_frame(flat),
            Some(BenchFrame {
                index: Some(7),
                ch: None,
                off: None
            })
        );
        let nested = r#"{"notification":{"id":40,"seq":40,"title":"bench 12"},"ch":"all","off":17,"unread":3}"#;
        assert_eq!(
            bench_frame(nested),
            Some(BenchFrame {
                index: Some(12),
                ch: Some("all".into()),
                off: Some(17)
            })
        );
        let inside = r#"{"notification":{"title":"bench 1","ch":"all","off":2},"unread":1}"#;
        assert_eq!(bench_frame(inside).unwrap().off, Some(2));
        assert_eq!(bench_frame(r#"{"title":"hello"}"#).unwrap().index, None);
        assert_eq!(bench_frame("not json"), None);
    }
}
