//! What changed in the inbox since the server rendered it. Pure data, so the
//! merge rules (no duplicates, read and archived state) are unit-tested.

use std::collections::HashSet;

use crate::model::{NotificationView, ReadEvent};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overlay {
    /// Received live, newest first.
    arrived: Vec<NotificationView>,
    read_ids: HashSet<i64>,
    read_up_to: i64,
    /// Categories read up to a position ("mark this category read").
    read_categories: Vec<(String, i64)>,
    archived: HashSet<i64>,
    /// Archive-read: what was read when it came (in log order, so exactly
    /// the server's "read" at that position) is gone; a later read is not.
    swept: Option<Swept>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Swept {
    read_ids: HashSet<i64>,
    read_up_to: i64,
}

impl Swept {
    /// `n.read` as rendered or as it arrived: read before the sweep.
    fn took(&self, n: &NotificationView) -> bool {
        n.read || self.read_ids.contains(&n.id) || n.position <= self.read_up_to
    }
}

impl Overlay {
    /// Adds a live notification; false if it already arrived (a replay after
    /// reconnecting), so callers announce each one once. Copies of rendered
    /// items are dropped by [`Self::merge`].
    pub fn add(&mut self, n: NotificationView) -> bool {
        if self.arrived.iter().any(|x| x.id == n.id) {
            return false;
        }
        let at = self
            .arrived
            .iter()
            .position(|x| x.position < n.position)
            .unwrap_or(self.arrived.len());
        self.arrived.insert(at, n);
        true
    }

    pub fn apply_read(&mut self, event: &ReadEvent) {
        self.read_ids.extend(&event.ids);
        match (event.up_to_position, &event.category) {
            (Some(up_to), None) => self.read_up_to = self.read_up_to.max(up_to),
            (Some(up_to), Some(category)) => {
                self.read_categories.push((category.clone(), up_to));
            }
            (None, _) => {}
        }
        if event.archived {
            self.archived.extend(&event.ids);
        }
        if let Some(up_to) = event.archived_read_up_to {
            let swept = self.swept.get_or_insert_with(Swept::default);
            swept.read_ids.extend(&self.read_ids);
            swept.read_up_to = swept.read_up_to.max(self.read_up_to).max(up_to);
        }
    }

    /// The list to show: arrivals on top of the rendered page, newest first,
    /// without repeats or archived ones, with read state applied.
    pub fn merge(&self, rendered: &[NotificationView], limit: usize) -> Vec<NotificationView> {
        self.merge_where(rendered, limit, |_| true)
    }

    /// [`Self::merge`] of the notifications `keep` takes (a category's
    /// tab): filtered before the limit, so arrivals of other categories
    /// never push the tab's own off the list.
    pub fn merge_where(
        &self,
        rendered: &[NotificationView],
        limit: usize,
        keep: impl Fn(&NotificationView) -> bool,
    ) -> Vec<NotificationView> {
        let mut seen = HashSet::new();
        self.arrived
            .iter()
            .chain(rendered)
            .filter(|n| {
                keep(n)
                    && !self.archived.contains(&n.id)
                    && !self.swept.as_ref().is_some_and(|s| s.took(n))
                    && seen.insert(n.id)
            })
            .take(limit)
            .map(|n| {
                let mut n = n.clone();
                n.read |= self.read_ids.contains(&n.id)
                    || n.position <= self.read_up_to
                    || self.read_categories.iter().any(|(c, up_to)| {
                        n.category.as_deref() == Some(c.as_str()) && n.position <= *up_to
                    });
                n
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{model::Severity, ui::inbox::tests::view};

    fn n(id: i64, position: i64) -> NotificationView {
        view(id, position, Severity::Info)
    }

    fn ids(list: &[NotificationView]) -> Vec<i64> {
        list.iter().map(|n| n.id).collect()
    }

    #[test]
    fn arrivals_go_on_top_once() {
        let rendered = vec![n(2, 2), n(1, 1)];
        let mut o = Overlay::default();
        assert!(o.add(n(3, 3)));
        assert!(!o.add(n(3, 3)), "replayed after a reconnect");
        assert!(o.add(n(5, 5)));
        assert!(o.add(n(4, 4)), "out of order still sorts by position");
        o.add(n(2, 2));
        assert_eq!(
            ids(&o.merge(&rendered, 10)),
            [5, 4, 3, 2, 1],
            "rendered ones once"
        );
        assert_eq!(ids(&o.merge(&rendered, 2)), [5, 4]);
    }

    #[test]
    fn a_tab_keeps_its_own_arrivals_and_a_full_page_under_others() {
        let in_tab = |n: &NotificationView| n.category.as_deref() == Some("deploys");
        let deploy = |id, position| NotificationView {
            category: Some("deploys".into()),
            ..n(id, position)
        };
        // The server's page of the tab: two of its category.
        let rendered = vec![deploy(2, 2), deploy(1, 1)];
        let mut o = Overlay::default();
        o.add(n(3, 3));
        o.add(n(4, 4));
        o.add(deploy(5, 5));
        assert_eq!(ids(&o.merge_where(&rendered, 3, in_tab)), [5, 2, 1]);
        assert_eq!(ids(&o.merge_where(&rendered, 2, in_tab)), [5, 2]);
        assert_eq!(ids(&o.merge(&rendered, 3)), [5, 4, 3]);
    }

    #[test]
    fn read_and_archived_state_applies_to_both_sources() {
        let rendered = vec![n(2, 2), n(1, 1)];
        let mut o = Overlay::default();
        o.add(n(3, 3));
        o.apply_read(&ReadEvent {
            category: None,
            unread_by_category: Default::default(),
            ids: vec![3],
            up_to_position: None,
            archived: false,
            archived_read_up_to: None,
            unread: 2,
        });
        let list = o.merge(&rendered, 10);
        assert_eq!(
            list.iter().map(|n| n.read).collect::<Vec<_>>(),
            [true, false, false]
        );

        o.apply_read(&ReadEvent {
            category: None,
            unread_by_category: Default::default(),
            ids: vec![],
            up_to_position: Some(2),
            archived: false,
            archived_read_up_to: None,
            unread: 0,
        });
        assert!(o.merge(&rendered, 10).iter().all(|n| n.read));

        o.apply_read(&ReadEvent {
            category: None,
            unread_by_category: Default::default(),
            ids: vec![2],
            up_to_position: None,
            archived: true,
            archived_read_up_to: None,
            unread: 0,
        });
        assert_eq!(ids(&o.merge(&rendered, 10)), [3, 1]);
    }

    #[test]
    fn archive_read_takes_what_was_read_then_and_nothing_read_later() {
        let mut rendered = vec![n(4, 4), n(3, 3), n(2, 2), n(1, 1)];
        rendered[3].read = true; // read when the page was rendered
        let mut o = Overlay::default();
        o.add(n(5, 5));
        o.apply_read(&ReadEvent::ids(vec![3], 3));
        o.apply_read(&ReadEvent::archived_read(0, 3));
        assert_eq!(ids(&o.merge(&rendered, 10)), [5, 4, 2]);
        // Read after the sweep: shown, as read.
        o.apply_read(&ReadEvent::ids(vec![4], 2));
        let list = o.merge(&rendered, 10);
        assert_eq!(ids(&list), [5, 4, 2]);
        assert!(list[1].read);
        // Everything under the server's watermark went too.
        o.apply_read(&ReadEvent::archived_read(2, 2));
        assert_eq!(ids(&o.merge(&rendered, 10)), [5]);
    }
}
