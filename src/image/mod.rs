//! The image phase: select → validate → prepare (prebuild, walk with Docker's .dockerignore rules,
//! digest) → build what Docker lacks through the Engine API, on the shared dependency-graph
//! scheduler → load into kind.
//!
//! | module | what it owns |
//! |---|---|
//! | `select` | which images, in dependency order; the checks before anything changes |
//! | `dockerfile` | a Dockerfile read far enough to refuse what BuildKit would refuse |
//! | `prepare` | prebuild commands, the context walk and digest, the content tag |
//! | `phase` | building every prepared image as soon as its dependencies are built |
//! | `result` | what became of each image; the tag format |
//! | `context`, `dockerignore`, `pattern*` | what Docker would send, with Docker's own matching |
//! | `digest` | blake3 over the context with a metadata cache |
//! | `context_tar`, `stream` | the context as a tar streamed from the walk |
//! | `builder` | one build through bollard (BuildKit, or the classic builder) |
//! | `load` | `kind load` only where a node lacks the image; the `images` state section |
//! | `gc`, `gc_layers` | which old content tags garbage collection removes, and the bytes that frees in Docker (pure) |
//! | `gc_docker`, `gc_nodes` | finding and removing them in Docker and on the kind nodes (the registry's side: `registry::gc`) |

pub(crate) mod builder;
pub mod context;
pub(crate) mod context_tar;
pub mod digest;
pub mod dockerfile;
pub mod dockerignore;
pub mod gc;
pub mod gc_docker;
pub mod gc_layers;
pub mod gc_nodes;
pub(crate) mod load;
pub mod pattern;
pub mod pattern_regexp;
pub(crate) mod phase;
pub(crate) mod prepare;
pub(crate) mod result;
pub(crate) mod select;
mod stream;

pub use phase::{build_all, choose_builder, prepare_and_build};
pub use prepare::{cache_path, digest_image, prepare, PreparedImage};
pub use result::{fail_if_any_failed, failure_summary, tag_for, BuildFailure, BuildResult, Outcome};
pub use select::{select, validate};
