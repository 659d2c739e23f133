//! Where photos' bytes are kept, never in PostgreSQL: a folder (`file:///path`, the default under
//! the data directory) or any S3-compatible object store (`s3://bucket`, its endpoint, region and
//! credentials from the usual `AWS_*` variables), chosen by one URL, `AFTERCARE_PHOTO_STORE`.
//! Objects are read only through the API; the store hands out no links.

use std::sync::Arc;

use actix_web::web::Bytes;
use anyhow::{Context, bail};
use futures_util::StreamExt;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use uuid::Uuid;

use super::Error;
use crate::db::Tenant;
use crate::domain::ids::PatientId;

#[derive(Debug, Clone)]
pub struct PhotoStore {
    objects: Arc<dyn ObjectStore>,
}

impl PhotoStore {
    /// The store at `url`: `file:///absolute/folder` (made if missing) or `s3://bucket`.
    pub fn open(url: &str) -> anyhow::Result<PhotoStore> {
        let parsed = url::Url::parse(url)
            .with_context(|| format!("AFTERCARE_PHOTO_STORE is not a URL: {url:?}"))?;
        let objects: Arc<dyn ObjectStore> = match parsed.scheme() {
            "file" => {
                let dir = parsed.to_file_path().map_err(|_| {
                    anyhow::anyhow!("AFTERCARE_PHOTO_STORE: {url:?} is not a folder")
                })?;
                std::fs::create_dir_all(&dir)
                    .with_context(|| format!("making the photo folder {}", dir.display()))?;
                Arc::new(object_store::local::LocalFileSystem::new_with_prefix(&dir)?)
            }
            "s3" => Arc::new(
                object_store::aws::AmazonS3Builder::from_env()
                    .with_url(url)
                    .build()
                    .context("AFTERCARE_PHOTO_STORE: the S3 store")?,
            ),
            other => bail!(
                "AFTERCARE_PHOTO_STORE must be file:///folder or s3://bucket, not a {other:?} URL"
            ),
        };
        Ok(PhotoStore { objects })
    }

    /// The store of the setting, or (tests, and nothing that serves) a folder in the system's temp
    /// folder.
    pub fn of_setting(url: Option<&str>) -> anyhow::Result<PhotoStore> {
        match url {
            Some(url) => PhotoStore::open(url),
            None => {
                let dir = std::env::temp_dir().join("aftercare-photos");
                let url = url::Url::from_directory_path(&dir)
                    .map_err(|_| anyhow::anyhow!("{} is not absolute", dir.display()))?;
                PhotoStore::open(url.as_str())
            }
        }
    }

    pub async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), Error> {
        self.objects
            .put(&Path::from(key), PutPayload::from(bytes))
            .await
            .map(drop)
            .map_err(unavailable)
    }

    pub async fn get(&self, key: &str) -> Result<Bytes, Error> {
        let got = self.objects.get(&Path::from(key)).await;
        match got {
            Ok(got) => got.bytes().await.map_err(unavailable),
            // A row whose object is gone: the store was changed behind the service's back.
            Err(e @ object_store::Error::NotFound { .. }) => Err(Error::Internal(e.into())),
            Err(e) => Err(unavailable(e)),
        }
    }

    /// Deletes the object; one that is not there is deleted already.
    pub async fn delete(&self, key: &str) -> Result<(), Error> {
        match self.objects.delete(&Path::from(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(unavailable(e)),
        }
    }

    /// The keys of every object under `prefix`.
    pub async fn keys(&self, prefix: &str) -> Result<Vec<String>, Error> {
        let mut listing = self.objects.list(Some(&Path::from(prefix)));
        let mut keys = vec![];
        while let Some(meta) = listing.next().await {
            keys.push(meta.map_err(unavailable)?.location.to_string());
        }
        Ok(keys)
    }

    /// Deletes every object under `prefix`; how many there were.
    pub async fn delete_all(&self, prefix: &str) -> Result<usize, Error> {
        let keys = self.keys(prefix).await?;
        for key in &keys {
            self.delete(key).await?;
        }
        Ok(keys.len())
    }
}

/// Where a patient's photos are kept: under their clinic and their own id, so that erasure can
/// remove every object of theirs, even one whose row was never written.
pub fn patient_prefix(tenant: Tenant, patient_id: PatientId) -> String {
    format!("photos/{}/{}", tenant.id(), patient_id)
}

/// A new photo's key and its thumbnail's: the patient's prefix and 122 random bits, which no one
/// can guess (nor need to: objects are read through the API only).
pub fn new_keys(tenant: Tenant, patient_id: PatientId) -> (String, String) {
    let name = Uuid::new_v4().simple();
    let prefix = patient_prefix(tenant, patient_id);
    (
        format!("{prefix}/{name}.jpg"),
        format!("{prefix}/{name}.thumb.jpg"),
    )
}

fn unavailable(e: object_store::Error) -> Error {
    tracing::error!(error = %e, "the photo store failed");
    Error::Unavailable(format!("the photo store: {e}"))
}
