//! One sender, many subscriptions, and a bound on what waits between them, in events
//! and in bytes.
//!
//! Each event is kept once, however many subscriptions will read it, and only until the
//! last of them has (like tokio's broadcast channel, whose bound is a count only: a
//! thousand changes to a park of 5 000 vertices are 100 MB). When the events waiting
//! pass either bound, the oldest go, and a subscription that had not read them learns
//! that it fell behind at its next read. So a subscriber that stops reading holds at
//! most the bound, never more, and lets go of everything when it ends.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::watch;

/// Why a read gave no event.
#[derive(Debug, PartialEq, Eq)]
pub enum Missed {
    /// The subscription fell this many events behind; it reads on from the oldest kept.
    Lagged(u64),
}

struct Slot<T> {
    event: Arc<T>,
    bytes: usize,
    /// Subscriptions yet to read it.
    unread: usize,
}

struct Queue<T> {
    /// The sequence number of `slots[0]`.
    first: u64,
    slots: VecDeque<Slot<T>>,
    bytes: usize,
    subscriptions: usize,
}

impl<T> Queue<T> {
    fn end(&self) -> u64 {
        self.first + self.slots.len() as u64
    }

    /// Drops the events at the front that every subscription has read.
    fn drop_read(&mut self) {
        while self.slots.front().is_some_and(|s| s.unread == 0) {
            self.pop();
        }
    }

    fn pop(&mut self) {
        if let Some(slot) = self.slots.pop_front() {
            self.bytes -= slot.bytes;
            self.first += 1;
        }
    }
}

/// The sending side; [`Fanout::subscribe`] makes readers.
pub struct Fanout<T> {
    queue: Mutex<Queue<T>>,
    /// The end of the queue, so readers can wait for it to move.
    end: watch::Sender<u64>,
    max_events: usize,
    max_bytes: usize,
}

impl<T> Fanout<T> {
    /// A fanout that keeps at most `max_events` events and `max_bytes` bytes waiting.
    pub fn new(max_events: usize, max_bytes: usize) -> Arc<Self> {
        Arc::new(Self {
            queue: Mutex::new(Queue {
                first: 0,
                slots: VecDeque::new(),
                bytes: 0,
                subscriptions: 0,
            }),
            end: watch::channel(0).0,
            max_events: max_events.max(1),
            max_bytes,
        })
    }

    fn lock(&self) -> MutexGuard<'_, Queue<T>> {
        // nothing here panics while holding the lock; a poisoned queue is still whole
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A subscription that reads the events sent from now on.
    pub fn subscribe(self: &Arc<Self>) -> Receiver<T> {
        let mut queue = self.lock();
        queue.subscriptions += 1;
        Receiver {
            fanout: self.clone(),
            next: queue.end(),
            end: self.end.subscribe(),
        }
    }

    /// How many subscriptions there are.
    pub fn subscriptions(&self) -> usize {
        self.lock().subscriptions
    }

    /// The events and bytes waiting to be read.
    pub fn waiting(&self) -> (usize, usize) {
        let queue = self.lock();
        (queue.slots.len(), queue.bytes)
    }

    /// Sends an event of about `bytes` to every subscription; with none, it is dropped.
    /// The oldest events go while the queue is over either bound (the newest always
    /// stays, however large).
    pub fn send(&self, event: Arc<T>, bytes: usize) {
        let end = {
            let mut queue = self.lock();
            if queue.subscriptions == 0 {
                return;
            }
            let unread = queue.subscriptions;
            queue.slots.push_back(Slot {
                event,
                bytes,
                unread,
            });
            queue.bytes += bytes;
            while queue.slots.len() > self.max_events
                || (queue.bytes > self.max_bytes && queue.slots.len() > 1)
            {
                queue.pop();
            }
            queue.end()
        };
        self.end.send_replace(end);
    }
}

/// One subscription's reading side. Dropping it releases what it had yet to read.
pub struct Receiver<T> {
    fanout: Arc<Fanout<T>>,
    next: u64,
    end: watch::Receiver<u64>,
}

impl<T> Receiver<T> {
    /// The next event, waiting for one; `Missed::Lagged` when some went unread.
    pub async fn recv(&mut self) -> Result<Arc<T>, Missed> {
        loop {
            // marked seen before looking, so a send after the look wakes the wait
            self.end.borrow_and_update();
            if let Some(read) = self.try_recv() {
                return read;
            }
            if self.end.changed().await.is_err() {
                // the sender is gone only with the last receiver's fanout: never here
                std::future::pending::<()>().await;
            }
        }
    }

    fn try_recv(&mut self) -> Option<Result<Arc<T>, Missed>> {
        let mut queue = self.fanout.lock();
        if self.next < queue.first {
            let missed = queue.first - self.next;
            self.next = queue.first;
            return Some(Err(Missed::Lagged(missed)));
        }
        let at = usize::try_from(self.next - queue.first).ok()?;
        let slot = queue.slots.get_mut(at)?;
        slot.unread -= 1;
        let event = slot.event.clone();
        self.next += 1;
        queue.drop_read();
        Some(Ok(event))
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let mut queue = self.fanout.lock();
        queue.subscriptions -= 1;
        let from = crate::convert::to_usize(self.next.saturating_sub(queue.first));
        for slot in queue.slots.iter_mut().skip(from) {
            slot.unread -= 1;
        }
        queue.drop_read();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::{Fanout, Missed};

    #[tokio::test]
    async fn every_subscription_reads_every_event_in_order_then_it_is_let_go() {
        let fanout = Fanout::new(10, 1_000);
        let (mut a, mut b) = (fanout.subscribe(), fanout.subscribe());
        for n in 0..3 {
            fanout.send(Arc::new(n), 10);
        }
        assert_eq!(fanout.waiting(), (3, 30));
        for n in 0..3 {
            assert_eq!(*a.recv().await.expect("an event"), n);
        }
        // b has read nothing yet: all three wait for it
        assert_eq!(fanout.waiting(), (3, 30));
        assert_eq!(*b.recv().await.expect("an event"), 0);
        assert_eq!(fanout.waiting(), (2, 20));
        drop(b);
        assert_eq!(fanout.waiting(), (0, 0));
    }

    #[tokio::test]
    async fn a_reader_that_stops_holds_no_more_than_the_bound_in_bytes() {
        let fanout = Fanout::new(1_000, 100);
        let mut stalled = fanout.subscribe();
        for n in 0..50 {
            fanout.send(Arc::new(n), 30);
        }
        // three of 30 bytes fit in 100
        assert_eq!(fanout.waiting(), (3, 90));
        assert_eq!(stalled.recv().await, Err(Missed::Lagged(47)));
        assert_eq!(*stalled.recv().await.expect("the oldest kept"), 47);
    }

    #[tokio::test]
    async fn the_count_bounds_too_and_the_newest_stays_however_large() {
        let fanout = Fanout::new(2, 100);
        let mut reader = fanout.subscribe();
        for n in 0..5 {
            fanout.send(Arc::new(n), 1);
        }
        assert_eq!(fanout.waiting(), (2, 2));
        fanout.send(Arc::new(99), 500);
        assert_eq!(fanout.waiting(), (1, 500));
        assert_eq!(reader.recv().await, Err(Missed::Lagged(5)));
        assert_eq!(*reader.recv().await.expect("the large one"), 99);
    }

    #[tokio::test]
    async fn with_no_subscription_nothing_is_kept() {
        let fanout = Fanout::new(10, 100);
        fanout.send(Arc::new(1), 10);
        assert_eq!(fanout.waiting(), (0, 0));
        let mut late = fanout.subscribe();
        fanout.send(Arc::new(2), 10);
        assert_eq!(*late.recv().await.expect("sent after subscribing"), 2);
    }

    #[tokio::test]
    async fn a_waiting_reader_wakes_when_an_event_is_sent() {
        let fanout = Fanout::new(10, 100);
        let mut reader = fanout.subscribe();
        let waiting = tokio::spawn(async move { reader.recv().await.map(|e| *e) });
        tokio::task::yield_now().await;
        fanout.send(Arc::new(7), 1);
        assert_eq!(waiting.await.expect("the task ends"), Ok(7));
    }
}
