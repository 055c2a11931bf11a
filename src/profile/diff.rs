//! What changes between two profiles, in words: reports added or removed
//! per level, columns added, removed or moved, and every other key changed
//! — `usage-report profiles diff`.

use serde::Serialize;
use serde_json::Value;

use super::Profile;
use crate::level::Level;

/// One change from an old profile to a new one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Change {
    /// The profile key: `reports.site`, `call_columns`, `locale`, …
    pub key: String,
    /// `added`, `removed`, `moved` or `changed`.
    pub kind: &'static str,
    /// The change in words: "calls report added", "charge moved from 4 to 1".
    pub text: String,
}

impl std::fmt::Display for Change {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.key, self.text)
    }
}

/// The changes from `old` to `new`, in the order of profile files' keys;
/// empty when they are the same profile.
pub fn diff(old: &Profile, new: &Profile) -> Vec<Change> {
    let (a, b) = (old.to_document(), new.to_document());
    let mut changes = Vec::new();
    let change = |key: &str, kind: &'static str, text: String| Change {
        key: key.to_string(),
        kind,
        text,
    };
    for level in Level::ALL {
        let kinds = |doc: &Value| -> Vec<String> {
            doc["reports"][level.key()]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|k| k.as_str().map(str::to_string))
                .collect()
        };
        let (before, after) = (kinds(&a), kinds(&b));
        let key = format!("reports.{}", level.key());
        for k in after.iter().filter(|k| !before.contains(k)) {
            changes.push(change(&key, "added", format!("{k} report added")));
        }
        for k in before.iter().filter(|k| !after.contains(k)) {
            changes.push(change(&key, "removed", format!("{k} report removed")));
        }
    }
    for key in ["call_columns", "transaction_columns"] {
        changes.extend(list_changes(key, &a[key], &b[key]));
    }
    let keys: std::collections::BTreeSet<&String> = a
        .as_object()
        .into_iter()
        .chain(b.as_object())
        .flat_map(|o| o.keys())
        .collect();
    for key in keys {
        if matches!(
            key.as_str(),
            "reports" | "call_columns" | "transaction_columns"
        ) {
            continue;
        }
        let (before, after) = (a.get(key), b.get(key));
        if before == after {
            continue;
        }
        changes.push(change(
            key,
            "changed",
            format!("{} \u{2192} {}", shown(before), shown(after)),
        ));
    }
    changes
}

/// A value as a change shows it: `(none)` when the key is not set.
fn shown(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => "(none)".to_string(),
        Some(Value::String(s)) => format!("{s:?}"),
        Some(other) => other.to_string(),
    }
}

/// Columns added, removed and moved (positions counted from 1, among the
/// columns both lists keep, so one insertion does not move the rest).
fn list_changes(key: &str, old: &Value, new: &Value) -> Vec<Change> {
    let list = |v: &Value| -> Vec<String> {
        v.as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c.as_str().map(str::to_string))
            .collect()
    };
    let (before, after) = (list(old), list(new));
    let mut changes = Vec::new();
    for (i, c) in after.iter().enumerate() {
        if !before.contains(c) {
            changes.push(Change {
                key: key.to_string(),
                kind: "added",
                text: format!("{c} added at position {}", i + 1),
            });
        }
    }
    for c in before.iter().filter(|c| !after.contains(c)) {
        changes.push(Change {
            key: key.to_string(),
            kind: "removed",
            text: format!("{c} removed"),
        });
    }
    // Among the columns both keep, those outside a longest run already in
    // order moved (one column moved is one change, not every one it
    // passed); positions are those of the whole lists, as in the files.
    let kept_after: Vec<&String> = after.iter().filter(|c| before.contains(c)).collect();
    let from: Vec<usize> = kept_after
        .iter()
        .map(|c| before.iter().position(|b| b == *c).expect("kept in both"))
        .collect();
    let in_order = longest_increasing(&from);
    for (k, c) in kept_after.iter().enumerate() {
        if !in_order.contains(&k) {
            let to = after.iter().position(|a| a == *c).expect("kept in both");
            changes.push(Change {
                key: key.to_string(),
                kind: "moved",
                text: format!("{c} moved from {} to {}", from[k] + 1, to + 1),
            });
        }
    }
    changes
}

/// The indices of a longest strictly increasing subsequence (the first
/// such, so the answer is the same every time).
fn longest_increasing(values: &[usize]) -> Vec<usize> {
    let n = values.len();
    let mut length = vec![1usize; n];
    let mut previous = vec![usize::MAX; n];
    for i in 0..n {
        for j in 0..i {
            if values[j] < values[i] && length[j] + 1 > length[i] {
                length[i] = length[j] + 1;
                previous[i] = j;
            }
        }
    }
    let Some(mut at) = (0..n).max_by_key(|&i| (length[i], std::cmp::Reverse(i))) else {
        return Vec::new();
    };
    let mut chain = vec![at];
    while previous[at] != usize::MAX {
        at = previous[at];
        chain.push(at);
    }
    chain.reverse();
    chain
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(text: &str) -> Profile {
        Profile::parse(text, false, "p.toml").unwrap()
    }

    #[test]
    fn each_kind_of_change_is_named() {
        let old = profile(
            "name = \"P\"\ncall_columns = [\"start_time\", \"caller\", \"dialled\", \"charge\"]\n[reports]\nsite = [\"summary\", \"calls\"]\n",
        );
        let new = profile(
            "name = \"P\"\nlocale = \"de-DE\"\nhide_zero_rows = true\ncall_columns = [\"charge\", \"start_time\", \"dialled\", \"duration\"]\n[reports]\ncustomer = [\"summary\"]\nsite = [\"summary\"]\n",
        );
        let words: Vec<String> = diff(&old, &new).iter().map(|c| c.to_string()).collect();
        assert_eq!(
            words,
            [
                "reports.customer: summary report added",
                "reports.site: calls report removed",
                "call_columns: duration added at position 4",
                "call_columns: caller removed",
                "call_columns: charge moved from 4 to 1",
                "hide_zero_rows: false \u{2192} true",
                "locale: (none) \u{2192} \"de-DE\"",
            ]
        );
        assert!(diff(&old, &old).is_empty());
    }
}
