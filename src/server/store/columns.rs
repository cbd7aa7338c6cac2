//! Model types kept in text columns, read and written as themselves: a row
//! decodes into a [`Channel`] or an [`EventName`], never into a string to
//! be parsed later (or defaulted), and
//! a stored value that does not parse is a decode error (the query fails),
//! never a silent default. The rule of what is valid stays with the type
//! (`FromStr`); this only carries it across sqlx, for either backend.

use std::str::FromStr;

use sqlx::{encode::IsNull, error::BoxDynError, Database, Decode, Encode, Type};

use crate::model::{Channel, EventName};

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
