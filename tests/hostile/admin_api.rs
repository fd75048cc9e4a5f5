//! The admin API under a flood of its most expensive valid-looking requests: budget
//! adjustments whose recurrence rule is walked for 200,000 periods before it is refused.
//! The walk runs off the admin runtime's one thread, so probes keep answering.

use super::*;

/// A weekly rule every 1000 weeks that yields about 416 of its 10,000 occurrences before the
/// walk gives up: refused, after the longest check a rule can cost.
const SLOW_RULE: &str = r#"{"service": "checkout", "reason": "r", "author": "a",
  "rrule": "FREQ=WEEKLY;INTERVAL=1000;BYDAY=MO;COUNT=10000",
  "dtstart": "2030-01-07T00:00:00", "duration": "1h"}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probes_do_not_wait_for_adjustments_being_checked() {
    let s = spawn("{}").await;
    let url = format!("http://{}/api/v1/adjustments", s.admin);
    let post = |url: String| async move {
        let r = http_try(
            "POST",
            &url,
            &[("content-type", "application/json")],
            SLOW_RULE.as_bytes().to_vec(),
        )
        .await
        .unwrap();
        (r.status, String::from_utf8_lossy(&r.body).into_owned())
    };
    let (status, body) = post(url.clone()).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body.contains("of its COUNT=10000 occurrences in 200000 periods"),
        "{body}"
    );
    let stop = Arc::new(AtomicBool::new(false));
    let probes = probe(s.admin, stop.clone());
    let until = Instant::now() + Duration::from_secs(5);
    let posters: Vec<_> = (0..8)
        .map(|_| {
            let url = url.clone();
            tokio::spawn(async move {
                let mut seen = Vec::new();
                while Instant::now() < until {
                    seen.push(post(url.clone()).await.0);
                }
                seen
            })
        })
        .collect();
    let seen = tally(posters).await;
    stop.store(true, Ordering::SeqCst);
    println!("answers: {seen:?}");
    assert_eq!(seen.keys().copied().collect::<Vec<_>>(), [400]);
    assert_probes(
        "8 adjustment posters",
        probes.done().await,
        Duration::from_millis(250),
    );
}
