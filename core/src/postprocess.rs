//! Post-processing of the decoder's 256x256 logits, as the official pipeline does it: bilinear
//! upsample to 1024x1024 (OpenCV INTER_LINEAR: half-pixel centres, edge clamping), crop away the
//! padding, bilinear resize to the photo's size, threshold at 0.

use crate::engine::contract::{ENCODER_SIDE, LOW_RES_SIDE};

/// Logit offset of SAM's stability score.
pub(crate) const STABILITY_OFFSET: f32 = 1.0;

/// For one output coordinate: the two source samples and the weight of the second.
#[derive(Debug, Clone, Copy, PartialEq)]
struct LinearTap {
    lo: usize,
    hi: usize,
    frac: f32,
}

/// OpenCV's INTER_LINEAR taps for resizing `src` samples to `dst` samples:
/// `fx = (dx + 0.5) * src/dst - 0.5`, clamped to the edges.
fn linear_taps(src: usize, dst: usize) -> Vec<LinearTap> {
    let scale = src as f64 / dst as f64;
    (0..dst)
        .map(|d| {
            let f = ((d as f64 + 0.5) * scale - 0.5) as f32;
            let floor = f.floor();
            let (lo, frac) = if floor < 0.0 {
                (0, 0.0)
            } else if floor as usize >= src - 1 {
                (src - 1, 0.0)
            } else {
                (floor as usize, f - floor)
            };
            LinearTap {
                lo,
                hi: (lo + 1).min(src - 1),
                frac,
            }
        })
        .collect()
}

/// Bilinear resize of a `src_w` x `src_h` float image to `dst_w` x `dst_h` with OpenCV's
/// INTER_LINEAR geometry, keeping only the output window `[0, keep_w) x [0, keep_h)`, written
/// into `dst` (`keep_w * keep_h` values) through `convert`, on up to `threads` threads.
///
/// Horizontal pass first, then vertical, as OpenCV orders them.
fn resize_linear_into<T: Send>(
    src: &[f32],
    (src_w, src_h): (usize, usize),
    (dst_w, dst_h): (usize, usize),
    (keep_w, keep_h): (usize, usize),
    dst: &mut [T],
    threads: usize,
    convert: impl Fn(f32) -> T + Sync,
) {
    let x_taps = &linear_taps(src_w, dst_w)[..keep_w];
    let y_taps = &linear_taps(src_h, dst_h)[..keep_h];
    // Only the source rows some output row reads need a horizontal pass.
    let rows_needed = y_taps.last().map_or(0, |t| t.hi + 1);
    let mut horizontal = vec![0.0f32; rows_needed * keep_w];
    crate::parallel::for_row_chunks(&mut horizontal, keep_w, threads, |first, rows| {
        for (y, out) in (first..).zip(rows.chunks_exact_mut(keep_w)) {
            let row = &src[y * src_w..(y + 1) * src_w];
            for (o, t) in out.iter_mut().zip(x_taps) {
                *o = row[t.lo] * (1.0 - t.frac) + row[t.hi] * t.frac;
            }
        }
    });
    let horizontal = &horizontal;
    crate::parallel::for_row_chunks(dst, keep_w, threads, |first, rows| {
        for (t, out) in y_taps[first..].iter().zip(rows.chunks_exact_mut(keep_w)) {
            let a = &horizontal[t.lo * keep_w..(t.lo + 1) * keep_w];
            let b = &horizontal[t.hi * keep_w..(t.hi + 1) * keep_w];
            for ((o, &a), &b) in out.iter_mut().zip(a).zip(b) {
                *o = convert(a * (1.0 - t.frac) + b * t.frac);
            }
        }
    });
}

fn resize_linear_window(
    src: &[f32],
    src_size: (usize, usize),
    dst_size: (usize, usize),
    keep: (usize, usize),
) -> Vec<f32> {
    let mut out = vec![0.0; keep.0 * keep.1];
    resize_linear_into(src, src_size, dst_size, keep, &mut out, 1, |v| v);
    out
}

#[cfg(test)]
/// Bilinear resize with OpenCV's INTER_LINEAR geometry.
pub(crate) fn resize_linear(
    src: &[f32],
    src_size: (usize, usize),
    dst_size: (usize, usize),
) -> Vec<f32> {
    resize_linear_window(src, src_size, dst_size, dst_size)
}

/// The 1024-frame upsample of one 256x256 logit mask, cropped to the `resized` area that holds
/// the photo; only that window is computed, the padding is thrown away anyway.
fn cropped_frame_logits(low_res: &[f32], resized: (u32, u32)) -> Vec<f32> {
    let frame = ENCODER_SIDE;
    resize_linear_window(
        low_res,
        (LOW_RES_SIDE, LOW_RES_SIDE),
        (frame, frame),
        (resized.0 as usize, resized.1 as usize),
    )
}

#[cfg(test)]
/// One 256x256 logit mask brought to the photo's `width` x `height`: upsample to the 1024 frame,
/// crop the `resized` area that holds the photo, resize to the photo.
pub(crate) fn logits_to_image_size(
    low_res: &[f32],
    resized: (u32, u32),
    original: (u32, u32),
) -> Vec<f32> {
    resize_linear(
        &cropped_frame_logits(low_res, resized),
        (resized.0 as usize, resized.1 as usize),
        (original.0 as usize, original.1 as usize),
    )
}

/// The mask bytes of [`threshold`]`(`[`logits_to_image_size`]`(..))`, with the same arithmetic,
/// thresholded as each value is computed: a 12-megapixel photo never holds its 48 MB of float
/// logits. The final resize runs on up to `threads` threads.
pub(crate) fn mask_at_image_size(
    low_res: &[f32],
    resized: (u32, u32),
    original: (u32, u32),
    threads: usize,
) -> Vec<u8> {
    let (w, h) = (original.0 as usize, original.1 as usize);
    let mut mask = vec![0u8; w * h];
    resize_linear_into(
        &cropped_frame_logits(low_res, resized),
        (resized.0 as usize, resized.1 as usize),
        (w, h),
        (w, h),
        &mut mask,
        threads,
        |l| if l > 0.0 { 255 } else { 0 },
    );
    mask
}

#[cfg(test)]
/// Mask bytes from logits: 255 where the logit is above 0, else 0.
pub(crate) fn threshold(logits: &[f32]) -> Vec<u8> {
    logits
        .iter()
        .map(|&l| if l > 0.0 { 255 } else { 0 })
        .collect()
}

/// SAM's stability score: `#(logit > offset) / #(logit > -offset)`; 0 when nothing is above
/// `-offset` (an empty mask is not stable, and 0/0 must not leak out as NaN).
pub(crate) fn stability_score(logits: &[f32], offset: f32) -> f32 {
    stability_of(logits.iter().copied(), offset)
}

/// [`stability_score`] of any run of logits (a window of a plane, say).
pub(crate) fn stability_of(logits: impl Iterator<Item = f32>, offset: f32) -> f32 {
    let (mut inner, mut outer) = (0usize, 0usize);
    for l in logits {
        inner += usize::from(l > offset);
        outer += usize::from(l > -offset);
    }
    if outer == 0 {
        0.0
    } else {
        inner as f32 / outer as f32
    }
}

/// The smallest axis-aligned rectangle holding every set pixel, in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BoundingBox {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
}

/// Bounding box of the non-zero bytes of a `width`-wide mask; `None` for an empty mask.
pub(crate) fn bounding_box(mask: &[u8], width: u32) -> Option<BoundingBox> {
    let (x0, y0, x1, y1) = extent(mask.chunks_exact(width as usize), |&v| v != 0)?;
    Some(BoundingBox {
        x: x0 as u32,
        y: y0 as u32,
        width: (x1 - x0) as u32,
        height: (y1 - y0) as u32,
    })
}

/// The half-open `(x0, y0, x1, y1)` extent of the elements of `rows` for which `inside` holds;
/// `None` when it holds for none.
pub(crate) fn extent<'a, T: 'a>(
    rows: impl Iterator<Item = &'a [T]>,
    inside: impl Fn(&T) -> bool,
) -> Option<(usize, usize, usize, usize)> {
    let (mut x0, mut y0, mut x1, mut y1) = (usize::MAX, usize::MAX, 0, 0);
    for (y, row) in rows.enumerate() {
        let Some(first) = row.iter().position(&inside) else {
            continue;
        };
        let last = row.iter().rposition(&inside).unwrap_or(first);
        (x0, x1) = (x0.min(first), x1.max(last + 1));
        (y0, y1) = (y0.min(y), y + 1);
    }
    (y0 != usize::MAX).then_some((x0, y0, x1, y1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn taps_follow_half_pixel_centres_and_clamp_at_edges() {
        // 2 -> 4: fx = (d + .5) / 2 - .5 = -0.25, 0.25, 0.75, 1.25.
        let t = linear_taps(2, 4);
        assert_eq!(
            t[0],
            LinearTap {
                lo: 0,
                hi: 1,
                frac: 0.0
            }
        );
        assert_eq!(
            t[1],
            LinearTap {
                lo: 0,
                hi: 1,
                frac: 0.25
            }
        );
        assert_eq!(
            t[2],
            LinearTap {
                lo: 0,
                hi: 1,
                frac: 0.75
            }
        );
        assert_eq!(
            t[3],
            LinearTap {
                lo: 1,
                hi: 1,
                frac: 0.0
            }
        );
    }

    #[test]
    fn upsample_matches_hand_computed_values() {
        // [[0, 4], [8, 12]] -> 4x4; row 1 col 1 sits at (.25, .25) of the source.
        let out = resize_linear(&[0.0, 4.0, 8.0, 12.0], (2, 2), (4, 4));
        let expected_row1 = [2.0, 3.0, 5.0, 6.0];
        for (got, want) in out[4..8].iter().zip(expected_row1) {
            assert!((got - want).abs() < 1e-6, "{out:?}");
        }
        assert_eq!(out[0], 0.0);
        assert_eq!(out[15], 12.0);
    }

    #[test]
    fn halving_averages_pixel_pairs() {
        // 4 -> 2: fx = (d + .5) * 2 - .5 = 0.5, 2.5: the mean of each pair.
        let out = resize_linear(&[0.0, 2.0, 10.0, 20.0], (4, 1), (2, 1));
        assert_eq!(out, vec![1.0, 15.0]);
    }

    #[test]
    fn window_equals_crop_of_the_full_resize() {
        let src: Vec<f32> = (0..36).map(|v| ((v * 7) % 11) as f32 - 5.0).collect();
        let full = resize_linear(&src, (6, 6), (20, 20));
        let window = resize_linear_window(&src, (6, 6), (20, 20), (13, 7));
        for y in 0..7 {
            assert_eq!(&window[y * 13..(y + 1) * 13], &full[y * 20..y * 20 + 13]);
        }
    }

    #[test]
    fn logits_to_image_size_is_crop_then_resize() {
        // A ramp along x survives as a monotone ramp; the crop keeps the left part of the frame.
        let low: Vec<f32> = (0..LOW_RES_SIDE * LOW_RES_SIDE)
            .map(|i| (i % LOW_RES_SIDE) as f32)
            .collect();
        let out = logits_to_image_size(&low, (1024, 512), (100, 50));
        assert_eq!(out.len(), 100 * 50);
        // Output x = 99 samples the 1024 frame near its right edge: close to 255.
        assert!(out[99] > 250.0 && out[0] < 2.0, "{} {}", out[0], out[99]);
        // Rows agree (no variation along y) up to the rounding of the vertical blend.
        for (top, bottom) in out[..100].iter().zip(&out[4900..]) {
            assert!((top - bottom).abs() < 1e-4);
        }
    }

    #[test]
    fn mask_at_image_size_equals_threshold_of_the_float_logits() {
        // A smooth field with zero crossings, through sizes that up- and downscale each axis.
        let low_res: Vec<f32> = (0..LOW_RES_SIDE * LOW_RES_SIDE)
            .map(|i| {
                let (x, y) = ((i % LOW_RES_SIDE) as f32, (i / LOW_RES_SIDE) as f32);
                (x * 0.07).sin() * 3.0 + (y * 0.05).cos() * 2.0 - 0.5
            })
            .collect();
        for (resized, original) in [
            ((1024, 768), (4000, 3000)),
            ((542, 1024), (9, 17)),
            ((1024, 1024), (1024, 1024)),
        ] {
            let expected = threshold(&logits_to_image_size(&low_res, resized, original));
            for threads in [1, 3] {
                let mask = mask_at_image_size(&low_res, resized, original, threads);
                assert_eq!(mask.len(), (original.0 * original.1) as usize);
                assert!(mask == expected, "{resized:?} -> {original:?} differs");
                assert!(mask.contains(&0) && mask.contains(&255));
            }
        }
    }

    #[test]
    fn threshold_is_strictly_above_zero() {
        assert_eq!(threshold(&[-1.0, 0.0, 1e-7, 3.0]), vec![0, 0, 255, 255]);
    }

    #[test]
    fn stability_score_counts_logits_beyond_the_offsets() {
        let logits = [-2.0, -0.5, 0.5, 1.5, 2.5];
        // > 1: 2 values; > -1: 4 values.
        assert_eq!(stability_score(&logits, 1.0), 0.5);
        assert_eq!(stability_score(&[-3.0, -2.0], 1.0), 0.0);
        assert_eq!(stability_score(&[5.0], 1.0), 1.0);
    }

    #[test]
    fn bounding_box_encloses_set_pixels() {
        #[rustfmt::skip]
        let mask = [
            0, 0, 0, 0, 0,
            0, 0, 255, 0, 0,
            0, 255, 0, 0, 0,
            0, 0, 0, 0, 0,
        ];
        assert_eq!(
            bounding_box(&mask, 5),
            Some(BoundingBox {
                x: 1,
                y: 1,
                width: 2,
                height: 2
            })
        );
        assert_eq!(bounding_box(&[0; 20], 5), None);
    }
}
