//! Process chunks of work on every core and consume the results in order, with a bounded
//! number of chunks in flight.
//!
//! `extract` needs its output in key order whatever the thread count, and must not hold a
//! whole snapshot's objects in memory. Processing fixed batches in parallel and writing each
//! when all of it is done leaves cores idle behind the batch's slowest object (one 1 MB
//! ConfigMap among small ones); here workers take small chunks from a shared counter, and a
//! worker waits only when it is a whole window ahead of what has been consumed.
//!
//! There is no consumer thread: the worker that finishes a chunk consumes every finished
//! chunk that is next in order, unless another worker is already doing so. A consumer
//! thread fed by a channel was woken once per chunk, and on a VM that wake-up (a futex
//! wake and an inter-processor interrupt) cost as much as a tenth of the processing.

use std::collections::BTreeMap;
use std::sync::atomic::{fence, AtomicBool, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, TryLockError};

/// The consuming side: whoever holds it hands finished chunks to `consume` in order.
struct Consumer<C, E> {
    consume: C,
    result: Result<(), E>,
}

/// What the workers share.
struct Shared<T, C, E> {
    chunks: usize,
    window: usize,
    /// The next chunk to take.
    next: AtomicUsize,
    /// Set on a consumer error (or a worker's panic): everyone stops.
    stop: AtomicBool,
    /// Finished chunks not yet consumed, by index.
    finished: Mutex<BTreeMap<usize, T>>,
    consumer: Mutex<Consumer<C, E>>,
    /// How many chunks have been consumed (the consumer's position, readable without it).
    consumed: AtomicUsize,
    /// Workers a window ahead wait here for `consumed` to move; `waiting` counts them so
    /// that the consumer signals only when someone waits.
    gate: Mutex<()>,
    moved: Condvar,
    waiting: AtomicUsize,
}

fn lock<G>(m: &Mutex<G>) -> MutexGuard<'_, G> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Run `work(i)` for `i` in `0..chunks` on `threads` worker threads and hand each result to
/// `consume` in order of `i`. At most `window` chunks are processed ahead of the one being
/// consumed. An error from `consume` stops the workers and is returned.
pub fn ordered<T, E>(
    chunks: usize,
    threads: usize,
    window: usize,
    work: impl Fn(usize) -> T + Sync,
    consume: impl FnMut(T) -> Result<(), E> + Send,
) -> Result<(), E>
where
    T: Send,
    E: Send,
{
    let shared = Shared {
        chunks,
        window: window.max(1),
        next: AtomicUsize::new(0),
        stop: AtomicBool::new(false),
        finished: Mutex::new(BTreeMap::new()),
        consumer: Mutex::new(Consumer { consume, result: Ok(()) }),
        consumed: AtomicUsize::new(0),
        gate: Mutex::new(()),
        moved: Condvar::new(),
        waiting: AtomicUsize::new(0),
    };
    std::thread::scope(|scope| {
        for _ in 0..threads.max(1) {
            let (shared, work) = (&shared, &work);
            scope.spawn(move || shared.run_worker(work));
        }
    });
    let Consumer { result, .. } = shared.consumer.into_inner().unwrap_or_else(|e| e.into_inner());
    result
}

impl<T, C, E> Shared<T, C, E>
where
    C: FnMut(T) -> Result<(), E>,
{
    fn run_worker(&self, work: &impl Fn(usize) -> T) {
        // A panicking worker would leave the others waiting for its chunk: stop them.
        let _stop_on_panic = StopOnPanic(self);
        loop {
            let i = self.next.fetch_add(1, Ordering::Relaxed);
            if i >= self.chunks || self.stopped() || !self.wait_for_room(i) {
                break;
            }
            let value = work(i);
            lock(&self.finished).insert(i, value);
            self.consume_ready();
        }
    }

    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    /// Wait until chunk `i` is within the window of the consumed position; false if the
    /// run stopped meanwhile.
    fn wait_for_room(&self, i: usize) -> bool {
        if i < self.consumed.load(Ordering::SeqCst) + self.window {
            return true;
        }
        let mut gate = lock(&self.gate);
        // Counted before the check: a consumer that moves after it sees the count and
        // signals under the gate, so the wake-up cannot fall between check and wait.
        self.waiting.fetch_add(1, Ordering::SeqCst);
        while i >= self.consumed.load(Ordering::SeqCst) + self.window && !self.stopped() {
            gate = self.moved.wait(gate).unwrap_or_else(|e| e.into_inner());
        }
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        !self.stopped()
    }

    /// Consume the finished chunks next in order, unless another worker is doing so.
    fn consume_ready(&self) {
        loop {
            // With the fence after letting go (below): either this worker sees the consumer
            // free, or its holder sees what this worker left in `finished` (the two sides of
            // a store-buffering race, which a failed `try_lock` alone does not order).
            fence(Ordering::SeqCst);
            let mut consumer = match self.consumer.try_lock() {
                Ok(consumer) => consumer,
                Err(TryLockError::Poisoned(e)) => e.into_inner(),
                // The holder checks again after letting go (below), so this chunk is not
                // left behind.
                Err(TryLockError::WouldBlock) => return,
            };
            let mut position = self.consumed.load(Ordering::SeqCst);
            while !self.stopped() {
                let Some(value) = lock(&self.finished).remove(&position) else { break };
                if let Err(e) = (consumer.consume)(value) {
                    consumer.result = Err(e);
                    self.halt();
                    return;
                }
                position += 1;
                self.consumed.store(position, Ordering::SeqCst);
                self.signal();
            }
            drop(consumer);
            fence(Ordering::SeqCst);
            // A chunk finished while this worker held the consumer found it taken and left
            // it here: take it (or leave it to whoever holds the consumer now).
            if self.stopped() || !lock(&self.finished).contains_key(&self.consumed.load(Ordering::SeqCst)) {
                return;
            }
        }
    }

    /// Wake the workers waiting for room, if any.
    fn signal(&self) {
        if self.waiting.load(Ordering::SeqCst) > 0 {
            let _gate = lock(&self.gate);
            self.moved.notify_all();
        }
    }

    fn halt(&self) {
        self.stop.store(true, Ordering::SeqCst);
        let _gate = lock(&self.gate);
        self.moved.notify_all();
    }
}

/// Stops the run when the worker holding it unwinds.
struct StopOnPanic<'a, T, C, E>(&'a Shared<T, C, E>)
where
    C: FnMut(T) -> Result<(), E>;

impl<T, C, E> Drop for StopOnPanic<'_, T, C, E>
where
    C: FnMut(T) -> Result<(), E>,
{
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.halt();
        }
    }
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
    fn every_chunk_is_consumed_when_workers_race_to_consume() {
        // Tiny chunks and a window of one make workers finish chunks while another holds
        // the consumer: none may be left behind, and none consumed twice.
        for threads in [2, 3, 8] {
            let mut seen = Vec::new();
            let r: Result<(), ()> = ordered(
                5000,
                threads,
                1,
                |i| i,
                |v| {
                    seen.push(v);
                    Ok(())
                },
            );
            assert!(r.is_ok());
            assert_eq!(seen, (0..5000).collect::<Vec<_>>(), "{threads} threads");
        }
    }

    #[test]
    fn a_panicking_worker_stops_the_run_instead_of_hanging_it() {
        let r = std::panic::catch_unwind(|| {
            ordered(
                1000,
                2,
                2,
                |i| {
                    assert_ne!(i, 3, "chunk 3 fails");
                    i
                },
                |_| Ok::<(), ()>(()),
            )
        });
        assert!(r.is_err());
    }

    #[test]
    fn no_chunks() {
        let r: Result<(), ()> = ordered(0, 2, 4, |i| i, |_| panic!("nothing to consume"));
        assert!(r.is_ok());
    }
}
