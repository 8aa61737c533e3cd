//! A pushed document change as the server first handles it, on mutated Automerge chunks
//! (compressed and not): the bounded chunk check (`lapak_core::chunk`), then, only for what
//! passes it, Automerge's parse, applying the change to a document and projecting the record.
//! Nothing may panic, and the chunk check must keep its bound: what it passes holds at most
//! `MAX_CHANGE_BYTES` of content, however far the input would inflate. (Panics inside
//! Automerge's apply are taken for rejections, as the server does.)
//!
//! The first input byte picks a shape so the fuzzer reaches deep quickly: 0 the rest as is;
//! 1 the rest as the body of a change chunk (type 1) with a correct length; 2 the rest as the
//! raw DEFLATE body of a compressed change (type 2), so bombs are one mutation away.
#![no_main]

use automerge::{ActorId, Change};
use lapak_core::chunk::{self, MAGIC};
use lapak_core::protocol::MAX_CHANGE_BYTES;
use lapak_core::{catalog, document};
use libfuzzer_sys::fuzz_target;

fn wrap(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut out = MAGIC.to_vec();
    out.extend([0, 0, 0, 0, kind]);
    let mut n = body.len();
    while n >= 0x80 {
        out.push((n & 0x7f) as u8 | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
    out.extend(body);
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((&shape, rest)) = data.split_first() else {
        return;
    };
    let bytes = match shape % 3 {
        1 => wrap(1, rest),
        2 => wrap(2, rest),
        _ => rest.to_vec(),
    };
    let Ok(content) = chunk::check_change(&bytes, MAX_CHANGE_BYTES) else {
        return;
    };
    assert!(
        content <= MAX_CHANGE_BYTES,
        "the chunk check passed {content} bytes"
    );
    let Ok(change) = Change::from_bytes(bytes) else {
        return;
    };
    let schema = catalog::starter();
    let Ok(outlets) = schema.collection("outlets") else {
        return;
    };
    let mut doc = document::new_doc(&ActorId::from(&[0u8; 16][..]));
    // Some malformed changes parse and then panic inside Automerge while applied; the server
    // takes such a panic for a rejection (`engine::bounds::apply_guarded`), and so does this
    // target, with libFuzzer's aborting panic hook set aside meanwhile.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let applied = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        doc.apply_changes([change]).is_ok()
    }));
    std::panic::set_hook(hook);
    if applied.unwrap_or(false) {
        let _ = document::project(&doc, outlets, "fuzz");
    }
});
