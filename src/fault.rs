//! Named points where a test can stop the process as a kill would, to prove
//! that output stays whole wherever a run is interrupted. Honoured only in
//! debug builds (a release binary ignores the variable): set
//! `USAGE_REPORT_ABORT_AT=POINT:N` to stop (exit 137, no clean-up) when `POINT` is reached the
//! `N`th time. Points: `read` (records read, nothing rendered),
//! `attachment` (an attachment durable and in place), `manifest` (an
//! invoice's manifest in place).

/// Marks that `point` has been reached; stops here when a test asked for it.
pub fn reached(point: &str) {
    #[cfg(debug_assertions)]
    {
        use std::sync::atomic::{AtomicU64, Ordering};
        use std::sync::OnceLock;
        static TARGET: OnceLock<Option<(String, u64)>> = OnceLock::new();
        static SEEN: AtomicU64 = AtomicU64::new(0);
        let target = TARGET.get_or_init(|| {
            let spec = std::env::var("USAGE_REPORT_ABORT_AT").ok()?;
            let (name, n) = spec.split_once(':').unwrap_or((&spec, "1"));
            Some((name.to_string(), n.parse().ok()?))
        });
        if let Some((name, n)) = target {
            if name == point && SEEN.fetch_add(1, Ordering::SeqCst) + 1 == *n {
                // As a kill: no destructor runs, pending commits are cut.
                std::process::exit(137);
            }
        }
    }
    #[cfg(not(debug_assertions))]
    let _ = point;
}
