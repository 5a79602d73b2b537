//! Long calls for async callers: the work runs on a thread of its own, so awaiting it in Swift
//! or Kotlin never blocks the caller's thread, and no async runtime is needed.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use futures_channel::oneshot;

use crate::error::{guarded, EdgeSamError};

/// Cancels an async call from the outside. Kotlin cancels a `suspend` call by itself; Swift's
/// generated code does not tell Rust when a `Task` is cancelled, so the Swift conveniences
/// create a token and call `cancel()` from the task's cancellation handler.
#[derive(Default, uniffi::Object)]
pub struct CancellationToken {
    state: Mutex<TokenState>,
}

#[derive(Default)]
struct TokenState {
    cancelled: bool,
    waiters: Vec<Waker>,
}

#[uniffi::export]
impl CancellationToken {
    #[uniffi::constructor]
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Makes every call using this token return `Cancelled` now; work already running on a
    /// worker stops at its next step (for an encode, the next node of the encoder graph) and
    /// its result is discarded.
    pub fn cancel(&self) {
        let waiters = {
            let mut state = self.lock();
            state.cancelled = true;
            std::mem::take(&mut state.waiters)
        };
        waiters.into_iter().for_each(Waker::wake);
    }

    pub fn is_cancelled(&self) -> bool {
        self.lock().cancelled
    }
}

impl CancellationToken {
    fn lock(&self) -> std::sync::MutexGuard<'_, TokenState> {
        // The state stays consistent even if a holder panicked: a flag and a list of wakers.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Ready once cancelled; otherwise remembers the waker to wake on `cancel()`.
    fn poll_cancelled(&self, cx: &mut Context<'_>) -> bool {
        let mut state = self.lock();
        if !state.cancelled {
            state.waiters.push(cx.waker().clone());
        }
        state.cancelled
    }
}

/// The worker's result, or `Cancelled` as soon as the token is cancelled; dropping it (the
/// caller's task went away) cancels the token so the worker stops early.
struct Outcome<T> {
    result: oneshot::Receiver<Result<T, EdgeSamError>>,
    token: Arc<CancellationToken>,
    finished: bool,
}

impl<T> Future for Outcome<T> {
    type Output = Result<T, EdgeSamError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if let Poll::Ready(result) = Pin::new(&mut self.result).poll(cx) {
            self.finished = true;
            return Poll::Ready(result.unwrap_or(Err(EdgeSamError::Cancelled)));
        }
        if self.token.poll_cancelled(cx) {
            return Poll::Ready(Err(EdgeSamError::Cancelled));
        }
        Poll::Pending
    }
}

impl<T> Drop for Outcome<T> {
    fn drop(&mut self) {
        // The caller gave up before the result: tell the worker. A caller's token stays usable
        // for later calls when this one finished.
        if !self.finished {
            self.token.cancel();
        }
    }
}

/// Runs `work` on a new thread and awaits its result or the token's cancellation. `work` gets
/// the token to check between its steps.
pub(crate) async fn run_in_background<T: Send + 'static>(
    token: Option<Arc<CancellationToken>>,
    work: impl FnOnce(&CancellationToken) -> Result<T, EdgeSamError> + Send + 'static,
) -> Result<T, EdgeSamError> {
    let token = token.unwrap_or_default();
    if token.is_cancelled() {
        return Err(EdgeSamError::Cancelled);
    }
    let (sender, receiver) = oneshot::channel();
    let worker_token = token.clone();
    std::thread::Builder::new()
        .name("edgesam-worker".into())
        .spawn(move || {
            let result = guarded(|| work(&worker_token));
            // The receiver is gone when the caller cancelled: nobody wants the result.
            let _ = sender.send(result);
        })
        .map_err(|e| EdgeSamError::Internal {
            reason: format!("cannot start a worker thread: {e}"),
        })?;
    Outcome {
        result: receiver,
        token,
        finished: false,
    }
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::time::Duration;

    /// Polls a future to completion on this thread (no runtime in this crate).
    fn block_on<F: Future>(future: F) -> F::Output {
        struct ThreadWaker(std::thread::Thread);
        impl std::task::Wake for ThreadWaker {
            fn wake(self: Arc<Self>) {
                self.0.unpark();
            }
        }
        let waker = Waker::from(Arc::new(ThreadWaker(std::thread::current())));
        let mut cx = Context::from_waker(&waker);
        let mut future = std::pin::pin!(future);
        loop {
            if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
                return out;
            }
            std::thread::park_timeout(Duration::from_millis(50));
        }
    }

    #[test]
    fn the_result_arrives_from_the_worker() {
        assert_eq!(
            block_on(run_in_background(None, |_| Ok(41 + 1))).unwrap(),
            42
        );
    }

    #[test]
    fn cancelling_returns_while_the_worker_still_runs_and_the_worker_sees_it() {
        let token = CancellationToken::new();
        let (started, worker_started) = mpsc::channel();
        let (release, released) = mpsc::channel::<()>();
        let (report, seen) = mpsc::channel();
        let canceller = token.clone();
        std::thread::spawn(move || {
            worker_started.recv().unwrap();
            canceller.cancel();
        });
        let result = block_on(run_in_background(Some(token), move |t| {
            started.send(()).unwrap();
            // Held until the caller has its answer, so the call cannot have waited for it. (The
            // timeout only turns a call that does wait into a failure instead of a hang.)
            let _ = released.recv_timeout(Duration::from_secs(60));
            report.send(t.is_cancelled()).unwrap();
            Ok(())
        }));
        assert!(matches!(result, Err(EdgeSamError::Cancelled)), "{result:?}");
        release.send(()).unwrap();
        assert!(
            seen.recv().unwrap(),
            "the worker did not see the cancellation"
        );
    }

    #[test]
    fn a_token_outlives_a_finished_call() {
        let token = CancellationToken::new();
        block_on(run_in_background(Some(token.clone()), |_| Ok(()))).unwrap();
        assert!(!token.is_cancelled());
        block_on(run_in_background(Some(token), |_| Ok(()))).unwrap();
    }

    #[test]
    fn a_token_cancelled_beforehand_starts_nothing() {
        let token = CancellationToken::new();
        token.cancel();
        let r = block_on(run_in_background(Some(token), |_| -> Result<(), _> {
            panic!("must not run")
        }));
        assert!(matches!(r, Err(EdgeSamError::Cancelled)));
    }

    #[test]
    fn a_panicking_worker_is_an_internal_error() {
        let r: Result<(), _> = block_on(run_in_background(None, |_| panic!("worker boom")));
        assert!(matches!(r, Err(EdgeSamError::Internal { .. })));
    }
}
