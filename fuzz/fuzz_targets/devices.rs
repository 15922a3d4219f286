#![no_main]
//! The device-layer conversation target: see `sealwire_fuzz::devices`.
use libfuzzer_sys::fuzz_target;
use sealwire_fuzz::devices::{Op, run};

fuzz_target!(|ops: Vec<Op>| run(ops));
