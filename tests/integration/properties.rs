//! Property tests: for random record sets (several customers, periods that
//! straddle the invoice's, empty and repeated keys, bad amounts), the engine
//! agrees with the reference implementation, every level's groups add up to
//! the invoice, every in-scope call appears in exactly one group per level,
//! and every record is accounted for.

use std::collections::BTreeMap;

use proptest::prelude::*;

use crate::reference::{assert_agrees_with_reference, LEVELS};
use crate::util::*;

#[derive(Clone, Debug)]
struct Rec {
    call: bool,
    acme: bool,
    site: u8,
    campaign: u8,
    number: u8,
    call_type: u8,
    /// Minutes from 2026-09-25T00:00Z (the invoice is October, London time).
    minute: u32,
    duration: u32,
    billed: Option<u32>,
    micros: i64,
    bad_amount: bool,
}

fn rec() -> impl Strategy<Value = Rec> {
    (
        any::<bool>(),
        prop::bool::weighted(0.8),
        0u8..4,
        0u8..3,
        0u8..5,
        0u8..4,
        0u32..(45 * 24 * 60),
        0u32..5000,
        prop::option::of(0u32..6000),
        -5_000_000i64..50_000_000,
        prop::bool::weighted(0.05),
    )
        .prop_map(
            |(
                call,
                acme,
                site,
                campaign,
                number,
                call_type,
                minute,
                duration,
                billed,
                micros,
                bad_amount,
            )| Rec {
                call,
                acme,
                site,
                campaign,
                number,
                call_type,
                minute,
                duration,
                billed,
                micros: if call { micros.abs() } else { micros },
                bad_amount,
            },
        )
}

const SITES: [&str; 4] = ["", "London HQ", "Leeds, Depot 2", "Zürich"];
const CAMPAIGNS: [&str; 3] = ["", "Autumn", "=cmd"];
const NUMBERS: [&str; 5] = ["", "+442079460001", "02079460002", "+441134960003", "0800"];
const TYPES: [&str; 4] = ["local", "mobile", "international", ""];

fn to_csv(recs: &[Rec]) -> String {
    let mut out = String::from(
        "record_type,customer_id,site,campaign,number,call_id,start_time,call_type,duration,billed_duration,charge,transaction_id,date,amount\n",
    );
    let start = chrono::DateTime::parse_from_rfc3339("2026-09-25T00:00:00Z").unwrap();
    for (i, r) in recs.iter().enumerate() {
        let when = start + chrono::Duration::minutes(r.minute as i64);
        let amount = if r.bad_amount {
            "\"1,50\"".to_string()
        } else {
            usage_report::money::Decimal::from_micros(r.micros as i128).to_exact_string(2)
        };
        let customer = if r.acme { "ACME" } else { "OTHER" };
        let (site, campaign, number) = (
            SITES[r.site as usize],
            CAMPAIGNS[r.campaign as usize],
            NUMBERS[r.number as usize],
        );
        let site = if site.contains(',') {
            format!("\"{site}\"")
        } else {
            site.to_string()
        };
        if r.call {
            let billed = r.billed.map(|b| b.to_string()).unwrap_or_default();
            out.push_str(&format!(
                "call,{customer},{site},{campaign},{number},C{:04},{},{},{},{billed},{amount},,,\n",
                // Repeated ids on purpose: every seventh call shares one.
                if i % 7 == 3 { 3 } else { i },
                when.format("%Y-%m-%dT%H:%M:%SZ"),
                TYPES[r.call_type as usize],
                r.duration,
            ));
        } else {
            out.push_str(&format!(
                "transaction,{customer},{site},{campaign},{number},,,,,,,T{i:04},{},{amount}\n",
                when.format("%Y-%m-%d")
            ));
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn engine_agrees_with_reference_and_loses_nothing(recs in prop::collection::vec(rec(), 0..80)) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("records.csv");
        std::fs::write(&path, to_csv(&recs)).unwrap();
        let out = dir.path().join("out");
        let profile = fixture("profiles/everything.toml");
        let mut args = acme_args(&profile, path.to_str().unwrap(), out.to_str().unwrap());
        args.extend(["--header", "keys", "--on-bad-record", "skip", "--no-sanitize"]);
        ok(&args);

        let tz: chrono_tz::Tz = "Europe/London".parse().unwrap();
        assert_agrees_with_reference(&out, &[&path], "ACME", "2026-10-01", "2026-11-01", tz);

        let m = manifest(&out);
        let n = |k: &str| m["input"][k].as_u64().unwrap();
        prop_assert_eq!(n("records"), recs.len() as u64);
        prop_assert_eq!(n("records"), n("in_scope") + n("out_of_scope") + n("rejected"));
        let calls = m["totals"]["calls"].as_u64().unwrap();
        let transactions = m["totals"]["transactions"].as_u64().unwrap();
        prop_assert_eq!(n("in_scope"), calls + transactions);

        // Every in-scope call is listed exactly once at every level.
        let mut per_level: Vec<BTreeMap<String, u32>> = Vec::new();
        for (level, _) in LEVELS {
            let rows = csv_rows(&out.join(format!("{level}_calls.csv")));
            let id = rows[0].iter().position(|h| h == "call_id").unwrap();
            let mut ids = BTreeMap::new();
            for row in &rows[1..] {
                *ids.entry(row[id].clone()).or_insert(0) += 1;
            }
            prop_assert_eq!(ids.values().sum::<u32>() as u64, calls);
            per_level.push(ids);
        }
        for ids in &per_level[1..] {
            prop_assert_eq!(ids, &per_level[0]);
        }
    }
}

/// A site's calls report: the call ids listed, and the "Other calls (N)"
/// row's N and charge in millionths.
type SiteCalls = (Vec<String>, Option<(u64, i128)>);

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    /// Noise control and split against the reference: per site, the calls
    /// listed are those at or above the minimum, in report order; the
    /// "Other calls (N)" row stands for exactly the others and carries
    /// their charge; each split group's files hold that group's totals.
    #[test]
    fn noise_control_and_split_agree_with_reference(
        recs in prop::collection::vec(rec(), 0..60),
        minimum in 0i64..20_000_000,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("records.csv");
        std::fs::write(&path, to_csv(&recs)).unwrap();
        let minimum = usage_report::money::Decimal::from_micros(minimum as i128).to_exact_string(2);
        let profile = dir.path().join("p.toml");
        std::fs::write(
            &profile,
            format!(
                "name = \"Noise\"\nminimum_itemised_charge = \"{minimum}\"\nsplit = \"site\"\ncall_columns = [\"call_id\", \"start_time\", \"charge\"]\n[reports]\ncustomer = [\"summary\"]\nsite = [\"summary\", \"calls\"]\n"
            ),
        )
        .unwrap();
        let out = dir.path().join("out");
        let mut args = acme_args(profile.to_str().unwrap(), path.to_str().unwrap(), out.to_str().unwrap());
        args.extend(["--header", "keys", "--on-bad-record", "skip", "--no-sanitize"]);
        ok(&args);
        let tz: chrono_tz::Tz = "Europe/London".parse().unwrap();
        let expected = crate::reference::compute(&[&path], "ACME", "2026-10-01", "2026-11-01", tz);
        let minimum = crate::reference::micros(&minimum);

        // The site calls report, group by group.
        let rows = csv_rows(&out.join("site_calls.csv"));
        let col = |name: &str| rows[0].iter().position(|h| h == name).unwrap();
        let (id, charge, other) = (col("call_id"), col("charge"), col("other_calls"));
        let mut got: BTreeMap<String, SiteCalls> = BTreeMap::new();
        let mut order = Vec::new();
        for row in &rows[1..] {
            if order.last() != Some(&row[0]) {
                order.push(row[0].clone());
            }
            let entry = got.entry(row[0].clone()).or_default();
            if row[other].is_empty() {
                entry.0.push(row[id].clone());
            } else {
                let n: u64 = row[other].parse().unwrap();
                prop_assert_eq!(&row[id], &format!("Other calls ({n})"));
                entry.1 = Some((n, crate::reference::micros(&row[charge])));
            }
        }
        let mut want: BTreeMap<String, SiteCalls> = BTreeMap::new();
        for (key, calls) in &expected.calls["site"] {
            let listed = calls.iter().filter(|c| c.charge >= minimum).map(|c| c.call_id.clone()).collect();
            let rolled: Vec<_> = calls.iter().filter(|c| c.charge < minimum).collect();
            let other = (!rolled.is_empty())
                .then(|| (rolled.len() as u64, rolled.iter().map(|c| c.charge).sum()));
            want.insert(key.clone(), (listed, other));
        }
        prop_assert_eq!(&got, &want);
        // Groups come in byte order of their key.
        let mut sorted = order.clone();
        sorted.sort();
        prop_assert_eq!(order, sorted);

        // Every split group holds its own totals.
        let m = manifest(&out);
        let mut groups = 0;
        for a in m["attachments"].as_array().unwrap() {
            let path = a["path"].as_str().unwrap();
            if a["group"].is_null() || !path.ends_with("site_summary.csv") {
                continue;
            }
            groups += 1;
            let key = a["group"].as_str().unwrap();
            let summary = crate::reference::read_summary(&out.join(path));
            prop_assert_eq!(summary.len(), 1);
            prop_assert_eq!(summary.values().next().unwrap(), &expected.levels["site"][key]);
        }
        prop_assert_eq!(groups, expected.levels["site"].len());
    }
}
