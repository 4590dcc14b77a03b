//! The typed interface IR of migc: what a `.defs` file means, independent of how it was
//! written and of the code generated from it.
//!
//! # What the IR is
//! A [`Module`] is one MIG subsystem: its name and base message id, its imports, the types it
//! declared (resolved down to what a value looks like in a typed Mach message: the
//! `msgt_name` sent and received, the element size in bits, the count, inline or out-of-line,
//! and the C names on each side), and its routines with their message ids and arguments.
//! Implicit arguments that GNU MIG adds to the C prototypes (`<name>Cnt` counts, `<name>Poly`
//! dispositions, `<name>Dealloc`, `<name>SCopy`) are explicit [`Argument`]s here, so back ends
//! never re-derive them.
//!
//! # How it is made
//! [`lower::lower`] reads a syntax tree (`mig_frontend::ast::File`) for one [`Target`] and
//! either reports diagnostics or returns a [`Validated`] module: the only way to obtain one.
//! Back ends take `&Validated`, so they only ever see a module that passed every check, with
//! the [`layout`] of every request and reply already computed for the target.
//!
//! # Message ids
//! A counter starts at 0; each routine takes the counter's value as its `number` and
//! increments it; `skip` adds 1 and `skip N` adds N. The request id is `base + number`, the
//! reply id `base + number + 100`; simple routines have no reply.
//!
//! # What this crate does not do
//! No I/O, no parsing, no code generation, no LSP. The data types ([`ir`], [`layout`],
//! [`target`]) carry no spans and know no syntax.
//! **Architecture invariant:** [`lower`] is the one module that reads the AST; it depends on
//! `mig_frontend::ast` and `mig_frontend::diagnostics::UnitDiagnostic` only, never on the
//! parser or the source database.
//!
//! # JSON
//! [`Validated::to_json`] writes the module, its target and its layouts as JSON
//! (`migc --emit ir`), with a `format_version` field ([`FORMAT_VERSION`]) that changes whenever
//! a field is renamed, removed or changes meaning. The shape is the serde serialisation of
//! [`IrDocument`]: enums are externally tagged, `Option`s are `null` when absent.

#![forbid(unsafe_code)]

pub mod ir;
pub mod layout;
pub mod list;
pub mod lower;
pub mod shape;
pub mod target;

pub use ir::*;
pub use layout::{MessageLayout, RoutineLayout};
pub use list::render_list;
pub use lower::{lower, Lowered};
pub use target::Target;

use serde::Serialize;

/// Version of the JSON form. History: 1: first version.
pub const FORMAT_VERSION: u32 = 1;

/// A module that passed validation, with the layouts of its messages on its target.
///
/// Only [`lower::lower`] constructs one; fields are private so back ends can rely on every
/// invariant the lowering checks (types resolved, ids in range, request ports present,
/// layouts within `u32`).
#[derive(Debug, Clone)]
pub struct Validated {
    module: Module,
    layouts: Vec<RoutineLayout>,
    target: &'static Target,
}

impl Validated {
    pub(crate) fn new(
        module: Module,
        layouts: Vec<RoutineLayout>,
        target: &'static Target,
    ) -> Self {
        Validated {
            module,
            layouts,
            target,
        }
    }

    pub fn module(&self) -> &Module {
        &self.module
    }

    pub fn target(&self) -> &'static Target {
        self.target
    }

    /// Layouts, one per routine, in the order of [`Module::routines`].
    pub fn layouts(&self) -> &[RoutineLayout] {
        &self.layouts
    }

    /// The layout of the routine at `index` in [`Module::routines`].
    pub fn layout(&self, index: usize) -> Option<&RoutineLayout> {
        self.layouts.get(index)
    }

    /// Routines with their layouts.
    pub fn routines(&self) -> impl Iterator<Item = (&Routine, &RoutineLayout)> {
        self.module.routines.iter().zip(&self.layouts)
    }

    pub fn document(&self) -> IrDocument<'_> {
        IrDocument {
            format_version: FORMAT_VERSION,
            target: self.target,
            module: &self.module,
            layouts: &self.layouts,
        }
    }

    /// The JSON form (pretty-printed, ending in a newline).
    pub fn to_json(&self) -> String {
        // Serialising plain data with string keys cannot fail.
        let mut s = serde_json::to_string_pretty(&self.document())
            .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
        s.push('\n');
        s
    }
}

/// Read access to a lowered module with its layouts: a [`Validated`] module or a [`Partial`]
/// one (what an editor shows either way).
pub trait ModuleView {
    fn module(&self) -> &Module;
    fn target(&self) -> &'static Target;
    /// The layout of the routine at `index` in [`Module::routines`].
    fn layout(&self, index: usize) -> Option<&RoutineLayout>;
}

impl ModuleView for Validated {
    fn module(&self) -> &Module {
        &self.module
    }
    fn target(&self) -> &'static Target {
        self.target
    }
    fn layout(&self, index: usize) -> Option<&RoutineLayout> {
        self.layouts.get(index)
    }
}

/// What lowering validated in a unit with errors: the subsystem, every type that resolved and
/// every routine that lowered on its own, with its message ids and layout, as in a clean unit
/// (a broken routine still takes its message number, so the others keep theirs). Routines that
/// failed are named in [`Partial::broken`].
///
/// Not a [`Validated`] module: no back end accepts one. It exists for editors, which work on
/// broken files all the time (the language server shows layouts from it).
#[derive(Debug, Clone)]
pub struct Partial {
    module: Module,
    layouts: Vec<RoutineLayout>,
    target: &'static Target,
    broken: Vec<String>,
}

impl Partial {
    pub(crate) fn new(
        module: Module,
        layouts: Vec<RoutineLayout>,
        target: &'static Target,
        broken: Vec<String>,
    ) -> Self {
        Partial {
            module,
            layouts,
            target,
            broken,
        }
    }

    /// The routines that did not lower (their diagnostics say why), in declaration order.
    pub fn broken(&self) -> &[String] {
        &self.broken
    }
}

impl ModuleView for Partial {
    fn module(&self) -> &Module {
        &self.module
    }
    fn target(&self) -> &'static Target {
        self.target
    }
    fn layout(&self, index: usize) -> Option<&RoutineLayout> {
        self.layouts.get(index)
    }
}

/// The JSON document of `migc --emit ir`.
#[derive(Debug, Serialize)]
pub struct IrDocument<'a> {
    pub format_version: u32,
    pub target: &'a Target,
    pub module: &'a Module,
    pub layouts: &'a [RoutineLayout],
}
