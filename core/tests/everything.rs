//! Everything mode on the `tiny` stand-ins: each automatic mask is exactly the tap it stands for,
//! progress and cancellation, threads, clean-up.

mod common;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};

use edgesam::everything::{remove_small_regions, Regions};
use edgesam::{
    AutoMask, Embedding, Error, EverythingOptions, EverythingProgress, Options, RgbImage,
    SegmentAnything, SegmentPrompt,
};

const W: u32 = 320;
const H: u32 = 200;

fn model(threads: usize) -> SegmentAnything {
    let (e, d) = common::standins("tiny");
    SegmentAnything::from_files(
        e,
        d,
        Options {
            threads,
            ..Options::default()
        },
    )
    .expect("tiny stand-ins load")
}

fn two_threads() -> &'static SegmentAnything {
    static MODEL: OnceLock<SegmentAnything> = OnceLock::new();
    MODEL.get_or_init(|| model(2))
}

fn embedding() -> &'static Embedding {
    static EMBEDDING: OnceLock<Embedding> = OnceLock::new();
    EMBEDDING.get_or_init(|| {
        let photo = RgbImage::new(W, H, common::synthetic_rgb(W, H)).unwrap();
        two_threads().encode(&photo).unwrap()
    })
}

/// Keeps every non-empty candidate, so that the tests see many masks and much overlap.
fn permissive(points_per_side: u32) -> EverythingOptions {
    EverythingOptions {
        points_per_side,
        score_threshold: -1.0,
        stability_threshold: 0.0,
        ..EverythingOptions::default()
    }
}

fn run(model: &SegmentAnything, options: &EverythingOptions) -> Vec<AutoMask> {
    model.everything(embedding(), options, &|_| true).unwrap()
}

#[test]
fn each_mask_is_the_tap_of_its_grid_point_and_they_come_largest_first() {
    let masks = run(two_threads(), &permissive(4));
    assert!(masks.len() > 1, "{} masks", masks.len());
    assert!(masks.windows(2).all(|p| p[0].area >= p[1].area));
    for m in &masks {
        let tap = two_threads()
            .segment(
                embedding(),
                &SegmentPrompt::point(m.point.0, m.point.1),
                Some(m.candidate),
            )
            .unwrap();
        let mask = m.mask().unwrap();
        assert_eq!(mask, tap.mask, "grid point {:?}", m.point);
        assert_eq!(m.area, tap.mask.area());
        assert_eq!(Some(m.bounding_box), tap.mask.bounding_box());
        assert_eq!(m.score, tap.scores[m.candidate]);
        assert!((1..=3).contains(&m.candidate));
        assert!(m.area > 0);
    }
}

#[test]
fn thresholds_and_nms_drop_masks() {
    let all = run(two_threads(), &permissive(4));
    let none = run(
        two_threads(),
        &EverythingOptions {
            score_threshold: f32::MAX,
            ..permissive(4)
        },
    );
    assert!(none.is_empty());
    let stable_only = run(
        two_threads(),
        &EverythingOptions {
            stability_threshold: 0.9,
            ..permissive(4)
        },
    );
    assert!(stable_only.iter().all(|m| m.stability_score >= 0.9));
    assert!(stable_only.len() <= all.len());
    // NMS off (threshold 1 keeps everything not identical) gives at least as many masks.
    let no_nms = run(
        two_threads(),
        &EverythingOptions {
            box_nms_threshold: 1.0,
            ..permissive(4)
        },
    );
    assert!(no_nms.len() >= all.len());
    let strict_nms = run(
        two_threads(),
        &EverythingOptions {
            box_nms_threshold: 0.0,
            ..permissive(4)
        },
    );
    assert!(strict_nms.len() <= all.len());
}

#[test]
fn one_thread_and_two_give_the_same_masks() {
    assert_eq!(
        run(&model(1), &permissive(4)),
        run(two_threads(), &permissive(4))
    );
}

#[test]
fn progress_counts_up_and_cancelling_stops_early() {
    let seen = Mutex::new(Vec::<EverythingProgress>::new());
    let masks = two_threads()
        .everything(embedding(), &permissive(4), &|p| {
            seen.lock().unwrap().push(p);
            true
        })
        .unwrap();
    let seen = seen.into_inner().unwrap();
    assert_eq!(seen.len(), 16 + seen.last().unwrap().masks_total as usize);
    assert!(seen.iter().all(|p| p.points_total == 16));
    let mut points: Vec<u32> = seen.iter().map(|p| p.points_done).collect();
    points.sort_unstable();
    assert_eq!(points[..16], (1..=16).collect::<Vec<_>>()[..]);
    let last = seen
        .iter()
        .max_by_key(|p| (p.points_done, p.masks_done))
        .unwrap();
    assert_eq!(last.masks_done, last.masks_total);
    assert!(last.masks_total as usize >= masks.len());

    let calls = AtomicU32::new(0);
    let cancelled = two_threads().everything(embedding(), &permissive(6), &|_| {
        calls.fetch_add(1, Ordering::Relaxed) < 3
    });
    assert!(matches!(cancelled, Err(Error::Cancelled)));
    assert!(
        calls.load(Ordering::Relaxed) <= 6,
        "one more point per worker at most"
    );
    // The model and the embedding are still fine.
    assert!(!run(two_threads(), &permissive(3)).is_empty());
}

#[test]
fn clean_up_leaves_no_small_islands_or_holes() {
    let min_area = 400;
    let masks = run(
        two_threads(),
        &EverythingOptions {
            min_region_area: min_area,
            ..permissive(4)
        },
    );
    assert!(!masks.is_empty());
    for m in &masks {
        // A second clean-up changes nothing (it may still report the one small island it keeps
        // when all are small, as SAM's does).
        let mask = m.mask().unwrap();
        let mut again = mask.clone();
        remove_small_regions(&mut again, min_area, Regions::Holes);
        remove_small_regions(&mut again, min_area, Regions::Islands);
        assert_eq!(again, mask);
        assert_eq!(m.area, mask.area());
    }
}

#[test]
fn bad_options_are_typed_errors() {
    let r = two_threads().everything(
        embedding(),
        &EverythingOptions {
            points_per_side: 0,
            ..EverythingOptions::default()
        },
        &|_| true,
    );
    assert!(matches!(r, Err(Error::BadOptions { .. })));
}
