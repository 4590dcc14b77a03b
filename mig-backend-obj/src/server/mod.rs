//! The server stubs as machine code: one local `_X<routine>` function per routine that checks
//! the request as the C back end's server stub does (size, complexity, type descriptors,
//! counts: `MIG_BAD_ARGUMENTS` on any failure), calls the server function with the same C
//! arguments, and fills the reply; the routine table `<demux>_routines` (data, one function
//! address per slot); and the demux function `<demux>` (`MIG_BAD_ID` for an id outside the
//! subsystem). The routine lookup `<demux>_routine` is an inline function of the C server
//! header, so it is not in the object (as in gcc's object of the C stub).
//!
//! This module: the object, the demux, the request checks and the call; `args.rs`: what each
//! argument of the server function passes; `reply.rs`: the reply after a successful call.

use std::collections::BTreeMap;

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{types, InstBuilder, StackSlotData, StackSlotKind, Value};
use cranelift_codegen::isa::CallConv;
use cranelift_codegen::Context;
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_module::{DataDescription, FuncId, Linkage, Module as _};
use cranelift_object::ObjectModule;
use mig_ir::layout::inline_element_bytes;
use mig_ir::shape::DataShape;
use mig_ir::{Argument, ArgumentKind, Dealloc, Module, Routine, Storage, Target, Validated};

use crate::abi::{self, MACH_MSGH_BITS_COMPLEX};
use crate::emit::{self, mf, sig, I32, I64, I8};
use crate::model::{messages, Datum, Message};
use crate::{Options, Unsupported};

mod args;
mod reply;

/// `<mach/mig_errors.h>`
const MIG_BAD_ID: i32 = -303;
const MIG_BAD_ARGUMENTS: i32 = -304;

/// Constructs the server side cannot generate.
pub(crate) fn unsupported(v: &Validated) -> Vec<Unsupported> {
    let mut out = Vec::new();
    let m = v.module();
    if v.target().name != "x86_64-gnu" {
        out.push(Unsupported {
            routine: None,
            message: format!(
                "the object back end generates x86_64 code only; target `{}` is not supported \
                 (use the C back end)",
                v.target().name
            ),
        });
        return out;
    }
    if m.subsystem.kernel_server {
        out.push(Unsupported {
            routine: None,
            message: "KernelServer subsystems are not supported by the object back end's \
                      server side (use the C back end)"
                .into(),
        });
    }
    for r in &m.routines {
        let mut bad = |message: String| {
            out.push(Unsupported {
                routine: Some(r.name.clone()),
                message,
            })
        };
        for a in &r.arguments {
            if !visible_to_server(m, a, r) {
                continue;
            }
            let ty = m.ty(a.ty);
            if ty.c.in_tran.is_some() || ty.c.out_tran.is_some() || ty.c.destructor.is_some() {
                bad(format!(
                    "argument `{}` has a translation or destructor, which the object back end \
                     does not call",
                    a.name
                ));
            }
            if a.kind == ArgumentKind::InOut
                && !matches!(ty.count, mig_ir::Count::Fixed(_))
                && ty.storage != Storage::OutOfLine
            {
                bad(format!("argument `{}` is an inout variable array", a.name));
            }
            if a.kind == ArgumentKind::In
                && !ty.port
                && ty.storage == Storage::Inline
                && !abi::is_c_array(ty)
                && abi::value_size(ty) > 16
            {
                bad(format!(
                    "argument `{}` is a {}-byte structure passed in memory",
                    a.name,
                    abi::value_size(ty)
                ));
            }
        }
    }
    out
}

/// True when an argument is a parameter of the server function (the C back end's rule).
fn visible_to_server(m: &Module, a: &Argument, r: &Routine) -> bool {
    use ArgumentKind::*;
    match a.kind {
        Poly => {
            let Some(p) = a.parent else { return false };
            let parent = &r.arguments[p];
            let t = m.ty(parent.ty);
            let sent = matches!(
                parent.kind,
                In | InOut | RequestPort | ReplyPort | SReplyPort | UReplyPort
            );
            let returned = matches!(parent.kind, Out | InOut);
            (sent && t.name_out.is_polymorphic() || returned && t.name_in.is_polymorphic())
                && visible_to_server(m, parent, r)
        }
        RequestPort | ReplyPort | In | Out | InOut | Count => true,
        ServerCopy => a
            .parent
            .is_none_or(|p| m.ty(r.arguments[p].ty).storage == Storage::Dynamic),
        SReplyPort | MsgSeqno => true,
        UReplyPort | WaitTime | MsgOption | Dealloc => false,
    }
}

fn header_offset(t: &Target, name: &str) -> u32 {
    t.header
        .iter()
        .find(|f| f.name == name)
        .map(|f| f.offset)
        .unwrap_or_else(|| panic!("target {} has no header field {name}", t.name))
}

/// Offsets of the header fields a server reads and writes.
#[derive(Clone, Copy)]
struct Head {
    bits: u32,
    size: u32,
    remote: u32,
    local: u32,
    seqno: u32,
    id: u32,
    /// `RetCode` of `mig_reply_header_t`.
    retcode: u32,
    /// `sizeof (mig_reply_header_t)`
    reply_size: u32,
}

impl Head {
    fn of(t: &Target) -> Head {
        let d = t.descriptor.short_size;
        let retcode = t.header_size + d;
        Head {
            bits: header_offset(t, "msgh_bits"),
            size: header_offset(t, "msgh_size"),
            remote: header_offset(t, "msgh_remote_port"),
            local: header_offset(t, "msgh_local_port"),
            seqno: header_offset(t, "msgh_seqno"),
            id: header_offset(t, "msgh_id"),
            retcode,
            reply_size: (retcode + 4).next_multiple_of(t.message_alignment),
        }
    }
}

pub(crate) fn server_object(v: &Validated, opts: &Options) -> Result<Vec<u8>, String> {
    let m = v.module();
    let mut module = emit::object_module(format!("{}Server.o", m.subsystem.name))?;
    let handler_sig = sig(&[I64, I64], None);
    let mut handlers: BTreeMap<u32, FuncId> = BTreeMap::new();
    let mut ctx = Context::new();
    let mut fctx = FunctionBuilderContext::new();
    for (i, r) in m.routines.iter().enumerate() {
        let id = module
            .declare_function(&format!("_X{}", r.name), Linkage::Local, &handler_sig)
            .map_err(|e| e.to_string())?;
        handlers.insert(r.number, id);
        ctx.func.signature = handler_sig.clone();
        {
            let mut b = FunctionBuilder::new(&mut ctx.func, &mut fctx);
            let entry = b.create_block();
            b.append_block_params_for_function_params(entry);
            b.switch_to_block(entry);
            b.seal_block(entry);
            let p = b.block_params(entry).to_vec();
            let (req, rep) = messages(v, i);
            let mut h = Handler {
                v,
                r,
                t: v.target(),
                head: Head::of(v.target()),
                b,
                module: &mut module,
                inp: p[0],
                out: p[1],
                seg_base: Vec::new(),
                locals: BTreeMap::new(),
                dyn_bufs: BTreeMap::new(),
                function: format!("{}{}{}", opts.prefix, r.server_prefix, r.name),
                bad_arguments: None,
            };
            h.body(i, &req, rep.as_ref())?;
            h.finish();
            h.b.finalize(module.target_config());
        }
        module
            .define_function(id, &mut ctx)
            .map_err(|e| format!("routine `{}`: {e:?}", r.name))?;
        module.clear_context(&mut ctx);
    }
    // The routine table: one function address per slot, null for unused slots.
    let demux = format!("{}{}", opts.prefix, m.subsystem.server_demux);
    let table = module
        .declare_data(&format!("{demux}_routines"), Linkage::Export, true, false)
        .map_err(|e| e.to_string())?;
    let ptr = v.target().c.pointer.size;
    let mut desc = DataDescription::new();
    // Initialised data (`.data`, as gcc places an array of function addresses).
    desc.define(vec![0u8; (m.subsystem.slots * ptr) as usize].into_boxed_slice());
    desc.set_align(ptr as u64);
    for (n, f) in &handlers {
        let fr = module.declare_func_in_data(*f, &mut desc);
        desc.write_function_addr(n * ptr, fr);
    }
    module
        .define_data(table, &desc)
        .map_err(|e| e.to_string())?;
    // The demux function.
    let demux_id = module
        .declare_function(&demux, Linkage::Export, &sig(&[I64, I64], Some(I32)))
        .map_err(|e| e.to_string())?;
    ctx.func.signature = sig(&[I64, I64], Some(I32));
    {
        let mut b = FunctionBuilder::new(&mut ctx.func, &mut fctx);
        let gv = module.declare_data_in_func(table, b.func);
        let hsig = b.import_signature(handler_sig.clone());
        demux_body(v, &mut b, gv, hsig);
        b.finalize(module.target_config());
    }
    module
        .define_function(demux_id, &mut ctx)
        .map_err(|e| format!("demux: {e:?}"))?;
    module.clear_context(&mut ctx);
    module.finish().emit().map_err(|e| e.to_string())
}

fn demux_body(
    v: &Validated,
    b: &mut FunctionBuilder<'_>,
    table: cranelift_codegen::ir::GlobalValue,
    hsig: cranelift_codegen::ir::SigRef,
) {
    let t = v.target();
    let s = &v.module().subsystem;
    let h = Head::of(t);
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    b.seal_block(entry);
    let p = b.block_params(entry).to_vec();
    let (inp, out) = (p[0], p[1]);
    let bits = b.ins().load(I32, mf(), inp, h.bits as i32);
    let reply_bits = b.ins().band_imm_u(bits, 0xff);
    b.ins().store(mf(), reply_bits, out, h.bits as i32);
    let size = b.ins().iconst(I32, h.reply_size as i64);
    b.ins().store(mf(), size, out, h.size as i32);
    // mach_port_t stores into the 8-byte header slots: the upper halves are not written.
    let reply_port = b.ins().load(I32, mf(), inp, h.remote as i32);
    b.ins().store(mf(), reply_port, out, h.remote as i32);
    let zero = b.ins().iconst(I32, 0);
    b.ins().store(mf(), zero, out, h.local as i32);
    b.ins().store(mf(), zero, out, h.seqno as i32);
    let id = b.ins().load(I32, mf(), inp, h.id as i32);
    let reply_id = b.ins().iadd_imm_s(id, 100);
    b.ins().store(mf(), reply_id, out, h.id as i32);
    let int32 = t.msg_type_value("MACH_MSG_TYPE_INTEGER_32").unwrap_or(2);
    let rc = Datum {
        arg: None,
        ty: None,
        shape: DataShape::RetCode,
        long: false,
        size_bits: 32,
        number: 1,
        inline: true,
        desc_offset: t.header_size,
        data_offset: h.retcode,
        data_max: 4,
        pad_max: 0,
        elem_bytes: 4,
        poly: None,
        recv_poly: false,
        port: false,
    };
    let (w0, w1) = rc.words(int32, false);
    let w = b.ins().iconst(I64, ((w1 as u64) << 32 | w0 as u64) as i64);
    b.ins().store(mf(), w, out, t.header_size as i32);
    let base = s.base as i64;
    let end = base + s.slots as i64;
    let past = b.ins().icmp_imm_s(IntCC::SignedGreaterThanOrEqual, id, end);
    let below = b.ins().icmp_imm_s(IntCC::SignedLessThan, id, base);
    let outside = b.ins().bor(past, below);
    let bad_id = |b: &mut FunctionBuilder<'_>| {
        let c = b.ins().iconst(I32, MIG_BAD_ID as i64);
        b.ins().store(mf(), c, out, h.retcode as i32);
        let f = b.ins().iconst(I32, 0);
        b.ins().return_(&[f]);
    };
    emit::unless(b, outside, bad_id);
    let idx = b.ins().iadd_imm_s(id, -base);
    let idx = b.ins().sextend(I64, idx);
    let ptr = t.c.pointer.size as i64;
    let off = b.ins().imul_imm_s(idx, ptr);
    let tab = b.ins().symbol_value(I64, table);
    let slot = b.ins().iadd(tab, off);
    let routine = b.ins().load(I64, mf(), slot, 0);
    let null = b.ins().icmp_imm_u(IntCC::Equal, routine, 0);
    emit::unless(b, null, bad_id);
    b.ins().call_indirect(hsig, routine, &[inp, out]);
    let one = b.ins().iconst(I32, 1);
    b.ins().return_(&[one]);
}

/// Where the server stub keeps one argument across the call.
#[derive(Clone, Copy)]
struct Local {
    addr: Value,
}

struct Handler<'a, 'b> {
    v: &'a Validated,
    r: &'a Routine,
    t: &'a Target,
    head: Head,
    b: FunctionBuilder<'b>,
    module: &'a mut ObjectModule,
    inp: Value,
    out: Value,
    /// Per request datum: the base its offsets are relative to (`In<k>P`).
    seg_base: Vec<Value>,
    /// Per argument index: its local storage.
    locals: BTreeMap<usize, Local>,
    /// Per dynamic out argument: its inline buffer (`<name>Buf` or the reply's array).
    dyn_bufs: BTreeMap<usize, Value>,
    function: String,
    /// `OutP->RetCode = MIG_BAD_ARGUMENTS; return;`, made by the first check.
    bad_arguments: Option<cranelift_codegen::ir::Block>,
}

/// A datum's element bytes inline, and the bytes from its data to the next descriptor.
fn elem_bytes(t: &Target, d: &Datum<'_>) -> u32 {
    d.ty.map(|ty| inline_element_bytes(t, ty) as u32)
        .unwrap_or(4)
}

fn stride(m: &Message<'_>, k: usize) -> u32 {
    m.data
        .get(k + 1)
        .map(|n| n.desc_offset - m.data[k].data_offset)
        .unwrap_or(0)
}

/// The segment of each datum: 0 until the first variable datum, then one more after each.
fn segments(m: &Message<'_>) -> Vec<usize> {
    let mut seg = 0;
    m.data
        .iter()
        .map(|d| {
            let s = seg;
            if d.variable() {
                seg += 1;
            }
            s
        })
        .collect()
}

fn dealloc_always(m: &Module, a: &Argument) -> bool {
    match a.dealloc {
        Dealloc::Always => true,
        Dealloc::Never | Dealloc::Variable => false,
        Dealloc::Default => m.ty(a.ty).dealloc == Dealloc::Always,
    }
}

fn var_max(d: &Datum<'_>) -> Option<u32> {
    match d.shape {
        DataShape::VarArray { max } | DataShape::VarString { max } | DataShape::Dynamic { max } => {
            Some(max)
        }
        _ => None,
    }
}

impl Handler<'_, '_> {
    fn slot(&mut self, bytes: u32) -> Value {
        let s = self.b.create_sized_stack_slot(StackSlotData::new(
            StackSlotKind::ExplicitSlot,
            bytes.max(8).next_multiple_of(8),
            3,
        ));
        self.b.ins().stack_addr(I64, s, 0)
    }
    fn load(&mut self, ty: types::Type, p: Value, off: u32) -> Value {
        self.b.ins().load(ty, mf(), p, off as i32)
    }
    fn store(&mut self, x: Value, p: Value, off: u32) {
        self.b.ins().store(mf(), x, p, off as i32);
    }
    fn iconst(&mut self, ty: types::Type, x: i64) -> Value {
        self.b.ins().iconst(ty, x)
    }
    /// `OutP->RetCode = MIG_BAD_ARGUMENTS; return;` when `cond` is nonzero.
    /// Every check of the function branches to one cold block (see [`Self::finish`]).
    fn fail_if(&mut self, cond: Value) {
        let fail = match self.bad_arguments {
            Some(f) => f,
            None => {
                let f = self.b.create_block();
                self.b.set_cold_block(f);
                self.bad_arguments = Some(f);
                f
            }
        };
        let ok = self.b.create_block();
        self.b.ins().brif(cond, fail, &[], ok, &[]);
        self.b.switch_to_block(ok);
        self.b.seal_block(ok);
    }
    /// The shared failure block of [`Self::fail_if`], once every check branches to it.
    fn finish(&mut self) {
        let Some(fail) = self.bad_arguments else {
            return;
        };
        self.b.switch_to_block(fail);
        self.b.seal_block(fail);
        let (out, at) = (self.out, self.head.retcode);
        let c = self.iconst(I32, MIG_BAD_ARGUMENTS as i64);
        self.store(c, out, at);
        self.b.ins().return_(&[]);
    }
    /// `MACH_MSG_TYPE_PORT_ANY(x)` for a 32-bit name.
    fn port_any(&mut self, x: Value) -> Value {
        let lo = self
            .t
            .msg_type_value("MACH_MSG_TYPE_MOVE_RECEIVE")
            .unwrap_or(16) as i64;
        let hi = self
            .t
            .msg_type_value("MACH_MSG_TYPE_MAKE_SEND_ONCE")
            .unwrap_or(21) as i64;
        let d = self.b.ins().iadd_imm_s(x, -lo);
        self.b
            .ins()
            .icmp_imm_u(IntCC::UnsignedLessThanOrEqual, d, hi - lo)
    }
    /// `e * count` bytes rounded up to the message alignment (32-bit arithmetic).
    fn padded(&mut self, e: u32, count: Value) -> Value {
        let e = e.max(1);
        let raw = if e == 1 {
            count
        } else {
            self.b.ins().imul_imm_u(count, e as i64)
        };
        let a = self.t.message_alignment;
        if e.is_multiple_of(a) {
            raw
        } else {
            let x = self.b.ins().iadd_imm_u(raw, (a - 1) as i64);
            self.b.ins().band_imm_u(x, !(a as i64 - 1) & 0xffff_ffff)
        }
    }
    /// `p + zext(i) * scale`
    fn index(&mut self, p: Value, i: Value, scale: u32) -> Value {
        let i = self.b.ins().uextend(I64, i);
        let o = if scale == 1 {
            i
        } else {
            self.b.ins().imul_imm_u(i, scale as i64)
        };
        self.b.ins().iadd(p, o)
    }
    /// Runs `body(i)` for `i` in `0..count` (32-bit, unsigned).
    fn for_each(&mut self, count: Value, mut body: impl FnMut(&mut Self, Value)) {
        let i = self.b.declare_var(I32);
        let zero = self.iconst(I32, 0);
        self.b.def_var(i, zero);
        let head = self.b.create_block();
        let step = self.b.create_block();
        let exit = self.b.create_block();
        self.b.ins().jump(head, &[]);
        self.b.switch_to_block(head);
        let iv = self.b.use_var(i);
        let go = self.b.ins().icmp(IntCC::UnsignedLessThan, iv, count);
        self.b.ins().brif(go, step, &[], exit, &[]);
        self.b.switch_to_block(step);
        self.b.seal_block(step);
        let iv = self.b.use_var(i);
        body(self, iv);
        let next = self.b.ins().iadd_imm_u(iv, 1);
        self.b.def_var(i, next);
        self.b.ins().jump(head, &[]);
        self.b.seal_block(head);
        self.b.switch_to_block(exit);
        self.b.seal_block(exit);
    }
    /// Copies `n` bytes (a run-time count) from `src` to `dst`.
    fn copy_bytes(&mut self, dst: Value, src: Value, n: Value) {
        self.for_each(n, |h, i| {
            let s = h.index(src, i, 1);
            let x = h.load(I8, s, 0);
            let d = h.index(dst, i, 1);
            h.store(x, d, 0);
        });
    }
    /// Port names from `count` inline slots at `slots` into the array `names`.
    fn names_from_slots(&mut self, slots: Value, names: Value, count: Value) {
        let slot = self.t.inline_port_size;
        self.for_each(count, |h, i| {
            let s = h.index(slots, i, slot);
            let x = h.load(I32, s, 0);
            let d = h.index(names, i, 4);
            h.store(x, d, 0);
        });
    }
    /// Port names of the array `names` into `count` inline slots (upper halves cleared).
    fn names_to_slots(&mut self, names: Value, slots: Value, count: Value) {
        let slot = self.t.inline_port_size;
        self.for_each(count, |h, i| {
            let s = h.index(names, i, 4);
            let x = h.load(I32, s, 0);
            let x = h.widen_name(x);
            let d = h.index(slots, i, slot);
            h.store(x, d, 0);
        });
    }
    /// A port name as the content of a whole inline slot.
    fn widen_name(&mut self, x: Value) -> Value {
        if self.t.inline_port_size == 8 {
            self.b.ins().uextend(I64, x)
        } else {
            x
        }
    }

    fn body(
        &mut self,
        index: usize,
        req: &Message<'_>,
        rep: Option<&Message<'_>>,
    ) -> Result<(), String> {
        let layouts = &self.v.layouts()[index];
        let req_variable = layouts.request.variable;
        self.check_request(req, req_variable);
        let call_args = self.arguments(req, rep)?;
        let types: Vec<types::Type> = call_args
            .iter()
            .map(|x| self.b.func.dfg.value_type(*x))
            .collect();
        let mut s = sig(&types, Some(I32));
        s.call_conv = CallConv::SystemV;
        let f = self
            .module
            .declare_function(&self.function, Linkage::Import, &s)
            .map_err(|e| e.to_string())?;
        let fr = self.module.declare_func_in_func(f, self.b.func);
        // A direct `call rel32` (R_X86_64_PLT32, as in gcc's object) rather than a GOT load.
        self.b.func.dfg.ext_funcs[fr].colocated = true;
        let call = self.b.ins().call(fr, &call_args);
        let ret = self.b.inst_results(call)[0];
        let (out, at) = (self.out, self.head.retcode);
        self.store(ret, out, at);
        let Some(rep) = rep else {
            self.b.ins().return_(&[]);
            return Ok(());
        };
        if rep.data.len() == 1 {
            self.b.ins().return_(&[]);
            return Ok(());
        }
        emit::unless(&mut self.b, ret, |b| {
            b.ins().return_(&[]);
        });
        let variable = layouts.reply.as_ref().is_some_and(|l| l.variable);
        self.fill_reply(rep, variable);
        self.b.ins().return_(&[]);
        Ok(())
    }

    fn check_request(&mut self, req: &Message<'_>, variable: bool) {
        let (inp, hd) = (self.inp, self.head);
        let req_complex = req
            .data
            .iter()
            .any(|d| (d.port && !d.recv_poly) || d.shape == DataShape::Ool);
        let req_poly_right = !req_complex && req.data.iter().any(|d| d.port && d.recv_poly);
        let size = self.load(I32, inp, hd.size);
        let bits = self.load(I32, inp, hd.bits);
        let complex = self.b.ins().band_imm_u(bits, MACH_MSGH_BITS_COMPLEX as i64);
        let simple = self.b.ins().icmp_imm_u(IntCC::Equal, complex, 0);
        let fixed = req.fixed_size as i64;
        let mut bad = if variable {
            self.b
                .ins()
                .icmp_imm_u(IntCC::UnsignedLessThan, size, fixed)
        } else {
            self.b.ins().icmp_imm_u(IntCC::NotEqual, size, fixed)
        };
        if req_complex {
            bad = self.b.ins().bor(bad, simple);
        } else if !(req.maybe_complex() || req_poly_right) {
            let not_simple = self.b.ins().icmp_imm_u(IntCC::Equal, simple, 0);
            bad = self.b.ins().bor(bad, not_simple);
        }
        self.fail_if(bad);
        let msgh_size = self.b.declare_var(I32);
        self.b.def_var(msgh_size, size);
        let last_var = req.data.iter().rposition(|d| d.variable());
        let mut base = inp;
        for (k, d) in req.data.iter().enumerate() {
            self.seg_base.push(base);
            self.type_check(d, base, req_poly_right.then_some(simple));
            if d.variable() {
                let number = self.load(I32, base, d.desc_offset + 4);
                let max = var_max(d).unwrap_or(0) as u64 * d.ratio() as u64;
                let mut over = self.b.ins().icmp_imm_u(
                    IntCC::UnsignedGreaterThan,
                    number,
                    max.min(u32::MAX as u64) as i64,
                );
                let inline = self.inline_bit(base, d);
                if matches!(d.shape, DataShape::Dynamic { .. }) {
                    let inl = self.b.ins().icmp_imm_u(IntCC::NotEqual, inline, 0);
                    over = self.b.ins().band(over, inl);
                }
                self.fail_if(over);
                let e = elem_bytes(self.t, d) / d.ratio();
                let mut delta = self.padded(e, number);
                if matches!(d.shape, DataShape::Dynamic { .. }) {
                    let p = self.iconst(I32, self.t.c.pointer.size as i64);
                    delta = self.b.ins().select(inline, delta, p);
                }
                let want = self.b.ins().iadd_imm_u(delta, fixed);
                let have = self.b.use_var(msgh_size);
                let cc = if Some(k) == last_var {
                    IntCC::NotEqual
                } else {
                    IntCC::UnsignedLessThan
                };
                let c = self.b.ins().icmp(cc, have, want);
                self.fail_if(c);
                if Some(k) != last_var {
                    let left = self.b.ins().isub(have, delta);
                    self.b.def_var(msgh_size, left);
                }
                if k + 1 < req.data.len() {
                    let d64 = self.b.ins().uextend(I64, delta);
                    let p = self.b.ins().iadd(base, d64);
                    base = self.b.ins().iadd_imm_s(p, -(stride(req, k) as i64));
                }
            }
            match d.shape {
                DataShape::FixedString { max } => {
                    let z = self.iconst(I8, 0);
                    let b0 = self.seg_base[k];
                    self.store(z, b0, d.data_offset + max - 1);
                }
                DataShape::VarString { .. } => {
                    let b0 = self.seg_base[k];
                    let number = self.load(I32, b0, d.desc_offset + 4);
                    let empty = self.b.ins().icmp_imm_u(IntCC::Equal, number, 0);
                    self.fail_if(empty);
                    let at = self.b.ins().iadd_imm_s(number, -1);
                    let p = self.index(b0, at, 1);
                    let z = self.iconst(I8, 0);
                    self.store(z, p, d.data_offset);
                }
                _ => {}
            }
        }
    }

    /// The descriptor's inline bit (0 or 1).
    fn inline_bit(&mut self, base: Value, d: &Datum<'_>) -> Value {
        let w = self.load(I32, base, d.desc_offset);
        let x = self.b.ins().ushr_imm_u(w, 29);
        self.b.ins().band_imm_u(x, 1)
    }

    /// The checks of one received descriptor (`simple`: the request's `msgh_simple` when a
    /// right the server accepts in any form must come in a complex message).
    fn type_check(&mut self, d: &Datum<'_>, base: Value, simple: Option<Value>) {
        let fixed = !d.variable() && d.shape != DataShape::Ool;
        if !d.long && fixed && !d.recv_poly {
            let (w0, w1) = d.words(d.received_name(), false);
            let x = self.load(I64, base, d.desc_offset);
            let want = ((w1 as u64) << 32 | w0 as u64) as i64;
            let c = self.b.ins().icmp_imm_u(IntCC::NotEqual, x, want);
            self.fail_if(c);
            return;
        }
        let dynamic = matches!(d.shape, DataShape::Dynamic { .. });
        let port_bits = self.t.port_name.size * 8;
        let dyn_port_size = dynamic && d.port && d.size_bits != port_bits;
        let w = self.load(I32, base, d.desc_offset);
        let mut mask: u32 = 1 << 30;
        let mut want: u32 = (d.long as u32) << 30;
        if !dynamic {
            mask |= 1 << 29;
            want |= (d.inline as u32) << 29;
        }
        if !d.recv_poly {
            mask |= 0xff;
            want |= d.received_name() & 0xff;
        }
        if !dyn_port_size {
            mask |= 0xffff << 8;
            want |= (d.size_bits & 0xffff) << 8;
        }
        let got = self.b.ins().band_imm_u(w, mask as i64);
        let mut c = self.b.ins().icmp_imm_u(IntCC::NotEqual, got, want as i64);
        if let (true, true, Some(simple)) = (d.recv_poly, d.port, simple) {
            let name = self.b.ins().band_imm_u(w, 0xff);
            let any = self.port_any(name);
            let x = self.b.ins().band(any, simple);
            c = self.b.ins().bor(c, x);
        }
        if fixed {
            let n = self.load(I32, base, d.desc_offset + 4);
            let c2 = self.b.ins().icmp_imm_u(IntCC::NotEqual, n, d.number as i64);
            c = self.b.ins().bor(c, c2);
        }
        if dyn_port_size {
            let size = self.b.ins().ushr_imm_u(w, 8);
            let size = self.b.ins().band_imm_u(size, 0xffff);
            let inline = self.inline_bit(base, d);
            let a = self.iconst(I32, d.size_bits as i64);
            let b = self.iconst(I32, port_bits as i64);
            let expect = self.b.ins().select(inline, a, b);
            let c2 = self.b.ins().icmp(IntCC::NotEqual, size, expect);
            c = self.b.ins().bor(c, c2);
        }
        self.fail_if(c);
    }
}
