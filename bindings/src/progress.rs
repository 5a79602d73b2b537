//! Progress of the long calls (an encode, a benchmark) for a UI to show.

use std::sync::Arc;

/// How far a long call is: `done` of `total` steps (the encoder graph's nodes for an encode, the
/// timed runs for a benchmark). `done == total` once it has finished. (Not `Progress`: Swift
/// files import Foundation, which has a `Progress` of its own.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct StepProgress {
    pub done: i32,
    pub total: i32,
}

impl From<edgesam::StepProgress> for StepProgress {
    fn from(p: edgesam::StepProgress) -> Self {
        // Node and run counts: saturate rather than wrap if one ever passed i32::MAX.
        let int = |v: u32| i32::try_from(v).unwrap_or(i32::MAX);
        StepProgress {
            done: int(p.done),
            total: int(p.total),
        }
    }
}

/// Told of the progress from the worker thread (hop to the UI thread to show it).
#[uniffi::export(with_foreign)]
pub trait ProgressListener: Send + Sync {
    fn on_progress(&self, progress: StepProgress);
}

/// The core's progress callback: tells `listener` (if any) and answers whether to go on.
pub(crate) fn reporter<'a>(
    listener: Option<&'a Arc<dyn ProgressListener>>,
    cancelled: impl Fn() -> bool + 'a,
) -> impl Fn(edgesam::StepProgress) -> bool + 'a {
    move |p| {
        if let Some(listener) = listener {
            listener.on_progress(p.into());
        }
        !cancelled()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[derive(Default)]
    struct Recorder(Mutex<Vec<StepProgress>>);

    impl ProgressListener for Recorder {
        fn on_progress(&self, progress: StepProgress) {
            self.0.lock().unwrap().push(progress);
        }
    }

    #[test]
    fn the_reporter_tells_the_listener_and_answers_whether_to_go_on() {
        let recorder = Arc::new(Recorder::default());
        let listener: Arc<dyn ProgressListener> = recorder.clone();
        let cancelled = std::cell::Cell::new(false);
        let report = reporter(Some(&listener), || cancelled.get());
        assert!(report(edgesam::StepProgress { done: 1, total: 4 }));
        cancelled.set(true);
        assert!(!report(edgesam::StepProgress {
            done: 2,
            total: u32::MAX
        }));
        let seen = recorder.0.lock().unwrap().clone();
        assert_eq!(
            seen,
            [
                StepProgress { done: 1, total: 4 },
                StepProgress {
                    done: 2,
                    total: i32::MAX
                }
            ]
        );
        assert!(reporter(None, || false)(edgesam::StepProgress {
            done: 0,
            total: 1
        }));
    }
}
