//! Feeds arbitrary bytes to the binary protocol decoder: it must never panic, and whatever it
//! accepts must encode back to bytes that decode to the same message.
#![no_main]

use lapak_core::protocol::Message;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(msg) = Message::decode(data) {
        let bytes = msg.encode();
        let again = Message::decode(&bytes).expect("re-encoded message decodes");
        assert_eq!(again.encode(), bytes);
    }
});
