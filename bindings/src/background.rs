//! Long calls for async callers: the work runs on a thread of its own, so awaiting it in Swift
//! or Kotlin never blocks the caller's thread, and no async runtime is needed.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use futures_channel::oneshot;

use crate::error::{guarded, EdgeSamError};

/// Set when the awaiting side goes away (its task was cancelled and dropped the future).
pub(crate) struct CancelFlag(Arc<AtomicBool>);

impl CancelFlag {
    pub(crate) fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// Runs `work` on a new thread and awaits its result. Dropping the returned future (a cancelled
/// Swift `Task` or Kotlin coroutine) returns control at once and raises the flag the work checks
/// between its steps; a step already running finishes and its result is discarded.
pub(crate) async fn run_in_background<T: Send + 'static>(
    work: impl FnOnce(&CancelFlag) -> Result<T, EdgeSamError> + Send + 'static,
) -> Result<T, EdgeSamError> {
    let cancelled = Arc::new(AtomicBool::new(false));
    let flag = CancelFlag(cancelled.clone());
    let (sender, receiver) = oneshot::channel();
    let spawned = std::thread::Builder::new()
        .name("edgesam-worker".into())
        .spawn(move || {
            let result = guarded(|| work(&flag));
            // The receiver is gone when the caller cancelled: nobody wants the result.
            let _ = sender.send(result);
        });
    if let Err(e) = spawned {
        return Err(EdgeSamError::Internal {
            reason: format!("cannot start a worker thread: {e}"),
        });
    }
    /// Raises the flag when the future is dropped: harmless once the work is done, and the
    /// cancellation signal when the caller gave up before.
    struct RaiseOnDrop(Arc<AtomicBool>);
    impl Drop for RaiseOnDrop {
        fn drop(&mut self) {
            self.0.store(true, Ordering::Relaxed);
        }
    }
    let _raise = RaiseOnDrop(cancelled);
    receiver.await.unwrap_or(Err(EdgeSamError::Cancelled))
}
