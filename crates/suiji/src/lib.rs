//! What the `suiji` binary and its tests share: the demo's story, the departments' work on two of the demo plan's
//! tasks told through the public APIs (`suiji dev --demo --story`), whose steps the tests take too.

pub mod story;
