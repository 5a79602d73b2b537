//! Pre-processing exactly as the official EdgeSAM pipeline does it: longest side to 1024 with
//! Pillow's antialiased bilinear filter, per-channel normalisation, zero padding right and bottom.

use crate::engine::contract::{resized_size, ENCODER_SIDE};
use crate::image::RgbImage;

/// Per-channel mean and standard deviation on the 0..255 scale (SAM's ImageNet statistics).
pub(crate) const PIXEL_MEAN: [f32; 3] = [123.675, 116.28, 103.53];
pub(crate) const PIXEL_STD: [f32; 3] = [58.395, 57.12, 57.375];

/// The encoder input: `[1, 3, 1024, 1024]` f32, channel-major, plus the size of the image inside it.
#[derive(Debug, Clone)]
pub(crate) struct EncoderInput {
    pub data: Vec<f32>,
    pub resized_width: u32,
    pub resized_height: u32,
}

/// Resize, normalise and pad an RGB image into the encoder's input tensor.
#[cfg(test)]
pub(crate) fn preprocess(image: &RgbImage) -> EncoderInput {
    preprocess_with_threads(image, 1)
}

/// [`preprocess`] with the resize on up to `threads` threads (the result is the same).
pub(crate) fn preprocess_with_threads(image: &RgbImage, threads: usize) -> EncoderInput {
    let (new_w, new_h) = resized_size(image.width(), image.height());
    let resized = resize_bilinear_antialiased(image, new_w, new_h, threads);
    let plane = ENCODER_SIDE * ENCODER_SIDE;
    let mut data = vec![0.0f32; 3 * plane];
    for c in 0..3 {
        // A 256-entry table: exact, and cheaper than a division per pixel.
        let table: Vec<f32> = (0..256)
            .map(|v| ((v as f64 - PIXEL_MEAN[c] as f64) / PIXEL_STD[c] as f64) as f32)
            .collect();
        let out = &mut data[c * plane..(c + 1) * plane];
        for y in 0..new_h as usize {
            let src_row = &resized.pixels()[y * new_w as usize * 3..(y + 1) * new_w as usize * 3];
            let dst_row = &mut out[y * ENCODER_SIDE..y * ENCODER_SIDE + new_w as usize];
            for (dst, px) in dst_row.iter_mut().zip(src_row.chunks_exact(3)) {
                *dst = table[px[c] as usize];
            }
        }
    }
    EncoderInput {
        data,
        resized_width: new_w,
        resized_height: new_h,
    }
}

/// Pillow's fixed-point precision for 8-bit resampling (`PRECISION_BITS` in Resample.c).
const PRECISION_BITS: u32 = 32 - 8 - 2;

/// One output sample's source window and fixed-point weights.
#[derive(Debug, Clone, PartialEq)]
struct Taps {
    first: usize,
    weights: Vec<i32>,
}

/// Pillow's `precompute_coeffs` + `normalize_coeffs_8bpc` for the bilinear (triangle) filter.
///
/// When downscaling the triangle is stretched by the scale factor, which is what makes Pillow's
/// bilinear antialiased (unlike OpenCV's INTER_LINEAR).
fn bilinear_taps(in_size: usize, out_size: usize) -> Vec<Taps> {
    const SUPPORT: f64 = 1.0;
    let scale = in_size as f64 / out_size as f64;
    let filter_scale = scale.max(1.0);
    let support = SUPPORT * filter_scale;
    let triangle = |x: f64| (1.0 - x.abs()).max(0.0);
    (0..out_size)
        .map(|out| {
            let center = (out as f64 + 0.5) * scale;
            let first = ((center - support + 0.5) as i64).max(0) as usize;
            let end = ((center + support + 0.5) as i64).min(in_size as i64) as usize;
            let raw: Vec<f64> = (first..end)
                .map(|x| triangle((x as f64 - center + 0.5) / filter_scale))
                .collect();
            let total: f64 = raw.iter().sum();
            let weights = raw
                .iter()
                .map(|w| {
                    let w = if total != 0.0 { w / total } else { *w };
                    let fixed = w * (1i64 << PRECISION_BITS) as f64;
                    (if fixed < 0.0 {
                        fixed - 0.5
                    } else {
                        fixed + 0.5
                    }) as i32
                })
                .collect();
            Taps { first, weights }
        })
        .collect()
}

/// Pillow's `clip8`: round the fixed-point accumulator back to a byte.
fn clip8(acc: i32) -> u8 {
    (acc >> PRECISION_BITS).clamp(0, 255) as u8
}

/// The accumulator's start: one half in fixed point, so that `clip8` rounds to nearest.
const ROUNDING: i32 = 1 << (PRECISION_BITS - 1);

// Accumulators are i32 as in Pillow: weights sum to about 1 << PRECISION_BITS, so 255 times
// that (plus rounding) stays below 2^31; the arithmetic, hence every byte, is Pillow's.

/// Horizontal pass: every row of `src` (`w` RGB pixels) resampled to `taps.len()` pixels.
fn resample_rows(src: &[u8], w: usize, taps: &[Taps], dst: &mut [u8], threads: usize) {
    let out_len = taps.len() * 3;
    crate::parallel::for_row_chunks(dst, out_len, threads, |first, rows| {
        let src_rows = src[first * w * 3..].chunks_exact(w * 3);
        for (row, out) in src_rows.zip(rows.chunks_exact_mut(out_len)) {
            for (tap, px) in taps.iter().zip(out.chunks_exact_mut(3)) {
                let window = &row[tap.first * 3..(tap.first + tap.weights.len()) * 3];
                let mut acc = [ROUNDING; 3];
                for (&weight, s) in tap.weights.iter().zip(window.chunks_exact(3)) {
                    acc[0] += s[0] as i32 * weight;
                    acc[1] += s[1] as i32 * weight;
                    acc[2] += s[2] as i32 * weight;
                }
                px.copy_from_slice(&acc.map(clip8));
            }
        }
    });
}

/// Vertical pass: output row `y` is the weighted sum of whole source rows, accumulated a row at
/// a time so the inner loop runs over contiguous bytes.
fn resample_columns(src: &[u8], row_len: usize, taps: &[Taps], dst: &mut [u8], threads: usize) {
    crate::parallel::for_row_chunks(dst, row_len, threads, |first, rows| {
        let mut acc = vec![0i32; row_len];
        for (tap, out) in taps[first..].iter().zip(rows.chunks_exact_mut(row_len)) {
            acc.fill(ROUNDING);
            for (k, &weight) in tap.weights.iter().enumerate() {
                let row = &src[(tap.first + k) * row_len..(tap.first + k + 1) * row_len];
                for (a, &s) in acc.iter_mut().zip(row) {
                    *a += s as i32 * weight;
                }
            }
            for (o, &a) in out.iter_mut().zip(&acc) {
                *o = clip8(a);
            }
        }
    });
}

/// Pillow's `Image.resize(size, Image.BILINEAR)` for an RGB image, bit for bit: a horizontal pass
/// into an 8-bit intermediate, then a vertical pass, each skipped when its axis keeps its size.
/// Rows are shared out between up to `threads` threads.
pub(crate) fn resize_bilinear_antialiased(
    image: &RgbImage,
    new_w: u32,
    new_h: u32,
    threads: usize,
) -> RgbImage {
    let (w, h) = (image.width() as usize, image.height() as usize);
    let (nw, nh) = (new_w as usize, new_h as usize);
    let horizontal = if nw != w {
        let mut out = vec![0u8; nw * h * 3];
        resample_rows(image.pixels(), w, &bilinear_taps(w, nw), &mut out, threads);
        RgbImage::from_packed(new_w, image.height(), out)
    } else {
        image.clone()
    };
    if nh == h {
        return horizontal;
    }
    let mut out = vec![0u8; nw * nh * 3];
    resample_columns(
        horizontal.pixels(),
        nw * 3,
        &bilinear_taps(h, nh),
        &mut out,
        threads,
    );
    RgbImage::from_packed(new_w, new_h, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn taps_for_2x_downscale_span_four_pixels_with_triangle_weights() {
        // Downscale 8 -> 4: scale 2, support 2. Output 1 is centred on input 3.0, its window is
        // inputs 1..=4 with distances 1.5, 0.5, 0.5, 1.5 -> weights 0.25, 0.75, 0.75, 0.25 (/2).
        let taps = bilinear_taps(8, 4);
        let one = 1i32 << PRECISION_BITS;
        assert_eq!(taps[1].first, 1);
        assert_eq!(
            taps[1].weights,
            vec![one / 8, 3 * one / 8, 3 * one / 8, one / 8]
        );
        // Output 0 is clipped at the left border: inputs 0..=2, weights .75, .75, .25 renormalised.
        assert_eq!(taps[0].first, 0);
        let w: Vec<f64> = taps[0]
            .weights
            .iter()
            .map(|&w| w as f64 / one as f64)
            .collect();
        let expected = [0.75 / 1.75, 0.75 / 1.75, 0.25 / 1.75];
        for (got, want) in w.iter().zip(expected) {
            assert!((got - want).abs() < 1e-6, "{w:?}");
        }
    }

    #[test]
    fn taps_for_upscale_are_plain_linear_interpolation() {
        // 2 -> 4: scale 0.5; output 1 is centred at 0.75 -> between inputs 0 (d=.25) and 1 (d=.75).
        let taps = bilinear_taps(2, 4);
        let one = (1i32 << PRECISION_BITS) as f64;
        let w: Vec<f64> = taps[1].weights.iter().map(|&w| w as f64 / one).collect();
        assert_eq!(taps[1].first, 0);
        assert!(
            (w[0] - 0.75).abs() < 1e-6 && (w[1] - 0.25).abs() < 1e-6,
            "{w:?}"
        );
    }

    #[test]
    fn resize_of_a_constant_image_is_constant() {
        let image = RgbImage::from_packed(7, 5, [10u8, 200, 77].repeat(35));
        let out = resize_bilinear_antialiased(&image, 13, 3, 1);
        assert!(out.pixels().chunks(3).all(|p| p == [10, 200, 77]));
    }

    #[test]
    fn resize_averages_a_two_pixel_row_into_one() {
        let image = RgbImage::from_packed(2, 1, vec![0, 100, 255, 255, 101, 0]);
        let out = resize_bilinear_antialiased(&image, 1, 1, 1);
        // (0 + 255) / 2 = 127.5 -> Pillow's rounding gives 128; (100 + 101) / 2 = 100.5 -> 101.
        assert_eq!(out.pixels(), &[128, 101, 128]);
    }

    #[test]
    fn preprocess_normalises_and_pads_with_zeros() {
        // 2x1 image -> 1024x512, so rows 512.. are padding.
        let image = RgbImage::from_packed(2, 1, vec![123, 116, 103, 123, 116, 103]);
        let input = preprocess(&image);
        assert_eq!((input.resized_width, input.resized_height), (1024, 512));
        assert_eq!(input.data.len(), 3 * 1024 * 1024);
        let plane = 1024 * 1024;
        let expected_r = (123.0 - 123.675) / 58.395;
        assert!((input.data[0] - expected_r).abs() < 1e-6);
        assert!((input.data[511 * 1024 + 1023] - expected_r).abs() < 1e-6);
        assert_eq!(input.data[512 * 1024], 0.0);
        let expected_b = (103.0 - 103.53) / 57.375;
        assert!((input.data[2 * plane + 5] - expected_b).abs() < 1e-6);
        assert_eq!(input.data[2 * plane + 1023 * 1024 + 1023], 0.0);
    }

    #[test]
    fn threads_share_rows_without_changing_a_byte() {
        let (w, h) = (1037u32, 611u32);
        let pixels: Vec<u8> = (0..w * h * 3).map(|i| (i * 31 % 253) as u8).collect();
        let image = RgbImage::from_packed(w, h, pixels);
        let one = resize_bilinear_antialiased(&image, 300, 177, 1);
        for threads in [2, 3, 7] {
            let many = resize_bilinear_antialiased(&image, 300, 177, threads);
            assert!(one.pixels() == many.pixels(), "{threads} threads differ");
        }
    }
}
