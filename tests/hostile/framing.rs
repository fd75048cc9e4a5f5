//! Uncompressed gRPC bodies that are not exactly one message (the gRPC length-prefixed
//! framing: a compressed flag byte, a 4-byte big-endian length, the message): the message
//! is taken out of the body only when the body is that one frame; anything else is refused
//! and nothing of it is accepted.

use super::*;

/// `message` framed with `flag` and `len` as the stated length.
fn frame(flag: u8, len: usize, message: &[u8]) -> Vec<u8> {
    let mut body = vec![flag];
    body.extend_from_slice(&(len as u32).to_be_bytes());
    body.extend_from_slice(message);
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uncompressed_bodies_other_than_one_message_are_refused_whole() {
    let s = spawn("{}").await;
    let spans = valid_traces();
    let n = spans.len();
    let auth = ("authorization", "Bearer tok-a");
    let call = |headers: Vec<(&'static str, &'static str)>, body: Vec<u8>| {
        let addr = s.grpc;
        async move {
            let (mut send, _conn) = h2_connect(addr).await;
            h2_call(&mut send, GRPC_TRACES, &headers, body, Duration::ZERO)
                .await
                .0
        }
    };
    let mut two = frame(0, n, &spans);
    two.extend(frame(0, n, &spans));
    let refused = [
        ("two messages", vec![auth], two),
        ("length past the body", vec![auth], frame(0, n + 1, &spans)),
        (
            "length short of the body",
            vec![auth],
            frame(0, n - 1, &spans),
        ),
        ("flag neither 0 nor 1", vec![auth], frame(2, n, &spans)),
        (
            "compressed flag, no encoding",
            vec![auth],
            frame(1, n, &spans),
        ),
        ("header only", vec![auth], frame(0, n, &[])),
    ];
    for (what, headers, body) in refused {
        let status = call(headers, body).await;
        assert!(
            status.as_deref().is_some_and(|c| c != "0"),
            "{what}: {status:?}"
        );
        if what == "two messages" {
            assert_eq!(status.as_deref(), Some("3"), "INVALID_ARGUMENT");
        }
    }
    assert_eq!(accepted_spans(&s).await, 0.0, "nothing of a refused body");
    // One whole message is accepted, with or without the `identity` encoding named.
    let status = call(vec![auth], frame(0, n, &spans)).await;
    assert_eq!(status.as_deref(), Some("0"));
    let identity = vec![auth, ("grpc-encoding", "identity")];
    let status = call(identity, frame(0, n, &spans)).await;
    assert_eq!(status.as_deref(), Some("0"));
    assert_eq!(accepted_spans(&s).await, 100.0);
}
