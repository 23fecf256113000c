//! Storage buckets.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{query_params, segment, Client, Result};

/// A bucket: its ID, name and every setting as the server reports it.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Bucket {
    #[serde(rename = "$id")]
    pub id: String,
    pub name: String,
    #[serde(flatten)]
    pub settings: Map<String, Value>,
}

#[derive(Deserialize)]
struct BucketList {
    buckets: Vec<Bucket>,
}

impl Client {
    /// Every bucket.
    pub fn list_buckets(&self) -> Result<Vec<Bucket>> {
        self.list_all(|queries| self.get::<BucketList>("/storage/buckets", &query_params(queries)).map(|l| l.buckets), |b| b.id.clone())
    }

    /// One bucket.
    pub fn get_bucket(&self, id: &str) -> Result<Bucket> {
        self.get(&format!("/storage/buckets/{}", segment(id)), &[])
    }

    /// Creates a bucket; `settings` holds `name` and any of Appwrite's bucket parameters.
    pub fn create_bucket(&self, id: &str, settings: &Map<String, Value>) -> Result<Bucket> {
        let mut body = settings.clone();
        body.insert("bucketId".into(), Value::String(id.to_string()));
        self.post("/storage/buckets", &Value::Object(body))
    }

    /// Updates a bucket; `settings` must hold `name`, which Appwrite requires.
    pub fn update_bucket(&self, id: &str, settings: &Map<String, Value>) -> Result<Bucket> {
        self.put(&format!("/storage/buckets/{}", segment(id)), &Value::Object(settings.clone()))
    }

    /// Deletes a bucket and its files.
    pub fn delete_bucket(&self, id: &str) -> Result<()> {
        self.delete(&format!("/storage/buckets/{}", segment(id)))
    }
}
