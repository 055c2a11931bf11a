//! A reference implementation of the reports, written the slow, obvious way
//! with no code from the engine: read every row as strings, filter by
//! customer and period, add into ordered maps, sort itemised calls by the
//! documented order. Summaries, call types, itemised order, noise control
//! and split groups must agree with it to the last decimal place.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;

use crate::util::manifest;

/// Totals in millionths, so sums are exact integers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RefTotals {
    pub calls: u64,
    pub duration: u64,
    pub billed_duration: u64,
    pub call_charge: i128,
    pub transactions: u64,
    pub transaction_amount: i128,
}

/// `"-12.5"` → -12_500_000 millionths; `None` for anything else.
pub fn try_micros(text: &str) -> Option<i128> {
    let body = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if body.is_empty() || !digits(int) || !digits(frac) || frac.len() > 6 {
        return None;
    }
    Some(micros(text))
}

/// `"-12.5"` → -12_500_000 millionths.
pub fn micros(text: &str) -> i128 {
    let (neg, t) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (int, frac) = t.split_once('.').unwrap_or((t, ""));
    let mut frac = frac.to_string();
    while frac.len() < 6 {
        frac.push('0');
    }
    let v = int.parse::<i128>().unwrap_or(0) * 1_000_000 + frac.parse::<i128>().unwrap();
    if neg {
        -v
    } else {
        v
    }
}

pub const LEVELS: [(&str, &str); 4] = [
    ("customer", "customer_id"),
    ("site", "site"),
    ("campaign", "campaign"),
    ("number", "number"),
];

/// One in-scope call as the itemised reports list it.
#[derive(Clone, Debug)]
pub struct RefCall {
    pub start: DateTime<Utc>,
    pub call_id: String,
    pub charge: i128,
    /// Its place in the input, the last tie-break.
    pub position: usize,
}

/// Per level, per group key, the totals of the invoice's records; per level
/// and (group, call type), the call types' totals; per level and group, the
/// calls in the documented order (start time, then call id, then input).
pub struct Reference {
    pub invoice: RefTotals,
    pub levels: BTreeMap<&'static str, BTreeMap<String, RefTotals>>,
    pub call_types: BTreeMap<&'static str, BTreeMap<(String, String), RefTotals>>,
    pub calls: BTreeMap<&'static str, BTreeMap<String, Vec<RefCall>>>,
}

pub fn compute(files: &[&Path], customer: &str, from: &str, to: &str, tz: Tz) -> Reference {
    let from_day = NaiveDate::parse_from_str(from, "%Y-%m-%d").unwrap();
    let to_day = NaiveDate::parse_from_str(to, "%Y-%m-%d").unwrap();
    let start: DateTime<Utc> = tz
        .from_local_datetime(&from_day.and_hms_opt(0, 0, 0).unwrap())
        .earliest()
        .unwrap()
        .with_timezone(&Utc);
    let end: DateTime<Utc> = tz
        .from_local_datetime(&to_day.and_hms_opt(0, 0, 0).unwrap())
        .earliest()
        .unwrap()
        .with_timezone(&Utc);
    let mut reference = Reference {
        invoice: RefTotals::default(),
        levels: BTreeMap::new(),
        call_types: BTreeMap::new(),
        calls: BTreeMap::new(),
    };
    for (level, _) in LEVELS {
        reference.levels.insert(level, BTreeMap::new());
        reference.call_types.insert(level, BTreeMap::new());
        reference.calls.insert(level, BTreeMap::new());
    }
    let mut position = 0usize;
    for file in files {
        let mut reader = csv::Reader::from_path(file).unwrap();
        let headers = reader.headers().unwrap().clone();
        let col = |name: &str| headers.iter().position(|h| h == name);
        for row in reader.records() {
            let row = row.unwrap();
            position += 1;
            let get = |name: &str| col(name).and_then(|i| row.get(i)).unwrap_or("").to_string();
            if get("customer_id") != customer {
                continue;
            }
            let mut t = RefTotals::default();
            let mut call = None;
            if get("record_type") == "call" {
                let when = DateTime::parse_from_rfc3339(&get("start_time"))
                    .unwrap()
                    .with_timezone(&Utc);
                if when < start || when >= end {
                    continue;
                }
                // A bad amount is rejected by the engine, never counted.
                let Some(charge) = try_micros(&get("charge")) else {
                    continue;
                };
                let duration: u64 = get("duration").parse().unwrap();
                let billed = get("billed_duration");
                t.calls = 1;
                t.duration = duration;
                t.billed_duration = if billed.is_empty() {
                    duration
                } else {
                    billed.parse().unwrap()
                };
                t.call_charge = charge;
                call = Some(RefCall {
                    start: when,
                    call_id: get("call_id"),
                    charge,
                    position,
                });
            } else {
                let date = NaiveDate::parse_from_str(&get("date"), "%Y-%m-%d").unwrap();
                if date < from_day || date >= to_day {
                    continue;
                }
                let Some(amount) = try_micros(&get("amount")) else {
                    continue;
                };
                t.transactions = 1;
                t.transaction_amount = amount;
            }
            add(&mut reference.invoice, &t);
            for (level, key_col) in LEVELS {
                let key = get(key_col);
                add(
                    reference
                        .levels
                        .get_mut(level)
                        .unwrap()
                        .entry(key.clone())
                        .or_default(),
                    &t,
                );
                if let Some(call) = &call {
                    add(
                        reference
                            .call_types
                            .get_mut(level)
                            .unwrap()
                            .entry((key.clone(), get("call_type")))
                            .or_default(),
                        &t,
                    );
                    reference
                        .calls
                        .get_mut(level)
                        .unwrap()
                        .entry(key)
                        .or_default()
                        .push(call.clone());
                }
            }
        }
    }
    for groups in reference.calls.values_mut() {
        for calls in groups.values_mut() {
            calls.sort_by(|a, b| {
                (a.start, &a.call_id, a.position).cmp(&(b.start, &b.call_id, b.position))
            });
        }
    }
    reference
}

fn add(into: &mut RefTotals, t: &RefTotals) {
    into.calls += t.calls;
    into.duration += t.duration;
    into.billed_duration += t.billed_duration;
    into.call_charge += t.call_charge;
    into.transactions += t.transactions;
    into.transaction_amount += t.transaction_amount;
}

/// Reads an engine `*_summary.csv` written with `--header keys`.
pub fn read_summary(path: &Path) -> BTreeMap<String, RefTotals> {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let headers = reader.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let mut out = BTreeMap::new();
    for row in reader.records() {
        let row = row.unwrap();
        let t = RefTotals {
            calls: row[col("calls")].parse().unwrap(),
            duration: row[col("duration")].parse().unwrap(),
            billed_duration: row[col("billed_duration")].parse().unwrap(),
            call_charge: micros(&row[col("call_charge")]),
            transactions: row[col("transactions")].parse().unwrap(),
            transaction_amount: micros(&row[col("transaction_amount")]),
        };
        assert_eq!(
            micros(&row[col("total")]),
            t.call_charge + t.transaction_amount,
            "total column of {path:?}"
        );
        out.insert(row[0].to_string(), t);
    }
    out
}

/// Checks an engine output folder (rendered with `--header keys`) against
/// the reference: manifest totals and every level's summary.
pub fn assert_agrees_with_reference(
    dir: &Path,
    records: &[&Path],
    customer: &str,
    from: &str,
    to: &str,
    tz: chrono_tz::Tz,
) {
    let expected = compute(records, customer, from, to, tz);
    let m = manifest(dir);
    let t = &m["totals"];
    let engine = RefTotals {
        calls: t["calls"].as_u64().unwrap(),
        duration: t["duration"].as_u64().unwrap(),
        billed_duration: t["billed_duration"].as_u64().unwrap(),
        call_charge: micros(t["call_charge"].as_str().unwrap()),
        transactions: t["transactions"].as_u64().unwrap(),
        transaction_amount: micros(t["transaction_amount"].as_str().unwrap()),
    };
    assert_eq!(engine, expected.invoice, "manifest totals");
    for (level, _) in LEVELS {
        let mut want = expected.levels[level].clone();
        if level == "customer" {
            // The customer summary is keyed by the customer id.
            want = [(customer.to_string(), expected.invoice)].into();
        }
        let got = read_summary(&dir.join(format!("{level}_summary.csv")));
        assert_eq!(got, want, "{level}_summary.csv");
        let call_types = dir.join(format!("{level}_call_types.csv"));
        if call_types.exists() {
            let mut want = expected.call_types[level].clone();
            if level == "customer" {
                want = want
                    .into_iter()
                    .map(|((_, kind), t)| ((customer.to_string(), kind), t))
                    .collect();
            }
            assert_eq!(read_call_types(&call_types), want, "{level}_call_types.csv");
        }
        let calls = dir.join(format!("{level}_calls.csv"));
        if calls.exists() {
            let mut want: Vec<(String, String)> = Vec::new();
            // Groups in byte order of their key (the empty key first).
            for (key, list) in &expected.calls[level] {
                let key = if level == "customer" { customer } else { key };
                want.extend(list.iter().map(|c| (key.to_string(), c.call_id.clone())));
            }
            assert_eq!(
                read_itemised(&calls),
                want,
                "{level}_calls.csv in report order"
            );
        }
    }
}

/// Reads an engine `*_call_types.csv` written with `--header keys`.
pub fn read_call_types(path: &Path) -> BTreeMap<(String, String), RefTotals> {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let headers = reader.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let mut out = BTreeMap::new();
    for row in reader.records() {
        let row = row.unwrap();
        let t = RefTotals {
            calls: row[col("calls")].parse().unwrap(),
            duration: row[col("duration")].parse().unwrap(),
            billed_duration: row[col("billed_duration")].parse().unwrap(),
            call_charge: micros(&row[col("call_charge")]),
            ..RefTotals::default()
        };
        out.insert((row[0].to_string(), row[col("call_type")].to_string()), t);
    }
    out
}

/// The (group key, call id) of every row of an engine `*_calls.csv`, in
/// file order.
pub fn read_itemised(path: &Path) -> Vec<(String, String)> {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let headers = reader.headers().unwrap().clone();
    let id = headers.iter().position(|h| h == "call_id").unwrap();
    reader
        .records()
        .map(|row| {
            let row = row.unwrap();
            (row[0].to_string(), row[id].to_string())
        })
        .collect()
}
