#![no_main]
//! The structured conversation target: see `sealwire_fuzz::conversation`.
use libfuzzer_sys::fuzz_target;
use sealwire_fuzz::conversation::{Op, run};

fuzz_target!(|ops: Vec<Op>| run(ops));
