//! COCO run-length encoding, the form pycocotools (`maskApi.c`) writes and reads: runs over the
//! pixels in column-major (Fortran) order, starting with a run of outside pixels.

use super::check_mask;
use crate::error::{Error, Result};
use crate::{Mask, MAX_IMAGE_PIXELS};

/// A mask as COCO RLE, `{"size": [h, w], "counts": [...]}` in COCO's JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CocoRle {
    /// `[height, width]`, COCO's order.
    pub size: [u32; 2],
    /// Lengths of alternating runs of outside and inside pixels, column after column; the first
    /// run is outside, so it is 0 when the top-left pixel is inside.
    pub counts: Vec<u32>,
}

/// Bits of a run (or run delta) carried by each character of the compressed form.
const BITS_PER_CHAR: u32 = 5;
/// The low bits of a character's value; the next bit is the sign of the last group.
const VALUE_BITS: u8 = 0x1f;
const SIGN_BIT: u8 = 0x10;
/// Set on a character when another character of the same number follows.
const MORE_BIT: u8 = 0x20;
/// Characters start at '0', so the string is printable ASCII ('0'..='o').
const CHAR_OFFSET: u8 = 48;

impl CocoRle {
    /// Encodes a mask (any non-zero byte is inside), as `pycocotools.mask.encode` does.
    pub fn from_mask(mask: &Mask) -> Result<Self> {
        check_mask(mask)?;
        let (width, height) = (mask.width as usize, mask.height as usize);
        let column_major =
            (0..width).flat_map(|x| (0..height).map(move |y| mask.data[y * width + x] != 0));
        let mut counts = vec![0u32];
        let mut inside = false;
        for pixel in column_major {
            if pixel != inside {
                counts.push(0);
                inside = pixel;
            }
            *counts.last_mut().expect("counts starts non-empty") += 1;
        }
        Ok(CocoRle {
            size: [mask.height, mask.width],
            counts,
        })
    }

    /// Decodes to a mask, 255 inside; refuses counts that do not cover exactly `h * w` pixels,
    /// and masks larger than the largest photo the library reads ([`MAX_IMAGE_PIXELS`]): a few
    /// bytes of counts could otherwise ask for gigabytes, or wrap a 32-bit `usize`.
    pub fn to_mask(&self) -> Result<Mask> {
        let [height, width] = self.size;
        let pixels = u64::from(width) * u64::from(height);
        if pixels > MAX_IMAGE_PIXELS {
            return Err(Error::bad_mask(format!(
                "a {width}x{height} mask has more than the {MAX_IMAGE_PIXELS} pixels of the largest photo"
            )));
        }
        let covered: u64 = self.counts.iter().map(|&c| u64::from(c)).sum();
        if covered != pixels {
            return Err(Error::bad_mask(format!(
                "the RLE counts cover {covered} pixels, a {width}x{height} mask has {pixels}"
            )));
        }
        let (w, h) = (width as usize, height as usize);
        let mut data = vec![0u8; w * h];
        let mut position = 0usize;
        for (index, &run) in self.counts.iter().enumerate() {
            let inside = index % 2 == 1;
            for p in position..position + run as usize {
                if inside {
                    // Column-major position p is pixel (p / h, p % h).
                    data[(p % h) * w + p / h] = 255;
                }
            }
            position += run as usize;
        }
        Ok(Mask {
            width,
            height,
            data,
        })
    }

    /// The counts as pycocotools' compressed string (`rleToString`), the `counts` that
    /// `pycocotools.mask.encode` returns: each run from the third on is stored as its difference
    /// from the run two before (same kind, so usually small), and every number as 5-bit groups,
    /// low first, in printable characters.
    pub fn compressed_counts(&self) -> String {
        let mut text = String::new();
        for (index, &count) in self.counts.iter().enumerate() {
            let mut value = i64::from(count);
            if index > 2 {
                value -= i64::from(self.counts[index - 2]);
            }
            loop {
                let mut group = (value & i64::from(VALUE_BITS)) as u8;
                value >>= BITS_PER_CHAR;
                // Stop once the rest is the sign extension of the group just written.
                let more = if group & SIGN_BIT != 0 {
                    value != -1
                } else {
                    value != 0
                };
                if more {
                    group |= MORE_BIT;
                }
                text.push(char::from(group + CHAR_OFFSET));
                if !more {
                    break;
                }
            }
        }
        text
    }

    /// Reads pycocotools' compressed string (`rleFrString`) for a mask of `size` `[h, w]`.
    pub fn from_compressed(size: [u32; 2], text: &str) -> Result<Self> {
        let bad = |detail: String| Error::bad_mask(format!("compressed RLE counts: {detail}"));
        let mut counts: Vec<u32> = Vec::new();
        let mut bytes = text.bytes();
        while let Some(first) = bytes.next() {
            let mut value: i64 = 0;
            let mut shift = 0u32;
            let mut byte = first;
            loop {
                let group = byte
                    .checked_sub(CHAR_OFFSET)
                    .filter(|g| *g <= VALUE_BITS | MORE_BIT)
                    .ok_or_else(|| bad(format!("`{}` is not a count character", byte as char)))?;
                if shift + BITS_PER_CHAR >= i64::BITS {
                    return Err(bad("a number runs past 64 bits".into()));
                }
                value |= i64::from(group & VALUE_BITS) << shift;
                shift += BITS_PER_CHAR;
                if group & MORE_BIT == 0 {
                    if group & SIGN_BIT != 0 {
                        value |= -1i64 << shift;
                    }
                    break;
                }
                byte = bytes
                    .next()
                    .ok_or_else(|| bad("the last number is cut short".into()))?;
            }
            if counts.len() > 2 {
                value += i64::from(counts[counts.len() - 2]);
            }
            let count = u32::try_from(value)
                .map_err(|_| bad(format!("run {} decodes to {value}", counts.len())))?;
            counts.push(count);
        }
        Ok(CocoRle { size, counts })
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_masks::mask_from_art;
    use super::*;

    fn rle(h: u32, w: u32, counts: &[u32]) -> CocoRle {
        CocoRle {
            size: [h, w],
            counts: counts.to_vec(),
        }
    }

    #[test]
    fn counts_run_down_the_columns_starting_outside() {
        // Columns top to bottom: 0 0 | 1 0 | 1 1  ->  2 outside, 1 in, 1 out, 2 in.
        let mask = mask_from_art(&[".##", "..#"]);
        let encoded = CocoRle::from_mask(&mask).unwrap();
        assert_eq!(encoded, rle(2, 3, &[2, 1, 1, 2]));
        assert_eq!(encoded.to_mask().unwrap(), mask);
    }

    #[test]
    fn a_mask_starting_inside_has_an_empty_first_run() {
        let mask = mask_from_art(&["##", "#."]);
        assert_eq!(CocoRle::from_mask(&mask).unwrap(), rle(2, 2, &[0, 3, 1]));
        let empty = mask_from_art(&["..", ".."]);
        assert_eq!(CocoRle::from_mask(&empty).unwrap(), rle(2, 2, &[4]));
    }

    #[test]
    fn compressed_counts_match_hand_encoded_strings() {
        // Small runs are one character each: '0' + count.
        assert_eq!(rle(2, 3, &[2, 1, 1, 2]).compressed_counts(), "2111");
        // 100 = 3 * 32 + 4: low group 4 with the "more" bit (4 + 32 + 48 = 'T'), then '3'.
        assert_eq!(rle(10, 10, &[100]).compressed_counts(), "T3");
        // 16 has the sign bit of its group set, so a 0 group must follow: '`' then '0'.
        assert_eq!(rle(4, 4, &[16]).compressed_counts(), "`0");
        // The fourth run is stored as 3 - 10 = -7, whose 5-bit group is 25 ('I').
        assert_eq!(rle(4, 4, &[1, 10, 2, 3]).compressed_counts(), "1:2I");
    }

    #[test]
    fn compressed_counts_decode_back() {
        for counts in [
            &[2, 1, 1, 2][..],
            &[100],
            &[16],
            &[1, 10, 2, 3],
            &[0, 70_000, 3, 1, 123_456_789],
        ] {
            let original = rle(1, counts.iter().sum(), counts);
            let text = original.compressed_counts();
            assert_eq!(
                CocoRle::from_compressed(original.size, &text).unwrap(),
                original,
                "{text}"
            );
        }
    }

    #[test]
    fn malformed_rle_is_refused() {
        let too_few = rle(2, 2, &[1, 2]);
        assert!(matches!(too_few.to_mask(), Err(Error::BadMask { .. })));
        for text in ["2 11", "T", "~", "1:2I-"] {
            assert!(
                matches!(
                    CocoRle::from_compressed([4, 4], text),
                    Err(Error::BadMask { .. })
                ),
                "{text}"
            );
        }
        // A negative run: the fifth is stored as its difference from the third, 1 - 7.
        assert!(CocoRle::from_compressed([4, 4], "2111I").is_err());
        // Thirteen continuation characters: more than 64 bits.
        assert!(CocoRle::from_compressed([4, 4], &"o".repeat(13)).is_err());
    }

    #[test]
    fn sizes_beyond_the_largest_photo_are_refused_before_allocating() {
        let refused = |rle: CocoRle| matches!(rle.to_mask(), Err(Error::BadMask { .. }));
        // 65536 x 65536 pixels covered by two runs: 4 GiB from a dozen bytes of counts.
        assert!(refused(rle(65_536, 65_536, &[u32::MAX, 1])));
        // 65537 x 65536 is 2^32 + 65536 pixels, 65536 once wrapped in a 32-bit usize.
        assert!(refused(rle(65_537, 65_536, &[65_536])));
    }

    #[test]
    fn a_mask_whose_size_wraps_a_32_bit_usize_is_not_encoded() {
        // 65536 x 65537 pixels, 65536 once wrapped: the bytes must not pass for the whole mask.
        let wrapped = Mask {
            width: 65_536,
            height: 65_537,
            data: vec![255; 65_536],
        };
        assert!(matches!(
            CocoRle::from_mask(&wrapped),
            Err(Error::BadMask { .. })
        ));
    }
}
