//! Feeds arbitrary text to the JSON protocol decoder: it must never panic, and whatever it
//! accepts must survive a round trip through the binary encoding.
#![no_main]

use lapak_core::protocol::Message;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(msg) = Message::from_json(text) {
        let bytes = msg.encode();
        let again = Message::decode(&bytes).expect("re-encoded message decodes");
        assert_eq!(again.encode(), bytes);
    }
});
