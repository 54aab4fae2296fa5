//! Images: what Docker would send (the context walk with Docker's .dockerignore rules), its digest,
//! its tar stream, the build through the Engine API, and loading into kind.

pub mod builder;
pub mod context;
pub mod context_tar;
pub mod digest;
pub mod dockerignore;
pub mod images;
pub mod load;
pub mod pattern;
pub mod pattern_regexp;
mod stream;
