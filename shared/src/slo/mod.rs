//! SLOs over their real window: the SLO document with its alerting rules, and each SLO's
//! figures over its window from the ledger of daily reports; and the mute windows both documents
//! may hold. Pure code.

pub mod alerting;
pub mod document;
pub mod exclusions;
pub mod formats;
pub mod ledger;
pub mod mute;
pub mod window;
