//! Automatic mask generation ("everything"): SAM's automatic mask generator on one embedding.
//!
//! A grid of single positive points prompts the decoder; each point's three multimask candidates
//! are filtered by the decoder's score and by their stability score, duplicates are removed by box
//! NMS, optionally small islands and holes are cleaned up, and the masks come out sorted by area.
//!
//! What makes it much cheaper than a tap per grid point: the decoder's per-photo work is done once
//! (`decoder_split`), the points are decoded on parallel workers (the decoder scales far better
//! across prompts than inside one), and filtering and NMS work on the 256x256 logits, so only the
//! masks that survive are brought to the photo's size. Survivors are decoded a second time instead
//! of keeping every candidate's logits, which bounds memory by the workers, not by the grid.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

use image::{GrayImage, Luma};
use imageproc::region_labelling::{connected_components, Connectivity};
use tract_linalg::multithread::Executor;

use crate::engine::contract::{ENCODER_SIDE, LOW_RES_SIDE};
use crate::engine::decoder::{DecoderOutput, ImageContext};
use crate::error::{Error, Result};
use crate::outputs::CocoRle;
use crate::postprocess::{self, BoundingBox};
use crate::prompt::{self, SegmentPrompt};
use crate::{Embedding, Mask, SegmentAnything};

/// The decoder's multimask candidates, the ones SAM's generator uses (0 is the single-mask token).
const MULTIMASK: std::ops::RangeInclusive<usize> = 1..=3;
/// Side of a low-resolution logit cell in the encoder's 1024 frame.
const CELL: u32 = (ENCODER_SIDE / LOW_RES_SIDE) as u32;

/// How the automatic masks are generated; the defaults are SAM's.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EverythingOptions {
    /// Points per side of the grid (32 gives 1024 prompts).
    pub points_per_side: u32,
    /// A candidate is kept when the decoder's score for it is above this (the official decoder's
    /// scores are stability scores; a plain export's are predicted IoUs).
    pub score_threshold: f32,
    /// A candidate is kept when its stability score is at least this.
    pub stability_threshold: f32,
    /// Logit offset of the stability score.
    pub stability_offset: f32,
    /// Of two masks whose boxes overlap by more than this IoU, the lower-scoring one is dropped.
    pub box_nms_threshold: f32,
    /// Islands and holes smaller than this many photo pixels are removed; 0 keeps masks as they are.
    pub min_region_area: u32,
}

impl Default for EverythingOptions {
    fn default() -> Self {
        EverythingOptions {
            points_per_side: 32,
            score_threshold: 0.88,
            stability_threshold: 0.95,
            stability_offset: postprocess::STABILITY_OFFSET,
            box_nms_threshold: 0.7,
            min_region_area: 0,
        }
    }
}

impl EverythingOptions {
    fn validate(&self) -> Result<()> {
        let bad = |detail: String| Err(Error::BadOptions { detail });
        if !(1..=MAX_POINTS_PER_SIDE).contains(&self.points_per_side) {
            return bad(format!(
                "points_per_side is {}, it must be 1..={MAX_POINTS_PER_SIDE}",
                self.points_per_side
            ));
        }
        let thresholds = [
            ("score_threshold", self.score_threshold),
            ("stability_threshold", self.stability_threshold),
            ("stability_offset", self.stability_offset),
            ("box_nms_threshold", self.box_nms_threshold),
        ];
        for (name, value) in thresholds {
            if !value.is_finite() {
                return bad(format!("{name} is {value}, it must be a finite number"));
            }
        }
        Ok(())
    }
}

/// The largest grid: 128x128 = 16384 decoder runs, minutes on a phone.
pub const MAX_POINTS_PER_SIDE: u32 = 128;

/// How far a generation is; the progress callback gets it after every decoded point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EverythingProgress {
    /// Grid points decoded so far, of `points_total`.
    pub points_done: u32,
    pub points_total: u32,
    /// Masks brought to the photo's size so far, of `masks_total` (0 until the grid is done).
    pub masks_done: u32,
    pub masks_total: u32,
}

/// One automatic mask.
#[derive(Debug, Clone, PartialEq)]
pub struct AutoMask {
    /// The mask at the photo's size, run-length encoded (a photo-size byte mask per object would
    /// take gigabytes for a hundred objects on a 12 MP photo); [`AutoMask::mask`] expands it.
    pub rle: CocoRle,
    /// Pixels inside.
    pub area: u64,
    pub bounding_box: BoundingBox,
    /// The decoder's score of the candidate.
    pub score: f32,
    /// Its stability score on the low-resolution logits.
    pub stability_score: f32,
    /// The grid point that prompted it, in photo pixels.
    pub point: (f32, f32),
    /// Which decoder candidate it is (1..=3).
    pub candidate: usize,
}

impl AutoMask {
    /// The mask as one byte per pixel, 255 inside.
    pub fn mask(&self) -> Result<Mask> {
        self.rle.to_mask()
    }
}

/// SAM's point grid over a `width` x `height` photo: cell centres of an `n` x `n` grid, row after
/// row, in photo pixels.
pub fn point_grid(n: u32, width: u32, height: u32) -> Vec<(f32, f32)> {
    let along = |extent: u32| -> Vec<f32> {
        // linspace(1/(2n), 1 - 1/(2n), n), as SAM's build_point_grid, then scaled.
        let offset = 1.0 / (2.0 * n as f64);
        (0..n)
            .map(|i| {
                // numpy's linspace: start + i * step.
                let t = if n == 1 {
                    offset
                } else {
                    offset + i as f64 * ((1.0 - 2.0 * offset) / (n - 1) as f64)
                };
                (t * extent as f64) as f32
            })
            .collect()
    };
    let (xs, ys) = (along(width), along(height));
    ys.iter()
        .flat_map(|&y| xs.iter().map(move |&x| (x, y)))
        .collect()
}

/// A box as `[x0, y0, x1, y1]`, the corners of its edges (so `x1 - x0` is its width).
pub type Corners = [f32; 4];

/// Intersection over union of two boxes; 0 when both are empty.
pub fn box_iou(a: &Corners, b: &Corners) -> f32 {
    let area = |r: &Corners| (r[2] - r[0]).max(0.0) * (r[3] - r[1]).max(0.0);
    let overlap_w = (a[2].min(b[2]) - a[0].max(b[0])).max(0.0);
    let overlap_h = (a[3].min(b[3]) - a[1].max(b[1])).max(0.0);
    let intersection = overlap_w * overlap_h;
    let union = area(a) + area(b) - intersection;
    if union > 0.0 {
        intersection / union
    } else {
        0.0
    }
}

/// Greedy non-maximum suppression as torchvision's `nms`: boxes by descending score (ties in
/// input order), each dropped if its IoU with a kept box is above `iou_threshold`. Returns the
/// kept indices, best first.
pub fn box_nms(boxes: &[Corners], scores: &[f32], iou_threshold: f32) -> Vec<usize> {
    let mut order: Vec<usize> = (0..boxes.len()).collect();
    // A stable sort: equal scores keep their input order.
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let mut kept: Vec<usize> = Vec::new();
    for i in order {
        if kept
            .iter()
            .all(|&k| box_iou(&boxes[k], &boxes[i]) <= iou_threshold)
        {
            kept.push(i);
        }
    }
    kept
}

/// The part of the 256x256 logits that covers the photo (the rest maps onto the padding).
pub fn low_res_window(resized: (u32, u32)) -> (usize, usize) {
    (
        resized.0.div_ceil(CELL) as usize,
        resized.1.div_ceil(CELL) as usize,
    )
}

/// Rows of the window of one candidate's 256x256 logits.
fn window_rows(logits: &[f32], window: (usize, usize)) -> impl Iterator<Item = &[f32]> {
    logits
        .chunks_exact(LOW_RES_SIDE)
        .take(window.1)
        .map(move |row| &row[..window.0])
}

/// SAM's stability score over the window: `#(logit > offset) / #(logit > -offset)`.
pub fn window_stability(logits: &[f32], window: (usize, usize), offset: f32) -> f32 {
    postprocess::stability_of(window_rows(logits, window).flatten().copied(), offset)
}

/// The box of the window's positive logits in photo pixels, edges at cell edges; `None` if empty.
fn window_box(
    logits: &[f32],
    window: (usize, usize),
    resized: (u32, u32),
    original: (u32, u32),
) -> Option<Corners> {
    let (x0, y0, x1, y1) = postprocess::extent(window_rows(logits, window), |&l| l > 0.0)?;
    // Cell edges in the 1024 frame, then into the photo (the frame's photo area is `resized`).
    let to_photo = |cells: usize, resized: u32, original: u32| {
        (cells as f32 * CELL as f32 * original as f32 / resized as f32).min(original as f32)
    };
    Some([
        to_photo(x0, resized.0, original.0),
        to_photo(y0, resized.1, original.1),
        to_photo(x1, resized.0, original.0),
        to_photo(y1, resized.1, original.1),
    ])
}

/// Which regions [`remove_small_regions`] removes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Regions {
    /// Holes inside the mask (connected outside pixels) are filled.
    Holes,
    /// Islands (connected inside pixels) are dropped; the largest stays if all are small.
    Islands,
}

/// SAM's `remove_small_regions`: 8-connected regions under `min_area` pixels removed. Returns
/// whether the mask changed.
pub fn remove_small_regions(mask: &mut Mask, min_area: u32, regions: Regions) -> bool {
    let inside = |v: u8| v != 0;
    let want = match regions {
        Regions::Holes => false,
        Regions::Islands => true,
    };
    let Some(working) = GrayImage::from_raw(
        mask.width,
        mask.height,
        mask.data
            .iter()
            .map(|&v| if inside(v) == want { 255 } else { 0 })
            .collect(),
    ) else {
        return false;
    };
    let labels = connected_components(&working, Connectivity::Eight, Luma([0u8]));
    let count = labels.pixels().map(|p| p.0[0]).max().unwrap_or(0) as usize;
    let mut sizes = vec![0u64; count + 1];
    for p in labels.pixels() {
        sizes[p.0[0] as usize] += 1;
    }
    let small = |label: usize| label > 0 && sizes[label] < u64::from(min_area);
    if !(1..=count).any(small) {
        return false;
    }
    // The labels whose pixels end up inside the mask.
    let keep: Vec<bool> = match regions {
        // Outside of the working image is the mask itself; small holes join it.
        Regions::Holes => (0..=count).map(|l| l == 0 || small(l)).collect(),
        Regions::Islands => {
            let mut keep: Vec<bool> = (0..=count).map(|l| l > 0 && !small(l)).collect();
            if !keep.contains(&true) {
                let largest = (1..=count).max_by_key(|&l| (sizes[l], std::cmp::Reverse(l)));
                keep[largest.expect("a small island exists")] = true;
            }
            keep
        }
    };
    for (v, p) in mask.data.iter_mut().zip(labels.pixels()) {
        *v = if keep[p.0[0] as usize] { 255 } else { 0 };
    }
    true
}

/// A candidate that passed the score filters, before NMS.
#[derive(Debug, Clone, Copy)]
struct Candidate {
    point: usize,
    index: usize,
    score: f32,
    stability: f32,
    corners: Corners,
}

/// Runs `work` on every item index, spread over `workers` threads (each with a single-thread
/// executor), stopping early when `keep_going` says so; results in item order.
fn on_workers<T: Send>(
    items: usize,
    workers: usize,
    work: impl Fn(usize, &Executor) -> Result<T> + Sync,
    after_each: impl Fn() -> bool + Sync,
) -> Result<Vec<T>> {
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let results: Mutex<Vec<Option<Result<T>>>> = Mutex::new((0..items).map(|_| None).collect());
    let worker = || {
        let executor = Executor::SingleThread;
        while !stop.load(Ordering::Relaxed) {
            let i = next.fetch_add(1, Ordering::Relaxed);
            if i >= items {
                break;
            }
            let result = work(i, &executor);
            let failed = result.is_err();
            results.lock().unwrap_or_else(|p| p.into_inner())[i] = Some(result);
            if failed || !after_each() {
                stop.store(true, Ordering::Relaxed);
            }
        }
    };
    std::thread::scope(|scope| {
        for _ in 1..workers.min(items) {
            scope.spawn(worker);
        }
        worker();
    });
    let results = results.into_inner().unwrap_or_else(|p| p.into_inner());
    let mut out = Vec::with_capacity(items);
    for result in results {
        match result {
            Some(result) => out.push(result?),
            None => return Err(Error::Cancelled),
        }
    }
    Ok(out)
}

impl SegmentAnything {
    /// Generates masks for everything in the photo; see the module documentation. `progress` is
    /// called after each step from the worker threads; returning `false` cancels the generation,
    /// which then ends with [`Error::Cancelled`] within one decoder run per worker.
    pub fn everything(
        &self,
        embedding: &Embedding,
        options: &EverythingOptions,
        progress: &(dyn Fn(EverythingProgress) -> bool + Sync),
    ) -> Result<Vec<AutoMask>> {
        options.validate()?;
        let started = std::time::Instant::now();
        let context = self.image_context(embedding)?;
        let (original, resized) = (embedding.image_size(), embedding.resized_size());
        let window = low_res_window(resized);
        let grid = point_grid(options.points_per_side, original.0, original.1);
        let points_total = grid.len() as u32;
        let points_done = AtomicUsize::new(0);
        let report = |points: u32, masks: u32, masks_total: u32| {
            progress(EverythingProgress {
                points_done: points,
                points_total,
                masks_done: masks,
                masks_total,
            })
        };

        let per_point = on_workers(
            grid.len(),
            self.threads,
            |i, executor| {
                let out = self.decode_point(embedding, &context, grid[i], executor)?;
                Ok(MULTIMASK
                    .filter_map(|index| {
                        let logits = &out.masks[index * PLANE..(index + 1) * PLANE];
                        let score = out.scores[index];
                        if score <= options.score_threshold {
                            return None;
                        }
                        let stability = window_stability(logits, window, options.stability_offset);
                        if stability < options.stability_threshold {
                            return None;
                        }
                        let corners = window_box(logits, window, resized, original)?;
                        Some(Candidate {
                            point: i,
                            index,
                            score,
                            stability,
                            corners,
                        })
                    })
                    .collect::<Vec<_>>())
            },
            || report(points_done.fetch_add(1, Ordering::Relaxed) as u32 + 1, 0, 0),
        )?;
        let candidates: Vec<Candidate> = per_point.into_iter().flatten().collect();
        let boxes: Vec<Corners> = candidates.iter().map(|c| c.corners).collect();
        let scores: Vec<f32> = candidates.iter().map(|c| c.score).collect();
        let survivors: Vec<Candidate> = box_nms(&boxes, &scores, options.box_nms_threshold)
            .into_iter()
            .map(|i| candidates[i])
            .collect();
        let decoded = started.elapsed();

        let masks_total = survivors.len() as u32;
        let masks_done = AtomicUsize::new(0);
        let finished = on_workers(
            survivors.len(),
            self.threads,
            |i, executor| {
                let candidate = survivors[i];
                let out =
                    self.decode_point(embedding, &context, grid[candidate.point], executor)?;
                let logits = &out.masks[candidate.index * PLANE..(candidate.index + 1) * PLANE];
                let mut mask = Mask {
                    width: original.0,
                    height: original.1,
                    data: postprocess::mask_at_image_size(logits, resized, original, 1),
                };
                let mut changed = false;
                if options.min_region_area > 0 {
                    changed |=
                        remove_small_regions(&mut mask, options.min_region_area, Regions::Holes);
                    changed |=
                        remove_small_regions(&mut mask, options.min_region_area, Regions::Islands);
                }
                let auto = AutoMask {
                    rle: CocoRle::from_mask(&mask)?,
                    area: mask.area(),
                    bounding_box: mask.bounding_box().unwrap_or(BoundingBox {
                        x: 0,
                        y: 0,
                        width: 0,
                        height: 0,
                    }),
                    score: candidate.score,
                    stability_score: candidate.stability,
                    point: grid[candidate.point],
                    candidate: candidate.index,
                };
                Ok((auto, changed))
            },
            || {
                let done = masks_done.fetch_add(1, Ordering::Relaxed) as u32 + 1;
                report(points_total, done, masks_total)
            },
        )?;
        let mut masks: Vec<AutoMask> = if options.min_region_area > 0 {
            // SAM's clean-up pass: masks the clean-up left alone win over ones it changed.
            let boxes: Vec<Corners> = finished
                .iter()
                .map(|(m, _)| corners_of(&m.bounding_box))
                .collect();
            let unchanged: Vec<f32> = finished
                .iter()
                .map(|(_, c)| if *c { 0.0 } else { 1.0 })
                .collect();
            let kept = box_nms(&boxes, &unchanged, options.box_nms_threshold);
            let mut finished: Vec<Option<AutoMask>> =
                finished.into_iter().map(|(m, _)| Some(m)).collect();
            kept.into_iter()
                .filter_map(|i| finished[i].take())
                .collect()
        } else {
            finished.into_iter().map(|(m, _)| m).collect()
        };
        masks.retain(|m| m.area > 0);
        masks.sort_by_key(|m| std::cmp::Reverse(m.area));
        log::debug!(
            "everything: {} points -> {} candidates -> {} masks; grid decoded in {decoded:?}, total {:?}",
            grid.len(),
            candidates.len(),
            masks.len(),
            started.elapsed()
        );
        Ok(masks)
    }

    /// The decoder's output for one positive point, on `executor`.
    fn decode_point(
        &self,
        embedding: &Embedding,
        context: &ImageContext,
        (x, y): (f32, f32),
        executor: &Executor,
    ) -> Result<DecoderOutput> {
        let (original, resized) = (embedding.image_size(), embedding.resized_size());
        let decoder_prompt = prompt::decoder_prompt(&SegmentPrompt::point(x, y), original, resized);
        self.decoder
            .run(embedding.tensor(), context, &decoder_prompt, executor, None)
    }
}

const PLANE: usize = LOW_RES_SIDE * LOW_RES_SIDE;

/// A pixel bounding box as edge corners.
fn corners_of(b: &BoundingBox) -> Corners {
    [
        b.x as f32,
        b.y as f32,
        (b.x + b.width) as f32,
        (b.y + b.height) as f32,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outputs::test_masks::mask_from_art;

    #[test]
    fn the_grid_is_sams_cell_centres_row_after_row() {
        assert_eq!(point_grid(1, 100, 50), vec![(50.0, 25.0)]);
        assert_eq!(
            point_grid(2, 100, 40),
            vec![(25.0, 10.0), (75.0, 10.0), (25.0, 30.0), (75.0, 30.0)]
        );
        let grid = point_grid(32, 4000, 3000);
        assert_eq!(grid.len(), 1024);
        assert_eq!(grid[0], (62.5, 46.875));
        assert_eq!(grid[1023], (3937.5, 2953.125));
        assert_eq!(grid[1].1, grid[0].1, "x varies fastest");
    }

    #[test]
    fn iou_of_boxes() {
        assert_eq!(
            box_iou(&[0.0, 0.0, 10.0, 10.0], &[0.0, 0.0, 10.0, 10.0]),
            1.0
        );
        assert_eq!(
            box_iou(&[0.0, 0.0, 10.0, 10.0], &[5.0, 0.0, 15.0, 10.0]),
            50.0 / 150.0
        );
        assert_eq!(box_iou(&[0.0, 0.0, 1.0, 1.0], &[2.0, 2.0, 3.0, 3.0]), 0.0);
        assert_eq!(box_iou(&[0.0; 4], &[0.0; 4]), 0.0);
    }

    /// The cases and answers tests/reference/everything_reference.py wrote (torchvision's rules).
    #[test]
    fn nms_matches_the_reference_on_fixed_cases() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/data/nms_cases.json");
        let fixture: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let cases = fixture["cases"].as_array().unwrap();
        assert!(cases.len() >= 10);
        for (i, case) in cases.iter().enumerate() {
            let floats = |v: &serde_json::Value| -> Vec<f32> {
                v.as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x.as_f64().unwrap() as f32)
                    .collect()
            };
            let boxes: Vec<Corners> = case["boxes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|b| floats(b).try_into().unwrap())
                .collect();
            let scores = floats(&case["scores"]);
            for (threshold, kept) in case["kept"].as_object().unwrap() {
                let expected: Vec<usize> = kept
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|k| k.as_u64().unwrap() as usize)
                    .collect();
                let t: f32 = threshold.parse().unwrap();
                assert_eq!(box_nms(&boxes, &scores, t), expected, "case {i} at {t}");
            }
        }
    }

    fn logits_with_square(x0: usize, y0: usize, x1: usize, y1: usize, inside: f32) -> Vec<f32> {
        let mut logits = vec![-5.0; PLANE];
        for y in y0..y1 {
            for x in x0..x1 {
                logits[y * LOW_RES_SIDE + x] = inside;
            }
        }
        logits
    }

    #[test]
    fn stability_and_box_look_only_at_the_photo_window() {
        // A 4000x3000 photo fills 1024x768 of the frame: 256x192 low-res cells.
        let resized = (1024, 768);
        let window = low_res_window(resized);
        assert_eq!(window, (256, 192));
        assert_eq!(low_res_window((1024, 767)), (256, 192));
        // Cells 10..20 x 5..15 at logit 3 (stable), plus a patch in the padding rows.
        let mut logits = logits_with_square(10, 5, 20, 15, 3.0);
        for x in 0..50 {
            logits[200 * LOW_RES_SIDE + x] = 0.5;
        }
        assert_eq!(window_stability(&logits, window, 1.0), 1.0);
        let corners = window_box(&logits, window, resized, (4000, 3000)).unwrap();
        let per_cell = 4.0 * 4000.0 / 1024.0;
        assert_eq!(
            corners,
            [
                10.0 * per_cell,
                5.0 * per_cell,
                20.0 * per_cell,
                15.0 * per_cell
            ]
        );
        // Half the cells between -1 and +1: stability 0.5.
        let mut soft = logits_with_square(10, 5, 20, 15, 3.0);
        for y in 5..15 {
            for x in 15..20 {
                soft[y * LOW_RES_SIDE + x] = 0.5;
            }
        }
        assert_eq!(window_stability(&soft, window, 1.0), 0.5);
        assert_eq!(
            window_box(&vec![-1.0; PLANE], window, resized, (4000, 3000)),
            None
        );
        assert_eq!(window_stability(&vec![-3.0; PLANE], window, 1.0), 0.0);
    }

    #[test]
    fn small_holes_are_filled_and_small_islands_dropped() {
        let mut mask = mask_from_art(&["#####.....", "#.###.....", "#####...#.", ".........."]);
        assert!(remove_small_regions(&mut mask, 2, Regions::Holes));
        assert_eq!(
            mask,
            mask_from_art(&["#####.....", "#####.....", "#####...#.", "..........",])
        );
        assert!(remove_small_regions(&mut mask, 2, Regions::Islands));
        assert_eq!(
            mask,
            mask_from_art(&["#####.....", "#####.....", "#####.....", "..........",])
        );
        assert!(
            !remove_small_regions(&mut mask, 2, Regions::Islands),
            "nothing left to do"
        );
        // Diagonal neighbours are connected (8-connectivity): one island of 2 pixels survives.
        let mut diagonal = mask_from_art(&["#..", ".#.", "..."]);
        assert!(!remove_small_regions(&mut diagonal, 2, Regions::Islands));
        // All islands small: the largest stays.
        let mut specks = mask_from_art(&["#.##", "....", "...."]);
        assert!(remove_small_regions(&mut specks, 5, Regions::Islands));
        assert_eq!(specks, mask_from_art(&["..##", "....", "...."]));
    }

    #[test]
    fn workers_return_results_in_order_and_stop_when_told() {
        let squares = on_workers(50, 3, |i, _| Ok(i * i), || true).unwrap();
        assert_eq!(squares, (0..50).map(|i| i * i).collect::<Vec<_>>());
        let done = AtomicUsize::new(0);
        let r = on_workers(
            1000,
            2,
            |i, _| Ok(i),
            || done.fetch_add(1, Ordering::Relaxed) < 10,
        );
        assert!(matches!(r, Err(Error::Cancelled)));
        assert!(
            done.load(Ordering::Relaxed) < 20,
            "stopped within a step per worker"
        );
        let failing = on_workers(
            10,
            2,
            |i, _| {
                if i == 4 {
                    Err(Error::bad_prompt("four"))
                } else {
                    Ok(i)
                }
            },
            || true,
        );
        assert!(matches!(failing, Err(Error::BadPrompt { .. })));
        assert!(on_workers(0, 4, |i, _| Ok(i), || true).unwrap().is_empty());
    }

    #[test]
    fn options_are_checked() {
        let bad = [
            EverythingOptions {
                points_per_side: 0,
                ..Default::default()
            },
            EverythingOptions {
                points_per_side: 129,
                ..Default::default()
            },
            EverythingOptions {
                score_threshold: f32::NAN,
                ..Default::default()
            },
            EverythingOptions {
                box_nms_threshold: f32::INFINITY,
                ..Default::default()
            },
        ];
        for options in bad {
            assert!(
                matches!(options.validate(), Err(Error::BadOptions { .. })),
                "{options:?}"
            );
        }
        assert!(EverythingOptions::default().validate().is_ok());
    }
}
