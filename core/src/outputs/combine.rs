//! Selection editing: add a tap's mask to the current selection, or take it away.

use super::{check_mask, check_same_size};
use crate::error::Result;
use crate::Mask;

impl Mask {
    /// Pixels inside either mask: adds `other` to this selection.
    pub fn union(&self, other: &Mask) -> Result<Mask> {
        self.combine(other, |a, b| a || b)
    }

    /// Pixels inside this mask and outside `other`: takes `other` away from this selection.
    pub fn subtract(&self, other: &Mask) -> Result<Mask> {
        self.combine(other, |a, b| a && !b)
    }

    /// Pixels inside both masks.
    pub fn intersect(&self, other: &Mask) -> Result<Mask> {
        self.combine(other, |a, b| a && b)
    }

    /// Applies `keep` to each pair of pixels; any non-zero byte counts as inside, and the result
    /// is 255 or 0 like every mask the library returns.
    fn combine(&self, other: &Mask, keep: impl Fn(bool, bool) -> bool) -> Result<Mask> {
        check_mask(other)?;
        check_same_size(self, (other.width, other.height), "other mask")?;
        let data = self
            .data
            .iter()
            .zip(&other.data)
            .map(|(&a, &b)| if keep(a != 0, b != 0) { 255 } else { 0 })
            .collect();
        Ok(Mask {
            width: self.width,
            height: self.height,
            data,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_masks::mask_from_art;
    use crate::{Error, Mask};

    fn pair() -> (Mask, Mask) {
        (
            mask_from_art(&["##..", "##.."]),
            mask_from_art(&[".##.", ".##."]),
        )
    }

    #[test]
    fn union_subtract_and_intersect_combine_pixelwise() {
        let (a, b) = pair();
        assert_eq!(a.union(&b).unwrap(), mask_from_art(&["###.", "###."]));
        assert_eq!(a.subtract(&b).unwrap(), mask_from_art(&["#...", "#..."]));
        assert_eq!(b.subtract(&a).unwrap(), mask_from_art(&["..#.", "..#."]));
        assert_eq!(a.intersect(&b).unwrap(), mask_from_art(&[".#..", ".#.."]));
    }

    #[test]
    fn any_nonzero_byte_is_inside_and_results_are_255() {
        let a = Mask {
            width: 3,
            height: 1,
            data: vec![1, 0, 200],
        };
        let empty = Mask {
            width: 3,
            height: 1,
            data: vec![0; 3],
        };
        assert_eq!(a.union(&empty).unwrap().data, [255, 0, 255]);
    }

    #[test]
    fn masks_of_different_sizes_are_refused() {
        let (a, _) = pair();
        let tall = mask_from_art(&["##", "##", "##", "##"]);
        let err = a.union(&tall).unwrap_err();
        assert!(matches!(err, Error::BadMask { .. }), "{err}");
        assert!(
            err.to_string().contains("4x2") && err.to_string().contains("2x4"),
            "{err}"
        );
        let short_data = Mask {
            width: 4,
            height: 2,
            data: vec![0; 7],
        };
        assert!(matches!(
            a.subtract(&short_data),
            Err(Error::BadMask { .. })
        ));
    }
}
