//! The custom event names the streams have been told about (issue 19).
//!
//! A browser's `EventSource` hears only the names it listens to, and there
//! is no wildcard: a notification sent as `deploy.done` to a page that does
//! not listen for it is never dispatched. So the server tells the page the
//! names: every `connected` lists the names known here, and the first time
//! this hub applies a notification under a name it does not know, the
//! notification's streams get an `event.names` frame just before it. The
//! page adds a listener while handling that frame, before the next frame
//! is dispatched (each SSE event is dispatched in a task of its own, and
//! listeners are looked up at dispatch).
//!
//! Bounded: at most [`MAX_KNOWN`] names are remembered (and listed in
//! `connected`); a name past the cap is announced before each of its
//! notifications instead, one small frame more per notification. A replay
//! under such a name can then reach a page without its listener: the
//! page's gap check sees the missing offset and refetches, as before.

use std::collections::HashSet;

use crate::model::EventName;

pub const MAX_KNOWN: usize = 128;

#[derive(Debug, Default)]
pub struct KnownNames {
    names: Vec<EventName>,
    set: HashSet<EventName>,
}

impl KnownNames {
    /// Whether the streams must be told about `name` before a frame under
    /// it: a custom name not remembered yet (now remembered, if room).
    pub fn learn(&mut self, name: &EventName) -> bool {
        if !is_custom(name) || self.set.contains(name) {
            return false;
        }
        if self.names.len() < MAX_KNOWN {
            self.set.insert(name.clone());
            self.names.push(name.clone());
        }
        true
    }

    pub fn list(&self) -> Vec<String> {
        self.names.iter().map(|n| n.as_str().to_string()).collect()
    }
}

/// A name the browser does not listen to by default.
fn is_custom(name: &EventName) -> bool {
    *name != EventName::NOTIFICATION
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_custom_name_is_told_once_and_the_list_is_capped() {
        let mut known = KnownNames::default();
        let deploy = EventName::parse("deploy.done").unwrap();
        assert!(known.learn(&deploy));
        assert!(!known.learn(&deploy));
        assert!(!known.learn(&EventName::NOTIFICATION));
        for n in 1..MAX_KNOWN {
            assert!(known.learn(&EventName::parse(&format!("e{n}")).unwrap()));
        }
        let past = EventName::parse("one.too.many").unwrap();
        assert!(known.learn(&past));
        assert!(known.learn(&past), "past the cap: told every time");
        assert_eq!(known.list().len(), MAX_KNOWN);
        assert_eq!(known.list()[0], "deploy.done");
    }
}
