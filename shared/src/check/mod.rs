//! The minute check, pure and synchronous: the checks document a user writes and the checks
//! model it becomes; the [`detector`]s and a series' remembered state; the evaluation of a
//! check's series and of their [`absence`]; the SLOs' [`burn`]-rate alerts, what they read
//! ([`burn_reads`]) and their [`budget`] alerts; the alert [`lifecycle`]; the [`plan`] of
//! messages; the [`run`] of one invocation over all checks; the stored [`state`]; the
//! [`silence`]s people set; and the [`message`]s subscribers receive ([`slo_message`]s for SLO
//! alerts, the [`chat`] form for chat channels).
//! Data and an explicit `now` in, values out: no I/O, no clock, no logging.

pub mod absence;
pub mod budget;
pub mod burn;
pub mod burn_reads;
pub mod chat;
pub mod detector;
pub mod document;
pub mod evaluate;
pub mod history;
pub mod lifecycle;
pub mod message;
pub mod model;
pub mod plan;
pub mod replay;
pub mod run;
pub mod shard;
pub mod silence;
pub mod slo_message;
pub mod state;
