//! Test backends: [`serve`] (from `serve.rs`, shared with the crate's unit tests) answers
//! every request with a handler, over HTTP/1.1 and HTTP/2 on a loopback port;
//! [`recording_backend`] records every request's path, headers and
//! body and answers as an OTLP backend would: gRPC calls get a trailers-only OK, HTTP ones
//! 200.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

pub use super::serve::serve;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;

#[derive(Clone, Debug)]
pub struct Captured {
    pub path: String,
    pub headers: http::HeaderMap,
    pub body: Bytes,
}

/// Starts the backend; returns its address and what it has received so far.
pub async fn recording_backend() -> (SocketAddr, Arc<Mutex<Vec<Captured>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let store = seen.clone();
    let addr = serve(move |req: http::Request<Incoming>| {
        let store = store.clone();
        async move {
            let (parts, body) = req.into_parts();
            let body = body.collect().await.map(|c| c.to_bytes()).unwrap();
            let grpc = parts.uri.path().contains("Service/Export");
            store.lock().unwrap().push(Captured {
                path: parts.uri.path().to_string(),
                headers: parts.headers,
                body,
            });
            let resp = if grpc {
                http::Response::builder()
                    .header("content-type", "application/grpc")
                    .header("grpc-status", "0")
                    .body(Full::new(Bytes::new()))
            } else {
                http::Response::builder()
                    .header("content-type", "application/x-protobuf")
                    .body(Full::new(Bytes::new()))
            };
            resp.unwrap()
        }
    })
    .await;
    (addr, seen)
}

/// Waits until the backend holds at least `n` requests, then takes them.
pub async fn wait_for(seen: &Arc<Mutex<Vec<Captured>>>, n: usize) -> Vec<Captured> {
    super::eventually(&format!("{n} requests at the backend"), || {
        seen.lock().unwrap().len() >= n
    })
    .await;
    std::mem::take(&mut *seen.lock().unwrap())
}
