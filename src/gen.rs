//! `usage-report gen`: a seeded generator of realistic rated records for
//! tests and benchmarks. Customer sizes are skewed (a few large customers,
//! many small ones); each customer has sites, campaigns (some calls in none)
//! and numbers; call types, destinations and rates follow a UK carrier's mix.
//! Records stream out as they are made, so 10^8 calls need no memory.
//!
//! The random source is a fixed SplitMix64, so the same seed gives the same
//! file on every machine and every version of this crate's dependencies.

use std::io::Write;

use chrono::{Duration, NaiveDate, TimeZone, Utc};

use crate::error::{Error, Result};
use crate::hash::Rng;

/// What to generate.
#[derive(Clone, Debug)]
pub struct GenSpec {
    pub calls: u64,
    pub customers: u32,
    pub seed: u64,
    /// First day of the period the records fall in.
    pub from: NaiveDate,
    /// First day after it.
    pub to: NaiveDate,
}

/// The header of generated files: every column of the record schema.
pub const HEADER: [&str; 23] = [
    "record_type",
    "customer_id",
    "site",
    "campaign",
    "number",
    "call_id",
    "start_time",
    "caller",
    "dialled",
    "destination",
    "call_type",
    "direction",
    "duration",
    "billed_duration",
    "rate",
    "charge",
    "transaction_id",
    "date",
    "transaction_type",
    "description",
    "quantity",
    "unit_price",
    "amount",
];

struct CallType {
    key: &'static str,
    weight: u32,
    /// Price per minute in millionths.
    rate_micros: i64,
}

const CALL_TYPES: [CallType; 6] = [
    CallType {
        key: "local",
        weight: 30,
        rate_micros: 10_000,
    },
    CallType {
        key: "national",
        weight: 28,
        rate_micros: 15_000,
    },
    CallType {
        key: "mobile",
        weight: 25,
        rate_micros: 35_000,
    },
    CallType {
        key: "international",
        weight: 10,
        rate_micros: 120_000,
    },
    CallType {
        key: "freephone",
        weight: 5,
        rate_micros: 0,
    },
    CallType {
        key: "premium",
        weight: 2,
        rate_micros: 450_000,
    },
];

const SITES: [&str; 10] = [
    "London HQ",
    "Manchester",
    "Leeds Depot",
    "Bristol",
    "Glasgow",
    "Cardiff",
    "Belfast",
    "Birmingham",
    "Zürich Office",
    "Athens (Αθήνα)",
];
const CAMPAIGNS: [&str; 5] = [
    "",
    "Winter Sale",
    "Renewals",
    "Customer \"Care\" Line",
    "Outreach, North",
];
const INTERNATIONAL: [&str; 8] = [
    "France",
    "Germany",
    "United States",
    "India",
    "Côte d'Ivoire",
    "Greece",
    "Россия",
    "Spain",
];

struct Customer {
    id: String,
    sites: Vec<&'static str>,
    campaigns: Vec<&'static str>,
    numbers: Vec<String>,
}

fn customer(seed: u64, index: u32, weight: f64) -> Customer {
    let mut rng = Rng::new(seed.wrapping_mul(31).wrapping_add(index as u64 + 1));
    let size_hint = (weight * 400.0).ceil() as u64;
    let sites = 1 + rng.below(size_hint.clamp(1, SITES.len() as u64));
    let campaigns = 1 + rng.below(CAMPAIGNS.len() as u64);
    let numbers = 1 + rng.below(size_hint.clamp(2, 60));
    let start = rng.below(SITES.len() as u64) as usize;
    Customer {
        id: format!("CUST{:05}", index + 1),
        sites: (0..sites as usize)
            .map(|i| SITES[(start + i) % SITES.len()])
            .collect(),
        campaigns: CAMPAIGNS[..campaigns as usize].to_vec(),
        numbers: (0..numbers)
            .map(|_| {
                let local = 1_000_000 + rng.below(9_000_000);
                if rng.below(3) == 0 {
                    format!("0207{local:07}")
                } else {
                    format!(
                        "+44 20 {:04} {:04}",
                        local / 10_000 % 10_000,
                        local % 10_000
                    )
                }
            })
            .collect(),
    }
}

/// Writes the generated records as CSV to `out`; returns the number of
/// records written (calls plus transactions).
pub fn generate(spec: &GenSpec, out: &mut dyn Write) -> Result<u64> {
    if spec.customers == 0 {
        return Err(Error::Usage(
            "the number of customers must be at least 1".into(),
        ));
    }
    if spec.from >= spec.to {
        return Err(Error::Usage(
            "the period is empty: from must be before to".into(),
        ));
    }
    let weights: Vec<f64> = (0..spec.customers)
        .map(|i| 1.0 / (i as f64 + 1.0).powf(0.9))
        .collect();
    let sum: f64 = weights.iter().sum();
    let mut cumulative = Vec::with_capacity(weights.len());
    let mut acc = 0.0;
    for w in &weights {
        acc += w / sum;
        cumulative.push(acc);
    }
    let customers: Vec<Customer> = (0..spec.customers)
        .map(|i| {
            customer(
                spec.seed,
                i,
                weights[i as usize] / sum * spec.customers as f64 / 10.0,
            )
        })
        .collect();
    let type_total: u32 = CALL_TYPES.iter().map(|t| t.weight).sum();
    let start = Utc.from_utc_datetime(&spec.from.and_hms_opt(0, 0, 0).expect("midnight"));
    let seconds = (spec.to - spec.from).num_seconds() as u64;

    let mut w = csv::WriterBuilder::new().from_writer(out);
    let io = |e: csv::Error| Error::csv("generated records", e);
    w.write_record(HEADER).map_err(io)?;
    let mut rng = Rng::new(spec.seed);
    let mut written = 0u64;
    let mut fields: Vec<String> = vec![String::new(); HEADER.len()];
    for seq in 0..spec.calls {
        let u = rng.unit();
        let ci = cumulative
            .partition_point(|c| *c < u)
            .min(customers.len() - 1);
        let c = &customers[ci];
        let mut pick = rng.below(type_total as u64) as u32;
        let ty = CALL_TYPES
            .iter()
            .find(|t| {
                if pick < t.weight {
                    true
                } else {
                    pick -= t.weight;
                    false
                }
            })
            .expect("weights cover the range");
        let inbound = ty.key != "premium" && rng.below(100) < 12;
        let number = &c.numbers[rng.below(c.numbers.len() as u64) as usize];
        let other = match ty.key {
            "mobile" => format!("07{:09}", rng.below(1_000_000_000)),
            "international" => format!("+{}{:09}", 30 + rng.below(60), rng.below(1_000_000_000)),
            "freephone" => format!("0800{:07}", rng.below(10_000_000)),
            "premium" => format!("0906{:07}", rng.below(10_000_000)),
            "local" => format!("020{:08}", rng.below(100_000_000)),
            _ => format!("01{:09}", rng.below(1_000_000_000)),
        };
        let destination = match ty.key {
            "local" => "London",
            "national" => "UK National",
            "mobile" => "UK Mobile",
            "freephone" => "UK Freephone",
            "premium" => "UK Premium",
            _ => INTERNATIONAL[rng.below(INTERNATIONAL.len() as u64) as usize],
        };
        let answered = rng.below(100) >= 7;
        let duration = if answered {
            (-(1.0 - rng.unit()).ln() * 150.0) as u64 + 1
        } else {
            0
        };
        let billed = if duration == 0 {
            0
        } else {
            duration.div_ceil(60) * 60
        };
        let rate = if inbound { 0 } else { ty.rate_micros };
        let charge = (billed as i64 * rate + 30) / 60;
        let when = start + Duration::seconds(rng.below(seconds) as i64);

        fields[0] = "call".into();
        fields[1].clone_from(&c.id);
        fields[2] = c.sites[rng.below(c.sites.len() as u64) as usize].into();
        fields[3] = c.campaigns[rng.below(c.campaigns.len() as u64) as usize].into();
        fields[4].clone_from(number);
        fields[5] = format!("CL{:010}", seq + 1);
        fields[6] = when.format("%Y-%m-%dT%H:%M:%SZ").to_string();
        let (caller, dialled) = if inbound {
            (&other, number)
        } else {
            (number, &other)
        };
        fields[7].clone_from(caller);
        fields[8].clone_from(dialled);
        fields[9] = destination.into();
        fields[10] = ty.key.into();
        fields[11] = if inbound { "inbound" } else { "outbound" }.into();
        fields[12] = duration.to_string();
        fields[13] = billed.to_string();
        fields[14] = micros_text(rate);
        fields[15] = micros_text(charge);
        for f in &mut fields[16..] {
            f.clear();
        }
        w.write_record(&fields).map_err(io)?;
        written += 1;
    }
    // Transactions: a line rental per number, and a credit for some customers.
    let date = spec.from.format("%Y-%m-%d").to_string();
    let mut tx = 0u64;
    for c in &customers {
        for (i, number) in c.numbers.iter().enumerate() {
            tx += 1;
            let qty = 1 + (i as i64 % 3);
            let unit = 1_250_000;
            let row = transaction_row(
                c,
                number,
                i,
                &date,
                tx,
                "rental",
                "Line rental",
                qty,
                unit,
                qty * unit,
            );
            w.write_record(&row).map_err(io)?;
            written += 1;
        }
        if rng.below(5) == 0 {
            tx += 1;
            let amount = -(rng.below(50_000_000) as i64 + 500_000) / 10_000 * 10_000;
            let row = transaction_row(
                c,
                &c.numbers[0],
                0,
                &date,
                tx,
                "credit",
                "Goodwill credit",
                1,
                amount,
                amount,
            );
            w.write_record(&row).map_err(io)?;
            written += 1;
        }
    }
    w.flush().map_err(|e| Error::io("generated records", e))?;
    Ok(written)
}

/// Writes a catalogue for the generated customers into `dir`: a profile as
/// every customer's default — `profile`, or the bundled "everything" (every
/// report at every level) — and one invoice per customer for the period
/// (formats `csv`).
pub fn write_catalog(
    spec: &GenSpec,
    dir: &std::path::Path,
    profile: Option<&std::path::Path>,
) -> Result<()> {
    let io = |p: &std::path::Path, e| Error::io(p, e);
    let (file_name, text) = match profile {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| io(path, e))?;
            let name = path
                .file_name()
                .ok_or_else(|| Error::input(path, "is not a profile file's path".to_string()))?;
            (name.to_owned(), text)
        }
        None => (
            "everything.toml".into(),
            include_str!("../fixtures/profiles/everything.toml").to_string(),
        ),
    };
    let is_json = std::path::Path::new(&file_name)
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    let name = crate::profile::Profile::parse(&text, is_json, &file_name.to_string_lossy())?.name;
    let mut quoted = Vec::new();
    crate::csv_field::push(&mut quoted, name.as_bytes());
    let name = String::from_utf8(quoted).expect("a profile name is text");
    let profiles = dir.join("profiles");
    std::fs::create_dir_all(&profiles).map_err(|e| io(&profiles, e))?;
    let profile = profiles.join(&file_name);
    std::fs::write(&profile, text).map_err(|e| io(&profile, e))?;
    let mut customers = String::from("customer_id,name,groups,default_profile,timezone,currency\n");
    let mut invoices = String::from("invoice_id,customer_id,from,to,profile,formats\n");
    for i in 1..=spec.customers {
        customers.push_str(&format!(
            "CUST{i:05},Customer {i},business,{name},UTC,GBP\n"
        ));
        invoices.push_str(&format!(
            "INV-{i:05},CUST{i:05},{},{},,csv\n",
            spec.from, spec.to
        ));
    }
    for (name, text) in [("customers.csv", customers), ("invoices.csv", invoices)] {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(|e| io(&path, e))?;
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn transaction_row(
    c: &Customer,
    number: &str,
    i: usize,
    date: &str,
    seq: u64,
    kind: &str,
    description: &str,
    quantity: i64,
    unit_micros: i64,
    amount_micros: i64,
) -> Vec<String> {
    let mut row = vec![String::new(); HEADER.len()];
    row[0] = "transaction".into();
    row[1].clone_from(&c.id);
    row[2] = c.sites[i % c.sites.len()].into();
    row[4] = number.into();
    row[16] = format!("TX{seq:08}");
    row[17] = date.into();
    row[18] = kind.into();
    row[19] = description.into();
    row[20] = quantity.to_string();
    row[21] = micros_text(unit_micros);
    row[22] = micros_text(amount_micros);
    row
}

fn micros_text(micros: i64) -> String {
    crate::money::Decimal::from_micros(micros as i128).to_exact_string(2)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(seed: u64) -> GenSpec {
        GenSpec {
            calls: 500,
            customers: 7,
            seed,
            from: NaiveDate::from_ymd_opt(2026, 10, 1).unwrap(),
            to: NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
        }
    }

    #[test]
    fn same_seed_same_bytes_other_seed_other_bytes() {
        let run = |seed| {
            let mut out = Vec::new();
            generate(&spec(seed), &mut out).unwrap();
            out
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
    }

    #[test]
    fn sizes_are_skewed_towards_the_first_customers() {
        let mut out = Vec::new();
        generate(&spec(1), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let count = |id: &str| {
            text.lines()
                .filter(|l| l.starts_with("call,") && l.contains(id))
                .count()
        };
        assert!(count("CUST00001") > count("CUST00007"));
    }
}
