//! End-to-end tests of the `usage-report` binary, one test binary with the
//! tiny canonical corpus in `fixtures/` reused everywhere.

mod architecture;
mod bad_input;
mod browser;
mod console;
mod contract;
mod hostile;
mod legs;
mod options;
mod parquet_input;
mod pdf;
mod properties;
mod reference;
mod reliability;
mod render;
mod run;
mod serve;
mod util;
mod xlsx;
