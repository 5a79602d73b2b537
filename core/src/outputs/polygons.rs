//! Outline polygons: the borders of a mask's regions, simplified, for a UI to draw around the
//! selection or to store as COCO polygons.

use imageproc::contours::{find_contours, BorderType};
use imageproc::geometry::approximate_polygon_dp;
use imageproc::point::Point;

use super::check_mask;
use crate::error::Result;
use crate::Mask;

/// Default simplification tolerance in pixels: drops the staircase of a diagonal border while
/// staying within a pixel of it.
pub const DEFAULT_TOLERANCE: f64 = 1.0;

/// One closed border of a mask region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Polygon {
    /// Vertices `[x, y]` in photo pixels, in order, not repeating the first. They are centres of
    /// border pixels inside the mask, for holes too (OpenCV's `findContours` convention): a
    /// region is its polygon with the edges, a hole its polygon's interior without them.
    pub points: Vec<[u32; 2]>,
    /// Whether this borders a hole inside a region rather than a region itself.
    pub is_hole: bool,
    /// Index, in the same list, of the border that encloses this one (a hole's region, or the
    /// hole an island sits in); `None` for an outermost region.
    pub parent: Option<usize>,
}

/// The borders of the mask's 8-connected regions and of their holes (Suzuki and Abe's border
/// following, by `imageproc`), each simplified by Douglas–Peucker: every dropped border pixel
/// lies within `tolerance` pixels of the line through the polygon edge that replaces it. A
/// tolerance of 0 (or less) keeps every border pixel.
pub fn outline_polygons(mask: &Mask, tolerance: f64) -> Result<Vec<Polygon>> {
    check_mask(mask)?;
    Ok(find_contours::<u32>(&framed_in_background(mask))
        .into_iter()
        .map(|contour| Polygon {
            // Every border pixel is a mask pixel, at least 1 from the frame's edge.
            points: simplify_closed(&contour.points, tolerance)
                .into_iter()
                .map(|p| [p.x - 1, p.y - 1])
                .collect(),
            is_hole: contour.border_type == BorderType::Hole,
            parent: contour.parent,
        })
        .collect())
}

/// The mask inside a one-pixel frame of background. imageproc starts an outer border only at a
/// pixel whose left neighbour is background, so a region touching the photo's left edge would be
/// missed or taken for a hole; Suzuki and Abe's algorithm assumes such a frame (OpenCV adds one too).
fn framed_in_background(mask: &Mask) -> image::GrayImage {
    let (width, height) = (mask.width as usize, mask.height as usize);
    let mut framed = image::GrayImage::new(mask.width + 2, mask.height + 2);
    for y in 0..height {
        let start = (y + 1) * (width + 2) + 1;
        framed.as_mut()[start..start + width]
            .copy_from_slice(&mask.data[y * width..(y + 1) * width]);
    }
    framed
}

/// Douglas–Peucker on a closed border. imageproc's version measures distances to the line
/// through the two ends, which for a closed border are neighbours: a one-pixel-wide bar would
/// collapse to a point. So the border is cut at its first point and the point farthest from it,
/// and each half is simplified as an open curve between two distant ends.
fn simplify_closed(border: &[Point<u32>], tolerance: f64) -> Vec<Point<u32>> {
    // NaN is refused here too: imageproc panics on a tolerance that is not above 0.
    let simplifies = tolerance > 0.0;
    if !simplifies || border.len() < 3 {
        return border.to_vec();
    }
    let start = border[0];
    let squared_distance = |p: &Point<u32>| {
        let (dx, dy) = (
            f64::from(p.x) - f64::from(start.x),
            f64::from(p.y) - f64::from(start.y),
        );
        dx * dx + dy * dy
    };
    let far = (0..border.len())
        .max_by(|&a, &b| squared_distance(&border[a]).total_cmp(&squared_distance(&border[b])))
        .expect("the border has points");
    if far == 0 {
        return vec![start];
    }
    let mut simplified = approximate_polygon_dp(&border[..=far], tolerance, false);
    simplified.pop(); // `border[far]` opens the second half.
    let back: Vec<Point<u32>> = border[far..].iter().copied().chain([start]).collect();
    let mut second_half = approximate_polygon_dp(&back, tolerance, false);
    second_half.pop(); // `start` again.
    simplified.extend(second_half);
    simplified
}

#[cfg(test)]
mod tests {
    use super::super::test_masks::mask_from_art;
    use super::*;

    /// Vertices as a set of `[x, y]`, independent of where the border starts.
    fn vertex_set(polygon: &Polygon) -> Vec<[u32; 2]> {
        let mut points = polygon.points.clone();
        points.sort();
        points
    }

    #[test]
    fn a_rectangle_simplifies_to_its_four_corners() {
        let mask = mask_from_art(&[
            "......", //
            ".####.", //
            ".####.", //
            ".####.", //
            "......",
        ]);
        let polygons = outline_polygons(&mask, DEFAULT_TOLERANCE).unwrap();
        assert_eq!(polygons.len(), 1);
        assert!(!polygons[0].is_hole && polygons[0].parent.is_none());
        assert_eq!(vertex_set(&polygons[0]), [[1, 1], [1, 3], [4, 1], [4, 3]]);
    }

    #[test]
    fn zero_tolerance_keeps_every_border_pixel() {
        let mask = mask_from_art(&["###", "###", "###"]);
        let polygons = outline_polygons(&mask, 0.0).unwrap();
        // The 8 pixels around the centre, each once.
        assert_eq!(polygons[0].points.len(), 8);
        assert!(!polygons[0].points.contains(&[1, 1]));
    }

    #[test]
    fn a_one_pixel_bar_keeps_both_ends() {
        let mask = mask_from_art(&["........", ".######.", "........"]);
        let polygons = outline_polygons(&mask, DEFAULT_TOLERANCE).unwrap();
        assert_eq!(vertex_set(&polygons[0]), [[1, 1], [6, 1]]);
    }

    #[test]
    fn holes_are_flagged_with_their_region_as_parent() {
        let mask = mask_from_art(&[
            "#####", //
            "#...#", //
            "#...#", //
            "#####", //
        ]);
        let polygons = outline_polygons(&mask, DEFAULT_TOLERANCE).unwrap();
        assert_eq!(polygons.len(), 2);
        let (outer, hole) = (&polygons[0], &polygons[1]);
        assert!(!outer.is_hole && outer.parent.is_none());
        assert_eq!(vertex_set(outer), [[0, 0], [0, 3], [4, 0], [4, 3]]);
        assert!(hole.is_hole);
        assert_eq!(hole.parent, Some(0));
    }

    #[test]
    fn separate_regions_get_separate_polygons_and_an_empty_mask_none() {
        let mask = mask_from_art(&["#...#", ".....", "#...."]);
        let polygons = outline_polygons(&mask, DEFAULT_TOLERANCE).unwrap();
        let mut singles: Vec<_> = polygons.iter().map(|p| p.points.clone()).collect();
        singles.sort();
        assert_eq!(singles, [vec![[0, 0]], vec![[0, 2]], vec![[4, 0]]]);
        let empty = mask_from_art(&["...", "..."]);
        assert!(outline_polygons(&empty, DEFAULT_TOLERANCE)
            .unwrap()
            .is_empty());
    }
}
