//! The draw service: the verifiable double-random draw (双随机) of targets and inspectors.
//!
//! [`algorithm`] is `suiji-draw-v1` exactly as `docs/draw-v1.md` specifies it: pure, with no I/O, so that the
//! service, `suiji draw verify` and anyone re-implementing the page get the same lists from the same inputs.

pub mod algorithm;
pub mod record;
