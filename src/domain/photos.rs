//! What a photo sent with a check-in must be: its size, its kind told from its bytes (never from
//! what the client declares), its pixel count, and that it is whole; and on which days since
//! treatment a protocol asks for one.

use super::Invalid;
use super::schedule::normalize_days;

/// Most bytes an upload may have: a phone's photo scaled to 2,048 px is well under 1 MB.
pub const MAX_BYTES: usize = 10 * 1024 * 1024;

/// Most pixels a photo may have (40 megapixels): what the decoder may allocate follows from it, so
/// a small file that claims a huge image (a decompression bomb) is refused from its header.
pub const MAX_PIXELS: u64 = 40_000_000;

/// Longest edge a photo may have: a JPEG can't be wider than 65,535 px, and no phone's photo is
/// near this.
pub const MAX_EDGE: u32 = 16_384;

/// The thumbnail's longest edge, for lists and the side-by-side view.
pub const THUMBNAIL_EDGE: u32 = 320;

/// Most days a protocol may ask for a photo on.
pub const MAX_PHOTO_DAYS: usize = 20;

/// Whether the protocol's `photo_days` ask for a photo on `day` since treatment. A patient may add
/// one to any check-in; on these days the app asks for it.
pub fn photo_asked(photo_days: &[i32], day: i32) -> bool {
    photo_days.contains(&day)
}

/// Sorts and de-duplicates a protocol's photo days: at most 20 given, each 0-365; none by default.
pub fn normalize_photo_days(invalid: &mut Invalid, field: &str, days: &[i32]) -> Vec<i32> {
    invalid.check(
        days.len() <= MAX_PHOTO_DAYS,
        field,
        "must name at most 20 days",
    );
    normalize_days(invalid, field, days)
}

/// The kinds of image taken, by their magic bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Jpeg,
    Png,
    Webp,
}

/// The kind of image the bytes are, or None for anything else (an SVG, a PDF, a HEIC, text).
pub fn sniff(bytes: &[u8]) -> Option<Kind> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(Kind::Jpeg)
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(Kind::Png)
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some(Kind::Webp)
    } else {
        None
    }
}

/// Why an image's size is refused, from the width and height its header claims.
pub fn size_problem(width: u32, height: u32) -> Option<&'static str> {
    if width == 0 || height == 0 {
        Some("the image has no pixels")
    } else if u64::from(width) * u64::from(height) > MAX_PIXELS {
        Some("the image is over 40 megapixels")
    } else if width.max(height) > MAX_EDGE {
        Some("the image is over 16,384 pixels on one side")
    } else {
        None
    }
}

/// Whether a JPEG's data is whole: an end-of-image marker after its first scan. Inside a scan
/// every 0xFF byte is followed by 0x00 or a restart marker, so `FF D9` there is the real end; a file
/// cut short has none, and a decoder may otherwise fill the missing rows with grey.
pub fn jpeg_is_whole(bytes: &[u8]) -> bool {
    let Some(scan) = bytes.windows(2).position(|w| w == [0xFF, 0xDA]) else {
        return false;
    };
    bytes[scan..].windows(2).any(|w| w == [0xFF, 0xD9])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_photo_is_asked_for_on_the_protocols_photo_days_only() {
        let days = [0, 3, 7, 28];
        assert!(photo_asked(&days, 0));
        assert!(photo_asked(&days, 7));
        assert!(photo_asked(&days, 28));
        assert!(!photo_asked(&days, 1));
        assert!(!photo_asked(&days, 29));
        assert!(!photo_asked(&days, -1));
        // None by default.
        assert!(!photo_asked(&[], 0));
    }

    #[test]
    fn photo_days_are_sorted_once_each_within_a_year_and_at_most_20() {
        let mut inv = Invalid::default();
        assert_eq!(
            normalize_photo_days(&mut inv, "d", &[7, 0, 3, 3, 28]),
            vec![0, 3, 7, 28]
        );
        assert_eq!(normalize_photo_days(&mut inv, "d", &[]), Vec::<i32>::new());
        assert!(inv.into_result().is_ok());
        let mut inv = Invalid::default();
        normalize_photo_days(&mut inv, "d", &[-1]);
        assert!(inv.into_result().is_err());
        let mut inv = Invalid::default();
        normalize_photo_days(&mut inv, "d", &[366]);
        assert!(inv.into_result().is_err());
        let mut inv = Invalid::default();
        let many: Vec<i32> = (0..21).collect();
        normalize_photo_days(&mut inv, "d", &many);
        assert!(inv.into_result().is_err());
        // Repeats count once in the result.
        let mut inv = Invalid::default();
        let repeated: Vec<i32> = (0..10).chain(0..10).collect();
        assert_eq!(normalize_photo_days(&mut inv, "d", &repeated).len(), 10);
        assert!(inv.into_result().is_ok());
    }

    #[test]
    fn images_are_told_by_their_bytes() {
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10]), Some(Kind::Jpeg));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), Some(Kind::Png));
        assert_eq!(sniff(b"RIFF\x24\0\0\0WEBPVP8 "), Some(Kind::Webp));
        assert_eq!(sniff(b"RIFF\x24\0\0\0WAVEfmt "), None);
        assert_eq!(sniff(b"<?xml version=\"1.0\"?><svg"), None);
        assert_eq!(sniff(b"<svg xmlns=\"http://www.w3.org/2000/svg\">"), None);
        assert_eq!(sniff(b"%PDF-1.7\n"), None);
        assert_eq!(sniff(b""), None);
        assert_eq!(sniff(&[0xFF, 0xD8]), None);
    }

    #[test]
    fn sizes_are_refused_over_40_megapixels_or_16384_pixels_a_side() {
        assert_eq!(size_problem(2048, 1536), None);
        assert_eq!(size_problem(8000, 5000), None);
        assert!(size_problem(8000, 5001).is_some());
        assert!(size_problem(50_000, 50_000).is_some());
        assert!(size_problem(u32::MAX, u32::MAX).is_some());
        assert!(size_problem(16_385, 100).is_some());
        assert_eq!(size_problem(16_384, 100), None);
        assert!(size_problem(0, 100).is_some());
    }

    #[test]
    fn a_jpeg_cut_short_is_not_whole() {
        let whole = [0xFF, 0xD8, 0xFF, 0xDA, 0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD9];
        assert!(jpeg_is_whole(&whole));
        assert!(!jpeg_is_whole(&whole[..8]));
        // An end marker before the scan is not the end of the image.
        assert!(!jpeg_is_whole(&[0xFF, 0xD8, 0xFF, 0xD9, 0xFF, 0xDA, 0x12]));
        assert!(!jpeg_is_whole(&[0xFF, 0xD8]));
    }
}
