//! ohdev.yaml: YAML, interpolation, defaults, validation, path resolution.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // ohdev reads its inputs with `read_to_string`: only UTF-8 text ever reaches the parser.
    if let Ok(text) = std::str::from_utf8(data) {
        ohdev::fuzz_api::ohdev_yaml(text);
    }
});
