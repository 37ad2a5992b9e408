//! The time an invocation has left, so every retry loop and timeout can respect it.

use std::time::{Duration, Instant, SystemTime};

/// A point in monotonic time by which an invocation must have finished its work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline(Instant);

impl Deadline {
    /// A deadline `budget` from now.
    pub fn after(budget: Duration) -> Self {
        Self(Instant::now() + budget)
    }

    /// The Lambda deadline (wall-clock time) less `reserve`, kept back for the work that
    /// follows, such as writing results and logging the outcome.
    pub fn from_system_time(deadline: SystemTime, reserve: Duration) -> Self {
        let left = deadline
            .duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO);
        Self::after(left.saturating_sub(reserve))
    }

    /// Time left; zero once passed.
    pub fn remaining(&self) -> Duration {
        self.0.saturating_duration_since(Instant::now())
    }

    /// Whether `wait` more still leaves at least `then_needed` before the deadline.
    pub fn allows(&self, wait: Duration, then_needed: Duration) -> bool {
        self.remaining() > wait + then_needed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_past_deadline_has_nothing_left() {
        let deadline =
            Deadline::from_system_time(SystemTime::now() - Duration::from_secs(5), Duration::ZERO);
        assert_eq!(deadline.remaining(), Duration::ZERO);
        assert!(!deadline.allows(Duration::ZERO, Duration::from_millis(1)));
    }

    #[test]
    fn the_reserve_is_kept_back() {
        let deadline = Deadline::from_system_time(
            SystemTime::now() + Duration::from_mins(1),
            Duration::from_secs(10),
        );
        let left = deadline.remaining();
        assert!(
            left <= Duration::from_secs(50) && left > Duration::from_secs(49),
            "{left:?}"
        );
        assert!(deadline.allows(Duration::from_secs(30), Duration::from_secs(10)));
        assert!(!deadline.allows(Duration::from_secs(45), Duration::from_secs(10)));
    }
}
