#![no_main]
//! Arbitrary call sequences on the C ABI: see `sealwire_fuzz::c_abi`.
use libfuzzer_sys::fuzz_target;
use sealwire_fuzz::c_abi::{AbiOp, run};

fuzz_target!(|ops: Vec<AbiOp>| run(ops));
