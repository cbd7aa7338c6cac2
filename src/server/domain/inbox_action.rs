//! What a user asks of their own inbox, parsed at the edge: a snooze's
//! time and the ids of a bulk archive.

use crate::model::AppError;

/// How far ahead a snooze may reach: past it, the "snooze" is a lost
/// notification, and the table of pending snoozes would only grow.
pub const MAX_SNOOZE_MS: i64 = 90 * 24 * 3600 * 1000;

/// The most ids one bulk archive takes (one request, one log entry, a
/// bounded turn).
pub const MAX_ARCHIVE_IDS: usize = 100;

/// A snooze's end: strictly in the future and at most [`MAX_SNOOZE_MS`]
/// ahead of `now_ms`, as Unix milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SnoozeUntil(i64);

impl SnoozeUntil {
    pub fn parse(raw: &str, now_ms: i64) -> Result<SnoozeUntil, AppError> {
        let at =
            time::OffsetDateTime::parse(raw.trim(), &time::format_description::well_known::Rfc3339)
                .map_err(|_| {
                    AppError::invalid(
                        "until",
                        "must be an RFC 3339 date and time like 2026-11-21T09:00:00+01:00",
                    )
                })?;
        let ms = i64::try_from(at.unix_timestamp_nanos() / 1_000_000)
            .map_err(|_| AppError::invalid("until", "is out of range"))?;
        if ms <= now_ms {
            return Err(AppError::invalid("until", "must be in the future"));
        }
        if ms - now_ms > MAX_SNOOZE_MS {
            return Err(AppError::invalid("until", "must be at most 90 days ahead"));
        }
        Ok(SnoozeUntil(ms))
    }

    pub fn ms(self) -> i64 {
        self.0
    }
}

/// The ids of a bulk archive: 1 to [`MAX_ARCHIVE_IDS`], duplicates dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveIds(Vec<i64>);

impl ArchiveIds {
    pub fn parse(mut ids: Vec<i64>) -> Result<ArchiveIds, AppError> {
        if ids.is_empty() {
            return Err(AppError::invalid(
                "ids",
                "must name at least one notification",
            ));
        }
        if ids.len() > MAX_ARCHIVE_IDS {
            return Err(AppError::invalid(
                "ids",
                format!("must name at most {MAX_ARCHIVE_IDS} notifications"),
            ));
        }
        ids.sort_unstable();
        ids.dedup();
        Ok(ArchiveIds(ids))
    }

    pub fn ids(&self) -> &[i64] {
        &self.0
    }

    pub fn into_ids(self) -> Vec<i64> {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000_000; // 2027-01-15T08:00:00Z

    #[test]
    fn a_snooze_is_in_the_future_and_within_ninety_days() {
        let hour = SnoozeUntil::parse("2027-01-15T09:00:00Z", NOW).unwrap();
        assert_eq!(hour.ms(), NOW + 3_600_000);
        // Offsets are honoured: 10:00+01:00 is 09:00Z.
        assert_eq!(
            SnoozeUntil::parse("2027-01-15T10:00:00+01:00", NOW).unwrap(),
            hour
        );
        for (raw, why) in [
            ("2027-01-15T08:00:00Z", "must be in the future"),
            ("2020-01-01T00:00:00Z", "must be in the future"),
            ("2027-05-01T00:00:00Z", "must be at most 90 days ahead"),
            ("tomorrow", "must be an RFC 3339"),
            ("2027-01-15 09:00", "must be an RFC 3339"),
            ("", "must be an RFC 3339"),
        ] {
            match SnoozeUntil::parse(raw, NOW) {
                Err(AppError::Invalid { field, message }) => {
                    assert_eq!(field, "until");
                    assert!(message.starts_with(why), "{raw}: {message}");
                }
                other => panic!("{raw}: {other:?}"),
            }
        }
    }

    #[test]
    fn bulk_ids_are_one_to_a_hundred_without_duplicates() {
        assert_eq!(ArchiveIds::parse(vec![3, 1, 3]).unwrap().ids(), [1, 3]);
        assert!(ArchiveIds::parse(vec![]).is_err());
        assert!(ArchiveIds::parse((0..100).collect()).is_ok());
        assert!(ArchiveIds::parse((0..101).collect()).is_err());
    }
}
