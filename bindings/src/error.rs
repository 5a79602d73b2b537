//! The one error type the bindings throw (`EdgeSamException` in Kotlin, `EdgeSamError` in Swift).

use std::panic::{catch_unwind, AssertUnwindSafe};

/// What went wrong, in cases an app can act on. Each carries a human-readable `reason`, the
/// whole message (it already names the category, e.g. "bad image: ...").
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum EdgeSamError {
    /// A model file does not exist or cannot be read.
    #[error("{reason}")]
    FileNotFound { reason: String },
    /// The bytes are not an ONNX model (empty, truncated, another format).
    #[error("{reason}")]
    NotAModel { reason: String },
    /// A model, but not the EdgeSAM encoder or decoder expected (swapped files, another network).
    #[error("{reason}")]
    WrongModel { reason: String },
    /// The image cannot be decoded, has an unsupported size, or the pixel buffer does not fit.
    #[error("{reason}")]
    BadImage { reason: String },
    /// The prompt is empty, non-finite, outside the photo, or asks for a mask index beyond 3.
    #[error("{reason}")]
    BadPrompt { reason: String },
    /// Embedding bytes that are damaged, or an embedding made by another encoder.
    #[error("{reason}")]
    BadEmbedding { reason: String },
    /// A mask whose bytes do not fit its size, masks of different sizes combined, a mask and a
    /// photo of different sizes, or COCO RLE that does not decode.
    #[error("{reason}")]
    BadMask { reason: String },
    /// The call was cancelled before it finished.
    #[error("the call was cancelled")]
    Cancelled,
    /// A failure inside the library (including a caught panic): please report it.
    #[error("{reason}")]
    Internal { reason: String },
}

impl From<edgesam::Error> for EdgeSamError {
    fn from(e: edgesam::Error) -> Self {
        use edgesam::Error as E;
        let reason = e.to_string();
        match e {
            E::ModelFile { .. } => EdgeSamError::FileNotFound { reason },
            E::NotAModel { .. } => EdgeSamError::NotAModel { reason },
            E::WrongModel { .. } => EdgeSamError::WrongModel { reason },
            E::BadImage { .. } | E::UnsupportedImageSize { .. } => {
                EdgeSamError::BadImage { reason }
            }
            E::BadPrompt { .. } | E::MaskIndexOutOfRange { .. } => {
                EdgeSamError::BadPrompt { reason }
            }
            E::BadEmbedding { .. } => EdgeSamError::BadEmbedding { reason },
            E::BadMask { .. } => EdgeSamError::BadMask { reason },
            E::Cancelled => EdgeSamError::Cancelled,
            E::Inference { .. } => EdgeSamError::Internal { reason },
        }
    }
}

/// Runs `f`, turning a panic into `Internal` so that it never unwinds into the app.
pub(crate) fn guarded<T>(f: impl FnOnce() -> Result<T, EdgeSamError>) -> Result<T, EdgeSamError> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|payload| {
        let what = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        log::error!("caught a panic: {what}");
        Err(EdgeSamError::Internal {
            reason: format!("internal error (panic): {what}"),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_an_internal_error() {
        let r: Result<(), _> = guarded(|| panic!("boom"));
        assert!(matches!(r, Err(EdgeSamError::Internal { reason }) if reason.contains("boom")));
    }

    #[test]
    fn core_errors_map_to_actionable_cases() {
        let e: EdgeSamError = edgesam::Error::MaskIndexOutOfRange { index: 7 }.into();
        assert!(matches!(e, EdgeSamError::BadPrompt { .. }));
        let e: EdgeSamError = edgesam::Error::BadMask {
            detail: "2x2 and 3x3".into(),
        }
        .into();
        assert!(matches!(e, EdgeSamError::BadMask { reason } if reason == "bad mask: 2x2 and 3x3"));
    }
}
