//! Small helpers shared by both personalities: stable hashing for generated names, RFC 3339 time,
//! base64 for recorded binary stdin, and JSON printing the way kubectl prints it.

pub mod b64;
pub mod hash;
pub mod json;
pub mod time;
