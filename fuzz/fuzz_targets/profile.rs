//! Any text as a profile, TOML and JSON: valid or a list of problems, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use usage_report::profile::Profile;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = Profile::parse(text, false, "fuzz.toml");
        let _ = Profile::parse(text, true, "fuzz.json");
    }
});
