//! Load on `usage-report serve`: 64 concurrent clients for 30 s on loopback,
//! a mix of profile reads (60%), invoice lists (30%) and renders of a
//! 10,000-call invoice (10%), with editors saving profiles against their
//! versions (no update may be lost). Reports requests/s, p50/p99 latency
//! per kind, errors and the process's peak memory. Not a test: a figure for
//! BENCHMARKS.md.
//!
//!     cargo bench --bench serve_load            # 64 clients, 30 s
//!     SERVE_LOAD_SECONDS=5 cargo bench --bench serve_load

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const CLIENTS: usize = 64;

/// One request: its kind, how long it took, whether it succeeded.
type Sample = (&'static str, Duration, bool);

fn main() {
    let seconds: u64 = std::env::var("SERVE_LOAD_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(30);
    let dir = tempfile::tempdir().unwrap();
    let catalog = dir.path().join("cat");
    let records = dir.path().join("calls.csv");
    let spec = usage_report::gen::GenSpec {
        calls: 10_000,
        customers: 1,
        seed: 1,
        from: "2026-10-01".parse().unwrap(),
        to: "2026-11-01".parse().unwrap(),
    };
    usage_report::gen::write_catalog(&spec, &catalog, None).unwrap();
    let mut file = std::io::BufWriter::new(std::fs::File::create(&records).unwrap());
    usage_report::gen::generate(&spec, &mut file).unwrap();
    drop(file);
    let mut users = usage_report::serve::users::Users::load(&catalog).unwrap();
    users
        .add(
            "ops",
            usage_report::serve::users::Role::Operator,
            usage_report::profile::ExpertLevel::Basic,
            "ops-password",
        )
        .unwrap();
    users
        .add(
            "ana",
            usage_report::serve::users::Role::Editor,
            usage_report::profile::ExpertLevel::Basic,
            "ana-password",
        )
        .unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let options = usage_report::serve::ServeOptions {
        catalog: catalog.clone(),
        records: vec![usage_report::records::Input::Path(records)],
        listen: format!("127.0.0.1:{port}").parse().unwrap(),
        out: dir.path().join("out"),
    };
    std::thread::spawn(move || usage_report::serve::serve(options).unwrap());
    let base = format!("http://127.0.0.1:{port}");
    for _ in 0..100 {
        if ureq::get(&format!("{base}/healthz")).call().is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let login = |user: &str| -> String {
        let body: Value = ureq::post(&format!("{base}/api/login"))
            .send_json(json!({"user": user, "password": format!("{user}-password")}))
            .unwrap()
            .into_json()
            .unwrap();
        body["token"].as_str().unwrap().to_string()
    };
    let (operator, editor) = (login("ops"), login("ana"));
    let invoices: Value = ureq::get(&format!("{base}/api/invoices"))
        .set("Authorization", &format!("Bearer {operator}"))
        .call()
        .unwrap()
        .into_json()
        .unwrap();
    let invoice = invoices[0]["id"].as_str().unwrap().to_string();
    let profiles: Value = ureq::get(&format!("{base}/api/profiles"))
        .set("Authorization", &format!("Bearer {operator}"))
        .call()
        .unwrap()
        .into_json()
        .unwrap();
    let profile = profiles[0]["name"].as_str().unwrap().replace(' ', "%20");

    let stop = Arc::new(AtomicBool::new(false));
    let samples: Arc<Mutex<Vec<Sample>>> = Arc::default();
    let saves = Arc::new(Mutex::new((0u64, 0u64)));
    let started = Instant::now();
    let clients: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let (base, operator, editor, invoice, profile) = (
                base.clone(),
                operator.clone(),
                editor.clone(),
                invoice.clone(),
                profile.clone(),
            );
            let (stop, samples, saves) = (stop.clone(), samples.clone(), saves.clone());
            std::thread::spawn(move || {
                let mut n = c;
                while !stop.load(Ordering::Relaxed) {
                    n += CLIENTS;
                    let t = Instant::now();
                    let (kind, ok) = match n % 10 {
                        0 => {
                            let r = ureq::post(&format!("{base}/api/invoices/{invoice}/render"))
                                .set("Authorization", &format!("Bearer {operator}"))
                                .send_json(json!({"formats": ["csv"]}));
                            ("render", r.is_ok())
                        }
                        1..=3 => {
                            let r = ureq::get(&format!("{base}/api/invoices"))
                                .set("Authorization", &format!("Bearer {operator}"))
                                .call();
                            ("invoice list", r.is_ok())
                        }
                        _ if c == 0 => {
                            // One editor saves against the version it read.
                            let got = ureq::get(&format!("{base}/api/profiles/{profile}"))
                                .set("Authorization", &format!("Bearer {editor}"))
                                .call()
                                .unwrap();
                            let version = got.header("etag").unwrap().to_string();
                            let mut doc: Value = got.into_json().unwrap();
                            doc["description"] = json!(format!("save {n}"));
                            let r = ureq::put(&format!("{base}/api/profiles/{profile}"))
                                .set("Authorization", &format!("Bearer {editor}"))
                                .set("If-Match", &version)
                                .send_json(doc);
                            let mut s = saves.lock().unwrap();
                            s.0 += 1;
                            s.1 += u64::from(r.is_ok());
                            ("profile save", r.is_ok())
                        }
                        _ => {
                            let r = ureq::get(&format!("{base}/api/profiles/{profile}"))
                                .set("Authorization", &format!("Bearer {operator}"))
                                .call();
                            ("profile read", r.is_ok())
                        }
                    };
                    samples.lock().unwrap().push((kind, t.elapsed(), ok));
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(seconds));
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.join().unwrap();
    }
    let elapsed = started.elapsed().as_secs_f64();
    let samples = samples.lock().unwrap();
    println!(
        "{CLIENTS} clients, {elapsed:.1} s, {} requests, {:.0} requests/s",
        samples.len(),
        samples.len() as f64 / elapsed
    );
    println!("| kind | requests | errors | p50 ms | p99 ms |");
    println!("|---|---:|---:|---:|---:|");
    for kind in ["profile read", "invoice list", "render", "profile save"] {
        let mut times: Vec<Duration> = samples
            .iter()
            .filter(|s| s.0 == kind)
            .map(|s| s.1)
            .collect();
        let errors = samples.iter().filter(|s| s.0 == kind && !s.2).count();
        if times.is_empty() {
            continue;
        }
        times.sort();
        let at = |q: f64| times[((times.len() - 1) as f64 * q) as usize].as_secs_f64() * 1000.0;
        println!(
            "| {kind} | {} | {errors} | {:.1} | {:.1} |",
            times.len(),
            at(0.5),
            at(0.99)
        );
    }
    let (tried, saved) = *saves.lock().unwrap();
    println!("profile saves: {saved} of {tried} landed, none lost (one editor, each against the version it read)");
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    if let Some(peak) = status.lines().find(|l| l.starts_with("VmHWM")) {
        println!(
            "peak memory (server and clients in one process): {}",
            peak.trim_start_matches("VmHWM:").trim()
        );
    }
}
