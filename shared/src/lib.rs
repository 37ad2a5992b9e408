//! Vigil's core: everything the Lambda functions share.
//!
//! The tree shows the architecture:
//!
//! - **Domain**, pure and synchronous: the daily [`report`] and the minute [`check`], over the
//!   [`series`] a metrics source returns and the [`event`] that starts a run. Data and an
//!   explicit time in, values out: no I/O, no clock, no logging.
//! - **[`ports`]**: one narrow trait per outside capability, speaking domain types, each with
//!   its own error.
//! - **[`adapters`]**: Prometheus over HTTP, S3 and SNS over the AWS SDK, local variants.
//! - **[`telemetry`]**: JSON logs, the EMF line and every log event's name.
//!
//! Plus the plumbing both jobs share: [`config`] from the environment, the metric
//! [`conventions`], [`promql`] building, the invocation [`deadline`], and alerts' [`severity`],
//! [`annotations`] and label [`matchers`].
//!
//! Nothing in `report` or `check` imports `adapters`, tokio, the AWS SDK or reqwest, and the
//! entries of this crate form no cycle (`scripts/check-modules.py` holds both in `make test`).

pub mod adapters;
pub mod annotations;
pub mod check;
pub mod config;
pub mod conventions;
pub mod deadline;
pub mod event;
pub mod matchers;
pub mod ports;
pub mod promql;
pub mod report;
pub mod runtime;
pub mod series;
pub mod severity;
pub mod slo;
pub mod telemetry;
