//! The demo's photos, drawn by the demo itself (no pictures of anyone ship with it): a patch of
//! skin of the patient's Fitzpatrick type with a treated area whose redness fades over the days
//! since treatment, as the patient's scores do, sent as a phone sends a JPEG. The clinic's patient
//! pages then show the feature at once.

use image::codecs::jpeg::JpegEncoder;
use image::{ImageEncoder, RgbImage};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use uuid::Uuid;

/// A demo photo's size: small, so that the demo's score of photos (drawn, sent and re-encoded
/// by an unoptimised build in the tests) take a few seconds.
pub const WIDTH: u32 = 320;
pub const HEIGHT: u32 = 240;

/// Every how many demo patients one sends photos.
pub const EVERY: usize = 36;

/// Skin tones (sRGB) of Fitzpatrick types I to VI.
const TONES: [[f32; 3]; 6] = [
    [246.0, 221.0, 200.0],
    [236.0, 196.0, 168.0],
    [219.0, 170.0, 135.0],
    [190.0, 134.0, 96.0],
    [140.0, 90.0, 60.0],
    [92.0, 60.0, 44.0],
];

/// A check-in a photo may go with: its day since treatment, its id, its redness score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candidate {
    pub day: i64,
    pub id: Uuid,
    pub redness: Option<i64>,
}

/// Which check-ins of a treatment get a photo: the first on days 0, 3 and 7, and a late one (the
/// last from day 14 on), as a protocol asks for them; a day without a check-in has none.
pub fn chosen(check_ins: &[Candidate]) -> Vec<Candidate> {
    let mut out: Vec<Candidate> = [0, 3, 7]
        .iter()
        .filter_map(|d| check_ins.iter().find(|c| c.day == *d).copied())
        .collect();
    out.extend(check_ins.iter().rev().find(|c| c.day >= 14).copied());
    out
}

/// How red the treated area looks, 0 to 1: the patient's redness score (0-4) where they gave
/// one, and a redness that fades over the days since treatment (halving in about three days).
pub fn intensity(day: i64, redness: Option<i64>) -> f32 {
    let fade = (-(day as f32) / 4.0).exp();
    let score = redness.map_or(fade, |r| r.clamp(0, 4) as f32 / 4.0);
    (0.6 * score + 0.4 * fade).clamp(0.0, 1.0)
}

/// A photo of skin of Fitzpatrick type `fitzpatrick` (1-6) with a treated area of this redness
/// (0-1): soft light across it, the skin's grain, and the area a blotchy ellipse, redder (on dark
/// skin, darker and more violet) the more it is inflamed. `seed` places the area, so a patient's
/// photos show the same area each day.
pub fn draw(seed: u64, fitzpatrick: i16, redness: f32) -> RgbImage {
    let mut rng = StdRng::seed_from_u64(seed);
    let tone = TONES[(fitzpatrick.clamp(1, 6) - 1) as usize];
    let (w, h) = (WIDTH as f32, HEIGHT as f32);
    let (cx, cy) = (
        w * rng.random_range(0.35..0.65),
        h * rng.random_range(0.35..0.65),
    );
    let (rx, ry) = (
        w * rng.random_range(0.18..0.3),
        h * rng.random_range(0.18..0.3),
    );
    let phase: f32 = rng.random_range(0.0..6.0);
    // Dark skin shows inflammation as a darker, violet-brown; light skin as red.
    let dark = (fitzpatrick.clamp(1, 6) as f32 - 1.0) / 5.0;
    let inflamed = [
        tone[0] * (1.0 - 0.25 * dark) + 40.0 * (1.0 - dark),
        tone[1] * (0.55 - 0.1 * dark),
        tone[2] * (0.6 + 0.1 * dark),
    ];
    let mut state = seed | 1;
    // A plain loop over the bytes: the demo runs unoptimised in the tests, where a closure per
    // pixel through the image's accessors costs many times more.
    let mut raw = Vec::with_capacity((WIDTH * HEIGHT * 3) as usize);
    for y in 0..HEIGHT {
        let fy = y as f32;
        let row_light = (fy / h * 2.0).cos();
        let dy = ((fy - cy) / ry).powi(2);
        let row_blotch = (fy * 0.037).cos();
        for x in 0..WIDTH {
            let fx = x as f32;
            // xorshift: the grain, a few levels either way.
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let grain = (state % 13) as f32 - 6.0;
            let light = 1.0 + 0.07 * (fx / w * 3.0 + phase).sin() * row_light - 0.05 * (fy / h);
            let d2 = ((fx - cx) / rx).powi(2) + dy;
            let a = if d2 < 4.0 {
                let blotch = 0.75 + 0.25 * (fx * 0.045 + phase).sin() * row_blotch;
                (redness * (-1.6 * d2).exp() * blotch).clamp(0.0, 0.9)
            } else {
                0.0
            };
            for c in 0..3 {
                let v = (tone[c] * (1.0 - a) + inflamed[c] * a) * light + grain;
                raw.push(v.clamp(0.0, 255.0) as u8);
            }
        }
    }
    RgbImage::from_raw(WIDTH, HEIGHT, raw).unwrap_or_default()
}

/// The image as a phone's JPEG.
pub fn jpeg(image: &RgbImage) -> anyhow::Result<Vec<u8>> {
    let mut out = vec![];
    JpegEncoder::new_with_quality(&mut out, 85).write_image(
        image.as_raw(),
        image.width(),
        image.height(),
        image::ExtendedColorType::Rgb8,
    )?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(day: i64) -> Candidate {
        Candidate {
            day,
            id: Uuid::new_v4(),
            redness: Some(2),
        }
    }

    #[test]
    fn photos_go_with_days_0_3_7_and_a_late_one() {
        let check_ins: Vec<Candidate> = [0, 1, 3, 3, 5, 8, 14, 21].map(at).to_vec();
        let days: Vec<i64> = chosen(&check_ins).iter().map(|c| c.day).collect();
        assert_eq!(days, [0, 3, 21]);
        assert_eq!(chosen(&check_ins)[1].id, check_ins[2].id, "the day's first");
        assert!(chosen(&[at(1), at(2)]).is_empty());
    }

    #[test]
    fn redness_fades_over_the_days_and_with_the_scores() {
        let days = [(0, Some(3)), (3, Some(2)), (7, Some(1)), (28, Some(0))];
        let seen: Vec<f32> = days.iter().map(|&(d, r)| intensity(d, r)).collect();
        assert!(seen.windows(2).all(|w| w[0] > w[1]), "{seen:?}");
        assert!(seen[3] < 0.05);
    }

    #[test]
    fn the_treated_area_is_redder_on_day_0_than_late() {
        // The reddest spot's red over green (the treated area's, on day 0).
        let ratio = |img: &RgbImage| {
            img.as_raw()
                .chunks_exact(3)
                .step_by(7)
                .map(|c| c[0] as f32 / c[1].max(1) as f32)
                .fold(0.0, f32::max)
        };
        for fitzpatrick in 1..=6 {
            let early = draw(7, fitzpatrick, intensity(0, Some(3)));
            let late = draw(7, fitzpatrick, intensity(28, Some(0)));
            assert!(ratio(&early) > ratio(&late) + 0.1, "type {fitzpatrick}");
        }
        let light = draw(1, 1, 0.0);
        let dark = draw(1, 6, 0.0);
        let corner = |img: &RgbImage| img.as_raw()[..3].to_vec();
        assert!(
            corner(&light)
                .iter()
                .zip(corner(&dark))
                .all(|(l, d)| *l > d + 60)
        );
        assert!(jpeg(&draw(1, 3, 0.5)).unwrap().starts_with(&[0xff, 0xd8]));
    }
}
