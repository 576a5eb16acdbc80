//! Process chunks of work on every core and consume the results in order, with a bounded
//! number of chunks in flight.
//!
//! `extract` needs its output in key order whatever the thread count, and must not hold a
//! whole snapshot's objects in memory. Processing fixed batches in parallel and writing each
//! when all of it is done leaves cores idle behind the batch's slowest object (one 1 MB
//! ConfigMap among small ones); here workers take small chunks from a shared counter, the
//! consumer puts finished chunks back in order, and a worker waits only when it is a whole
//! window ahead of what has been consumed.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Condvar, Mutex};

/// Run `work(i)` for `i` in `0..chunks` on `threads` worker threads and hand each result to
/// `consume` in order of `i`. At most `window` chunks are processed ahead of the one being
/// consumed. An error from `consume` stops the workers and is returned.
pub fn ordered<T, E>(
    chunks: usize,
    threads: usize,
    window: usize,
    work: impl Fn(usize) -> T + Sync,
    mut consume: impl FnMut(T) -> Result<(), E>,
) -> Result<(), E>
where
    T: Send,
{
    let window = window.max(1);
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    // The number of chunks consumed so far, and the signal that it moved.
    let consumed = Mutex::new(0usize);
    let moved = Condvar::new();
    let (tx, rx) = mpsc::channel::<(usize, T)>();
    std::thread::scope(|scope| {
        for _ in 0..threads.max(1) {
            let tx = tx.clone();
            let (next, stop, consumed, moved, work) = (&next, &stop, &consumed, &moved, &work);
            scope.spawn(move || loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= chunks || stop.load(Ordering::Relaxed) {
                    break;
                }
                {
                    let mut done = consumed.lock().unwrap_or_else(|e| e.into_inner());
                    while i >= *done + window && !stop.load(Ordering::Relaxed) {
                        done = moved.wait(done).unwrap_or_else(|e| e.into_inner());
                    }
                }
                if stop.load(Ordering::Relaxed) || tx.send((i, work(i))).is_err() {
                    break;
                }
            });
        }
        drop(tx);
        let mut pending: BTreeMap<usize, T> = BTreeMap::new();
        let mut expected = 0;
        let mut result = Ok(());
        for (i, value) in rx.iter() {
            pending.insert(i, value);
            while let Some(value) = pending.remove(&expected) {
                if let Err(e) = consume(value) {
                    result = Err(e);
                    break;
                }
                expected += 1;
                *consumed.lock().unwrap_or_else(|e| e.into_inner()) = expected;
                moved.notify_all();
            }
            if result.is_err() {
                break;
            }
        }
        stop.store(true, Ordering::Relaxed);
        moved.notify_all();
        // Workers still sending find the receiver gone and stop.
        drop(rx);
        result
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_in_order_whatever_the_threads() {
        for threads in [1, 2, 4, 8] {
            let mut seen = Vec::new();
            let r: Result<(), ()> = ordered(
                200,
                threads,
                3,
                |i| {
                    // Uneven work: later chunks often finish first.
                    if i % 7 == 0 {
                        std::thread::sleep(std::time::Duration::from_micros(300));
                    }
                    i * 2
                },
                |v| {
                    seen.push(v);
                    Ok(())
                },
            );
            assert!(r.is_ok());
            assert_eq!(seen, (0..200).map(|i| i * 2).collect::<Vec<_>>(), "{threads} threads");
        }
    }

    #[test]
    fn a_consumer_error_stops_the_work() {
        let calls = AtomicUsize::new(0);
        let r = ordered(
            10_000,
            4,
            2,
            |i| {
                calls.fetch_add(1, Ordering::Relaxed);
                i
            },
            |v| if v == 5 { Err("full disk") } else { Ok(()) },
        );
        assert_eq!(r, Err("full disk"));
        // The window bounds how far the workers got past the failing chunk.
        assert!(calls.load(Ordering::Relaxed) < 100, "{}", calls.load(Ordering::Relaxed));
    }

    #[test]
    fn no_chunks() {
        let r: Result<(), ()> = ordered(0, 2, 4, |i| i, |_| panic!("nothing to consume"));
        assert!(r.is_ok());
    }
}
