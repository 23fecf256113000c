//! An HTTP client for the load: hyper over keep-alive loopback connections, one per concurrent task.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use serde_json::{json, Value};

use crate::process::PROJECT;

#[derive(Clone)]
pub struct Api {
    client: Client<HttpConnector, Full<Bytes>>,
    endpoint: String,
    key: String,
}

const DB: &str = "/databases/bench/collections/docs";

impl Api {
    pub fn new(endpoint: &str, key: &str) -> Api {
        let client = Client::builder(TokioExecutor::new()).pool_max_idle_per_host(256).build_http();
        Api { client, endpoint: endpoint.to_string(), key: key.to_string() }
    }

    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let req = Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.endpoint))
            .header("x-appwrite-project", PROJECT)
            .header("x-appwrite-key", &self.key)
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body.map(|b| b.to_string()).unwrap_or_default())))
            .unwrap();
        let res = self.client.request(req).await.expect("request");
        let status = res.status().as_u16();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }

    pub async fn wait_healthy(&self) {
        loop {
            if let Ok(res) = self
                .client
                .request(
                    Request::get(format!("{}/health", self.endpoint))
                        .header("x-appwrite-project", PROJECT)
                        .header("x-appwrite-key", &self.key)
                        .body(Full::new(Bytes::new()))
                        .unwrap(),
                )
                .await
            {
                if res.status() == 200 {
                    return;
                }
            }
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
    }

    pub async fn setup_collection(&self) {
        // Idempotent: an existing database, collection, attribute or index (409) is fine.
        let ok = |(s, v): (u16, Value)| assert!(s < 300 || s == 409, "{s} {v}");
        ok(self.call(Method::POST, "/databases", Some(json!({"databaseId": "bench", "name": "Bench"}))).await);
        ok(self.call(Method::POST, "/databases/bench/collections", Some(json!({"collectionId": "docs", "name": "Docs"}))).await);
        ok(self.call(Method::POST, &format!("{DB}/attributes/string"), Some(json!({"key": "title", "size": 64, "required": true}))).await);
        ok(self.call(Method::POST, &format!("{DB}/attributes/integer"), Some(json!({"key": "n", "required": false}))).await);
        ok(self.call(Method::POST, &format!("{DB}/attributes/string"), Some(json!({"key": "status", "size": 16, "required": false}))).await);
        ok(self.call(Method::POST, &format!("{DB}/indexes"), Some(json!({"key": "by_status", "type": "key", "attributes": ["status"]}))).await);
    }

    /// Creates `total` single documents from `concurrency` tasks; returns documents per second.
    pub async fn create_rate(&self, concurrency: usize, total: usize) -> f64 {
        let left = Arc::new(AtomicUsize::new(total));
        let t0 = Instant::now();
        let tasks: Vec<_> = (0..concurrency)
            .map(|_| {
                let api = self.clone();
                let left = left.clone();
                tokio::spawn(async move {
                    while left.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1)).is_ok() {
                        let body = json!({"documentId": "unique()", "data": {"title": "created under load", "n": 1, "status": "s0"}});
                        let (s, v) = api.call(Method::POST, &format!("{DB}/documents"), Some(body)).await;
                        assert_eq!(s, 201, "{v}");
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        total as f64 / t0.elapsed().as_secs_f64()
    }

    pub async fn count(&self) -> usize {
        let (_, v) = self.call(Method::GET, &format!("{DB}/documents?queries%5B0%5D=%7B%22method%22%3A%22limit%22%2C%22values%22%3A%5B1%5D%7D"), None).await;
        v["total"].as_u64().unwrap_or(0) as usize
    }

    /// Adds `n` documents through bulk create (100 per call, 4 calls in flight).
    pub async fn fill(&self, n: usize, statuses: usize) {
        let batches: Vec<usize> = (0..n).step_by(100).collect();
        let next = Arc::new(AtomicUsize::new(0));
        let batches = Arc::new(batches);
        let tasks: Vec<_> = (0..4)
            .map(|_| {
                let api = self.clone();
                let next = next.clone();
                let batches = batches.clone();
                tokio::spawn(async move {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(&start) = batches.get(i) else { break };
                        let docs: Vec<Value> = (start..(start + 100).min(n))
                            .map(|k| json!({"title": format!("document {k}"), "n": k, "status": format!("s{}", k % statuses)}))
                            .collect();
                        let (s, v) = api.call(Method::POST, &format!("{DB}/documents"), Some(json!({"documents": docs}))).await;
                        assert_eq!(s, 201, "{v}");
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
    }

    /// IDs of `n` documents spread over the collection.
    pub async fn sample_ids(&self, n: usize) -> Vec<String> {
        let mut ids = Vec::new();
        let step = 100_000 / n;
        let mut offset = 0;
        while ids.len() < n {
            let q = format!("{{\"method\":\"offset\",\"values\":[{offset}]}}");
            let l = "{\"method\":\"limit\",\"values\":[1]}";
            let path = format!("{DB}/documents?total=false&queries%5B0%5D={}&queries%5B1%5D={}", enc(&q), enc(l));
            let (_, v) = self.call(Method::GET, &path, None).await;
            match v["documents"][0]["$id"].as_str() {
                Some(id) => ids.push(id.to_string()),
                None => break,
            }
            offset += step;
        }
        ids
    }

    pub async fn get_latencies(&self, ids: &[String]) -> Vec<f64> {
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let t0 = Instant::now();
            let (s, _) = self.call(Method::GET, &format!("{DB}/documents/{id}"), None).await;
            out.push(t0.elapsed().as_secs_f64());
            assert_eq!(s, 200);
        }
        out
    }

    pub async fn list_latencies(&self, statuses: usize, n: usize) -> Vec<f64> {
        let mut out = Vec::with_capacity(n);
        for i in 0..n {
            let q = format!("{{\"method\":\"equal\",\"attribute\":\"status\",\"values\":[\"s{}\"]}}", i % statuses);
            let path = format!("{DB}/documents?queries%5B0%5D={}", enc(&q));
            let t0 = Instant::now();
            let (s, v) = self.call(Method::GET, &path, None).await;
            out.push(t0.elapsed().as_secs_f64());
            assert_eq!(s, 200);
            assert_eq!(v["documents"].as_array().map(Vec::len), Some(25));
        }
        out
    }
}

fn enc(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}
