//! EdgeSAM — on-device Segment Anything — on the pure-Rust inference engine tract.
//!
//! Load the official encoder and decoder ONNX files once, [`SegmentAnything::encode`] each photo
//! once, then [`SegmentAnything::segment`] a mask per tap from the kept [`Embedding`]:
//!
//! ```no_run
//! use edgesam::{decode_image, Options, PromptPoint, SegmentAnything, SegmentPrompt};
//! # fn main() -> edgesam::Result<()> {
//! let model = SegmentAnything::from_files("edge_sam_3x_encoder.onnx", "edge_sam_3x_decoder.onnx", Options::default())?;
//! let photo = decode_image(&std::fs::read("photo.jpg").unwrap())?;
//! let embedding = model.encode(&photo)?;
//! let tap = SegmentPrompt {
//!     points: vec![PromptPoint::positive(812.0, 430.0), PromptPoint::negative(600.0, 300.0)],
//!     r#box: None,
//! };
//! let segmentation = model.segment(&embedding, &tap, None)?;
//! println!("score {} area {}", segmentation.score(), segmentation.mask.area());
//! # Ok(()) }
//! ```
//!
//! The pipeline reproduces the official one: `preprocess` (Pillow's antialiased bilinear resize
//! of the longest side to 1024, normalisation, zero padding), `engine` (the two graphs on tract),
//! `prompt` (coordinates into the 1024 frame, box as two labelled points, no padding point) and
//! `postprocess` (OpenCV-style bilinear upsample, crop, resize, threshold at 0).

pub mod benchmark;
mod embedding;
mod engine;
mod error;
pub mod everything;
#[doc(hidden)]
pub mod fuzzing;
mod image;
pub mod outputs;
mod parallel;
mod postprocess;
mod preprocess;
mod prompt;

use std::path::{Path, PathBuf};

use tract_linalg::multithread::Executor;

pub use embedding::Embedding;
use engine::cache::ModelCache;
/// The graphs' shapes and constants, and the official files' names.
pub use engine::contract;
use engine::contract::{CANDIDATES, LOW_RES_SIDE};
use engine::decoder::{Decoder, DecoderOutput, ImageContext};
use engine::encoder::Encoder;
use engine::profile::OpClock;
pub use engine::{DecoderPlanning, ModelInterface, ModelReport};
pub use error::{Error, ModelRole, Result};
pub use everything::{AutoMask, EverythingOptions, EverythingProgress};
pub use image::{
    decode_image, from_raw_pixels, Orientation, PixelFormat, RgbImage, MAX_IMAGE_PIXELS,
    MIN_IMAGE_SIDE,
};
pub use postprocess::BoundingBox;
use preprocess::EncoderInput;
pub use prompt::{PromptBox, PromptPoint, SegmentPrompt, MAX_POINTS};

use postprocess::STABILITY_OFFSET;

/// How a model pair runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Threads for tract's convolutions and matrix products and for the pre- and
    /// post-processing loops: 0 uses one per available core, 1 the calling thread only.
    pub threads: usize,
    /// How the decoder handles a point count that changes between taps.
    pub decoder_planning: DecoderPlanning,
    /// A folder where the library keeps each model's analysed and rewritten graph (NNEF), so
    /// that later loads of the same files skip the ONNX work. `None` keeps nothing. A missing,
    /// stale or damaged entry is rebuilt from the ONNX file and an unwritable folder only logs
    /// a warning: the cache never makes a load fail.
    pub cache_dir: Option<PathBuf>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            threads: 1,
            decoder_planning: DecoderPlanning::default(),
            cache_dir: None,
        }
    }
}

/// How far a long call is: `done` of `total` steps (the encoder graph's nodes for an encode, the
/// timed steps for a benchmark).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepProgress {
    pub done: u32,
    pub total: u32,
}

/// A mask at the photo's resolution: one byte per pixel, 255 inside, 0 outside.
#[derive(Clone, PartialEq, Eq)]
pub struct Mask {
    pub width: u32,
    pub height: u32,
    pub data: Vec<u8>,
}

impl std::fmt::Debug for Mask {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Mask({}x{}, area {})",
            self.width,
            self.height,
            self.area()
        )
    }
}

impl Mask {
    /// Pixels inside the mask.
    pub fn area(&self) -> u64 {
        self.data.iter().filter(|&&v| v != 0).count() as u64
    }

    /// The rectangle enclosing the mask; `None` when it is empty.
    pub fn bounding_box(&self) -> Option<BoundingBox> {
        postprocess::bounding_box(&self.data, self.width)
    }
}

/// The decoder's answer to one prompt.
#[derive(Debug, Clone)]
pub struct Segmentation {
    /// The four candidates' scores: stability scores with the official decoder file, IoU
    /// predictions with a plain export. A candidate with no logit above -1, whose stability
    /// score the graph computes as 0/0, scores 0.
    pub scores: [f32; CANDIDATES],
    /// The four candidates' 256x256 logits, candidate after candidate, row-major.
    pub low_res_logits: Vec<f32>,
    /// Which candidate `mask` is.
    pub mask_index: usize,
    /// The chosen candidate at the photo's resolution.
    pub mask: Mask,
}

impl Segmentation {
    /// The chosen candidate's score.
    pub fn score(&self) -> f32 {
        self.scores[self.mask_index]
    }

    /// One candidate's 256x256 logits.
    pub fn low_res(&self, index: usize) -> &[f32] {
        let plane = LOW_RES_SIDE * LOW_RES_SIDE;
        &self.low_res_logits[index * plane..(index + 1) * plane]
    }

    /// SAM's stability score of a candidate, computed here from its logits (the official decoder
    /// file returns the same figure as its scores; a plain export returns IoU predictions).
    pub fn stability_score(&self, index: usize) -> f32 {
        postprocess::stability_score(self.low_res(index), STABILITY_OFFSET)
    }
}

/// An EdgeSAM encoder/decoder pair, loaded once; share it between threads freely.
pub struct SegmentAnything {
    encoder: Encoder,
    decoder: Decoder,
    executor: Executor,
    /// Threads for tract and for the row loops of pre- and post-processing.
    threads: usize,
}

impl std::fmt::Debug for SegmentAnything {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "SegmentAnything(encoder {})",
            contract::to_hex(&self.encoder.sha256()[..8])
        )
    }
}

impl SegmentAnything {
    /// Loads the pair from ONNX files (the official ones, unmodified).
    pub fn from_files(
        encoder: impl AsRef<Path>,
        decoder: impl AsRef<Path>,
        options: Options,
    ) -> Result<Self> {
        let encoder_bytes = read_model_file(encoder.as_ref())?;
        let decoder_bytes = read_model_file(decoder.as_ref())?;
        Self::from_bytes(&encoder_bytes, &decoder_bytes, options)
    }

    /// Loads the pair from ONNX bytes (models kept in an app bundle or asset pack).
    pub fn from_bytes(encoder: &[u8], decoder: &[u8], options: Options) -> Result<Self> {
        let started = std::time::Instant::now();
        // The two graphs load independently: on a phone's several cores the cold start is the
        // slower of the two, not their sum.
        let cache = options.cache_dir.as_deref().map(ModelCache::new);
        let (encoder, decoder) = std::thread::scope(|scope| {
            let decoder = scope
                .spawn(|| Decoder::from_bytes(decoder, options.decoder_planning, cache.as_ref()));
            let encoder = Encoder::from_bytes(encoder, cache.as_ref());
            let decoder = decoder.join().unwrap_or_else(|panic| {
                Err(Error::Inference {
                    role: ModelRole::Decoder,
                    detail: format!("loading panicked: {}", panic_text(&panic)),
                })
            });
            (encoder, decoder)
        });
        let (encoder, decoder) = (encoder?, decoder?);
        let name =
            contract::official_file_name(encoder.sha256()).unwrap_or("a non-official encoder");
        log::info!("loaded {name} and its decoder in {:?}", started.elapsed());
        Ok(Self::from_parts(encoder, decoder, options.threads))
    }

    /// Pairs an encoder and a decoder loaded separately.
    fn from_parts(encoder: Encoder, decoder: Decoder, threads: usize) -> Self {
        let threads = match threads {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        };
        log::info!("running on {threads} thread(s)");
        SegmentAnything {
            encoder,
            decoder,
            executor: engine::executor_for(threads),
            threads,
        }
    }

    /// Threads the pair runs on: [`Options::threads`] with 0 resolved to the core count.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// SHA-256 of the encoder file: embeddings carry it to catch a mismatched pair.
    pub fn encoder_sha256(&self) -> &[u8; 32] {
        self.encoder.sha256()
    }

    /// SHA-256 of the decoder file.
    pub fn decoder_sha256(&self) -> &[u8; 32] {
        self.decoder.sha256()
    }

    /// Encodes a photo once; keep the embedding and segment from it per tap.
    pub fn encode(&self, image: &RgbImage) -> Result<Embedding> {
        self.encode_with_progress(image, &|_| true)
    }

    /// [`SegmentAnything::encode`] that reports how far it is: `progress` gets 0 of N after
    /// pre-processing, then each node of the encoder graph before it runs (N is the node count),
    /// and N of N at the end. Answering false stops the encode with [`Error::Cancelled`] before
    /// the next node (the slowest takes tens of milliseconds on a phone).
    pub fn encode_with_progress(
        &self,
        image: &RgbImage,
        progress: &dyn Fn(StepProgress) -> bool,
    ) -> Result<Embedding> {
        let input = preprocess::preprocess_with_threads(image, self.threads);
        self.encode_preprocessed(&input, image.width(), image.height(), progress)
    }

    fn encode_preprocessed(
        &self,
        input: &EncoderInput,
        width: u32,
        height: u32,
        progress: &dyn Fn(StepProgress) -> bool,
    ) -> Result<Embedding> {
        image::check_size(width, height)?;
        if (input.resized_width, input.resized_height) != contract::resized_size(width, height) {
            return Err(Error::bad_image(format!(
                "the encoder input holds a {}x{} picture, a {width}x{height} photo resizes to {:?}",
                input.resized_width,
                input.resized_height,
                contract::resized_size(width, height)
            )));
        }
        let started = std::time::Instant::now();
        let tensor = self
            .encoder
            .run(&input.data, &self.executor, progress, None)?;
        let embedding = Embedding::new(tensor, width, height, *self.encoder.sha256());
        // The decoder's per-photo work is done now, so that the first tap is as fast as the rest.
        self.image_context(&embedding)?;
        log::debug!(
            "encoded a {width}x{height} photo and prepared the decoder in {:?}",
            started.elapsed()
        );
        Ok(embedding)
    }

    /// The decoder's per-photo work on `embedding`, computed once and kept in it.
    fn image_context(&self, embedding: &Embedding) -> Result<ImageContext> {
        if let Some(context) = embedding.cached_context(self.decoder.split()) {
            return Ok(context);
        }
        let context = self
            .decoder
            .image_context(embedding.tensor(), &self.executor, None)?;
        embedding.cache_context(&context);
        Ok(context)
    }

    /// Runs the decoder alone: the four candidates' scores and 256x256 logits, no post-processing.
    /// `clock` times the prompt part's nodes.
    pub(crate) fn decode(
        &self,
        embedding: &Embedding,
        prompt: &SegmentPrompt,
        clock: Option<&OpClock>,
    ) -> Result<DecoderOutput> {
        if embedding.encoder_sha256() != self.encoder.sha256() {
            return Err(Error::bad_embedding(format!(
                "it was made by another encoder (SHA-256 {}), this model pair's is {}",
                contract::to_hex(embedding.encoder_sha256()),
                contract::to_hex(self.encoder.sha256())
            )));
        }
        let (original, resized) = (embedding.image_size(), embedding.resized_size());
        prompt.validate(original.0, original.1)?;
        let decoder_prompt = prompt::decoder_prompt(prompt, original, resized);
        let context = self.image_context(embedding)?;
        self.decoder.run(
            embedding.tensor(),
            &context,
            &decoder_prompt,
            &self.executor,
            clock,
        )
    }

    /// Segments the object a prompt marks. `mask_index` picks a candidate (0..=3); `None` picks
    /// as the official demo does: the best score when there are points, candidate 0 for a box
    /// alone.
    pub fn segment(
        &self,
        embedding: &Embedding,
        prompt: &SegmentPrompt,
        mask_index: Option<usize>,
    ) -> Result<Segmentation> {
        if let Some(index) = mask_index.filter(|&i| i >= CANDIDATES) {
            return Err(Error::MaskIndexOutOfRange { index });
        }
        let started = std::time::Instant::now();
        let out = self.decode(embedding, prompt, None)?;
        let decoded = started.elapsed();
        let index = mask_index.unwrap_or_else(|| prompt.default_mask_index(&out.scores));
        let (original, resized) = (embedding.image_size(), embedding.resized_size());
        let plane = LOW_RES_SIDE * LOW_RES_SIDE;
        let mask = Mask {
            width: original.0,
            height: original.1,
            data: postprocess::mask_at_image_size(
                &out.masks[index * plane..(index + 1) * plane],
                resized,
                original,
                self.threads,
            ),
        };
        log::debug!(
            "segmented {} tokens: decoder {decoded:?}, total {:?}",
            prompt.token_count(),
            started.elapsed()
        );
        Ok(Segmentation {
            scores: out.scores,
            low_res_logits: out.masks,
            mask_index: index,
            mask,
        })
    }
}

/// One photo's whole run with every intermediate value kept, for checking the pipeline against
/// the reference stage by stage (`edgesam segment --dump-dir`).
#[derive(Debug, Clone)]
pub struct Trace {
    /// The encoder's input, `[1, 3, 1024, 1024]` channel-major: the resized, normalised and
    /// padded photo.
    pub encoder_input: Vec<f32>,
    /// The encoder's output.
    pub embedding: Embedding,
    /// The decoder's `point_coords` `[1, N, 2]`, in the encoder's frame.
    pub point_coords: Vec<f32>,
    /// The decoder's `point_labels` `[1, N]`.
    pub point_labels: Vec<f32>,
    /// The answer, as [`SegmentAnything::segment`] gives it.
    pub segmentation: Segmentation,
    /// How long pre-processing, encoding and segmenting took.
    pub preprocess_time: std::time::Duration,
    pub encode_time: std::time::Duration,
    pub segment_time: std::time::Duration,
}

impl SegmentAnything {
    /// [`SegmentAnything::encode`] then [`SegmentAnything::segment`], keeping every intermediate
    /// value; the results are the same as those two calls give.
    pub fn segment_traced(
        &self,
        image: &RgbImage,
        prompt: &SegmentPrompt,
        mask_index: Option<usize>,
    ) -> Result<Trace> {
        let started = std::time::Instant::now();
        let input = preprocess::preprocess_with_threads(image, self.threads);
        let preprocess_time = started.elapsed();
        let started = std::time::Instant::now();
        let embedding =
            self.encode_preprocessed(&input, image.width(), image.height(), &|_| true)?;
        let encode_time = started.elapsed();
        let started = std::time::Instant::now();
        let segmentation = self.segment(&embedding, prompt, mask_index)?;
        let segment_time = started.elapsed();
        let decoder_prompt =
            prompt::decoder_prompt(prompt, embedding.image_size(), embedding.resized_size());
        Ok(Trace {
            encoder_input: input.data,
            embedding,
            point_coords: decoder_prompt.coords,
            point_labels: decoder_prompt.labels,
            segmentation,
            preprocess_time,
            encode_time,
            segment_time,
        })
    }
}

fn panic_text(panic: &(dyn std::any::Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("no message")
}

/// Reads a model file and reports its interface and which contract it meets.
pub fn inspect_model(path: impl AsRef<Path>) -> Result<ModelReport> {
    Ok(engine::inspect(&read_model_file(path.as_ref())?))
}

fn read_model_file(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|source| Error::ModelFile {
        path: path.to_path_buf(),
        source,
    })
}
