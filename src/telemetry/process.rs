//! The standard `process_*` series of Prometheus client libraries, read from `/proc` at
//! scrape time: `process_cpu_seconds_total`, `process_resident_memory_bytes`,
//! `process_virtual_memory_bytes`, `process_open_fds`, `process_max_fds` and
//! `process_start_time_seconds`, with the meanings the Prometheus client guidelines give
//! them. Where `/proc` cannot be read (not Linux, a locked-down sandbox) a series is left
//! out rather than reported as zero.

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;

/// Clock ticks per second of the times in `/proc/<pid>/stat` and `/proc/stat`: the kernel
/// reports them in `USER_HZ`, which is 100 on every Linux architecture's user ABI.
const USER_HZ: f64 = 100.0;

/// The figures of one scrape; `None` where the source could not be read.
#[derive(Debug, Default, PartialEq)]
pub struct ProcessStats {
    pub cpu_seconds: Option<f64>,
    pub resident_bytes: Option<f64>,
    pub virtual_bytes: Option<f64>,
    pub open_fds: Option<f64>,
    pub max_fds: Option<f64>,
    pub start_time_seconds: Option<f64>,
}

/// The fields of `/proc/<pid>/stat` slotel reports: user and system CPU ticks, the start
/// time in ticks since boot, and the virtual memory size in bytes.
#[derive(Debug, PartialEq)]
pub struct Stat {
    pub utime: u64,
    pub stime: u64,
    pub starttime: u64,
    pub vsize: u64,
}

/// Parses `/proc/<pid>/stat`. The second field (the command name) is in parentheses and
/// may hold spaces and parentheses itself, so the fields are counted after its last `)`
/// (proc(5)).
pub fn parse_stat(text: &str) -> Option<Stat> {
    let rest = &text[text.rfind(')')? + 1..];
    // After the name: field 3 (state) is the first; utime is field 14, stime 15,
    // starttime 22, vsize 23.
    let fields: Vec<&str> = rest.split_ascii_whitespace().collect();
    let field = |n: usize| fields.get(n - 3)?.parse::<u64>().ok();
    Some(Stat {
        utime: field(14)?,
        stime: field(15)?,
        starttime: field(22)?,
        vsize: field(23)?,
    })
}

/// `VmRSS` of `/proc/<pid>/status`, in bytes (the file gives kB).
pub fn parse_status_rss(text: &str) -> Option<u64> {
    let line = text.lines().find_map(|l| l.strip_prefix("VmRSS:"))?;
    let kb = line.trim().strip_suffix("kB")?.trim().parse::<u64>().ok()?;
    kb.checked_mul(1024)
}

/// The soft limit of "Max open files" in `/proc/<pid>/limits` (`None` when unlimited).
pub fn parse_limits_max_files(text: &str) -> Option<u64> {
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix("Max open files"))?;
    line.split_ascii_whitespace().next()?.parse().ok()
}

/// The boot time (`btime`, seconds since the epoch) of `/proc/stat`.
pub fn parse_boot_time(text: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| l.strip_prefix("btime "))?
        .trim()
        .parse()
        .ok()
}

/// Reads this process's figures from `/proc`.
pub fn read_self() -> ProcessStats {
    let read = |path: &str| std::fs::read_to_string(path).ok();
    let stat = read("/proc/self/stat").as_deref().and_then(parse_stat);
    let boot = read("/proc/stat").as_deref().and_then(parse_boot_time);
    let open_fds = std::fs::read_dir("/proc/self/fd")
        .ok()
        // The directory handle read_dir holds is one of the entries: not counted.
        .map(|d| d.count().saturating_sub(1) as f64);
    ProcessStats {
        cpu_seconds: stat.as_ref().map(|s| (s.utime + s.stime) as f64 / USER_HZ),
        resident_bytes: read("/proc/self/status")
            .as_deref()
            .and_then(parse_status_rss)
            .map(|b| b as f64),
        virtual_bytes: stat.as_ref().map(|s| s.vsize as f64),
        open_fds,
        max_fds: read("/proc/self/limits")
            .as_deref()
            .and_then(parse_limits_max_files)
            .map(|n| n as f64),
        start_time_seconds: stat
            .as_ref()
            .zip(boot)
            .map(|(s, boot)| boot as f64 + s.starttime as f64 / USER_HZ),
    }
}

/// The `process_*` series, computed at every scrape.
#[derive(Debug, Default)]
pub struct ProcessCollector;

impl Collector for ProcessCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let s = read_self();
        if let Some(v) = s.cpu_seconds {
            let m = encoder.encode_descriptor(
                "process_cpu_seconds",
                "Total user and system CPU time spent in seconds.",
                None,
                MetricType::Counter,
            )?;
            ConstCounter::new(v).encode(m)?;
        }
        let gauges = [
            (
                "process_resident_memory_bytes",
                "Resident memory size in bytes.",
                s.resident_bytes,
            ),
            (
                "process_virtual_memory_bytes",
                "Virtual memory size in bytes.",
                s.virtual_bytes,
            ),
            (
                "process_open_fds",
                "Number of open file descriptors.",
                s.open_fds,
            ),
            (
                "process_max_fds",
                "Maximum number of open file descriptors.",
                s.max_fds,
            ),
            (
                "process_start_time_seconds",
                "Start time of the process since unix epoch in seconds.",
                s.start_time_seconds,
            ),
        ];
        for (name, help, value) in gauges {
            if let Some(v) = value {
                let m = encoder.encode_descriptor(name, help, None, MetricType::Gauge)?;
                ConstGauge::new(v).encode(m)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The example line of proc(5) style, with a command name holding a space and a `)`.
    const STAT: &str = "4242 (slo tel) x) S 1 4242 4242 0 -1 4194560 1920 0 0 0 250 75 0 0 20 0 \
                        9 0 123456 1048576000 5000 18446744073709551615 1 1 0 0 0 0 0 4096 \
                        17664 0 0 0 17 1 0 0 0 0 0";

    #[test]
    fn stat_fields_are_counted_after_the_last_parenthesis() {
        assert_eq!(
            parse_stat(STAT),
            Some(Stat {
                utime: 250,
                stime: 75,
                starttime: 123456,
                vsize: 1048576000
            })
        );
        assert_eq!(parse_stat("4242 (short) S 1"), None);
        assert_eq!(parse_stat("no parenthesis"), None);
    }

    #[test]
    fn status_limits_and_boot_time() {
        let status = "Name:\tslotel\nVmPeak:\t  200000 kB\nVmRSS:\t   51200 kB\nThreads:\t9\n";
        assert_eq!(parse_status_rss(status), Some(51200 * 1024));
        assert_eq!(parse_status_rss("Name:\tx\n"), None);
        let limits = "Limit                     Soft Limit           Hard Limit           Units     \n\
                      Max open files            1024                 524288               files     \n";
        assert_eq!(parse_limits_max_files(limits), Some(1024));
        let unlimited =
            "Max open files            unlimited            unlimited            files\n";
        assert_eq!(parse_limits_max_files(unlimited), None);
        assert_eq!(
            parse_boot_time("cpu  1 2 3\nbtime 1767225600\nprocesses 9\n"),
            Some(1767225600)
        );
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn this_process_is_read() {
        let s = read_self();
        assert!(s.resident_bytes.is_some_and(|b| b > 0.0));
        assert!(s.virtual_bytes >= s.resident_bytes);
        assert!(s.open_fds.is_some_and(|n| n >= 3.0));
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs_f64();
        let start = s.start_time_seconds.unwrap();
        assert!(
            start <= now + 1.0 && start > now - 3600.0,
            "{start} vs {now}"
        );
    }
}
