//! Prompts (taps and boxes in the photo's pixels) and their translation into decoder inputs.

use crate::engine::decoder::DecoderPrompt;
use crate::error::{Error, Result};

/// Most points one prompt may carry. Interactive editing uses a handful; each point is a token
/// in every attention layer of the decoder, so an unbounded count is an unbounded cost.
pub const MAX_POINTS: usize = 64;

/// The decoder graph's labels: a background point, an object point, and a box's top-left and
/// bottom-right corners (SAM's prompt encoder also knows -1, a padding point, never sent here).
const NEGATIVE_LABEL: f32 = 0.0;
const POSITIVE_LABEL: f32 = 1.0;
const BOX_CORNER_LABELS: [f32; 2] = [2.0, 3.0];

/// A tap in the original photo's pixel coordinates (x to the right, y down): `positive` marks
/// the object, otherwise the background.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PromptPoint {
    pub x: f32,
    pub y: f32,
    pub positive: bool,
}

impl PromptPoint {
    /// A tap on the object.
    pub fn positive(x: f32, y: f32) -> Self {
        PromptPoint {
            x,
            y,
            positive: true,
        }
    }

    /// A tap on the background.
    pub fn negative(x: f32, y: f32) -> Self {
        PromptPoint {
            x,
            y,
            positive: false,
        }
    }

    /// The label value the decoder graph expects.
    fn decoder_label(self) -> f32 {
        if self.positive {
            POSITIVE_LABEL
        } else {
            NEGATIVE_LABEL
        }
    }
}

/// A box given by two opposite corners in the photo's pixels. The corners may come in any order
/// (a drag from right to left is the same box).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PromptBox {
    pub x0: f32,
    pub y0: f32,
    pub x1: f32,
    pub y1: f32,
}

impl PromptBox {
    /// Top-left and bottom-right corners.
    fn corners(&self) -> [(f32, f32); 2] {
        [
            (self.x0.min(self.x1), self.y0.min(self.y1)),
            (self.x0.max(self.x1), self.y0.max(self.y1)),
        ]
    }
}

/// Any number of points, an optional box, or both.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SegmentPrompt {
    pub points: Vec<PromptPoint>,
    pub r#box: Option<PromptBox>,
}

impl SegmentPrompt {
    pub fn point(x: f32, y: f32) -> Self {
        SegmentPrompt {
            points: vec![PromptPoint::positive(x, y)],
            r#box: None,
        }
    }

    pub fn with_box(x0: f32, y0: f32, x1: f32, y1: f32) -> Self {
        SegmentPrompt {
            points: vec![],
            r#box: Some(PromptBox { x0, y0, x1, y1 }),
        }
    }

    /// Tokens the decoder will see: one per point, two for the box.
    pub fn token_count(&self) -> usize {
        self.points.len() + if self.r#box.is_some() { 2 } else { 0 }
    }

    /// The candidate the official demo shows: index 0 (SAM's single-mask output) for a box alone,
    /// the best-scoring of the four whenever there are points.
    pub(crate) fn default_mask_index(&self, scores: &[f32; 4]) -> usize {
        if self.points.is_empty() {
            return 0;
        }
        let mut best = 0;
        for (i, s) in scores.iter().enumerate() {
            // Strictly greater, so ties go to the lower index as numpy's argmax does.
            if *s > scores[best] {
                best = i;
            }
        }
        best
    }

    /// Checks the prompt against a `width` x `height` photo.
    pub(crate) fn validate(&self, width: u32, height: u32) -> Result<()> {
        if self.points.is_empty() && self.r#box.is_none() {
            return Err(Error::bad_prompt(
                "a prompt needs at least one point or a box",
            ));
        }
        if self.points.len() > MAX_POINTS {
            return Err(Error::bad_prompt(format!(
                "{} points given, at most {MAX_POINTS} are supported",
                self.points.len()
            )));
        }
        let check = |what: &str, x: f32, y: f32| -> Result<()> {
            if !x.is_finite() || !y.is_finite() {
                return Err(Error::bad_prompt(format!(
                    "{what} ({x}, {y}) is not a finite coordinate"
                )));
            }
            if x < 0.0 || y < 0.0 || x > width as f32 || y > height as f32 {
                return Err(Error::bad_prompt(format!(
                    "{what} ({x}, {y}) lies outside the {width}x{height} image"
                )));
            }
            Ok(())
        };
        for (i, p) in self.points.iter().enumerate() {
            check(&format!("point {i}"), p.x, p.y)?;
        }
        if let Some(b) = &self.r#box {
            check("box corner", b.x0, b.y0)?;
            check("box corner", b.x1, b.y1)?;
        }
        Ok(())
    }
}

/// Maps a photo coordinate into the resized 1024 frame: `x * new_w / w`, `y * new_h / h`.
pub(crate) fn to_encoder_frame(
    x: f32,
    y: f32,
    original: (u32, u32),
    resized: (u32, u32),
) -> (f32, f32) {
    let sx = resized.0 as f64 / original.0 as f64;
    let sy = resized.1 as f64 / original.1 as f64;
    ((x as f64 * sx) as f32, (y as f64 * sy) as f32)
}

/// Builds the decoder inputs: the user's points first, then the box as two points labelled 2 and
/// 3, as SAM's prompt encoder orders them. No padding point is added: the official ONNX pipeline
/// adds none, and one would change the logits.
pub(crate) fn decoder_prompt(
    prompt: &SegmentPrompt,
    original: (u32, u32),
    resized: (u32, u32),
) -> DecoderPrompt {
    let mut coords = Vec::with_capacity(prompt.token_count() * 2);
    let mut labels = Vec::with_capacity(prompt.token_count());
    for p in &prompt.points {
        let (x, y) = to_encoder_frame(p.x, p.y, original, resized);
        coords.extend([x, y]);
        labels.push(p.decoder_label());
    }
    if let Some(b) = &prompt.r#box {
        for ((x, y), label) in b.corners().into_iter().zip(BOX_CORNER_LABELS) {
            let (x, y) = to_encoder_frame(x, y, original, resized);
            coords.extend([x, y]);
            labels.push(label);
        }
    }
    DecoderPrompt { coords, labels }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coordinates_scale_per_axis_without_offset() {
        // 4000x3000 -> 1024x768: both axes scale by 0.256.
        let (x, y) = to_encoder_frame(1000.0, 2000.0, (4000, 3000), (1024, 768));
        assert!(
            (x - 256.0).abs() < 1e-4 && (y - 512.0).abs() < 1e-4,
            "{x} {y}"
        );
        // 17x9 -> 1024x542: the axes scale differently (60.235... and 60.222...).
        let (x, y) = to_encoder_frame(17.0, 9.0, (17, 9), (1024, 542));
        assert_eq!((x, y), (1024.0, 542.0));
        let (x, y) = to_encoder_frame(0.0, 0.0, (17, 9), (1024, 542));
        assert_eq!((x, y), (0.0, 0.0));
    }

    #[test]
    fn points_then_box_corners_with_labels() {
        let prompt = SegmentPrompt {
            points: vec![
                PromptPoint::positive(10.0, 20.0),
                PromptPoint::negative(30.0, 40.0),
            ],
            r#box: Some(PromptBox {
                x0: 100.0,
                y0: 80.0,
                x1: 50.0,
                y1: 60.0,
            }),
        };
        let dp = decoder_prompt(&prompt, (200, 100), (1024, 512));
        assert_eq!(dp.labels, vec![1.0, 0.0, 2.0, 3.0]);
        let s = 1024.0 / 200.0;
        let expected = [10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 100.0, 80.0].map(|v| v * s);
        for (got, want) in dp.coords.iter().zip(expected) {
            assert!((got - want).abs() < 1e-3, "{:?}", dp.coords);
        }
    }

    #[test]
    fn default_choice_is_argmax_for_points_and_zero_for_a_box_alone() {
        let scores = [0.2, 0.9, 0.4, 0.9];
        assert_eq!(
            SegmentPrompt::point(1.0, 1.0).default_mask_index(&scores),
            1
        );
        assert_eq!(
            SegmentPrompt::with_box(0.0, 0.0, 5.0, 5.0).default_mask_index(&scores),
            0
        );
        let mut both = SegmentPrompt::with_box(0.0, 0.0, 5.0, 5.0);
        both.points.push(PromptPoint::negative(2.0, 2.0));
        assert_eq!(both.default_mask_index(&[0.1, 0.2, 0.7, 0.3]), 2);
    }

    #[test]
    fn invalid_prompts_are_refused() {
        let bad = [
            SegmentPrompt::default(),
            SegmentPrompt::point(f32::NAN, 1.0),
            SegmentPrompt::point(1.0, f32::INFINITY),
            SegmentPrompt::point(-1.0, 1.0),
            SegmentPrompt::point(101.0, 1.0),
            SegmentPrompt::with_box(0.0, 0.0, 10.0, 51.0),
            SegmentPrompt {
                points: vec![PromptPoint::positive(1.0, 1.0); MAX_POINTS + 1],
                r#box: None,
            },
        ];
        for p in bad {
            assert!(
                matches!(p.validate(100, 50), Err(Error::BadPrompt { .. })),
                "{p:?}"
            );
        }
        assert!(SegmentPrompt::point(100.0, 50.0).validate(100, 50).is_ok());
        assert!(SegmentPrompt::with_box(90.0, 40.0, 10.0, 5.0)
            .validate(100, 50)
            .is_ok());
    }
}
