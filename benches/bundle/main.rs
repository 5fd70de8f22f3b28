//! The whole-bundle benchmark: hotel bundles through the real HTTP API of
//! the release binary, run as it is deployed, with N concurrent clients.
//!
//! ```sh
//! cargo bench --bench bundle                                   # all-in-one, SQLite
//! cargo bench --bench bundle -- --clients 16 --secs 30 --idle-secs 30
//! cargo bench --bench bundle -- --enterprises 16                # bundles take turns among 16 applicants
//! cargo bench --bench bundle -- --poll-ms 5                     # poll for the licence every 5 ms
//! cargo bench --bench bundle -- --wait-secs 10                  # (default) waiting reads: If-None-Match + Prefer: wait=10
//! YIZHAN_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
//!   cargo bench --bench bundle -- --multi                      # broker + one process per service, PostgreSQL
//! ```
//!
//! It reports, from the stack's own accounting (`/proc/<pid>`), not the
//! client's: idle CPU over `--idle-secs` after start-up and the idle thread
//! count; then under load bundles/s and steps/s, CPU milliseconds and
//! context switches per bundle, acceptance → licence p50/p99, per-endpoint
//! p50/p99, and peak RSS. See docs/BENCHMARKS.md for figures.

mod client;
mod procs;

use std::time::{Duration, Instant};

use anyhow::Context;
use client::{Driver, Looking, Samples};
use procs::{Mode, Stack};

/// Admin URL of the PostgreSQL server for `--multi`.
const DATABASE_URL_ENV: &str = "YIZHAN_BENCH_DATABASE_URL";
/// Human steps per bundle: submit, accept, six approvals.
const STEPS_PER_BUNDLE: f64 = 8.0;

struct Options {
    clients: usize,
    secs: u64,
    idle_secs: u64,
    multi: bool,
    /// Applicant enterprises the bundles take turns among.
    enterprises: usize,
    /// Milliseconds between two plain looks at whether the licence is
    /// issued; `None`: waiting reads instead.
    poll_ms: Option<u64>,
    /// Seconds a waiting read may wait.
    wait_secs: u64,
}

impl Options {
    fn parse() -> anyhow::Result<Self> {
        let mut o = Self {
            clients: 16,
            secs: 30,
            idle_secs: 30,
            multi: false,
            enterprises: 1,
            poll_ms: None,
            wait_secs: 10,
        };
        let mut args = std::env::args().skip(1);
        while let Some(a) = args.next() {
            let mut number = |name: &str| -> anyhow::Result<u64> {
                args.next()
                    .and_then(|v| v.parse().ok())
                    .with_context(|| format!("{name} needs a whole number"))
            };
            match a.as_str() {
                "--clients" => o.clients = number("--clients")?.max(1) as usize,
                "--secs" => o.secs = number("--secs")?.max(1),
                "--idle-secs" => o.idle_secs = number("--idle-secs")?,
                "--multi" => o.multi = true,
                "--poll-ms" => o.poll_ms = Some(number("--poll-ms")?.max(1)),
                "--wait-secs" => o.wait_secs = number("--wait-secs")?.max(1),
                "--enterprises" => o.enterprises = number("--enterprises")?.max(1) as usize,
                // `cargo bench` passes `--bench`; other harness flags are ignored.
                _ => {}
            }
        }
        Ok(o)
    }
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)] as f64 / 1000.0
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let o = Options::parse()?;
    let mode = if o.multi {
        Mode::Multi(std::env::var(DATABASE_URL_ENV).with_context(|| {
            format!("--multi runs on PostgreSQL: set {DATABASE_URL_ENV} to an admin URL")
        })?)
    } else {
        Mode::AllInOne
    };
    let mode_name = if o.multi {
        "multi-process, PostgreSQL"
    } else {
        "all-in-one, SQLite"
    };
    println!(
        "bundle benchmark: {mode_name}, {} clients, {} s, {} applicant enterprise(s), licence {}",
        o.clients,
        o.secs,
        o.enterprises,
        match o.poll_ms {
            Some(ms) => format!("polled every {ms} ms"),
            None => format!("awaited by waiting reads (Prefer: wait={})", o.wait_secs),
        }
    );
    let mut stack = Stack::start(&mode).await?;
    let result = run(&o, &mut stack).await;
    if result.is_err() {
        stack.print_log_tails();
    }
    result
}

/// Idle measurement, then the load, then the report.
async fn run(o: &Options, stack: &mut Stack) -> anyhow::Result<()> {
    // Idle: nothing but the stack's own timers, after start-up settled.
    let (_, idle_threads) = stack.rss_and_threads();
    let cpu0 = stack.cpu_secs();
    tokio::time::sleep(Duration::from_secs(o.idle_secs)).await;
    let idle_cpu = if o.idle_secs > 0 {
        (stack.cpu_secs() - cpu0) / o.idle_secs as f64 * 100.0
    } else {
        f64::NAN
    };

    let looking = match o.poll_ms {
        Some(ms) => Looking::Poll(Duration::from_millis(ms)),
        None => Looking::Wait(o.wait_secs),
    };
    let driver = Driver::prepare(stack, o.enterprises, looking).await?;
    // One bundle to warm pools and caches before anything is counted.
    driver.bundle().await.context("warm-up bundle")?;
    driver
        .samples()
        .lock()
        .map(|mut s| *s = Samples::default())
        .ok();

    let cpu_start = stack.cpu_secs();
    let switches_start = stack.context_switches();
    let started = Instant::now();
    let deadline = started + Duration::from_secs(o.secs);
    let mut clients = Vec::new();
    for _ in 0..o.clients {
        let driver = driver.clone();
        clients.push(tokio::spawn(async move {
            let mut done = 0u64;
            while Instant::now() < deadline {
                driver.bundle().await?;
                done += 1;
            }
            anyhow::Ok(done)
        }));
    }
    let mut peak_rss: f64 = 0.0;
    while clients.iter().any(|c| !c.is_finished()) {
        peak_rss = peak_rss.max(stack.rss_and_threads().0);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let mut bundles = 0u64;
    for c in clients {
        bundles += c.await??;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = stack.cpu_secs() - cpu_start;
    let switches = stack.context_switches().saturating_sub(switches_start);
    anyhow::ensure!(stack.alive(), "a process of the stack died during the run");

    let samples = driver.samples();
    let mut samples = samples.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
    let rate = bundles as f64 / elapsed;
    println!();
    println!(
        "idle CPU             {idle_cpu:.2} % of one core over {} s ({idle_threads} threads)",
        o.idle_secs
    );
    println!("bundles              {bundles} in {elapsed:.1} s");
    println!("bundles/s            {rate:.1}");
    println!("steps/s              {:.1}", rate * STEPS_PER_BUNDLE);
    println!(
        "CPU per bundle       {:.1} ms (stack {:.1} s over the run, {:.0} % of one core)",
        cpu * 1000.0 / bundles.max(1) as f64,
        cpu,
        cpu / elapsed * 100.0
    );
    println!(
        "context switches     {:.0} per bundle",
        switches as f64 / bundles.max(1) as f64
    );
    println!("peak RSS under load  {peak_rss:.0} MiB");
    samples.accept_to_licence.sort_unstable();
    println!(
        "accept -> licence    p50 {:.1} ms  p99 {:.1} ms",
        percentile(&samples.accept_to_licence, 0.5),
        percentile(&samples.accept_to_licence, 0.99)
    );
    println!();
    println!("| endpoint | requests | p50 ms | p99 ms |");
    println!("|---|---|---|---|");
    let mut endpoints: Vec<_> = samples.endpoints.iter_mut().collect();
    endpoints.sort_by_key(|(label, _)| *label);
    for (label, v) in endpoints {
        v.sort_unstable();
        println!(
            "| {label} | {} | {:.1} | {:.1} |",
            v.len(),
            percentile(v, 0.5),
            percentile(v, 0.99)
        );
    }
    Ok(())
}
