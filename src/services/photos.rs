//! Photos with a check-in: an upload is checked from its header before more is decoded, re-encoded
//! as a JPEG with its orientation applied and every metadata segment dropped (the colour profile
//! aside), stored with a thumbnail, and recorded with the patient's consent. The consents and the
//! clinician's review flag change later.

use std::io::Cursor;

use chrono::Utc;
use diesel::{Connection, PgConnection};
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits, RgbImage};
use uuid::Uuid;

use super::Error;
use super::photo_store::{self, PhotoStore};
use crate::db::photos::{NewPhoto, WithDay};
use crate::db::{self, Pool, Tenant};
use crate::domain::ids::{CheckInId, PatientId, StaffId, TreatmentId};
use crate::domain::photos::{self as rules, Kind};
use crate::domain::webhooks::{Event, PhotoData};

/// Why an upload is refused.
#[derive(Debug)]
pub enum Refused {
    /// Not a JPEG, PNG or WebP by its bytes (415).
    NotAnImage,
    /// Anything else: too many pixels, damaged, cut short (invalid), or a store that failed.
    Failed(Error),
}

impl<E: Into<Error>> From<E> for Refused {
    fn from(e: E) -> Self {
        Refused::Failed(e.into())
    }
}

/// A photo as it is stored: re-encoded, and its thumbnail.
pub struct Processed {
    pub photo: Vec<u8>,
    pub thumbnail: Vec<u8>,
    pub width: u32,
    pub height: u32,
}

const QUALITY: u8 = 85;

/// Checks and re-encodes an upload. Blocking: run it off the async workers.
pub fn process(bytes: &[u8]) -> Result<Processed, Refused> {
    let kind = rules::sniff(bytes).ok_or(Refused::NotAnImage)?;
    let unreadable = |why: &str| Refused::Failed(Error::invalid("photo", why));
    if kind == Kind::Jpeg && !rules::jpeg_is_whole(bytes) {
        return Err(unreadable("the JPEG is cut short"));
    }
    let format = match kind {
        Kind::Jpeg => ImageFormat::Jpeg,
        Kind::Png => ImageFormat::Png,
        Kind::Webp => ImageFormat::WebP,
    };
    let reader = || {
        let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
        reader.limits(limits());
        reader
    };
    // The header alone first: a bomb's claimed size is refused before a pixel is decoded.
    let (width, height) = reader()
        .into_dimensions()
        .map_err(|_| unreadable("the image's header can't be read"))?;
    if let Some(why) = rules::size_problem(width, height) {
        return Err(unreadable(why));
    }
    let damaged = |_| unreadable("the image can't be decoded: it is damaged or cut short");
    let mut decoder = reader().into_decoder().map_err(damaged)?;
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let icc = decoder.icc_profile().ok().flatten();
    let mut image = DynamicImage::from_decoder(decoder).map_err(damaged)?;
    image.apply_orientation(orientation);
    // JPEG has no alpha channel: a transparent pixel keeps its colour.
    let image = image.into_rgb8();
    // A small image is its own thumbnail (never scaled up).
    let (w, h) = (image.width(), image.height());
    let thumbnail = (w.max(h) > rules::THUMBNAIL_EDGE).then(|| {
        let ratio = f64::from(rules::THUMBNAIL_EDGE) / f64::from(w.max(h));
        let edge = |n: u32| ((f64::from(n) * ratio).round() as u32).max(1);
        image::imageops::thumbnail(&image, edge(w), edge(h))
    });
    let icc = icc.as_deref();
    Ok(Processed {
        photo: jpeg(&image, icc)?,
        thumbnail: jpeg(thumbnail.as_ref().unwrap_or(&image), icc)?,
        width: image.width(),
        height: image.height(),
    })
}

/// What the decoder may allocate: a photo of the most pixels, at 16 bits a channel with alpha.
fn limits() -> Limits {
    let mut limits = Limits::default();
    limits.max_image_width = Some(rules::MAX_EDGE);
    limits.max_image_height = Some(rules::MAX_EDGE);
    limits.max_alloc = Some(rules::MAX_PIXELS * 8 + 64 * 1024 * 1024);
    limits
}

/// The image as a baseline JPEG: a JFIF header, the colour profile if there is one, the pixels.
fn jpeg(image: &RgbImage, icc: Option<&[u8]>) -> Result<Vec<u8>, Error> {
    let failed = |e: &dyn std::fmt::Display| {
        Error::invalid("photo", &format!("the image can't be re-encoded: {e}"))
    };
    let edge = |n: u32| u16::try_from(n).map_err(|_| failed(&"too large for a JPEG"));
    let mut out = Vec::with_capacity(image.as_raw().len() / 8);
    let mut encoder = jpeg_encoder::Encoder::new(&mut out, QUALITY);
    if let Some(icc) = icc {
        // A profile too big for JPEG's segments is dropped: the colours are near enough in sRGB.
        let _ = encoder.add_icc_profile(icc);
    }
    encoder
        .encode(
            image.as_raw(),
            edge(image.width())?,
            edge(image.height())?,
            jpeg_encoder::ColorType::Rgb,
        )
        .map_err(|e| failed(&e))?;
    Ok(out)
}

/// The check-in a photo is sent with, as its patient sees it.
#[derive(Debug, Clone, Copy)]
pub struct Target {
    pub tenant: Tenant,
    pub check_in_id: CheckInId,
    pub patient_id: PatientId,
    pub treatment_id: TreatmentId,
}

/// Checks, re-encodes and stores an upload of the check-in's patient, who consented to its clinical
/// use and perhaps to its before-and-after use. The objects are written first; a row that then
/// can't be written leaves them to be deleted here (and erasure deletes the patient's prefix).
pub async fn upload(
    pool: &Pool,
    store: &PhotoStore,
    target: Target,
    before_after: bool,
    bytes: Vec<u8>,
) -> Result<WithDay, Refused> {
    let processed = actix_web::web::block(move || process(&bytes))
        .await
        .map_err(|e| Error::Internal(e.into()))??;
    let (key, thumbnail_key) = photo_store::new_keys(target.tenant, target.patient_id);
    let size = processed.photo.len() as i64;
    store.put(&key, processed.photo).await?;
    if let Err(e) = store.put(&thumbnail_key, processed.thumbnail).await {
        let _ = store.delete(&key).await;
        return Err(e.into());
    }
    let now = Utc::now();
    let new = NewPhoto {
        id: Uuid::new_v4(),
        patient_id: target.patient_id,
        check_in_id: target.check_in_id,
        storage_key: key.clone(),
        thumbnail_key: thumbnail_key.clone(),
        content_type: "image/jpeg".into(),
        width: processed.width as i32,
        height: processed.height as i32,
        bytes: size,
        clinical_use_consented_at: now,
        before_after_consented_at: before_after.then_some(now),
        created_at: now,
    };
    let stored = db::run(pool, move |conn| {
        conn.transaction(|conn| {
            let photo = db::photos::insert(conn, target.tenant, &new)?;
            let received = Event::PhotoReceived(PhotoData {
                id: photo.id,
                check_in_id: target.check_in_id.uuid(),
                patient_id: target.patient_id.uuid(),
                treatment_id: target.treatment_id.uuid(),
            });
            db::webhooks::enqueue(conn, target.tenant, &received)?;
            db::photos::get(conn, target.tenant, target.check_in_id, photo.id)?
                .ok_or_else(|| Error::Internal(anyhow::anyhow!("the new photo is not there")))
        })
    })
    .await;
    if stored.is_err() {
        let _ = store.delete(&key).await;
        let _ = store.delete(&thumbnail_key).await;
    }
    Ok(stored?)
}

/// Gives (true) or withdraws (false) the photo's before-and-after consent, as its patient `owner`
/// (another patient's photo is not found); giving it again keeps when it was first given. The
/// photo is read once, and answered as it now is.
pub fn set_before_after(
    conn: &mut PgConnection,
    tenant: Tenant,
    (check_in_id, id): (CheckInId, Uuid),
    owner: PatientId,
    consent: bool,
) -> Result<WithDay, Error> {
    conn.transaction(|conn| {
        let (mut photo, day) = db::photos::get(conn, tenant, check_in_id, id)?
            .filter(|(p, _)| p.patient_id == owner)
            .ok_or(Error::NotFound)?;
        let now = Utc::now();
        match (consent, photo.before_after_consented_at) {
            (true, Some(_)) | (false, None) => {}
            (true, None) => {
                db::photos::set_before_after(conn, tenant, id, Some(now), now)?;
                photo.before_after_consented_at = Some(now);
            }
            (false, Some(_)) => {
                db::photos::set_before_after(conn, tenant, id, None, now)?;
                photo.before_after_consented_at = None;
                photo.before_after_withdrawn_at = Some(now);
            }
        }
        Ok((photo, day))
    })
}

/// Flags the photo for a colleague's review (by `by`), or clears the flag. The photo is read
/// once, and answered as it now is.
pub fn set_flag(
    conn: &mut PgConnection,
    tenant: Tenant,
    (check_in_id, id): (CheckInId, Uuid),
    by: Option<StaffId>,
) -> Result<WithDay, Error> {
    let (mut photo, day) =
        db::photos::get(conn, tenant, check_in_id, id)?.ok_or(Error::NotFound)?;
    let flag = by.map(|by| (by, Utc::now()));
    db::photos::set_flag(conn, tenant, id, flag)?;
    (photo.flagged_by, photo.flagged_at) = (flag.map(|f| f.0), flag.map(|f| f.1));
    Ok((photo, day))
}
