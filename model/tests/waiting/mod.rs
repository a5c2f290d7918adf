//! Waiting for another thread in real-thread tests, shared by those tests.

use std::thread;
use std::time::Duration;

/// Waits (bounded) until `cond` holds, so tests never depend on sleeping for "long enough".
pub fn eventually(mut cond: impl FnMut() -> bool) {
    for _ in 0..50_000 {
        if cond() {
            return;
        }
        thread::sleep(Duration::from_micros(100));
    }
    panic!("condition never became true");
}
