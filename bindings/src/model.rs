//! The objects apps hold: a loaded model pair and the embeddings of their photos.

use std::sync::Arc;

use crate::background::{run_in_background, CancellationToken};
use crate::error::{guarded, EdgeSamError};
use crate::images::{ImageSource, Orientation, PixelFormat};
use crate::progress::{reporter, ProgressListener};
use crate::types::{option_count, SegmentPrompt, Segmentation};

/// An EdgeSAM encoder/decoder pair, loaded once and shared freely between threads.
#[derive(uniffi::Object)]
pub struct SegmentAnything {
    model: Arc<edgesam::SegmentAnything>,
}

/// The encoded photo an app keeps per picture; write it out with `toBytes` to cache it.
#[derive(uniffi::Object)]
pub struct ImageEmbedding {
    inner: edgesam::Embedding,
}

/// `threads` 0 means one per CPU core, as in the core; a negative count is `BadOptions`.
pub(crate) fn options(
    threads: i32,
    cache_dir: Option<String>,
) -> Result<edgesam::Options, EdgeSamError> {
    Ok(edgesam::Options {
        threads: option_count(threads, "threads")? as usize,
        cache_dir: cache_dir.map(Into::into),
        ..edgesam::Options::default()
    })
}

/// Decodes and encodes; `progress` is told of each node of the encoder graph and answers
/// whether to go on, so a cancelled call stops within one node.
fn encode(
    model: &edgesam::SegmentAnything,
    source: &ImageSource,
    progress: &dyn Fn(edgesam::StepProgress) -> bool,
) -> Result<Arc<ImageEmbedding>, EdgeSamError> {
    let image = source.decode()?;
    let inner = model.encode_with_progress(&image, progress)?;
    Ok(Arc::new(ImageEmbedding { inner }))
}

fn segment(
    model: &edgesam::SegmentAnything,
    embedding: &ImageEmbedding,
    prompt: SegmentPrompt,
) -> Result<Segmentation, EdgeSamError> {
    let (prompt, mask_index) = prompt.to_core()?;
    Ok(model.segment(&embedding.inner, &prompt, mask_index)?.into())
}

impl SegmentAnything {
    pub(crate) fn core(&self) -> &edgesam::SegmentAnything {
        &self.model
    }

    /// The model for a worker thread.
    pub(crate) fn shared_core(&self) -> Arc<edgesam::SegmentAnything> {
        self.model.clone()
    }

    async fn encode_in_background(
        &self,
        source: ImageSource,
        progress: Option<Arc<dyn ProgressListener>>,
        cancellation: Option<Arc<CancellationToken>>,
    ) -> Result<Arc<ImageEmbedding>, EdgeSamError> {
        let model = self.model.clone();
        run_in_background(cancellation, move |token| {
            let progress = reporter(progress.as_ref(), || token.is_cancelled());
            encode(&model, &source, &progress)
        })
        .await
    }
}

#[uniffi::export]
impl SegmentAnything {
    /// Loads the encoder and decoder ONNX files. `threads` 0 (the default) uses one per CPU core,
    /// 1 the calling thread only; a negative count is `BadOptions`. `cache_dir`, a folder the app
    /// owns (its caches directory), keeps the analysed graphs so that the next launch loads
    /// faster; a missing or damaged entry is rebuilt with a logged warning, never an error.
    #[uniffi::constructor(default(threads = 0, cache_dir = None))]
    pub fn from_files(
        encoder_path: String,
        decoder_path: String,
        threads: i32,
        cache_dir: Option<String>,
    ) -> Result<Arc<Self>, EdgeSamError> {
        guarded(|| {
            let model = edgesam::SegmentAnything::from_files(
                encoder_path,
                decoder_path,
                options(threads, cache_dir)?,
            )?;
            Ok(Arc::new(SegmentAnything {
                model: Arc::new(model),
            }))
        })
    }

    /// Loads the pair from ONNX bytes (an app bundle resource, an asset pack); `threads` and
    /// `cache_dir` as in `from_files`.
    #[uniffi::constructor(default(threads = 0, cache_dir = None))]
    pub fn from_bytes(
        encoder: Vec<u8>,
        decoder: Vec<u8>,
        threads: i32,
        cache_dir: Option<String>,
    ) -> Result<Arc<Self>, EdgeSamError> {
        guarded(|| {
            let model = edgesam::SegmentAnything::from_bytes(
                &encoder,
                &decoder,
                options(threads, cache_dir)?,
            )?;
            Ok(Arc::new(SegmentAnything {
                model: Arc::new(model),
            }))
        })
    }

    /// Encodes a JPEG, PNG or WebP file's bytes (EXIF orientation applied). Blocks: call it off
    /// the UI thread, or use `encodeImageAsync`.
    pub fn encode_image(&self, data: Vec<u8>) -> Result<Arc<ImageEmbedding>, EdgeSamError> {
        guarded(|| encode(&self.model, &ImageSource::Encoded(data), &|_| true))
    }

    /// Encodes raw pixels (`row_stride` bytes per row, as `CGImage.bytesPerRow` or
    /// `Bitmap.rowBytes`), stored as `orientation` says (upright when absent: a `UIImage`'s
    /// `imageOrientation` or a camera frame's rotation turns them here, and the masks come back
    /// upright). Blocks: call it off the UI thread, or use `encodePixelsAsync`.
    #[uniffi::method(default(orientation = None))]
    pub fn encode_pixels(
        &self,
        pixels: Vec<u8>,
        width: i32,
        height: i32,
        row_stride: i32,
        format: PixelFormat,
        orientation: Option<Orientation>,
    ) -> Result<Arc<ImageEmbedding>, EdgeSamError> {
        let source = ImageSource::pixels(pixels, (width, height, row_stride), format, orientation);
        guarded(|| encode(&self.model, &source, &|_| true))
    }

    /// `encodeImage` on a worker thread: `async` in Swift, `suspend` in Kotlin. `progress` is
    /// told of each node of the encoder graph (a real percentage for a progress bar). It returns
    /// `Cancelled` at once when `cancellation` is cancelled; cancelling the Kotlin coroutine does
    /// the same by itself (in Swift, use the `encode(imageData:)` convenience, which wires the
    /// Task's cancellation to a token).
    #[uniffi::method(default(progress = None, cancellation = None))]
    pub async fn encode_image_async(
        &self,
        data: Vec<u8>,
        progress: Option<Arc<dyn ProgressListener>>,
        cancellation: Option<Arc<CancellationToken>>,
    ) -> Result<Arc<ImageEmbedding>, EdgeSamError> {
        self.encode_in_background(ImageSource::Encoded(data), progress, cancellation)
            .await
    }

    /// `encodePixels` on a worker thread, with progress and cancellation as `encodeImageAsync`.
    #[uniffi::method(default(orientation = None, progress = None, cancellation = None))]
    #[allow(clippy::too_many_arguments)] // the pixel buffer's layout, then the call's options
    pub async fn encode_pixels_async(
        &self,
        pixels: Vec<u8>,
        width: i32,
        height: i32,
        row_stride: i32,
        format: PixelFormat,
        orientation: Option<Orientation>,
        progress: Option<Arc<dyn ProgressListener>>,
        cancellation: Option<Arc<CancellationToken>>,
    ) -> Result<Arc<ImageEmbedding>, EdgeSamError> {
        let source = ImageSource::pixels(pixels, (width, height, row_stride), format, orientation);
        self.encode_in_background(source, progress, cancellation)
            .await
    }

    /// The mask for a prompt on an encoded photo. Tens of milliseconds: cheap enough per tap, but
    /// off the UI thread is still best (`segmentAsync`).
    pub fn segment(
        &self,
        embedding: Arc<ImageEmbedding>,
        prompt: SegmentPrompt,
    ) -> Result<Segmentation, EdgeSamError> {
        guarded(|| segment(&self.model, &embedding, prompt))
    }
}

#[uniffi::export]
impl SegmentAnything {
    /// `segment` on a worker thread: `async` in Swift, `suspend` in Kotlin.
    pub async fn segment_async(
        &self,
        embedding: Arc<ImageEmbedding>,
        prompt: SegmentPrompt,
    ) -> Result<Segmentation, EdgeSamError> {
        let model = self.model.clone();
        run_in_background(None, move |_| segment(&model, &embedding, prompt)).await
    }
}

impl ImageEmbedding {
    pub(crate) fn core(&self) -> &edgesam::Embedding {
        &self.inner
    }
}

#[uniffi::export]
impl ImageEmbedding {
    /// Reads an embedding saved with `toBytes`.
    #[uniffi::constructor]
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Arc<Self>, EdgeSamError> {
        guarded(|| {
            Ok(Arc::new(ImageEmbedding {
                inner: edgesam::Embedding::from_bytes(&bytes)?,
            }))
        })
    }

    /// The embedding as bytes (about 4 MiB), to cache per photo.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.inner.to_bytes()
    }

    /// The photo's width in pixels, after EXIF orientation.
    pub fn width(&self) -> i32 {
        self.inner.image_size().0 as i32
    }

    /// The photo's height in pixels, after EXIF orientation.
    pub fn height(&self) -> i32 {
        self.inner.image_size().1 as i32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_negative_thread_count_is_refused_before_loading() {
        let refused = SegmentAnything::from_bytes(vec![], vec![], -1, None).err();
        assert!(
            matches!(refused, Some(EdgeSamError::BadOptions { .. })),
            "{refused:?}"
        );
    }

    #[test]
    fn empty_model_bytes_are_not_a_model() {
        let refused = SegmentAnything::from_bytes(vec![], vec![], 1, None).err();
        assert!(
            matches!(refused, Some(EdgeSamError::NotAModel { .. })),
            "{refused:?}"
        );
    }

    #[test]
    fn bytes_that_are_no_embedding_are_a_bad_embedding() {
        for bytes in [vec![], b"EDGESAM?".to_vec(), vec![0; 4096]] {
            let refused = ImageEmbedding::from_bytes(bytes).err();
            assert!(
                matches!(refused, Some(EdgeSamError::BadEmbedding { .. })),
                "{refused:?}"
            );
        }
    }
}
