//! Code-generation plumbing shared by the client (`user.rs`) and server (`server/`) objects:
//! the x86_64 object module, signatures, memory flags, straight-line copies and early returns.
//! It knows no message layout.

use cranelift_codegen::ir::{types, AbiParam, InstBuilder, MemFlagsData, Signature, Value};
use cranelift_codegen::isa::CallConv;
use cranelift_codegen::settings::{self, Configurable};
use cranelift_frontend::FunctionBuilder;
use cranelift_module::default_libcall_names;
use cranelift_object::{ObjectBuilder, ObjectModule};

pub(crate) const I8: types::Type = types::I8;
pub(crate) const I16: types::Type = types::I16;
pub(crate) const I32: types::Type = types::I32;
pub(crate) const I64: types::Type = types::I64;

/// An empty x86_64 SysV object module named `name` (optimised for speed, position independent).
pub(crate) fn object_module(name: String) -> Result<ObjectModule, String> {
    let mut flags = settings::builder();
    let set = |f: &mut settings::Builder, k: &str, val: &str| {
        f.set(k, val)
            .map_err(|e| format!("cranelift setting {k}: {e}"))
    };
    set(&mut flags, "opt_level", "speed")?;
    set(&mut flags, "is_pic", "true")?;
    let isa = cranelift_codegen::isa::lookup_by_name("x86_64-unknown-linux-gnu")
        .map_err(|e| e.to_string())?
        .finish(settings::Flags::new(flags))
        .map_err(|e| e.to_string())?;
    let builder =
        ObjectBuilder::new(isa, name, default_libcall_names()).map_err(|e| e.to_string())?;
    Ok(ObjectModule::new(builder))
}

/// A System V signature.
pub(crate) fn sig(params: &[types::Type], ret: Option<types::Type>) -> Signature {
    let mut s = Signature::new(CallConv::SystemV);
    s.params.extend(params.iter().map(|&t| AbiParam::new(t)));
    s.returns.extend(ret.map(AbiParam::new));
    s
}

/// Plain memory flags (message buffers may be unaligned as far as Cranelift knows).
pub(crate) fn mf() -> MemFlagsData {
    MemFlagsData::new()
}

/// The integer type of `bytes` (1, 2, 4, else 8).
pub(crate) fn int_type(bytes: u32) -> types::Type {
    match bytes {
        1 => I8,
        2 => I16,
        4 => I32,
        _ => I64,
    }
}

/// Copies `n` bytes between two addresses with straight-line loads and stores.
pub(crate) fn copy(
    b: &mut FunctionBuilder<'_>,
    dst: Value,
    doff: i32,
    src: Value,
    soff: i32,
    n: u32,
) {
    let mut at = 0u32;
    for (w, ty) in [(8u32, I64), (4, I32), (2, I16), (1, I8)] {
        while n - at >= w {
            let x = b.ins().load(ty, mf(), src, soff + at as i32);
            b.ins().store(mf(), x, dst, doff + at as i32);
            at += w;
        }
    }
}

/// Continues in a new block when `cond` is zero; in the other branch runs `fail` (which must
/// end its block, e.g. with a return).
pub(crate) fn unless(
    b: &mut FunctionBuilder<'_>,
    cond: Value,
    fail: impl FnOnce(&mut FunctionBuilder<'_>),
) {
    let bad = b.create_block();
    let ok = b.create_block();
    b.ins().brif(cond, bad, &[], ok, &[]);
    b.switch_to_block(bad);
    b.seal_block(bad);
    fail(b);
    b.switch_to_block(ok);
    b.seal_block(ok);
}
