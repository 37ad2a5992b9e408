//! Local variants of the adapters, for runs outside AWS: reports in a directory, the state in
//! a file, alerts on stdout, documents from files.

pub mod documents;
pub mod reports;
pub mod state;
pub mod stdout;
