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
mod partition;
mod pdf;
mod postgres;
mod properties;
mod reference;
mod reliability;
mod render;
mod run;
mod serve;
mod spark;
mod util;
mod xlsx;
