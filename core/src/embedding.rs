//! The image embedding an app keeps per photo: cheap to clone, and saved to / loaded from bytes.

use std::sync::{Arc, OnceLock};

use tract_onnx::tract_core::prelude::{IntoTValue, TValue, Tensor};

use crate::engine::contract::{resized_size, EMBEDDING_SHAPE, EMBEDDING_VALUES};
use crate::engine::decoder::ImageContext;
use crate::error::{Error, Result};
use crate::image::check_size;

pub(crate) const MAGIC: &[u8; 8] = b"ESAMEMB\0";
pub(crate) const FORMAT_VERSION: u32 = 1;
/// magic, version, width, height, encoder SHA-256, then the f32 values.
pub(crate) const HEADER_LEN: usize = 8 + 4 + 4 + 4 + 32;
const VALUES: usize = EMBEDDING_VALUES;
/// Length of [`Embedding::to_bytes`]'s output.
pub(crate) const BYTE_LEN: usize = HEADER_LEN + VALUES * 4;

/// The encoder's output for one photo, with what the decoder side needs to map prompts and masks.
///
/// Cloning shares the values (reference counted), and so does the decoder's per-photo work,
/// kept here once computed (about 10 MiB with the official decoder; not serialised).
#[derive(Clone)]
pub struct Embedding {
    tensor: TValue,
    width: u32,
    height: u32,
    encoder_sha256: [u8; 32],
    decoder_context: Arc<OnceLock<ImageContext>>,
}

impl std::fmt::Debug for Embedding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Embedding({}x{} photo)", self.width, self.height)
    }
}

impl Embedding {
    /// Wraps an encoder output for a `width` x `height` photo.
    pub(crate) fn new(tensor: Tensor, width: u32, height: u32, encoder_sha256: [u8; 32]) -> Self {
        Embedding {
            tensor: tensor.into_tvalue(),
            width,
            height,
            encoder_sha256,
            decoder_context: Arc::default(),
        }
    }

    /// The decoder's per-photo work for a decoder of this `split` ([`ImageContext::split`]), if
    /// already computed.
    pub(crate) fn cached_context(&self, split: &[u8; 32]) -> Option<ImageContext> {
        self.decoder_context
            .get()
            .filter(|c| c.split() == split)
            .cloned()
    }

    /// Keeps the decoder's per-photo work; the first decoder to compute it wins, another decoder
    /// sharing this embedding computes its own per call.
    pub(crate) fn cache_context(&self, context: &ImageContext) {
        let _ = self.decoder_context.set(context.clone());
    }

    /// The photo's size, after EXIF orientation.
    pub fn image_size(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    /// The photo's size inside the encoder's 1024x1024 frame.
    pub fn resized_size(&self) -> (u32, u32) {
        resized_size(self.width, self.height)
    }

    /// SHA-256 of the encoder file that made it; a decoder paired with another encoder refuses it.
    pub fn encoder_sha256(&self) -> &[u8; 32] {
        &self.encoder_sha256
    }

    pub(crate) fn tensor(&self) -> &TValue {
        &self.tensor
    }

    /// The `[1, 256, 64, 64]` values, channel-major.
    pub fn values(&self) -> &[f32] {
        self.tensor
            .try_as_plain_ram()
            .and_then(|view| view.as_slice::<f32>())
            .expect("an embedding is always an f32 tensor in memory")
    }

    /// Serialises to a little-endian byte format (about 4 MiB).
    pub fn to_bytes(&self) -> Vec<u8> {
        let values = self.values();
        let mut out = Vec::with_capacity(HEADER_LEN + values.len() * 4);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        out.extend_from_slice(&self.width.to_le_bytes());
        out.extend_from_slice(&self.height.to_le_bytes());
        out.extend_from_slice(&self.encoder_sha256);
        for v in values {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out
    }

    /// Reads bytes written by [`Embedding::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let expected_len = BYTE_LEN;
        if bytes.len() < HEADER_LEN || &bytes[..8] != MAGIC {
            return Err(Error::bad_embedding(
                "not an EdgeSAM embedding (wrong header)",
            ));
        }
        let u32_at = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"));
        let version = u32_at(8);
        if version != FORMAT_VERSION {
            return Err(Error::bad_embedding(format!(
                "format version {version}, this library reads version {FORMAT_VERSION}"
            )));
        }
        if bytes.len() != expected_len {
            return Err(Error::bad_embedding(format!(
                "{} bytes, an embedding has {expected_len}",
                bytes.len()
            )));
        }
        let (width, height) = (u32_at(12), u32_at(16));
        check_size(width, height)
            .map_err(|e| Error::bad_embedding(format!("its photo size is invalid: {e}")))?;
        let encoder_sha256: [u8; 32] = bytes[20..52].try_into().expect("32 bytes");
        let values: Vec<f32> = bytes[HEADER_LEN..]
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes(b.try_into().expect("4 bytes")))
            .collect();
        if values.iter().any(|v| !v.is_finite()) {
            return Err(Error::bad_embedding("it holds non-finite values"));
        }
        let tensor = Tensor::from_shape(&EMBEDDING_SHAPE, &values)
            .map_err(|e| Error::bad_embedding(format!("{e:#}")))?;
        Ok(Embedding::new(tensor, width, height, encoder_sha256))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Embedding {
        let values: Vec<f32> = (0..VALUES).map(|i| (i % 97) as f32 * 0.25 - 3.0).collect();
        let tensor = Tensor::from_shape(&EMBEDDING_SHAPE, &values).unwrap();
        Embedding::new(tensor, 4000, 3000, [7; 32])
    }

    #[test]
    fn bytes_round_trip() {
        let e = sample();
        let back = Embedding::from_bytes(&e.to_bytes()).unwrap();
        assert_eq!(back.image_size(), (4000, 3000));
        assert_eq!(back.resized_size(), (1024, 768));
        assert_eq!(back.encoder_sha256(), &[7; 32]);
        assert_eq!(back.values(), e.values());
    }

    #[test]
    fn damaged_bytes_are_refused() {
        let bytes = sample().to_bytes();
        let cases: Vec<Vec<u8>> = vec![
            vec![],
            b"ESAMEMB".to_vec(),
            bytes[..bytes.len() - 1].to_vec(),
            [&bytes[..], &[0]].concat(),
            {
                let mut b = bytes.clone();
                b[0] = b'X';
                b
            },
            {
                let mut b = bytes.clone();
                b[8] = 9; // version
                b
            },
            {
                let mut b = bytes.clone();
                b[12..16].copy_from_slice(&0u32.to_le_bytes()); // width 0
                b
            },
            {
                let mut b = bytes.clone();
                b[HEADER_LEN..HEADER_LEN + 4].copy_from_slice(&f32::NAN.to_le_bytes());
                b
            },
        ];
        for (i, case) in cases.iter().enumerate() {
            assert!(
                matches!(Embedding::from_bytes(case), Err(Error::BadEmbedding { .. })),
                "case {i}"
            );
        }
    }
}
