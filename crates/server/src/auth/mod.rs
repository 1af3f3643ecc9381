//! Who is calling: passwords, session tokens and API keys.

pub mod secrets;
