//! [`serve`]: a loopback test server over HTTP/1.1 and HTTP/2 (cleartext) whose every
//! request a handler answers. Shared by the integration tests (`common::backend`) and the
//! crate's unit tests (`crate::test_serve`), so the accept loop is written once.

use std::future::Future;
use std::net::SocketAddr;

use hyper::body::{Body, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};

/// Serves HTTP/1.1 and HTTP/2 (cleartext) on a loopback port until the test ends; every
/// request is answered by `answer`. Returns the address.
pub async fn serve<F, Fut, B>(answer: F) -> SocketAddr
where
    F: Fn(http::Request<Incoming>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = http::Response<B>> + Send + 'static,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let answer = answer.clone();
            tokio::spawn(async move {
                let svc = service_fn(move |req| {
                    let answered = answer(req);
                    async move { Ok::<_, std::convert::Infallible>(answered.await) }
                });
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    addr
}
