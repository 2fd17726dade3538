//! Debug timings: with the environment variable `CLEANSE_TIMINGS` set, the engine prints one
//! line per phase on stderr (wall milliseconds since the first mark, the process's CPU
//! milliseconds so far and the calling thread's), and the passes print how long each of their
//! threads worked. Off (one cached check per mark) otherwise; the output and report never change.

use std::sync::OnceLock;
use std::time::Instant;

static START: OnceLock<Option<Instant>> = OnceLock::new();

fn start() -> Option<Instant> {
    *START.get_or_init(|| std::env::var_os("CLEANSE_TIMINGS").map(|_| Instant::now()))
}

/// Whether timings are on.
#[inline]
pub(crate) fn on() -> bool {
    start().is_some()
}

/// The process's user + system CPU milliseconds (10 ms ticks), from `/proc/self/stat`.
fn process_cpu_ms() -> f64 {
    let Ok(s) = std::fs::read_to_string("/proc/self/stat") else {
        return f64::NAN;
    };
    // fields after the command name (which may hold spaces) in parentheses
    let rest = s.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let tick = |i: usize| {
        f.get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(f64::NAN)
    };
    // utime and stime are fields 14 and 15 of stat, i.e. 11 and 12 after the state field (3)
    (tick(11) + tick(12)) * 10.0
}

/// The calling thread's CPU milliseconds, from `/proc/thread-self/schedstat` (nanoseconds).
fn thread_cpu_ms() -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(f64::NAN, |ns| ns / 1e6)
}

/// Milliseconds since the first mark (0 when off).
pub(crate) fn now_ms() -> f64 {
    start().map_or(0.0, |t| t.elapsed().as_secs_f64() * 1e3)
}

/// Prints a phase line when timings are on.
pub fn mark(what: &str) {
    if let Some(t0) = start() {
        eprintln!(
            "[timings] {:8.1} ms wall {:7.0} ms cpu {:7.1} ms thread  {what}",
            t0.elapsed().as_secs_f64() * 1e3,
            process_cpu_ms(),
            thread_cpu_ms()
        );
    }
}

/// Prints a free-form line when timings are on.
pub(crate) fn note(what: std::fmt::Arguments<'_>) {
    if on() {
        eprintln!("[timings] {what}");
    }
}

/// Starts the clock and prints a first mark (for binaries: call it first thing in `main`).
pub fn begin() {
    mark("start");
}

#[cfg(test)]
mod tests {
    #[test]
    fn cpu_readers_parse_proc() {
        // (on Linux both files exist; the values only grow)
        let a = super::process_cpu_ms();
        let b = super::thread_cpu_ms();
        assert!(a >= 0.0 && b >= 0.0, "{a} {b}");
    }
}
