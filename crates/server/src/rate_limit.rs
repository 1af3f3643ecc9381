//! Per-client rate limiting: a token bucket per API key, user or IP address, with the
//! `X-RateLimit-*` headers clients use to pace themselves.
//!
//! The buckets live in this process: with several `serve` processes behind a balancer each
//! enforces the limit on the requests it sees, which bounds abuse without a shared store.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Who is counted: the most specific identity the request proved.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Client {
    /// A presented session token or API key, by hash.
    Token(String),
    /// A signed-in user, by id.
    User(uuid::Uuid),
    /// An anonymous caller, by address.
    Ip(std::net::IpAddr),
}

/// The outcome of counting one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    /// Whether the request may go on.
    pub allowed: bool,
    /// Requests per window.
    pub limit: u32,
    /// Requests left right now.
    pub remaining: u32,
    /// Unix time (seconds) when the bucket is full again.
    pub reset: u64,
    /// Seconds until one more request is allowed (0 when allowed).
    pub retry_after: u64,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// Token buckets of `limit` requests refilled evenly over `window`.
#[derive(Debug)]
pub struct RateLimiter {
    limit: u32,
    window: Duration,
    buckets: Mutex<HashMap<Client, Bucket>>,
}

/// Buckets idle this long are full again and are dropped to bound memory.
const PRUNE_EVERY: usize = 4096;

impl RateLimiter {
    /// `limit` requests per `window` per client (a burst of `limit` is allowed).
    pub fn new(limit: u32, window: Duration) -> Self {
        RateLimiter {
            limit: limit.max(1),
            window: window.max(Duration::from_millis(1)),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one request of `client` at `now`.
    pub fn check(&self, client: &Client, now: Instant) -> Decision {
        let limit = f64::from(self.limit);
        let per_second = limit / self.window.as_secs_f64();
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() >= PRUNE_EVERY {
            let window = self.window;
            buckets.retain(|_, b| now.saturating_duration_since(b.updated) < window);
        }
        let bucket = buckets.entry(client.clone()).or_insert(Bucket {
            tokens: limit,
            updated: now,
        });
        let elapsed = now.saturating_duration_since(bucket.updated).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * per_second).min(limit);
        bucket.updated = now;
        let allowed = bucket.tokens >= 1.0;
        if allowed {
            bucket.tokens -= 1.0;
        }
        let to_full = (limit - bucket.tokens) / per_second;
        let retry_after = if allowed {
            0
        } else {
            ((1.0 - bucket.tokens) / per_second).ceil() as u64
        };
        let unix_now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Decision {
            allowed,
            limit: self.limit,
            remaining: bucket.tokens.floor().max(0.0) as u32,
            reset: unix_now + to_full.ceil() as u64,
            retry_after,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bursts_up_to_the_limit_then_refills_evenly() {
        let limiter = RateLimiter::new(3, Duration::from_secs(3));
        let ip = Client::Ip("203.0.113.9".parse().unwrap());
        let t0 = Instant::now();
        let remaining: Vec<_> = (0..3).map(|_| limiter.check(&ip, t0).remaining).collect();
        assert_eq!(remaining, [2, 1, 0]);
        let refused = limiter.check(&ip, t0);
        assert!(!refused.allowed);
        assert_eq!(refused.retry_after, 1);
        // One request comes back per second.
        assert!(limiter.check(&ip, t0 + Duration::from_millis(1000)).allowed);
        assert!(!limiter.check(&ip, t0 + Duration::from_millis(1100)).allowed);
    }

    #[test]
    fn clients_are_counted_apart() {
        let limiter = RateLimiter::new(1, Duration::from_secs(60));
        let t0 = Instant::now();
        let a = Client::User(uuid::Uuid::now_v7());
        let b = Client::User(uuid::Uuid::now_v7());
        assert!(limiter.check(&a, t0).allowed);
        assert!(!limiter.check(&a, t0).allowed);
        assert!(limiter.check(&b, t0).allowed);
    }
}
