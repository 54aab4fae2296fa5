//! Images through a registry instead of `kind load`: a rebuild ships only the layers that changed.
//!
//! | module | what it owns |
//! |---|---|
//! | `client` | the registry's HTTP API (probe, manifests, tags, blobs, catalog, delete) |

// The catalog, blob sizes and deletes serve `ohdev gc` (another branch), not yet called here.
#[allow(dead_code)]
pub mod client;
