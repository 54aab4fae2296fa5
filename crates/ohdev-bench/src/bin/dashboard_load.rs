//! What the dashboard's server sustains (BENCHMARKS.md, "Dashboard"): events/s and log lines/s
//! delivered over SSE to 1 and to 5 clients, and the server's memory after 1,000,000 log lines.
//!
//! The real server and Hub (`ohdev::bench_api::DashboardBench`, on their own 2-thread runtime) are
//! fed through a Reporter as the engine feeds them, as fast as this thread can; each client is a
//! thread with a plain HTTP/1.1 connection that counts `data:` lines until the run's last item
//! (a sentinel) arrives. A client that falls behind by more than the broadcast buffer skips ahead
//! (`event: lagged`): the table shows what was delivered, and what was skipped.
//!
//! Usage: `cargo build --release -p ohdev-bench && ./target/release/dashboard_load [--events N
//! (default 200000)] [--lines N (default 1000000)]`.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use ohdev::bench_api::DashboardBench;

const SENTINEL: &str = "bench-end-of-run";

struct Client {
    done: mpsc::Receiver<(u64, u64, Instant)>,
}

/// Connects, waits for the stream's first chunk, then counts `data:` lines until the sentinel.
fn client(port: u16, token: &str, path: &str, sentinel: String) -> Client {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\n\r\n");
    stream.write_all(request.as_bytes()).expect("send");
    let (ready_sender, ready) = mpsc::channel();
    let (done_sender, done) = mpsc::channel();
    std::thread::spawn(move || {
        let mut buffer = vec![0u8; 1 << 16];
        let mut carry = Vec::new();
        let (mut data, mut skipped) = (0u64, 0u64);
        let mut first = true;
        loop {
            let read = match stream.read(&mut buffer) {
                Ok(0) | Err(_) => return,
                Ok(read) => read,
            };
            if first {
                first = false;
                let _ = ready_sender.send(());
            }
            carry.extend_from_slice(&buffer[..read]);
            let end = carry.iter().rposition(|byte| *byte == b'\n').map_or(0, |position| position + 1);
            let text = String::from_utf8_lossy(&carry[..end]).into_owned();
            carry.drain(..end);
            let mut finished = false;
            for line in text.lines() {
                if let Some(rest) = line.strip_prefix("data: ") {
                    if rest.contains("\"skipped\"") && !rest.contains("\"type\"") && !rest.contains("\"pod\"") {
                        skipped +=
                            rest.trim_start_matches("{\"skipped\":").trim_end_matches('}').parse::<u64>().unwrap_or(0);
                    } else {
                        data += 1;
                        if rest.contains(&sentinel) {
                            finished = true;
                        }
                    }
                }
            }
            if finished {
                let _ = done_sender.send((data, skipped, Instant::now()));
                return;
            }
        }
    });
    ready.recv_timeout(Duration::from_secs(10)).expect("the stream starts");
    Client { done }
}

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn parse_flag(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|arg| arg == name)
        .and_then(|index| args.get(index + 1))
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

fn report(what: &str, clients: usize, sent: u64, start: Instant, results: Vec<(u64, u64, Instant)>) {
    for (index, (data, skipped, end)) in results.iter().enumerate() {
        let seconds = end.duration_since(start).as_secs_f64();
        println!(
            "| {what} | {clients} | client {} | {sent} | {data} | {skipped} | {:.0}/s |",
            index + 1,
            *data as f64 / seconds
        );
    }
}

fn main() {
    let events = parse_flag("--events", 200_000);
    let lines = parse_flag("--lines", 1_000_000);
    let bench = DashboardBench::start().expect("dashboard starts");
    let rest = bench.url().strip_prefix("http://127.0.0.1:").expect("loopback URL");
    let (port, token) = rest.split_once("/?token=").expect("URL with token");
    let port: u16 = port.parse().expect("port");
    println!("| stream | clients | client | sent | delivered | skipped (lagged) | delivered/s |");
    println!("|---|---:|---|---:|---:|---:|---:|");

    for clients in [1usize, 5] {
        let connected: Vec<Client> =
            (0..clients).map(|_| client(port, token, "/api/events", format!("{SENTINEL} events {clients}"))).collect();
        let start = Instant::now();
        for index in 0..events {
            bench.emit_message(format!("event {index} of the benchmark run"));
        }
        bench.emit_message(format!("{SENTINEL} events {clients}"));
        let results = connected.iter().map(|client| client.done.recv().expect("client finished")).collect();
        report("events", clients, events + 1, start, results);
    }

    let rss_before = rss_kib();
    for clients in [1usize, 5] {
        let connected: Vec<Client> = (0..clients)
            .map(|_| client(port, token, "/api/logs?resource=Pod/bench", format!("{SENTINEL} lines {clients}")))
            .collect();
        let start = Instant::now();
        let mut sent = 0u64;
        let mut batch = Vec::with_capacity(100);
        while sent < lines {
            batch.clear();
            for _ in 0..100 {
                batch.push(((sent % 20) as usize, format!("2026-12-03T12:00:00Z INFO request {sent} served in 3 ms")));
                sent += 1;
            }
            bench.emit_log_lines("bench", &batch);
        }
        bench.emit_log_lines("bench", &[(0, format!("{SENTINEL} lines {clients}"))]);
        let results = connected.iter().map(|client| client.done.recv().expect("client finished")).collect();
        report("log lines (20 containers)", clients, sent + 1, start, results);
    }
    let rss_after = rss_kib();
    println!();
    println!(
        "memory: VmRSS {} KiB before the log runs, {} KiB after {} log lines ({} lines kept by the server)",
        rss_before,
        rss_after,
        2 * lines,
        bench.log_lines_kept()
    );
}
