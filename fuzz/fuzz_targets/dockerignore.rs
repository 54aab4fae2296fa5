//! .dockerignore rules, then the matching questions the context walk asks (NUL, then paths).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // ohdev reads its inputs with `read_to_string`: only UTF-8 text ever reaches the parser.
    if let Ok(text) = std::str::from_utf8(data) {
        ohdev::fuzz_api::dockerignore(text);
    }
});
