//! SLOs over their real window: the SLO document, and each SLO's figures over its window from
//! the ledger of daily reports. Pure code.

pub mod document;
pub mod exclusions;
pub mod formats;
pub mod ledger;
pub mod window;
