//! Automatic masks ("everything mode") for apps: a progress listener a UI can show, and
//! cancellation through a [`CancellationToken`] for the async call.

use std::sync::Arc;

use crate::background::{run_in_background, CancellationToken};
use crate::error::{guarded, EdgeSamError};
use crate::model::{ImageEmbedding, SegmentAnything};
use crate::outputs::CocoRle;
use crate::types::{option_count, BoundingBox};

/// How the automatic masks are generated; the defaults are SAM's automatic mask generator's.
#[derive(Debug, Clone, Copy, PartialEq, uniffi::Record)]
pub struct EverythingOptions {
    /// Points per side of the prompt grid, 1...128 (32 gives 1024 prompts).
    #[uniffi(default = 32)]
    pub points_per_side: i32,
    /// A candidate is kept when the decoder's score for it is above this.
    #[uniffi(default = 0.88)]
    pub score_threshold: f32,
    /// A candidate is kept when its stability score is at least this.
    #[uniffi(default = 0.95)]
    pub stability_threshold: f32,
    /// Logit offset of the stability score.
    #[uniffi(default = 1.0)]
    pub stability_offset: f32,
    /// Of two masks whose boxes overlap by more than this IoU, the lower-scoring one is dropped.
    #[uniffi(default = 0.7)]
    pub box_nms_threshold: f32,
    /// Islands and holes smaller than this many pixels are removed; 0 keeps masks as they are.
    #[uniffi(default = 0)]
    pub min_region_area: i32,
}

impl TryFrom<EverythingOptions> for edgesam::EverythingOptions {
    type Error = EdgeSamError;

    fn try_from(o: EverythingOptions) -> Result<Self, EdgeSamError> {
        Ok(edgesam::EverythingOptions {
            points_per_side: option_count(o.points_per_side, "points per side")?,
            score_threshold: o.score_threshold,
            stability_threshold: o.stability_threshold,
            stability_offset: o.stability_offset,
            box_nms_threshold: o.box_nms_threshold,
            min_region_area: option_count(o.min_region_area, "minimum region area")?,
        })
    }
}

/// How far a generation is: the grid's points first, then the surviving masks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct EverythingProgress {
    pub points_done: i32,
    pub points_total: i32,
    /// 0 of 0 until every grid point is decoded.
    pub masks_done: i32,
    pub masks_total: i32,
}

/// Told of the progress from a worker thread (hop to the UI thread to show it).
#[uniffi::export(with_foreign)]
pub trait EverythingListener: Send + Sync {
    fn on_progress(&self, progress: EverythingProgress);
}

/// One automatic mask. Its pixels travel as COCO RLE (`SegmentMask.fromCocoRle` expands them):
/// a hundred photo-size byte masks would not fit in a phone's memory.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct AutoMask {
    pub rle: CocoRle,
    /// Pixels inside.
    pub area: i64,
    pub bounding_box: BoundingBox,
    /// The decoder's score of the candidate.
    pub score: f32,
    pub stability_score: f32,
    /// The grid point that prompted it, in photo pixels.
    pub point_x: f32,
    pub point_y: f32,
    /// Which decoder candidate it is (1...3).
    pub candidate: i32,
}

impl From<edgesam::AutoMask> for AutoMask {
    fn from(m: edgesam::AutoMask) -> Self {
        AutoMask {
            rle: CocoRle {
                width: m.rle.size[1] as i32,
                height: m.rle.size[0] as i32,
                counts: m.rle.compressed_counts(),
            },
            area: m.area as i64,
            bounding_box: m.bounding_box.into(),
            score: m.score,
            stability_score: m.stability_score,
            point_x: m.point.0,
            point_y: m.point.1,
            candidate: m.candidate as i32,
        }
    }
}

fn everything(
    model: &edgesam::SegmentAnything,
    embedding: &ImageEmbedding,
    options: EverythingOptions,
    listener: Option<&dyn EverythingListener>,
    cancelled: &(dyn Fn() -> bool + Sync),
) -> Result<Vec<AutoMask>, EdgeSamError> {
    let progress = |p: edgesam::EverythingProgress| {
        if let Some(listener) = listener {
            listener.on_progress(EverythingProgress {
                // At most 128 x 128 grid points and three masks each: far below i32::MAX.
                points_done: p.points_done as i32,
                points_total: p.points_total as i32,
                masks_done: p.masks_done as i32,
                masks_total: p.masks_total as i32,
            });
        }
        !cancelled()
    };
    let masks = model.everything(embedding.core(), &options.try_into()?, &progress)?;
    Ok(masks.into_iter().map(AutoMask::from).collect())
}

#[uniffi::export]
impl SegmentAnything {
    /// Masks of everything in the photo, largest first. Seconds on a phone: prefer
    /// `everythingAsync`, which can be cancelled.
    #[uniffi::method(default(listener = None))]
    pub fn everything(
        &self,
        embedding: Arc<ImageEmbedding>,
        options: EverythingOptions,
        listener: Option<Arc<dyn EverythingListener>>,
    ) -> Result<Vec<AutoMask>, EdgeSamError> {
        guarded(|| {
            everything(
                self.core(),
                &embedding,
                options,
                listener.as_deref(),
                &|| false,
            )
        })
    }

    /// `everything` on a worker thread; cancelling (the token, or the Kotlin coroutine) stops it
    /// within one decoder run per worker.
    #[uniffi::method(default(listener = None, cancellation = None))]
    pub async fn everything_async(
        &self,
        embedding: Arc<ImageEmbedding>,
        options: EverythingOptions,
        listener: Option<Arc<dyn EverythingListener>>,
        cancellation: Option<Arc<CancellationToken>>,
    ) -> Result<Vec<AutoMask>, EdgeSamError> {
        let model = self.shared_core();
        run_in_background(cancellation, move |token| {
            everything(&model, &embedding, options, listener.as_deref(), &|| {
                token.is_cancelled()
            })
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(points_per_side: i32, min_region_area: i32) -> EverythingOptions {
        EverythingOptions {
            points_per_side,
            score_threshold: 0.88,
            stability_threshold: 0.95,
            stability_offset: 1.0,
            box_nms_threshold: 0.7,
            min_region_area,
        }
    }

    #[test]
    fn negative_grid_sides_and_areas_are_bad_options() {
        for (side, area) in [(-1, 0), (i32::MIN, 0), (32, -1)] {
            let refused = edgesam::EverythingOptions::try_from(options(side, area)).err();
            assert!(
                matches!(refused, Some(EdgeSamError::BadOptions { .. })),
                "{side}, {area}"
            );
        }
        let kept = edgesam::EverythingOptions::try_from(options(32, 100)).unwrap();
        assert_eq!((kept.points_per_side, kept.min_region_area), (32, 100));
    }
}
