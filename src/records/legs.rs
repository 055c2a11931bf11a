//! Forwarded calls: the A-leg (outside caller → the customer's number) and
//! the B-leg (the customer's number → the final destination) of one call
//! share a `call_group`. Separately they are two rows; combined, one row per
//! group, so a customer does not count one conversation twice.

use std::collections::HashMap;

use super::{Call, Dataset, Leg, LegOrigin, Sym};
use crate::error::RecordProblem;

/// Leg warnings named one by one in a manifest; the rest are counted.
const NAMED_WARNINGS: usize = 20;

/// What combining made of an invoice's legs.
#[derive(Debug, Default)]
pub struct Combined {
    /// Call groups merged into one call each.
    pub groups: u64,
    /// Legs shown on their own, with the reason, for the manifest.
    pub warnings: Vec<String>,
}

/// How a group of legs that cannot be merged is handled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Broken {
    /// Stop: the group is named with its records' files and lines.
    Fail,
    /// Show the group leg by leg and say so in the manifest's warnings:
    /// every leg is a valid, charged call (only their grouping is wrong),
    /// and leaving one out would drop its charge from the invoice.
    Separate,
}

/// Merges the legs of each call group into one call: the A-leg's start,
/// caller, duration, site, campaign, number and direction; the (first)
/// B-leg's dialled number, destination and call type; billed duration and
/// charge summed over the legs; `legs` the number merged. A B-leg without
/// its A-leg (outside the period) is shown on its own, with a warning. A
/// group with two A-legs, or whose sums overflow, cannot be merged: see
/// [`Broken`].
pub fn combine_legs(data: &mut Dataset, broken: Broken) -> Result<Combined, RecordProblem> {
    // Where each leg stood: records sharing an id and leg by their order.
    let mut seen: HashMap<(Sym, Leg), usize> = HashMap::new();
    let mut groups: HashMap<Sym, Vec<usize>> = HashMap::new();
    let mut order: Vec<Sym> = Vec::new();
    let mut origins: HashMap<usize, LegOrigin> = HashMap::new();
    for (i, c) in data.calls.iter().enumerate() {
        if c.leg == Leg::None {
            continue;
        }
        let k = seen.entry((c.call_id, c.leg)).or_default();
        if let Some(origin) = data
            .leg_origins
            .get(&(c.call_id, c.leg))
            .and_then(|list| list.get(*k))
        {
            origins.insert(i, *origin);
        }
        *k += 1;
        groups
            .entry(c.call_group)
            .or_insert_with(|| {
                order.push(c.call_group);
                Vec::new()
            })
            .push(i);
    }
    let place = |i: usize| -> (String, u64) {
        origins.get(&i).map_or((String::new(), 0), |o| {
            (data.str(o.file).to_string(), o.line)
        })
    };
    let at = |i: usize| {
        let (file, line) = place(i);
        format!("{file}:{line}")
    };
    let problem = |i: usize, column: &str, reason: String| {
        let (file, line) = place(i);
        RecordProblem {
            file,
            line,
            column: Some(column.to_string()),
            reason,
        }
    };
    let mut done = Combined::default();
    let mut warnings = Vec::new();
    let mut gone = vec![false; data.calls.len()];
    let mut merges: Vec<(usize, Call)> = Vec::new();
    for group in order {
        let members = &groups[&group];
        let name = data.str(group);
        let of = |leg: Leg| -> Vec<usize> {
            members
                .iter()
                .copied()
                .filter(|&i| data.calls[i].leg == leg)
                .collect()
        };
        let (a_legs, mut b_legs) = (of(Leg::A), of(Leg::B));
        let Some(&a) = a_legs.first() else {
            for &b in &b_legs {
                warnings.push(format!(
                    "{}: B-leg of call group {name:?} without its A-leg in this invoice (outside the period?): shown on its own",
                    at(b)
                ));
            }
            continue;
        };
        b_legs.sort_by(|&x, &y| {
            let (x, y) = (&data.calls[x], &data.calls[y]);
            (x.start, data.str(x.call_id)).cmp(&(y.start, data.str(y.call_id)))
        });
        let merged = if a_legs.len() > 1 {
            Err(problem(
                a_legs[1],
                "leg",
                format!(
                    "a second A-leg of call group {name:?} (the first is at {}); a forwarded call has one A-leg",
                    at(a)
                ),
            ))
        } else if b_legs.is_empty() {
            continue;
        } else {
            merge(data, a, &b_legs, name, &problem)
        };
        match (merged, broken) {
            (Ok(call), _) => {
                for &b in &b_legs {
                    gone[b] = true;
                }
                merges.push((a, call));
                done.groups += 1;
            }
            (Err(problem), Broken::Fail) => return Err(problem),
            (Err(problem), Broken::Separate) => warnings.push(format!(
                "{problem}: the group's {} legs are shown on their own",
                members.len()
            )),
        }
    }
    for (a, merged) in merges {
        data.calls[a] = merged;
    }
    let mut i = 0;
    data.calls.retain(|_| {
        i += 1;
        !gone[i - 1]
    });
    if warnings.len() > NAMED_WARNINGS {
        let more = warnings.len() - NAMED_WARNINGS;
        warnings.truncate(NAMED_WARNINGS);
        warnings.push(format!(
            "{more} more legs are shown on their own (as above)"
        ));
    }
    done.warnings = warnings;
    Ok(done)
}

/// One call from an A-leg and its B-legs (in time order).
fn merge(
    data: &Dataset,
    a: usize,
    b_legs: &[usize],
    name: &str,
    problem: &dyn Fn(usize, &str, String) -> RecordProblem,
) -> Result<Call, RecordProblem> {
    let mut merged = data.calls[a].clone();
    let first_b = &data.calls[b_legs[0]];
    merged.dialled = first_b.dialled;
    merged.destination = first_b.destination;
    merged.call_type = first_b.call_type;
    merged.legs = u16::try_from(1 + b_legs.len()).map_err(|_| {
        problem(
            b_legs[0],
            "call_group",
            format!(
                "call group {name:?} has {} legs, more than one row can say",
                1 + b_legs.len()
            ),
        )
    })?;
    for &b in b_legs {
        let leg = &data.calls[b];
        let overflow = |column: &str| {
            problem(
                b,
                column,
                format!("the legs of call group {name:?} overflow their sum"),
            )
        };
        merged.billed_duration = merged
            .billed_duration
            .checked_add(leg.billed_duration)
            .ok_or_else(|| overflow("billed_duration"))?;
        merged.charge = merged
            .charge
            .checked_add(leg.charge)
            .map_err(|_| overflow("charge"))?;
    }
    merged.leg = Leg::None;
    // A rate per minute belongs to one leg, not to the call.
    merged.rate = None;
    Ok(merged)
}

#[cfg(test)]
mod tests {
    /// The leg fields live in what was padding: a call is no larger for
    /// them (memory per call is what the largest runs are bound by).
    #[test]
    fn a_call_is_no_larger_for_its_legs() {
        assert!(
            std::mem::size_of::<super::Call>() <= 112,
            "{}",
            std::mem::size_of::<super::Call>()
        );
    }

    /// Legs noted in parts and merged give the splits one reader notes:
    /// the same legs named, in the same order, with the first leg's place.
    #[test]
    fn parts_merge_into_the_splits_of_one_reader() {
        use super::LegGroups;
        let legs = [
            ("G3", "C1", 2),
            ("G1", "C1", 3),
            ("G1", "C1", 100),
            ("G2", "C2", 101),
            ("G1", "C2", 102),
            ("G2", "C3", 103),
            ("G3", "C3", 104),
        ];
        let mut one = LegGroups::default();
        for (group, customer, line) in legs {
            one.note(group, customer, "f.csv", line);
        }
        for cut in 1..legs.len() {
            let mut first = LegGroups::default();
            let mut later = LegGroups::default();
            for (i, (group, customer, line)) in legs.iter().enumerate() {
                let part = if i < cut { &mut first } else { &mut later };
                part.note(group, customer, "f.csv", *line);
            }
            first.merge(later);
            assert_eq!(first.split, one.split, "cut after {cut} legs");
        }
        assert_eq!(one.split.len(), 3);
        assert!(
            one.split[0].at.reason.contains("(at f.csv:3)"),
            "{:?}",
            one.split
        );
    }
}

/// Which customer the legs of each call group belong to, as one read sees
/// them: a group whose legs are billed to two customers cannot be one call.
/// Each group costs its name and a few bytes (customers and files are
/// numbered), kept only for files that have a `leg` column.
#[derive(Debug, Default)]
pub struct LegGroups {
    first: HashMap<String, (u32, u32, u64)>,
    customers: Vec<String>,
    files: Vec<String>,
    /// Groups whose legs have two customers, in the order met.
    pub split: Vec<SplitGroup>,
}

/// The split of `group` first met as (customer, file, line) `first` by the
/// leg `by` of another customer.
fn split_group(group: &str, first: (&str, &str, u64), by: (&str, &str, u64)) -> SplitGroup {
    let (a, file0, line0) = first;
    let (customer, file, line) = by;
    SplitGroup {
        group: group.to_string(),
        customers: [a.to_string(), customer.to_string()],
        at: RecordProblem {
            file: file.to_string(),
            line,
            column: Some("call_group".into()),
            reason: format!(
                "call group {group:?} has legs billed to customer {a:?} (at {file0}:{line0}) and to customer {customer:?}; a forwarded call belongs to one customer"
            ),
        },
    }
}

/// A call group whose legs are billed to different customers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SplitGroup {
    pub group: String,
    /// The two customers, the first met first.
    pub customers: [String; 2],
    /// The later record, the one that split the group.
    pub at: RecordProblem,
}

impl LegGroups {
    fn index(list: &mut Vec<String>, text: &str) -> u32 {
        match list.iter().position(|c| c == text) {
            Some(i) => i as u32,
            None => {
                list.push(text.to_string());
                (list.len() - 1) as u32
            }
        }
    }

    /// A noted leg's customer, file and line.
    fn place(&self, (who, file, line): (u32, u32, u64)) -> (&str, &str, u64) {
        (
            self.customers[who as usize].as_str(),
            self.files[file as usize].as_str(),
            line,
        )
    }

    /// Notes a leg of `group` billed to `customer`, read at `file:line`.
    pub fn note(&mut self, group: &str, customer: &str, file: &str, line: u64) {
        match self.first.get(group) {
            None => {
                let who = Self::index(&mut self.customers, customer);
                let file = Self::index(&mut self.files, file);
                self.first.insert(group.to_string(), (who, file, line));
            }
            Some(&(first, file0, line0)) if self.customers[first as usize] != customer => {
                if self.split.iter().any(|s| s.group == group) {
                    return;
                }
                let first = self.place((first, file0, line0));
                let split = split_group(group, first, (customer, file, line));
                self.split.push(split);
            }
            Some(_) => {}
        }
    }

    /// Takes in the groups a later part of the same read noted, as if its
    /// legs had been noted here one by one: a group first met there is
    /// met there; a group met here before is split by the later part's
    /// first leg of another customer than its first here — the part's
    /// first leg, or the leg that split the group within the part — and
    /// splits are kept in the order of the legs that made them.
    pub fn merge(&mut self, later: LegGroups) {
        let mut entries: Vec<(String, (u32, u32, u64))> = later.first.into_iter().collect();
        entries.sort_by_key(|(_, (_, file, line))| (*file, *line));
        let mut within: HashMap<String, SplitGroup> = later
            .split
            .into_iter()
            .map(|s| (s.group.clone(), s))
            .collect();
        // The splits the later part makes, with their legs' places.
        let mut made: Vec<SplitGroup> = Vec::new();
        for (group, (who, file, line)) in entries {
            let (customer, file) = (&later.customers[who as usize], &later.files[file as usize]);
            let inside = within.remove(&group);
            let Some(&noted) = self.first.get(&group) else {
                // First met in the later part: as it was met there.
                self.note(&group, customer, file, line);
                made.extend(inside);
                continue;
            };
            if self.split.iter().any(|s| s.group == group) {
                continue;
            }
            let first_here = self.place(noted);
            let splitter = if customer != first_here.0 {
                Some((customer.clone(), file.clone(), line))
            } else {
                inside.map(|s| (s.customers[1].clone(), s.at.file, s.at.line))
            };
            if let Some((by, file, line)) = splitter {
                made.push(split_group(&group, first_here, (&by, &file, line)));
            }
        }
        made.sort_by(|a, b| (&a.at.file, a.at.line).cmp(&(&b.at.file, b.at.line)));
        self.split.extend(made);
    }

    /// The split groups a customer's legs are in.
    pub fn of<'s>(&'s self, customer: &'s str) -> impl Iterator<Item = &'s SplitGroup> {
        self.split
            .iter()
            .filter(move |s| s.customers.iter().any(|c| c == customer))
    }
}
