//! The UniFFI layer over `edgesam`: one API for Swift, Kotlin and Python.
//!
//! Load a [`SegmentAnything`] once, `encode` each photo into an [`ImageEmbedding`] (off the UI
//! thread with the async variants), then `segment` per tap. Every call returns a result: errors
//! are [`EdgeSamError`] cases an app can act on, and a Rust panic becomes `Internal`, never a crash.

mod background;
mod benchmark;
mod error;
mod everything;
mod images;
mod logging;
mod model;
mod outputs;
mod progress;
mod types;

pub use background::CancellationToken;
pub use benchmark::run_benchmark;
pub use error::EdgeSamError;
pub use everything::{AutoMask, EverythingListener, EverythingOptions, EverythingProgress};
pub use images::{decode_image, Orientation, PixelFormat, RgbaImage};
pub use logging::{init_logging, LogLevel};
pub use model::{ImageEmbedding, SegmentAnything};
pub use outputs::{CocoRle, Cutout, MaskColor, MaskPoint, MaskPolygon, SegmentMask};
pub use progress::{ProgressListener, StepProgress};
pub use types::{BoundingBox, PromptBox, PromptPoint, SegmentPrompt, Segmentation};

uniffi::setup_scaffolding!("edgesam");
