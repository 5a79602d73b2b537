//! Records and enums that cross the FFI.

use std::sync::Arc;

use crate::error::EdgeSamError;
use crate::outputs::SegmentMask;

/// A tap in the photo's pixels (after EXIF orientation): `positive` marks the object, otherwise
/// the background.
#[derive(Debug, Clone, Copy, PartialEq, uniffi::Record)]
pub struct PromptPoint {
    pub x: f32,
    pub y: f32,
    #[uniffi(default = true)]
    pub positive: bool,
}

/// A box from two opposite corners, in the photo's pixels, in any order.
///
/// This and the other records mirror the core's types field for field: the FFI crate is the one
/// UniFFI component, so each language gets one generated module (the core deriving them would
/// make it a second component, with a module of its own in every language).
#[derive(Debug, Clone, Copy, PartialEq, uniffi::Record)]
pub struct PromptBox {
    pub x0: f32,
    pub y0: f32,
    pub x1: f32,
    pub y1: f32,
}

/// Points, a box, or both; `mask_index` (0...3) overrides the default choice of candidate.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct SegmentPrompt {
    #[uniffi(default)]
    pub points: Vec<PromptPoint>,
    #[uniffi(default)]
    // `box` in Swift, Kotlin and Python: UniFFI drops the raw-identifier prefix.
    pub r#box: Option<PromptBox>,
    #[uniffi(default)]
    pub mask_index: Option<i32>,
}

impl SegmentPrompt {
    pub(crate) fn to_core(&self) -> Result<(edgesam::SegmentPrompt, Option<usize>), EdgeSamError> {
        let mask_index = match self.mask_index {
            None => None,
            Some(i) => Some(usize::try_from(i).map_err(|_| EdgeSamError::BadPrompt {
                // Worded as the core's MaskIndexOutOfRange, which covers indices above 3.
                reason: format!(
                    "mask index {i} is out of range: the decoder returns 4 candidates (0..=3)"
                ),
            })?),
        };
        let points = self
            .points
            .iter()
            .map(|p| edgesam::PromptPoint {
                x: p.x,
                y: p.y,
                positive: p.positive,
            })
            .collect();
        let r#box = self.r#box.map(|r| edgesam::PromptBox {
            x0: r.x0,
            y0: r.y0,
            x1: r.x1,
            y1: r.y1,
        });
        Ok((edgesam::SegmentPrompt { points, r#box }, mask_index))
    }
}

/// The rectangle enclosing a mask: origin at the top-left, sizes in pixels. The core's sides are
/// `usize`, which UniFFI cannot carry; every size on the FFI is an `i32` (Kotlin's `Int`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Record)]
pub struct BoundingBox {
    pub x: i32,
    pub y: i32,
    pub width: i32,
    pub height: i32,
}

impl From<edgesam::BoundingBox> for BoundingBox {
    fn from(b: edgesam::BoundingBox) -> Self {
        // Photo sides are far below i32::MAX (image::MAX_IMAGE_PIXELS), so these fit.
        BoundingBox {
            x: b.x as i32,
            y: b.y as i32,
            width: b.width as i32,
            height: b.height as i32,
        }
    }
}

/// The answer to one tap. Two answers are equal when their masks, scores and choice are.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
#[uniffi::export(Eq, Hash)]
pub struct Segmentation {
    /// At the photo's size (after EXIF orientation): its pixels stay in Rust until asked for,
    /// and it cuts out, tints and combines with other masks there.
    pub mask: Arc<SegmentMask>,
    /// Score of the chosen candidate.
    pub score: f32,
    /// Scores of the four candidates.
    pub scores: Vec<f32>,
    /// Which candidate `mask` is (0...3).
    pub mask_index: i32,
}

/// Hashes what equality compares except the scores (floats): equal answers hash alike.
impl std::hash::Hash for Segmentation {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        (&self.mask, self.mask_index).hash(state);
    }
}

impl From<edgesam::Segmentation> for Segmentation {
    fn from(p: edgesam::Segmentation) -> Self {
        Segmentation {
            score: p.score(),
            scores: p.scores.to_vec(),
            mask_index: p.mask_index as i32,
            mask: SegmentMask::wrap(p.mask),
        }
    }
}

/// A count the apps pass as `Int` (every integer on the FFI is an `i32`): a negative one is a bad
/// option, never silently 0.
pub(crate) fn option_count(value: i32, name: &str) -> Result<u32, EdgeSamError> {
    u32::try_from(value).map_err(|_| EdgeSamError::BadOptions {
        reason: format!("{name} must be 0 or more, not {value}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prompt_with_mask_index(mask_index: i32) -> SegmentPrompt {
        SegmentPrompt {
            points: vec![PromptPoint {
                x: 1.0,
                y: 2.0,
                positive: true,
            }],
            r#box: None,
            mask_index: Some(mask_index),
        }
    }

    #[test]
    fn negative_mask_indices_are_bad_prompts() {
        for index in [-1, i32::MIN] {
            let refused = prompt_with_mask_index(index).to_core();
            assert!(
                matches!(&refused, Err(EdgeSamError::BadPrompt { reason }) if reason.contains(&index.to_string())),
                "{index}: {refused:?}"
            );
        }
        // Too large for the decoder is the core's check; here it only has to arrive intact.
        let (_, index) = prompt_with_mask_index(i32::MAX).to_core().unwrap();
        assert_eq!(index, Some(i32::MAX as usize));
    }

    #[test]
    fn the_box_keeps_its_corners() {
        let prompt = SegmentPrompt {
            points: vec![],
            r#box: Some(PromptBox {
                x0: 4.0,
                y0: 3.0,
                x1: 1.0,
                y1: 2.0,
            }),
            mask_index: None,
        };
        let (core, _) = prompt.to_core().unwrap();
        let b = core.r#box.unwrap();
        assert_eq!((b.x0, b.y0, b.x1, b.y1), (4.0, 3.0, 1.0, 2.0));
    }

    #[test]
    fn negative_counts_are_bad_options_not_zero() {
        assert_eq!(option_count(0, "threads").unwrap(), 0);
        assert_eq!(option_count(i32::MAX, "threads").unwrap(), i32::MAX as u32);
        for value in [-1, i32::MIN] {
            assert!(matches!(
                option_count(value, "threads"),
                Err(EdgeSamError::BadOptions { reason }) if reason == format!("threads must be 0 or more, not {value}")
            ));
        }
    }
}
