//! The `-list FILE` output: one line per routine, in GNU MIG's format.
//!
//! `<subsystem> <base> <routine> <number> <request id> <reply id>`, with `0` as the reply id of
//! a simple routine; skipped slots print nothing. Example: `mach 2000 task_create 7 2007 2107`.

use std::fmt::Write;

use crate::Validated;

/// Renders the message id list of a validated module.
pub fn render_list(v: &Validated) -> String {
    let m = v.module();
    let mut out = String::new();
    for r in &m.routines {
        // Writing to a String cannot fail.
        let _ = writeln!(
            out,
            "{} {} {} {} {} {}",
            m.subsystem.name,
            m.subsystem.base,
            r.name,
            r.number,
            r.msgh_id,
            r.reply_msgh_id.unwrap_or(0)
        );
    }
    out
}
