//! What the repositories share: where a statement runs ([`Db`]), the clock, typed ids and
//! the text enums stored in `TEXT` columns.

use std::fmt;

use chrono::{DateTime, SubsecRound, Utc};

use crate::{Store, StoreError, Tx};

/// Where a write runs: on the pool (its own implicit transaction) or inside an open
/// [`Tx`], so the caller can enqueue the job that works on the record in the same
/// transaction. Built from `&Store` or `&mut Tx` with `.into()`; every write takes
/// `impl Into<Db>`.
#[derive(Debug)]
pub enum Db<'a> {
    /// Straight on the pool.
    Store(&'a Store),
    /// Inside the caller's transaction.
    Tx(&'a mut Tx),
}

impl<'a> From<&'a Store> for Db<'a> {
    fn from(store: &'a Store) -> Self {
        Db::Store(store)
    }
}

impl<'a> From<&'a mut Tx> for Db<'a> {
    fn from(tx: &'a mut Tx) -> Self {
        Db::Tx(tx)
    }
}

/// Runs one statement on a [`Db`], whichever engine and whether pooled or in a
/// transaction. The body runs once, so it must use `$conn` once: several statements that
/// belong together take a [`Tx`].
macro_rules! on_db {
    ($db:expr, $conn:ident => $body:expr) => {
        match $db {
            $crate::db::Db::Store(store) => $crate::on_pool!(store, $conn => $body),
            $crate::db::Db::Tx(tx) => $crate::on_tx!(tx, $conn => $body),
        }
    };
}
pub(crate) use on_db;

/// Now, to the microsecond: PostgreSQL keeps microseconds, so a row read back equals the
/// row written on both engines.
pub(crate) fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// Turns a unique-index violation into [`StoreError::Conflict`] naming what already exists;
/// other errors pass through.
pub(crate) fn conflict(what: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |e| match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict { what },
        _ => StoreError::Database(e),
    }
}

/// A `LIKE` pattern matching `needle` anywhere, case-insensitively (the column is
/// compared through `lower()`), with the user's `%`, `_` and `\` taken literally.
pub(crate) fn contains_pattern(needle: &str) -> String {
    let mut pattern = String::with_capacity(needle.len() + 2);
    pattern.push('%');
    for c in needle.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// A stored value that names no variant of the enum it should be (a row written by a newer
/// clipforge, or edited by hand).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} {value:?} in the database")]
pub struct UnknownValue {
    /// The enum's name.
    pub kind: &'static str,
    /// The text found.
    pub value: String,
}

impl From<UnknownValue> for StoreError {
    fn from(e: UnknownValue) -> Self {
        StoreError::Database(sqlx::Error::Decode(e.into()))
    }
}

/// An enum stored as text: `as_str` for binds, `TryFrom<String>` for `#[sqlx(try_from)]`,
/// serde with the same names for the API.
macro_rules! text_enum {
    ($(#[$meta:meta])* pub enum $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant,)+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stored and serialized name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::db::UnknownValue;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err($crate::db::UnknownValue { kind: stringify!($name), value: s.to_string() }),
                }
            }
        }

        impl TryFrom<String> for $name {
            type Error = $crate::db::UnknownValue;

            fn try_from(s: String) -> Result<Self, Self::Error> {
                s.parse()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use text_enum;

/// UUIDv7 ids, one type per table, so a clip id cannot be passed where a workspace id is
/// expected. Stored as `UUID` on PostgreSQL and a 16-byte `BLOB` on SQLite.
macro_rules! ids {
    ($($(#[$meta:meta])* $name:ident,)+) => {$(
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
            serde::Serialize, serde::Deserialize, sqlx::Type,
        )]
        #[serde(transparent)]
        #[sqlx(transparent)]
        pub struct $name(pub uuid::Uuid);

        impl $name {
            /// A new id; UUIDv7, so ids sort by creation time.
            #[allow(clippy::new_without_default)]
            pub fn new() -> Self {
                $name(uuid::Uuid::now_v7())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = uuid::Error;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.parse().map($name)
            }
        }

        impl From<uuid::Uuid> for $name {
            fn from(id: uuid::Uuid) -> Self {
                $name(id)
            }
        }
    )+};
}

ids! {
    /// A user account.
    UserId,
    /// A signed-in session.
    SessionId,
    /// An API key.
    ApiKeyId,
    /// A workspace (tenant).
    WorkspaceId,
    /// An invitation to a workspace.
    InvitationId,
    /// A project.
    ProjectId,
    /// A video.
    VideoId,
    /// A video's transcript.
    TranscriptId,
    /// A clip.
    ClipId,
    /// A style template.
    TemplateId,
    /// A render of a clip.
    RenderId,
    /// A credit ledger entry.
    CreditEntryId,
    /// An audit log entry.
    AuditEntryId,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_patterns_take_wildcards_literally() {
        assert_eq!(contains_pattern("Pod"), "%pod%");
        assert_eq!(contains_pattern("100%_done"), "%100\\%\\_done%");
        assert_eq!(contains_pattern("a\\b"), "%a\\\\b%");
    }

    #[test]
    fn now_has_no_nanoseconds() {
        assert_eq!(now().timestamp_subsec_nanos() % 1000, 0);
    }

    #[test]
    fn ids_sort_by_creation() {
        let first = VideoId::new();
        let second = VideoId::new();
        assert!(first < second);
        assert_eq!(first.to_string().parse::<VideoId>().unwrap(), first);
    }
}
