//! The one error type of the library. Every public call returns it; nothing panics on bad input.

use std::path::PathBuf;

/// Which of the two EdgeSAM graphs a model error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelRole {
    Encoder,
    Decoder,
}

impl std::fmt::Display for ModelRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ModelRole::Encoder => "encoder",
            ModelRole::Decoder => "decoder",
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The model file does not exist or cannot be read.
    #[error("cannot read the model file {path}: {source}")]
    ModelFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// The bytes are not an ONNX model tract can parse (empty, truncated, another format).
    #[error("the {role} model is not a readable ONNX file: {detail}")]
    NotAModel { role: ModelRole, detail: String },

    /// A readable model whose inputs or outputs are not the EdgeSAM contract for its role.
    #[error("the {role} model does not match the EdgeSAM {role} contract: expected {expected}, found {found}")]
    WrongModel {
        role: ModelRole,
        expected: String,
        found: String,
    },

    /// The encoded image cannot be decoded, or the raw pixel buffer does not match its description.
    #[error("bad image: {detail}")]
    BadImage { detail: String },

    /// The image decodes but is too small or too large for the pipeline.
    #[error("image of {width}x{height} pixels is not supported: {detail}")]
    UnsupportedImageSize {
        width: u32,
        height: u32,
        detail: String,
    },

    /// The prompt cannot be turned into decoder input (no points, non-finite coordinates, ...).
    #[error("bad prompt: {detail}")]
    BadPrompt { detail: String },

    /// A requested mask index outside 0..4.
    #[error("mask index {index} is out of range: the decoder returns 4 candidates (0..=3)")]
    MaskIndexOutOfRange { index: usize },

    /// Embedding bytes that are not an embedding written by this library, or written by another model.
    #[error("bad embedding: {detail}")]
    BadEmbedding { detail: String },

    /// A mask that cannot be used as given: its bytes or COCO RLE do not cover its size, or it is
    /// combined with (or drawn on) something of another size.
    #[error("bad mask: {detail}")]
    BadMask { detail: String },

    /// The caller cancelled an encode before it finished.
    #[error("the encode was cancelled")]
    Cancelled,

    /// tract failed while running a graph that passed the load-time checks.
    #[error("inference failed in the {role}: {detail}")]
    Inference { role: ModelRole, detail: String },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn bad_image(detail: impl Into<String>) -> Self {
        Error::BadImage {
            detail: detail.into(),
        }
    }

    pub(crate) fn bad_prompt(detail: impl Into<String>) -> Self {
        Error::BadPrompt {
            detail: detail.into(),
        }
    }

    pub(crate) fn bad_mask(detail: impl Into<String>) -> Self {
        Error::BadMask {
            detail: detail.into(),
        }
    }

    pub(crate) fn bad_embedding(detail: impl Into<String>) -> Self {
        Error::BadEmbedding {
            detail: detail.into(),
        }
    }
}
