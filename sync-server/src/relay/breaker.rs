//! Backoff and a circuit breaker for one sink: after a failure the relay waits, twice as long
//! after each further one (with jitter, at most [`MAX_BACKOFF`]); after [`OPEN_AFTER`] failures
//! in a row the breaker opens and the sink is left alone for [`OPEN_FOR`], then one batch is
//! tried (half open): success closes it, failure opens it again. Never a hot loop.

use std::time::Duration;

/// The first wait after a failure.
pub const FIRST_BACKOFF: Duration = Duration::from_millis(250);
/// The longest wait between tries while the breaker is closed.
pub const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// Failures in a row that open the breaker.
pub const OPEN_AFTER: u32 = 6;
/// How long an open breaker leaves the sink alone.
pub const OPEN_FOR: Duration = Duration::from_secs(30);

/// The breaker's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// Publishing; `failures` in a row so far.
    Closed {
        /// Failures in a row.
        failures: u32,
    },
    /// Resting after too many failures.
    Open,
    /// The next batch decides.
    HalfOpen,
}

/// One sink's breaker.
#[derive(Debug)]
pub struct Breaker {
    state: State,
}

impl Default for Breaker {
    fn default() -> Self {
        Breaker {
            state: State::Closed { failures: 0 },
        }
    }
}

impl Breaker {
    /// Where it stands.
    #[must_use]
    pub fn state(&self) -> State {
        self.state
    }

    /// A batch was acknowledged: closed, no wait.
    pub fn success(&mut self) {
        self.state = State::Closed { failures: 0 };
    }

    /// A batch failed: how long to wait before the next try. `jitter` in `[0, 1)` spreads
    /// replicas' retries.
    pub fn failure(&mut self, jitter: f64) -> Duration {
        let failures = match self.state {
            State::Closed { failures } => failures + 1,
            State::Open | State::HalfOpen => OPEN_AFTER,
        };
        if failures >= OPEN_AFTER {
            self.state = State::Open;
            return OPEN_FOR;
        }
        self.state = State::Closed { failures };
        let doubled = FIRST_BACKOFF.saturating_mul(1 << (failures - 1).min(16));
        doubled
            .min(MAX_BACKOFF)
            .mul_f64(0.5 + jitter.clamp(0.0, 1.0) / 2.0)
    }

    /// The wait after an open breaker is over: the next batch is a trial.
    pub fn rested(&mut self) {
        if self.state == State::Open {
            self.state = State::HalfOpen;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Breaker, FIRST_BACKOFF, MAX_BACKOFF, OPEN_AFTER, OPEN_FOR, State};

    #[test]
    fn waits_grow_then_the_breaker_opens_and_a_trial_decides() {
        let mut b = Breaker::default();
        let mut last = std::time::Duration::ZERO;
        for n in 1..OPEN_AFTER {
            let wait = b.failure(1.0);
            assert!(wait >= last && wait <= MAX_BACKOFF, "{n}: {wait:?}");
            assert!(wait >= FIRST_BACKOFF, "{n}: never a hot loop");
            last = wait;
        }
        assert_eq!(b.failure(1.0), OPEN_FOR);
        assert_eq!(b.state(), State::Open);
        b.rested();
        assert_eq!(b.state(), State::HalfOpen);
        // A failed trial opens it again at once.
        assert_eq!(b.failure(0.0), OPEN_FOR);
        b.rested();
        b.success();
        assert_eq!(b.state(), State::Closed { failures: 0 });
        assert!(b.failure(0.0) < MAX_BACKOFF);
    }

    #[test]
    fn jitter_spreads_within_half_and_whole() {
        let (mut a, mut b) = (Breaker::default(), Breaker::default());
        assert_eq!(a.failure(0.0), FIRST_BACKOFF / 2);
        assert_eq!(b.failure(1.0), FIRST_BACKOFF);
    }
}
