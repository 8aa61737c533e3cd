//! Rate limiting: a token bucket per key (a device, a user name, a client address), refilled at
//! a fixed rate.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::Instant;

use uuid::Uuid;

struct Bucket {
    tokens: f64,
    at: Instant,
}

/// The most keys tracked; past it, idle keys are forgotten, and if none is idle, all are.
const MAX_KEYS: usize = 100_000;

/// Token buckets by key (by default, by device).
pub struct RateLimiter<K = Uuid> {
    rate: f64,
    burst: f64,
    buckets: Mutex<HashMap<K, Bucket>>,
}

impl<K> std::fmt::Debug for RateLimiter<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimiter")
            .field("rate", &self.rate)
            .field("burst", &self.burst)
            .finish_non_exhaustive()
    }
}

impl<K: Hash + Eq> RateLimiter<K> {
    /// `rate` requests per second sustained, `burst` at once.
    #[must_use]
    pub fn new(rate: u32, burst: u32) -> Self {
        RateLimiter {
            rate: f64::from(rate.max(1)),
            burst: f64::from(burst.max(1)),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one request from `key`'s bucket: `Ok` when allowed, otherwise the seconds to
    /// wait.
    ///
    /// # Errors
    /// The whole seconds until a request is allowed again.
    pub fn check(&self, key: K) -> Result<(), u64> {
        self.check_at(key, Instant::now())
    }

    fn check_at(&self, key: K, now: Instant) -> Result<(), u64> {
        let Ok(mut buckets) = self.buckets.lock() else {
            return Ok(());
        };
        if buckets.len() >= MAX_KEYS && !buckets.contains_key(&key) {
            // Forget idle keys, so the map stays bounded; a flood of distinct keys resets it.
            let (burst, rate) = (self.burst, self.rate);
            buckets.retain(|_, b| b.tokens + now.duration_since(b.at).as_secs_f64() * rate < burst);
            if buckets.len() >= MAX_KEYS {
                buckets.clear();
            }
        }
        let b = buckets.entry(key).or_insert(Bucket {
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
        let l: RateLimiter = RateLimiter::new(2, 3);
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
