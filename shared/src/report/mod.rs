//! The daily report, pure and synchronous: the [`period`] a run covers, the fixed set of
//! [`queries`] it issues, the [`figures`] built from their results, each SLO over its window
//! from the ledger ([`slos`]), the period-close reports ([`periods`]), the object [`keys`] it is
//! written under, and its [`render`]ing as JSON and HTML.

pub mod figures;
pub mod keys;
pub mod period;
pub mod periods;
pub mod queries;
pub mod render;
pub mod slos;
