//! Domain types: input parsed once, at the edge (the JSON route, the server
//! function), into values that cannot be invalid; the use cases take these
//! and never validate a field themselves. Pure: no store, no clock of their
//! own, no I/O, so every rule is a plain unit test.

pub mod announcement;
pub mod escalation;
pub mod inbox_action;
pub mod push;

use crate::model::AppError;

/// The one "at most `max` characters" rule, counted as a person counts them
/// (characters, not bytes), with the message every form and route shows.
pub fn at_most(field: &str, value: &str, max: usize) -> Result<(), AppError> {
    if value.chars().count() > max {
        return Err(AppError::invalid(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::at_most;
    use crate::model::AppError;

    #[test]
    fn counts_characters_not_bytes() {
        // Four characters, eight bytes.
        assert!(at_most("title", "éééé", 4).is_ok());
        assert_eq!(
            at_most("title", "ééééé", 4).unwrap_err(),
            AppError::invalid("title", "must be at most 4 characters")
        );
        assert!(at_most("body", "", 0).is_ok());
    }
}
