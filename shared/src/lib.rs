//! Vigil's core: everything the Lambda functions share.
//!
//! Three layers, kept apart:
//!
//! 1. **Domain**, pure and synchronous: [`promql`] building, [`schedule`] periods, the [`sla`]
//!    report and its [`render`]ing. Data and an explicit period in, values out.
//! 2. **Ports**: one narrow trait per outside capability, in [`ports`].
//! 3. **Adapters**: the [`prometheus`] HTTP client, report stores over S3 and the local
//!    file system in [`store`], [`secret`] reading, and [`telemetry`].
//!
//! Plus the plumbing every function needs: [`config`] from the environment and the
//! invocation [`deadline`].

pub mod alert;
pub mod anomaly;
pub mod checks;
pub mod config;
pub mod conventions;
pub mod deadline;
pub mod detect;
pub mod evidence;
pub mod memory;
pub mod message;
pub mod packed;
pub mod ports;
pub mod profile;
pub mod prometheus;
pub mod promql;
pub mod publish;
pub mod render;
pub mod schedule;
pub mod secret;
pub mod sla;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod week;
