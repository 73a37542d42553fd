//! Work that runs beside the server (forgetting quiet clients of the rate limiter, the
//! change follower, the search index's rebuilds, and whatever else must happen on a
//! timer) and stops with it: every task gets a token that is cancelled when the app shuts
//! down or is dropped, and shutdown waits for the tasks, and the blocking work, to finish.

use std::future::Future;

use tokio_util::sync::{CancellationToken, DropGuard};
use tokio_util::task::TaskTracker;

/// The app's background tasks.
#[derive(Clone, Debug, Default)]
pub struct Tasks {
    stop: CancellationToken,
    tracker: TaskTracker,
}

impl Tasks {
    /// Runs `task` until it returns; it is handed the token to watch for shutdown.
    pub fn spawn<F>(&self, name: &'static str, task: impl FnOnce(CancellationToken) -> F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let future = task(self.stop.child_token());
        self.tracker.spawn(async move {
            future.await;
            tracing::debug!(task = name, "background task stopped");
        });
    }

    /// Runs CPU-bound `work` on a blocking thread, tracked like the tasks: shutdown
    /// waits for it to finish.
    pub fn spawn_blocking(&self, name: &'static str, work: impl FnOnce() + Send + 'static) {
        self.tracker.spawn_blocking(move || {
            work();
            tracing::debug!(task = name, "background work finished");
        });
    }

    /// A token cancelled when the app shuts down, for work that is not a task here (live
    /// connections).
    pub fn stop_token(&self) -> CancellationToken {
        self.stop.child_token()
    }

    /// Cancels every task when dropped (an app dropped without shutting down).
    pub fn guard(&self) -> DropGuard {
        self.stop.clone().drop_guard()
    }

    /// Asks every task to stop and waits until they have.
    pub async fn shutdown(&self) {
        self.stop.cancel();
        self.tracker.close();
        self.tracker.wait().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn shutdown_stops_every_task_and_waits_for_it() {
        let tasks = Tasks::default();
        let (done, mut finished) = tokio::sync::mpsc::channel::<&str>(2);
        for name in ["one", "two"] {
            let done = done.clone();
            tasks.spawn(name, move |stop| async move {
                stop.cancelled().await;
                let _ = done.send(name).await;
            });
        }
        tasks.shutdown().await;
        let mut stopped = vec![finished.recv().await, finished.recv().await];
        stopped.sort();
        assert_eq!(stopped, vec![Some("one"), Some("two")]);
    }

    #[tokio::test]
    async fn dropping_the_guard_stops_them_too() {
        let tasks = Tasks::default();
        let (done, finished) = tokio::sync::oneshot::channel::<()>();
        tasks.spawn("waiter", move |stop| async move {
            stop.cancelled().await;
            let _ = done.send(());
        });
        drop(tasks.guard());
        assert!(finished.await.is_ok());
    }
}
