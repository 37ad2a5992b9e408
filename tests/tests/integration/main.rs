//! Integration tests against a real Prometheus and a real moto server, both started by
//! `scripts/stack.sh` (run them with `make test`, which starts and stops the stack).
//!
//! - `support`: the stack's addresses, SDK clients for moto, and a fault-injecting proxy for
//!   failures a healthy Prometheus cannot produce.
//! - `sla_report`: reports computed from the generated history match its ground truth.
//! - `slo_ledger`: five weeks of daily runs whose SLO windows and month report match the truth.
//! - `sla_report_failures`: every failure fails the invocation and writes nothing.
//! - `local_run`: both binaries' local mode and their JSON logs.
//! - `runtime`: the release `bootstrap` binaries under a local Lambda runtime API.
//! - `anomaly_check`: minute-by-minute replays: one firing and one resolved message per
//!   incident at an SQS subscriber, none for calm series, and the failure cases.
//! - `slo_alerts`: SLO burn-rate pages and tickets and budget alerts replayed over generated
//!   history.
//! - `silences`: silences added with the command, kept back in a replay, told when they end.
//! - `chaos`: both functions through proxies that mix faults as they come, seeded.

mod anomaly_check;
mod chaos;
mod local_run;
mod runtime;
mod silences;
mod sla_report;
mod sla_report_failures;
mod slo_alerts;
mod slo_ledger;
mod support;
