//! One CSV field as every CSV this program writes quotes it (attachments,
//! rejects, partition files), shared by the layers that write CSV by hand.

/// Appends one field as RFC 4180 needs it, by the csv crate's rule: quoted
/// only when it holds a comma, a quote or a line break, quotes doubled.
pub fn push(out: &mut Vec<u8>, field: &[u8]) {
    push_between(out, field, b',');
}

/// [`push`] for a file whose fields are separated by `delimiter` (`;` for
/// Excel in comma-decimal locales): quoted when the field holds the
/// delimiter, a comma, a quote or a line break.
pub fn push_between(out: &mut Vec<u8>, field: &[u8], delimiter: u8) {
    // Every field of every attachment passes here: the comma, by far the
    // most common, keeps a test the compiler knows whole.
    let quote = match delimiter {
        b',' => field
            .iter()
            .any(|b| matches!(b, b',' | b'"' | b'\r' | b'\n')),
        other => field
            .iter()
            .any(|&b| b == other || matches!(b, b',' | b'"' | b'\r' | b'\n')),
    };
    if quote {
        out.push(b'"');
        for &b in field {
            if b == b'"' {
                out.push(b'"');
            }
            out.push(b);
        }
        out.push(b'"');
    } else {
        out.extend_from_slice(field);
    }
}
