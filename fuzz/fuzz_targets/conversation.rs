#![no_main]
//! The structured conversation target: two sessions
//! (`sealwire_fuzz::conversation`), then the same two devices writing to a
//! group under sender keys (`sealwire_fuzz::group`).
use libfuzzer_sys::fuzz_target;
use sealwire_fuzz::conversation::{Op, run};
use sealwire_fuzz::group::{self, GroupOp};

fuzz_target!(|input: (Vec<Op>, Vec<GroupOp>)| {
    let (ops, group_ops) = input;
    run(ops);
    group::run(group_ops);
});
