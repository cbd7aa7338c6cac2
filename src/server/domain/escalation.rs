//! An escalation setting (a category's or a user's), checked at the edge:
//! a delay, when given, lies between the server's floor
//! (`HERALD_ESCALATE_MIN_SECS`, 60 s unless lowered for tests) and a week.

use crate::model::{category::ESCALATE_AFTER_MAX_SECS, AppError, Escalation};

/// The setting as given, or a 400 naming `field.after_secs`.
pub fn parse_escalation(
    field: &str,
    wanted: Escalation,
    min_secs: u32,
) -> Result<Escalation, AppError> {
    if let Some(after) = wanted.after_secs {
        if !(min_secs..=ESCALATE_AFTER_MAX_SECS).contains(&after) {
            return Err(AppError::invalid(
                &format!("{field}.after_secs"),
                format!("must be {min_secs} to {ESCALATE_AFTER_MAX_SECS} seconds"),
            ));
        }
    }
    Ok(wanted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_are_bounded_and_named() {
        let with = |after_secs| Escalation {
            enabled: true,
            after_secs,
        };
        assert!(parse_escalation("escalation", with(None), 60).is_ok());
        assert!(parse_escalation("escalation", with(Some(60)), 60).is_ok());
        assert!(parse_escalation("escalation", with(Some(604_800)), 60).is_ok());
        for bad in [0, 59, 604_801, u32::MAX] {
            assert_eq!(
                parse_escalation("escalation", with(Some(bad)), 60).unwrap_err(),
                AppError::invalid("escalation.after_secs", "must be 60 to 604800 seconds")
            );
        }
        assert!(parse_escalation("escalation", with(Some(2)), 1).is_ok());
    }
}
