//! The format version: one number, bumped only on an incompatible change
//! (FORMAT.md, section 8).

/// The version this crate writes; readers refuse newer ones and read every
/// older one.
pub const FORMAT_VERSION: u32 = 3;
