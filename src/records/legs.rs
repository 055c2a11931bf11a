//! Forwarded calls: the A-leg (outside caller → the customer's number) and
//! the B-leg (the customer's number → the final destination) of one call
//! share a `call_group`. Separately they are two rows; combined, one row per
//! group, so a customer does not count one conversation twice.

use std::collections::HashMap;

use super::{Call, Dataset, Leg, LegOrigin, Sym};
use crate::error::RecordProblem;

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
    /// Show the group leg by leg and say so in the manifest's warnings
    /// (every leg is a charged call: dropping one would lose money).
    Separate,
}

/// Merges the legs of each call group into one call: the A-leg's start,
/// caller, site, campaign, number, call type and direction; the (first)
/// B-leg's dialled number and destination; the A-leg's duration; billed
/// duration and charge summed over the legs; `legs` the number merged. A
/// B-leg without its A-leg (outside the period) is shown on its own, with
/// a warning. A group with two A-legs cannot be merged: see [`Broken`].
pub fn combine_legs(data: &mut Dataset, broken: Broken) -> Result<Combined, RecordProblem> {
    let mut groups: HashMap<Sym, Vec<usize>> = HashMap::new();
    let mut order: Vec<Sym> = Vec::new();
    for (i, c) in data.calls.iter().enumerate() {
        if c.leg == Leg::None {
            continue;
        }
        groups
            .entry(c.call_group)
            .or_insert_with(|| {
                order.push(c.call_group);
                Vec::new()
            })
            .push(i);
    }
    let mut done = Combined::default();
    let mut gone = vec![false; data.calls.len()];
    let origin = |c: &Call| {
        data.leg_origins
            .get(&(c.call_id, c.leg))
            .cloned()
            .unwrap_or(LegOrigin {
                file: String::new(),
                line: 0,
            })
    };
    let at = |c: &Call| {
        let o = origin(c);
        format!("{}:{}", o.file, o.line)
    };
    let mut merges: Vec<(usize, Call)> = Vec::new();
    for group in order {
        let members = &groups[&group];
        let name = data.str(group).to_string();
        let of = |leg: Leg| -> Vec<usize> {
            members
                .iter()
                .copied()
                .filter(|&i| data.calls[i].leg == leg)
                .collect()
        };
        let (a_legs, mut b_legs) = (of(Leg::A), of(Leg::B));
        if a_legs.len() > 1 {
            let (first, second) = (&data.calls[a_legs[0]], &data.calls[a_legs[1]]);
            let place = origin(second);
            let problem = RecordProblem {
                file: place.file,
                line: place.line,
                column: Some("leg".into()),
                reason: format!(
                    "a second A-leg of call group {name:?} (the first is at {}); a forwarded call has one A-leg",
                    at(first)
                ),
            };
            match broken {
                Broken::Fail => return Err(problem),
                Broken::Separate => {
                    done.warnings.push(format!(
                        "{problem}: the group's {} legs are shown on their own",
                        members.len()
                    ));
                    continue;
                }
            }
        }
        let Some(&a) = a_legs.first() else {
            for &b in &b_legs {
                done.warnings.push(format!(
                    "{}: B-leg of call group {name:?} without its A-leg in this invoice (outside the period?): shown on its own",
                    at(&data.calls[b])
                ));
            }
            continue;
        };
        if b_legs.is_empty() {
            continue;
        }
        b_legs.sort_by(|&x, &y| {
            let (x, y) = (&data.calls[x], &data.calls[y]);
            (x.start, data.str(x.call_id)).cmp(&(y.start, data.str(y.call_id)))
        });
        let mut merged = data.calls[a].clone();
        let first_b = &data.calls[b_legs[0]];
        merged.dialled = first_b.dialled;
        merged.destination = first_b.destination;
        for &b in &b_legs {
            let leg = &data.calls[b];
            let place = origin(leg);
            let overflow = |column: &str| RecordProblem {
                file: place.file.clone(),
                line: place.line,
                column: Some(column.into()),
                reason: format!("the legs of call group {name:?} overflow their sum"),
            };
            merged.billed_duration = merged
                .billed_duration
                .checked_add(leg.billed_duration)
                .ok_or_else(|| overflow("billed_duration"))?;
            merged.charge = merged
                .charge
                .checked_add(leg.charge)
                .map_err(|_| overflow("charge"))?;
            gone[b] = true;
        }
        merged.legs = u16::try_from(1 + b_legs.len()).unwrap_or(u16::MAX);
        merged.leg = Leg::None;
        // A rate per minute belongs to one leg, not to the call.
        merged.rate = None;
        merges.push((a, merged));
        done.groups += 1;
    }
    for (a, merged) in merges {
        data.calls[a] = merged;
    }
    let mut i = 0;
    data.calls.retain(|_| {
        i += 1;
        !gone[i - 1]
    });
    Ok(done)
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
}
