//! The bodies of the `fuzz/` targets, here so that the fuzzer and the corpus replay test
//! (`core/tests/fuzz_corpus.rs`, on stable Rust) run the same code. Each feeds arbitrary bytes
//! to a public entry point and panics only when the library breaks a promise: a panic inside
//! it, an error of a kind the input cannot cause, or a result that contradicts its input.

use crate::embedding::{Embedding, BYTE_LEN, FORMAT_VERSION, HEADER_LEN, MAGIC};
use crate::error::Error;
use crate::image::{self, PixelFormat, RgbImage, MAX_IMAGE_PIXELS, MIN_IMAGE_SIDE};
use crate::prompt::{PromptBox, PromptPoint, SegmentPrompt};
use crate::SegmentAnything;

/// A decoded image's invariants: a supported size and exactly its packed RGB bytes.
fn assert_sound_image(image: &RgbImage) {
    let (w, h) = (image.width(), image.height());
    assert!(
        w >= MIN_IMAGE_SIDE && h >= MIN_IMAGE_SIDE,
        "{w}x{h} decoded"
    );
    assert!(w as u64 * h as u64 <= MAX_IMAGE_PIXELS, "{w}x{h} decoded");
    assert_eq!(image.pixels().len(), w as usize * h as usize * 3);
}

/// `decode_image` on arbitrary bytes: a sound image, `BadImage` or `UnsupportedImageSize`.
pub fn decode_image(data: &[u8]) {
    match image::decode_image(data) {
        Ok(image) => assert_sound_image(&image),
        Err(Error::BadImage { .. } | Error::UnsupportedImageSize { .. }) => {}
        Err(other) => panic!("decode_image gave an unexpected error: {other}"),
    }
}

/// Little-endian integer of `N` bytes from `data` at `at`, zeros past its end.
fn le_bytes<const N: usize>(data: &[u8], at: usize) -> [u8; N] {
    let mut out = [0; N];
    for (i, b) in out.iter_mut().enumerate() {
        *b = data.get(at + i).copied().unwrap_or(0);
    }
    out
}

/// `from_raw_pixels` with width (u16), height (u16), row stride (u32) and format (a byte) read
/// from the first 9 bytes and the rest as the pixel buffer.
pub fn raw_pixels(data: &[u8]) {
    const HEADER: usize = 9;
    let width = u32::from(u16::from_le_bytes(le_bytes(data, 0)));
    let height = u32::from(u16::from_le_bytes(le_bytes(data, 2)));
    let stride = u32::from_le_bytes(le_bytes(data, 4)) as usize;
    let format = match data.get(8).copied().unwrap_or(0) % 3 {
        0 => PixelFormat::Rgba8,
        1 => PixelFormat::Bgra8,
        _ => PixelFormat::Rgb8,
    };
    let pixels = data.get(HEADER..).unwrap_or(&[]);
    match image::from_raw_pixels(pixels, width, height, stride, format) {
        Ok(image) => {
            assert_sound_image(&image);
            assert_eq!((image.width(), image.height()), (width, height));
        }
        Err(Error::BadImage { .. } | Error::UnsupportedImageSize { .. }) => {}
        Err(other) => panic!("from_raw_pixels gave an unexpected error: {other}"),
    }
}

/// A well-formed embedding's bytes for a `width` x `height` photo: header, then zeros.
fn embedding_template(width: u32, height: u32) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(BYTE_LEN);
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    bytes.extend_from_slice(&width.to_le_bytes());
    bytes.extend_from_slice(&height.to_le_bytes());
    bytes.resize(BYTE_LEN, 0);
    bytes
}

/// `Embedding::from_bytes`. A first byte of 0 passes the rest as it is (short inputs: headers,
/// lengths); otherwise the rest is XORed over a well-formed embedding from its first byte on
/// and its tail repeated over the values, so that the 4 MiB format is reached at all. An
/// accepted embedding writes back the same bytes.
pub fn embedding_bytes(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let bytes = if mode == 0 {
        rest.to_vec()
    } else {
        let mut bytes = embedding_template(640, 480);
        let values_from = rest.len().min(HEADER_LEN);
        for (b, d) in bytes.iter_mut().zip(&rest[..values_from]) {
            *b ^= d;
        }
        let tail = &rest[values_from..];
        if !tail.is_empty() {
            for (b, d) in bytes[HEADER_LEN..].iter_mut().zip(tail.iter().cycle()) {
                *b = *d;
            }
        }
        bytes
    };
    match Embedding::from_bytes(&bytes) {
        Ok(embedding) => {
            let (w, h) = embedding.image_size();
            assert!(image::check_size(w, h).is_ok(), "{w}x{h} accepted");
            assert!(embedding.values().iter().all(|v| v.is_finite()));
            assert!(embedding.to_bytes() == bytes, "the bytes do not round-trip");
        }
        Err(Error::BadEmbedding { .. }) => {}
        Err(other) => panic!("Embedding::from_bytes gave an unexpected error: {other}"),
    }
}

/// A loaded model pair and one embedding of it, for [`prompt`].
pub struct PromptFixture {
    model: SegmentAnything,
    embedding: Vec<u8>,
}

impl PromptFixture {
    /// Encodes a small photo once with `model`.
    pub fn new(model: SegmentAnything) -> crate::Result<Self> {
        let photo = RgbImage::new(64, 48, vec![128; 64 * 48 * 3])?;
        let embedding = model.encode(&photo)?.to_bytes();
        Ok(PromptFixture { model, embedding })
    }

    /// The fixture's embedding moved to a `width` x `height` photo.
    fn embedding_for(&self, width: u32, height: u32) -> Result<Embedding, Error> {
        let mut bytes = self.embedding.clone();
        bytes[12..16].copy_from_slice(&width.to_le_bytes());
        bytes[16..20].copy_from_slice(&height.to_le_bytes());
        Embedding::from_bytes(&bytes)
    }
}

/// `SegmentAnything::segment` with a prompt read from bytes: photo width and height (12 bits each, so
/// that a run stays fast), a flags byte (bit 0: a box follows, bits 1-3: mask index, 0 meaning
/// the default and 1..=6 asking for 0..=5), the box as 4 f32, then points of 2 f32 and a
/// label byte (bit 0 positive). Returns a mask of the photo's size, `BadPrompt` or
/// `MaskIndexOutOfRange`.
pub fn prompt(fixture: &PromptFixture, data: &[u8]) {
    let width = u32::from(u16::from_le_bytes(le_bytes(data, 0)) & 0x0FFF);
    let height = u32::from(u16::from_le_bytes(le_bytes(data, 2)) & 0x0FFF);
    let flags = data.get(4).copied().unwrap_or(0);
    let f32_at = |at: usize| f32::from_le_bytes(le_bytes(data, at));
    let mut at = 5;
    let r#box = (flags & 1 == 1).then(|| {
        at += 16;
        PromptBox {
            x0: f32_at(5),
            y0: f32_at(9),
            x1: f32_at(13),
            y1: f32_at(17),
        }
    });
    let points = data
        .get(at..)
        .unwrap_or(&[])
        .chunks_exact(9)
        .map(|p| PromptPoint {
            x: f32::from_le_bytes(le_bytes(p, 0)),
            y: f32::from_le_bytes(le_bytes(p, 4)),
            positive: p[8] & 1 == 1,
        })
        .collect();
    let mask_index = match (flags >> 1) & 7 {
        0 => None,
        k => Some(usize::from(k) - 1),
    };
    let embedding = match fixture.embedding_for(width, height) {
        Ok(embedding) => embedding,
        Err(Error::BadEmbedding { .. }) => {
            assert!(image::check_size(width, height).is_err());
            return;
        }
        Err(other) => panic!("Embedding::from_bytes gave an unexpected error: {other}"),
    };
    let prompt = SegmentPrompt { points, r#box };
    match fixture.model.segment(&embedding, &prompt, mask_index) {
        Ok(segmentation) => {
            assert!(prompt.validate(width, height).is_ok());
            let mask = &segmentation.mask;
            assert_eq!((mask.width, mask.height), (width, height));
            assert_eq!(mask.data.len(), width as usize * height as usize);
            assert!(mask.data.iter().all(|&v| v == 0 || v == 255));
            assert!(segmentation.mask_index < 4);
            assert!(segmentation.scores.iter().all(|s| s.is_finite()));
        }
        Err(Error::BadPrompt { .. }) => assert!(prompt.validate(width, height).is_err()),
        Err(Error::MaskIndexOutOfRange { index }) => assert!(index >= 4),
        Err(other) => panic!("segment gave an unexpected error: {other}"),
    }
}
