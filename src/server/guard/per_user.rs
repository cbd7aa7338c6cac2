//! A cap on concurrent jobs per user (exports today): a slot is claimed
//! before the job starts and given back when its guard drops, whatever way
//! the job ends. Memory: one map entry per user with a job running.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

#[derive(Debug)]
pub struct PerUserSlots {
    max: usize,
    running: Mutex<HashMap<i64, usize>>,
}

/// One running job; its place is given back when dropped.
pub struct Slot {
    slots: Arc<PerUserSlots>,
    user_id: i64,
}

impl PerUserSlots {
    pub fn new(max: usize) -> PerUserSlots {
        PerUserSlots {
            max,
            running: Mutex::default(),
        }
    }

    pub fn max(&self) -> usize {
        self.max
    }

    /// A slot for `user_id`, or `None` when they already run `max` jobs.
    pub fn claim(self: &Arc<Self>, user_id: i64) -> Option<Slot> {
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        let count = running.entry(user_id).or_default();
        if *count >= self.max {
            return None;
        }
        *count += 1;
        Some(Slot {
            slots: self.clone(),
            user_id,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut running = self.slots.running.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = running.get_mut(&self.user_id) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                running.remove(&self.user_id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_user_has_a_bounded_number_of_running_jobs() {
        let slots = Arc::new(PerUserSlots::new(2));
        let first = slots.claim(1).expect("first");
        let _second = slots.claim(1).expect("second");
        assert!(slots.claim(1).is_none(), "a third must wait");
        assert!(slots.claim(2).is_some(), "other users are not affected");
        drop(first);
        assert!(slots.claim(1).is_some(), "a finished one frees its place");
        assert!(
            slots.running.lock().unwrap().get(&2).is_none(),
            "an idle user holds no entry"
        );
    }
}
