//! Who is calling: passwords, session tokens and API keys.

pub mod caller;
pub mod secrets;

pub use caller::{Caller, Credential};
