//! Model types kept in text columns, read and written as themselves: a row
//! decodes into a [`Channel`], an [`EventName`] or a [`Severity`], never into a string to
//! be parsed later (or defaulted), and
//! a stored value that does not parse is a decode error (the query fails),
//! never a silent default. The rule of what is valid stays with the type
//! (`FromStr`); this only carries it across sqlx, for either backend.

use std::str::FromStr;

use sqlx::{encode::IsNull, error::BoxDynError, Database, Decode, Encode, Type};

use crate::model::{Channel, EventName, Severity};

/// `sqlx::{Type, Encode, Decode}` for a type stored as its `Display` text
/// and read back through its `FromStr`.
macro_rules! text_column {
    ($ty:ty) => {
        impl<DB: Database> Type<DB> for $ty
        where
            String: Type<DB>,
        {
            fn type_info() -> DB::TypeInfo {
                <String as Type<DB>>::type_info()
            }

            fn compatible(ty: &DB::TypeInfo) -> bool {
                <String as Type<DB>>::compatible(ty)
            }
        }

        impl<'q, DB: Database> Encode<'q, DB> for $ty
        where
            String: Encode<'q, DB>,
        {
            fn encode_by_ref(
                &self,
                buf: &mut <DB as Database>::ArgumentBuffer<'q>,
            ) -> Result<IsNull, BoxDynError> {
                self.to_string().encode(buf)
            }
        }

        impl<'r, DB: Database> Decode<'r, DB> for $ty
        where
            String: Decode<'r, DB>,
        {
            fn decode(value: <DB as Database>::ValueRef<'r>) -> Result<Self, BoxDynError> {
                let text = <String as Decode<'r, DB>>::decode(value)?;
                Ok(<$ty>::from_str(&text)?)
            }
        }
    };
}

text_column!(Channel);
text_column!(EventName);
text_column!(Severity);

#[cfg(test)]
mod tests {
    use sqlx::{Connection, SqliteConnection};

    use super::*;

    /// A stored text that is not a valid value fails the read; a valid one
    /// reads back as the type (the CHECK constraints keep bad text out of
    /// the tables; this is what a row written around them would get).
    #[tokio::test]
    async fn text_columns_decode_through_from_str_or_fail() {
        let mut db = SqliteConnection::connect("sqlite::memory:").await.unwrap();
        let read = |sql: &'static str| sqlx::query_scalar::<_, Severity>(sql);
        assert_eq!(
            read("SELECT 'critical'").fetch_one(&mut db).await.unwrap(),
            Severity::Critical
        );
        assert!(read("SELECT 'urgent'").fetch_one(&mut db).await.is_err());
        let channel = sqlx::query_scalar::<_, Channel>("SELECT 'role:admin'")
            .fetch_one(&mut db)
            .await
            .unwrap();
        assert_eq!(channel.to_string(), "role:admin");
        let bad = sqlx::query_scalar::<_, EventName>("SELECT 'two words'")
            .fetch_one(&mut db)
            .await;
        assert!(
            bad.is_err(),
            "an event name with a space must not read back"
        );
    }
}
