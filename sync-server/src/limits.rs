//! Per-device rate limiting: a token bucket per device, refilled at the configured rate.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use uuid::Uuid;

struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Token buckets by device.
pub struct RateLimiter {
    rate: f64,
    burst: f64,
    buckets: Mutex<HashMap<Uuid, Bucket>>,
}

impl std::fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimiter")
            .field("rate", &self.rate)
            .field("burst", &self.burst)
            .finish_non_exhaustive()
    }
}

impl RateLimiter {
    /// `rate` requests per second sustained, `burst` at once.
    #[must_use]
    pub fn new(rate: u32, burst: u32) -> Self {
        RateLimiter {
            rate: f64::from(rate.max(1)),
            burst: f64::from(burst.max(1)),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one request from `device`'s bucket: `Ok` when allowed, otherwise the seconds to
    /// wait.
    ///
    /// # Errors
    /// The whole seconds until a request is allowed again.
    pub fn check(&self, device: Uuid) -> Result<(), u64> {
        self.check_at(device, Instant::now())
    }

    fn check_at(&self, device: Uuid, now: Instant) -> Result<(), u64> {
        let Ok(mut buckets) = self.buckets.lock() else {
            return Ok(());
        };
        if buckets.len() > 100_000 {
            // Forget idle devices now and then, so the map stays bounded.
            let burst = self.burst;
            let rate = self.rate;
            buckets.retain(|_, b| b.tokens + now.duration_since(b.at).as_secs_f64() * rate < burst);
        }
        let b = buckets.entry(device).or_insert(Bucket {
            tokens: self.burst,
            at: now,
        });
        b.tokens = (b.tokens + now.duration_since(b.at).as_secs_f64() * self.rate).min(self.burst);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - b.tokens) / self.rate).ceil().max(1.0) as u64)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn bursts_then_refills() {
        let l = RateLimiter::new(2, 3);
        let d = Uuid::now_v7();
        let t = Instant::now();
        assert!((0..3).all(|_| l.check_at(d, t).is_ok()));
        assert_eq!(l.check_at(d, t), Err(1));
        assert!(
            l.check_at(Uuid::now_v7(), t).is_ok(),
            "other devices have their own bucket"
        );
        assert!(l.check_at(d, t + Duration::from_millis(600)).is_ok());
    }
}
