//! The client stubs as machine code: one Cranelift function per routine that builds the
//! request with straight-line stores, calls `mach_msg`, checks the reply and copies the
//! results out, as the C back end's stub does.

use std::collections::BTreeMap;

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{
    types, AbiParam, ArgumentPurpose, BlockArg, FuncRef, InstBuilder, Signature, StackSlotData,
    StackSlotKind, Value,
};
use cranelift_codegen::isa::CallConv;
use cranelift_codegen::Context;
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Variable};
use cranelift_module::{Linkage, Module as _};
use mig_ir::shape::DataShape;
use mig_ir::{ArgumentKind, Routine, Validated};

use crate::abi::{self, Pass};
use crate::emit::{self, int_type, mf, sig, I16, I32, I64, I8};
use crate::model::{messages, Datum, Message};
use crate::{Options, Unsupported};

/// Constructs the client side cannot generate yet.
pub(crate) fn unsupported(v: &Validated) -> Vec<Unsupported> {
    let mut out = Vec::new();
    let m = v.module();
    if v.target().name != "x86_64-gnu" {
        out.push(Unsupported {
            routine: None,
            message: format!(
                "the object back end is x86_64 only: target `{}` is not supported \
                 (use the C back end)",
                v.target().name
            ),
        });
        return out;
    }
    if m.subsystem.kernel_user {
        out.push(Unsupported {
            routine: None,
            message: "KernelUser subsystems are not supported by the object back end".into(),
        });
    }
    for (i, r) in m.routines.iter().enumerate() {
        let mut bad = |message: String| {
            out.push(Unsupported {
                routine: Some(r.name.clone()),
                message,
            })
        };
        if let Some(o) = r.msg_option.as_deref() {
            if abi::option_value(o).is_none() {
                bad(format!(
                    "msgoption `{o}` is not a number or `|` of GNU Mach's MACH_* option names"
                ));
            }
        }
        if let Some(w) = r.wait_time.as_deref() {
            if abi::timeout_value(w).is_none() {
                bad(format!(
                    "waittime `{w}` names a C variable; the object back end takes numbers and \
                     MACH_MSG_TIMEOUT_NONE only"
                ));
            }
        }
        for (k, _) in r.arguments.iter().enumerate() {
            if abi::visible_to_user(m, &r.arguments[k], r) {
                if let Err(e) = abi::user_pass(m, r, k) {
                    bad(e);
                }
            }
        }
        let _ = i;
        for a in &r.arguments {
            let t = m.ty(a.ty);
            if a.kind == ArgumentKind::InOut
                && t.is_variable()
                && t.storage != mig_ir::Storage::OutOfLine
            {
                bad(format!(
                    "argument `{}` is an inout variable array (refused by the C back end too)",
                    a.name
                ));
            }
        }
    }
    out
}

/// The runtime functions a stub file may call.
struct Runtime {
    mach_msg: cranelift_module::FuncId,
    get_reply: Option<cranelift_module::FuncId>,
    dealloc_reply: Option<cranelift_module::FuncId>,
    put_reply: Option<cranelift_module::FuncId>,
    strncpy: Option<cranelift_module::FuncId>,
    memcpy: Option<cranelift_module::FuncId>,
    allocate: Option<cranelift_module::FuncId>,
}

/// Which optional runtime functions the stubs of `v` call.
struct Uses {
    reply_port: bool,
    strncpy: bool,
    /// Variable data copied out of a reply (gcc calls `memcpy` for these copies, whose size
    /// it cannot bound; request copies are bounded by the array maximum and inlined).
    memcpy: bool,
    /// A dynamic array copied out of a reply inline into a caller buffer too small.
    allocate: bool,
}

fn runtime_uses(v: &Validated) -> Uses {
    let mut u = Uses {
        reply_port: false,
        strncpy: false,
        memcpy: false,
        allocate: false,
    };
    for (i, r) in v.module().routines.iter().enumerate() {
        let reply_arg = r
            .arguments
            .iter()
            .any(|a| matches!(a.kind, ArgumentKind::ReplyPort | ArgumentKind::UReplyPort));
        u.reply_port |= !reply_arg && !r.is_simple();
        let (req, rep) = messages(v, i);
        u.strncpy |= req
            .data
            .iter()
            .chain(rep.iter().flat_map(|m| m.data.iter()))
            .any(|d| matches!(d.shape, DataShape::FixedString { .. }));
        for d in rep.iter().flat_map(|m| m.data.iter()) {
            u.memcpy |= d.variable() && !d.port;
            u.allocate |= matches!(d.shape, DataShape::Dynamic { .. });
        }
    }
    u
}

pub(crate) fn user_object(v: &Validated, opts: &Options) -> Result<Vec<u8>, String> {
    let name = format!("{}User.o", v.module().subsystem.name);
    let mut module = emit::object_module(name)?;
    let p = &opts.subr_prefix;
    // Only the runtime functions some stub calls are referenced (as in gcc's object).
    let uses = runtime_uses(v);
    let mut import = |n: &str, used: bool, s: Signature| -> Result<Option<_>, String> {
        if !used {
            return Ok(None);
        }
        module
            .declare_function(&format!("{p}{n}"), Linkage::Import, &s)
            .map(Some)
            .map_err(|e| e.to_string())
    };
    let rt = Runtime {
        mach_msg: import(
            "mach_msg",
            true,
            sig(&[I64, I32, I32, I32, I32, I32, I32], Some(I32)),
        )?
        .ok_or("mach_msg")?,
        get_reply: import("mig_get_reply_port", uses.reply_port, sig(&[], Some(I32)))?,
        dealloc_reply: import("mig_dealloc_reply_port", uses.reply_port, sig(&[I32], None))?,
        put_reply: import("mig_put_reply_port", uses.reply_port, sig(&[I32], None))?,
        strncpy: import(
            "mig_strncpy",
            uses.strncpy,
            sig(&[I64, I64, I64], Some(I64)),
        )?,
        memcpy: import("memcpy", uses.memcpy, sig(&[I64, I64, I64], Some(I64)))?,
        allocate: import("mig_allocate", uses.allocate, sig(&[I64, I64], None))?,
    };
    let mut ctx = Context::new();
    let mut fctx = FunctionBuilderContext::new();
    for (i, r) in v.module().routines.iter().enumerate() {
        let params = user_params(v, r)?;
        let mut s = Signature::new(CallConv::SystemV);
        for (_, pass) in &params {
            match pass {
                Pass::Int(1) => s.params.push(AbiParam::new(I8)),
                Pass::Int(2) => s.params.push(AbiParam::new(I16)),
                Pass::Int(4) => s.params.push(AbiParam::new(I32)),
                Pass::Int(_) | Pass::Ptr => s.params.push(AbiParam::new(I64)),
                Pass::Mem(n) => s
                    .params
                    .push(AbiParam::special(I64, ArgumentPurpose::StructArgument(*n))),
                Pass::Pair => {
                    s.params.push(AbiParam::new(I64));
                    s.params.push(AbiParam::new(I64));
                }
            }
        }
        s.returns.push(AbiParam::new(I32));
        let fname = format!("{}{}{}", opts.prefix, r.user_prefix, r.name);
        let id = module
            .declare_function(&fname, Linkage::Export, &s)
            .map_err(|e| e.to_string())?;
        ctx.func.signature = s;
        {
            let mut b = FunctionBuilder::new(&mut ctx.func, &mut fctx);
            let mut refs = Refs {
                mach_msg: module.declare_func_in_func(rt.mach_msg, b.func),
                get_reply: rt.get_reply.map(|f| module.declare_func_in_func(f, b.func)),
                dealloc_reply: rt
                    .dealloc_reply
                    .map(|f| module.declare_func_in_func(f, b.func)),
                put_reply: rt.put_reply.map(|f| module.declare_func_in_func(f, b.func)),
                strncpy: rt.strncpy.map(|f| module.declare_func_in_func(f, b.func)),
                memcpy: rt.memcpy.map(|f| module.declare_func_in_func(f, b.func)),
                allocate: rt.allocate.map(|f| module.declare_func_in_func(f, b.func)),
            };
            // Runtime calls as direct `call rel32` (R_X86_64_PLT32, as gcc's objects call
            // them) rather than through a GOT load: the linker resolves them directly in a
            // static link and through the PLT in a shared one.
            refs.direct(&mut b);
            let entry = b.create_block();
            b.append_block_params_for_function_params(entry);
            b.switch_to_block(entry);
            b.seal_block(entry);
            let vals = b.block_params(entry).to_vec();
            let mut args = BTreeMap::new();
            let mut k = 0;
            for (ai, pass) in &params {
                let n = if *pass == Pass::Pair { 2 } else { 1 };
                args.insert(*ai, vals[k..k + n].to_vec());
                k += n;
            }
            let (req, rep) = messages(v, i);
            let base = b.declare_var(I64);
            let size = b.declare_var(I64);
            let complex = b.declare_var(I32);
            let mut st = Stub {
                v,
                r,
                b,
                refs,
                args,
                buf: Value::from_u32(0),
                base,
                size,
                complex,
                exit: cranelift_codegen::ir::Block::from_u32(0),
                fails: BTreeMap::new(),
            };
            st.exit = st.b.create_block();
            st.b.append_block_param(st.exit, I32);
            st.body(&req, rep.as_ref());
            st.finish_fails();
            let exit = st.exit;
            st.b.seal_block(exit);
            st.b.switch_to_block(exit);
            let code = st.b.block_params(exit)[0];
            st.b.ins().return_(&[code]);
            st.b.finalize(module.target_config());
        }
        module
            .define_function(id, &mut ctx)
            .map_err(|e| format!("routine `{}`: {e:?}", r.name))?;
        module.clear_context(&mut ctx);
    }
    module.finish().emit().map_err(|e| e.to_string())
}

/// The visible parameters in prototype order, with how each is passed.
fn user_params(v: &Validated, r: &Routine) -> Result<Vec<(usize, Pass)>, String> {
    let m = v.module();
    abi::prototype_order(r)
        .into_iter()
        .filter(|&i| abi::visible_to_user(m, &r.arguments[i], r))
        .map(|i| abi::user_pass(m, r, i).map(|p| (i, p)))
        .collect()
}

/// Runtime functions in the current function (`None` when no stub of the file calls one).
struct Refs {
    mach_msg: FuncRef,
    get_reply: Option<FuncRef>,
    dealloc_reply: Option<FuncRef>,
    put_reply: Option<FuncRef>,
    strncpy: Option<FuncRef>,
    memcpy: Option<FuncRef>,
    allocate: Option<FuncRef>,
}

impl Refs {
    fn direct(&mut self, b: &mut FunctionBuilder<'_>) {
        let all = [
            Some(self.mach_msg),
            self.get_reply,
            self.dealloc_reply,
            self.put_reply,
            self.strncpy,
            self.memcpy,
            self.allocate,
        ];
        for f in all.into_iter().flatten() {
            b.func.dfg.ext_funcs[f].colocated = true;
        }
    }
}

struct Stub<'a, 'b> {
    v: &'a Validated,
    r: &'a Routine,
    b: FunctionBuilder<'b>,
    refs: Refs,
    /// Parameter values per argument index.
    args: BTreeMap<usize, Vec<Value>>,
    /// The message buffer's address.
    buf: Value,
    /// Where the fixed layout's offsets point now: the buffer, moved by the variable data
    /// before the current datum (`InP`/`OutP` of the C stub).
    base: Variable,
    /// `msgh_size` being built (request) or left to account for (reply), zero-extended.
    size: Variable,
    /// `MACH_MSGH_BITS_COMPLEX` when a run-time datum made the request complex, else 0.
    complex: Variable,
    /// The block every return jumps to, with the code as its parameter.
    exit: cranelift_codegen::ir::Block,
    /// The block returning each error code, made at its first use.
    fails: BTreeMap<i32, cranelift_codegen::ir::Block>,
}

impl Stub<'_, '_> {
    fn store(&mut self, _ty: types::Type, val: Value, off: u32) {
        let base = self.b.use_var(self.base);
        self.b.ins().store(mf(), val, base, off as i32);
    }
    /// A store into the header (never moved).
    fn store_head(&mut self, val: Value, off: u32) {
        let buf = self.buf;
        self.b.ins().store(mf(), val, buf, off as i32);
    }
    fn load_head(&mut self, ty: types::Type, off: u32) -> Value {
        let buf = self.buf;
        self.b.ins().load(ty, mf(), buf, off as i32)
    }
    /// The address of byte `off` of the fixed layout, as moved so far.
    fn addr(&mut self, off: u32) -> Value {
        let base = self.b.use_var(self.base);
        self.b.ins().iadd_imm_s(base, off as i64)
    }
    fn store_const(&mut self, ty: types::Type, val: i64, off: u32) {
        let c = self.b.ins().iconst(ty, val);
        self.store(ty, c, off);
    }
    fn load(&mut self, ty: types::Type, off: u32) -> Value {
        let base = self.b.use_var(self.base);
        self.b.ins().load(ty, mf(), base, off as i32)
    }
    fn arg(&self, i: usize) -> Value {
        self.args[&i][0]
    }
    /// Copies `n` bytes between two addresses with straight-line loads and stores.
    fn copy(&mut self, dst: Value, doff: i32, src: Value, soff: i32, n: u32) {
        emit::copy(&mut self.b, dst, doff, src, soff, n)
    }
    /// Returns `code` when `cond` is nonzero.
    fn return_if(&mut self, cond: Value, code: i32) {
        // One cold block per error code of the function, off the path that succeeds.
        let fail = match self.fails.get(&code) {
            Some(&f) => f,
            None => {
                let f = self.b.create_block();
                self.b.set_cold_block(f);
                self.fails.insert(code, f);
                f
            }
        };
        let ok = self.b.create_block();
        self.b.ins().brif(cond, fail, &[], ok, &[]);
        self.b.switch_to_block(ok);
        self.b.seal_block(ok);
    }
    /// Fills the error blocks of [`Self::return_if`] once every branch to them exists.
    fn finish_fails(&mut self) {
        let fails = std::mem::take(&mut self.fails);
        for (code, f) in fails {
            self.b.switch_to_block(f);
            self.b.seal_block(f);
            let c = self.b.ins().iconst(I32, code as i64);
            self.ret(c);
        }
    }
    /// Returns `code` (through the one exit block: one epilogue per function).
    fn ret(&mut self, code: Value) {
        self.b.ins().jump(self.exit, &[BlockArg::Value(code)]);
    }
    /// `MACH_MSG_TYPE_PORT_ANY(x)` for a 32-bit value.
    fn port_any(&mut self, x: Value) -> Value {
        let t = self.v.target();
        let lo = t.msg_type_value("MACH_MSG_TYPE_MOVE_RECEIVE").unwrap_or(16) as i64;
        let hi = t
            .msg_type_value("MACH_MSG_TYPE_MAKE_SEND_ONCE")
            .unwrap_or(21) as i64;
        let d = self.b.ins().iadd_imm_s(x, -lo);
        self.b
            .ins()
            .icmp_imm_u(IntCC::UnsignedLessThanOrEqual, d, hi - lo)
    }

    fn body(&mut self, req: &Message<'_>, rep: Option<&Message<'_>>) {
        let size = req.max_size.max(rep.map(|m| m.max_size).unwrap_or(0));
        let slot = self.b.create_sized_stack_slot(StackSlotData::new(
            StackSlotKind::ExplicitSlot,
            size.next_multiple_of(8),
            3,
        ));
        self.buf = self.b.ins().stack_addr(I64, slot, 0);
        let buf = self.buf;
        self.b.def_var(self.base, buf);
        let r = self.r;
        // Complexity decided at run time by polymorphic rights and dynamic arrays.
        let zero = self.b.ins().iconst(I32, 0);
        self.b.def_var(self.complex, zero);
        let fixed = self.b.ins().iconst(I64, req.fixed_size as i64);
        self.b.def_var(self.size, fixed);
        for d in &req.data {
            let Some(ai) = d.arg else { continue };
            let dealloc = self.dealloc_always(ai);
            let (w0, w1) = d.words(d.sent_name(), dealloc);
            self.store_const(I32, w0 as i64, d.desc_offset);
            self.store_const(I32, w1 as i64, d.desc_offset + 4);
            if let Some(p) = d.poly {
                let poly = self.arg(p);
                let any = self.port_any(poly);
                let bit = self.b.ins().iconst(I32, abi::MACH_MSGH_BITS_COMPLEX as i64);
                let zero = self.b.ins().iconst(I32, 0);
                let add = self.b.ins().select(any, bit, zero);
                let c = self.b.use_var(self.complex);
                let c = self.b.ins().bor(c, add);
                self.b.def_var(self.complex, c);
                let byte = self.b.ins().ireduce(I8, poly);
                self.store(I8, byte, d.desc_offset);
            }
            if let Some(dl) = r.arguments[ai].dealloc_arg {
                let flag = self.arg(dl);
                let one = self.b.ins().band_imm_u(flag, 1);
                let bit = self.b.ins().ishl_imm_u(one, 31);
                let w = self.load(I32, d.desc_offset);
                let w = self.b.ins().bor(w, bit);
                self.store(I32, w, d.desc_offset);
            }
            if let Some(delta) = self.send_datum(d, ai) {
                self.advance(delta, d);
            }
        }
        let buf = self.buf;
        self.b.def_var(self.base, buf);
        // Header.
        let m = self.v.module();
        let disposition = |s: &mut Self, i: usize| -> Value {
            let a = &r.arguments[i];
            match a.poly.filter(|_| m.ty(a.ty).name_in.is_polymorphic()) {
                Some(p) => s.arg(p),
                None => s.b.ins().iconst(I32, m.ty(a.ty).name_in.value as i64),
            }
        };
        let request = match r.request_port() {
            Some(i) => disposition(self, i),
            None => self.b.ins().iconst(I32, 0),
        };
        let reply_arg = r
            .arguments
            .iter()
            .position(|a| matches!(a.kind, ArgumentKind::ReplyPort | ArgumentKind::UReplyPort));
        let reply_disp = match reply_arg {
            Some(i) => disposition(self, i),
            None if r.is_simple() => self.b.ins().iconst(I32, 0),
            None => {
                let v = self
                    .v
                    .target()
                    .msg_type_value("MACH_MSG_TYPE_MAKE_SEND_ONCE")
                    .unwrap_or(21);
                self.b.ins().iconst(I32, v as i64)
            }
        };
        let local = self.b.ins().ishl_imm_u(reply_disp, 8);
        let mut bits = self.b.ins().bor(request, local);
        if req.always_complex() {
            bits = self
                .b
                .ins()
                .bor_imm_u(bits, abi::MACH_MSGH_BITS_COMPLEX as i64);
        }
        if req.runtime_complex() {
            let c = self.b.use_var(self.complex);
            bits = self.b.ins().bor(bits, c);
        }
        let own_reply = reply_arg.is_none() && !r.is_simple();
        self.store_head(bits, 0);
        let remote = match r.request_port() {
            Some(i) => self.arg(i),
            None => self.b.ins().iconst(I32, 0),
        };
        // The header's port fields take the 32-bit name, as the C stub stores them (the
        // upper halves are not read).
        self.store_head(remote, 8);
        let reply_port = match reply_arg {
            Some(i) => self.arg(i),
            None if own_reply => {
                let call = self
                    .b
                    .ins()
                    .call(self.refs.get_reply.expect("declared by runtime_uses"), &[]);
                self.b.inst_results(call)[0]
            }
            None => self.b.ins().iconst(I32, 0),
        };
        self.store_head(reply_port, 16);
        let z = self.b.ins().iconst(I32, 0);
        self.store_head(z, 24);
        let id = self.b.ins().iconst(I32, r.msgh_id as i64);
        self.store_head(id, 28);
        let size = self.b.use_var(self.size);
        let send_size = self.b.ins().ireduce(I32, size);
        self.store_head(send_size, 4);
        // mach_msg
        let mut option = abi::MACH_SEND_MSG;
        if rep.is_some() {
            option |= abi::MACH_RCV_MSG;
        }
        let mut option = self.b.ins().iconst(I32, option as i64);
        let opt_arg = r
            .arguments
            .iter()
            .position(|a| a.kind == ArgumentKind::MsgOption);
        match (opt_arg, r.msg_option.as_deref().and_then(abi::option_value)) {
            (Some(i), _) => option = self.b.ins().bor(option, self.args[&i][0]),
            (None, Some(n)) => option = self.b.ins().bor_imm_u(option, n as i64),
            _ => {}
        }
        let wait_arg = r
            .arguments
            .iter()
            .position(|a| a.kind == ArgumentKind::WaitTime);
        let wait_const = r.wait_time.as_deref().and_then(abi::timeout_value);
        let timeout = match (wait_arg, wait_const) {
            (Some(i), _) => Some(self.arg(i)),
            (None, Some(n)) => Some(self.b.ins().iconst(I32, n as i64)),
            _ => None,
        };
        let timeout = match timeout {
            Some(t) => {
                let bit = if rep.is_some() {
                    abi::MACH_RCV_TIMEOUT
                } else {
                    abi::MACH_SEND_TIMEOUT
                };
                option = self.b.ins().bor_imm_u(option, bit as i64);
                t
            }
            None => self.b.ins().iconst(I32, 0),
        };
        let zero = self.b.ins().iconst(I32, 0);
        let buf = self.buf;
        let Some(rep) = rep else {
            let call = self.b.ins().call(
                self.refs.mach_msg,
                &[buf, option, send_size, zero, zero, timeout, zero],
            );
            let res = self.b.inst_results(call)[0];
            self.ret(res);
            return;
        };
        let rcv_size = self.b.ins().iconst(I32, rep.max_size as i64);
        let rcv_name = self.load_head(I32, 16);
        let call = self.b.ins().call(
            self.refs.mach_msg,
            &[buf, option, send_size, rcv_size, rcv_name, timeout, zero],
        );
        let res = self.b.inst_results(call)[0];
        let failed = self.b.create_block();
        let sent = self.b.create_block();
        self.b.ins().brif(res, failed, &[], sent, &[]);
        self.b.switch_to_block(failed);
        self.b.seal_block(failed);
        if own_reply {
            let p = self.load_head(I32, 16);
            self.b.ins().call(
                self.refs.dealloc_reply.expect("declared by runtime_uses"),
                &[p],
            );
        }
        self.ret(res);
        self.b.switch_to_block(sent);
        self.b.seal_block(sent);
        if own_reply {
            let p = self.load_head(I32, 16);
            self.b
                .ins()
                .call(self.refs.put_reply.expect("declared by runtime_uses"), &[p]);
        }
        self.receive(rep, own_reply);
    }

    fn dealloc_always(&self, ai: usize) -> bool {
        let a = &self.r.arguments[ai];
        match a.dealloc {
            mig_ir::Dealloc::Always => true,
            mig_ir::Dealloc::Never | mig_ir::Dealloc::Variable => false,
            mig_ir::Dealloc::Default => self.v.module().ty(a.ty).dealloc == mig_ir::Dealloc::Always,
        }
    }

    /// The value of a scalar argument (dereferenced when passed by pointer), `bytes` wide.
    fn scalar(&mut self, ai: usize, bytes: u32) -> Value {
        let a = &self.r.arguments[ai];
        let m = self.v.module();
        let by_pointer = (a.kind == ArgumentKind::InOut)
            || (a.kind == ArgumentKind::Count
                && a.parent
                    .is_some_and(|p| self.r.arguments[p].kind != ArgumentKind::In));
        let ty = int_type(bytes);
        if by_pointer {
            let p = self.arg(ai);
            return self.b.ins().load(ty, mf(), p, 0);
        }
        let x = self.arg(ai);
        let have = self.b.func.dfg.value_type(x);
        let _ = m;
        if have.bytes() > ty.bytes() {
            self.b.ins().ireduce(ty, x)
        } else if have.bytes() < ty.bytes() {
            self.b.ins().uextend(ty, x)
        } else {
            x
        }
    }

    /// Fills one datum of the request; for variable data, returns the bytes it took
    /// (`msgh_size_delta`).
    fn send_datum(&mut self, d: &Datum<'_>, ai: usize) -> Option<Value> {
        let off = d.data_offset;
        let a = &self.r.arguments[ai];
        match d.shape {
            DataShape::RetCode => {}
            DataShape::Port => {
                let x = self.arg(ai);
                let x = if a.kind == ArgumentKind::InOut {
                    self.b.ins().load(I32, mf(), x, 0)
                } else {
                    x
                };
                let x = self.b.ins().uextend(I64, x);
                self.store(I64, x, off);
            }
            DataShape::Value => {
                let bytes = d
                    .data_max
                    .min(abi::value_size(self.v.module().ty(a.ty)).max(1));
                let pass = abi::user_pass(self.v.module(), self.r, ai).unwrap_or(Pass::Ptr);
                match pass {
                    Pass::Pair => {
                        let (lo, hi) = (self.args[&ai][0], self.args[&ai][1]);
                        self.store(I64, lo, off);
                        self.store(I64, hi, off + 8);
                    }
                    Pass::Ptr | Pass::Mem(_) if bytes > 8 => {
                        let p = self.arg(ai);
                        let buf = self.b.use_var(self.base);
                        self.copy(buf, off as i32, p, 0, bytes);
                    }
                    _ if matches!(bytes, 1 | 2 | 4 | 8) => {
                        let mut x = self.scalar(ai, bytes);
                        if a.kind == ArgumentKind::Count {
                            x = self.clamp_count(ai, x);
                        }
                        self.store(int_type(bytes), x, off);
                    }
                    _ => {
                        // A structure of 3, 5, 6 or 7 bytes in one register.
                        let x = self.arg(ai);
                        let tmp = self.b.create_sized_stack_slot(StackSlotData::new(
                            StackSlotKind::ExplicitSlot,
                            8,
                            3,
                        ));
                        let t = self.b.ins().stack_addr(I64, tmp, 0);
                        self.b.ins().store(mf(), x, t, 0);
                        let buf = self.b.use_var(self.base);
                        self.copy(buf, off as i32, t, 0, bytes);
                    }
                }
            }
            DataShape::FixedString { max } => {
                let src = self.arg(ai);
                let dst = self.addr(off);
                let n = self.b.ins().iconst(I64, max as i64);
                self.b.ins().call(
                    self.refs.strncpy.expect("declared by runtime_uses"),
                    &[dst, src, n],
                );
            }
            DataShape::FixedArray { bytes, .. } => {
                let src = self.arg(ai);
                let buf = self.b.use_var(self.base);
                self.copy(buf, off as i32, src, 0, bytes);
            }
            DataShape::PortArray { n } => {
                let src = self.arg(ai);
                for k in 0..n {
                    let x = self.b.ins().load(I32, mf(), src, (4 * k) as i32);
                    let x = self.b.ins().uextend(I64, x);
                    self.store(I64, x, off + 8 * k);
                }
            }
            DataShape::Ool => {
                let p = self.arg(ai);
                self.store(I64, p, off);
                if let Some(c) = a.count {
                    let cnt = self.scalar(c, 4);
                    let ratio = d.ratio();
                    let n = if ratio == 1 {
                        cnt
                    } else {
                        self.b.ins().imul_imm_u(cnt, ratio as i64)
                    };
                    self.store(I32, n, d.desc_offset + 4);
                }
            }
            DataShape::VarArray { max } => {
                let cnt = self.count_value(ai);
                let big = self
                    .b
                    .ins()
                    .icmp_imm_u(IntCC::UnsignedGreaterThan, cnt, max as i64);
                self.return_if(big, abi::MIG_ARRAY_TOO_LARGE);
                let n = self.b.ins().uextend(I64, cnt);
                let src = self.arg(ai);
                let dst = self.addr(off);
                if d.port {
                    self.ports_to_slots(dst, src, n);
                } else {
                    let bytes = self.b.ins().imul_imm_u(n, d.elem_bytes.max(1) as i64);
                    self.copy_bytes(dst, src, bytes);
                }
                self.store_number(d, cnt);
                return Some(self.padded(d.elem_bytes.max(1), n));
            }
            DataShape::VarString { max } => {
                // Up to max - 1 bytes and a NUL; msgt_number counts the NUL.
                let src = self.arg(ai);
                let dst = self.addr(off);
                let head = self.b.create_block();
                self.b.append_block_param(head, I64);
                let body = self.b.create_block();
                let done = self.b.create_block();
                self.b.append_block_param(done, I64);
                let zero = self.b.ins().iconst(I64, 0);
                self.b.ins().jump(head, &[BlockArg::Value(zero)]);
                self.b.switch_to_block(head);
                let i = self.b.block_params(head)[0];
                let i1 = self.b.ins().iadd_imm_s(i, 1);
                let room = self
                    .b
                    .ins()
                    .icmp_imm_u(IntCC::UnsignedLessThan, i1, max as i64);
                let at = self.b.ins().iadd(src, i);
                let c = self.b.ins().uload8(I32, mf(), at, 0);
                let nul = self.b.ins().icmp_imm_u(IntCC::Equal, c, 0);
                let stop = self.b.ins().icmp_imm_u(IntCC::Equal, room, 0);
                let stop = self.b.ins().bor(stop, nul);
                self.b
                    .ins()
                    .brif(stop, done, &[BlockArg::Value(i)], body, &[]);
                self.b.switch_to_block(body);
                self.b.seal_block(body);
                let to = self.b.ins().iadd(dst, i);
                self.b.ins().istore8(mf(), c, to, 0);
                self.b.ins().jump(head, &[BlockArg::Value(i1)]);
                self.b.seal_block(head);
                self.b.switch_to_block(done);
                self.b.seal_block(done);
                let i = self.b.block_params(done)[0];
                let to = self.b.ins().iadd(dst, i);
                let z = self.b.ins().iconst(I8, 0);
                self.b.ins().store(mf(), z, to, 0);
                let n = self.b.ins().iadd_imm_s(i, 1);
                let n32 = self.b.ins().ireduce(I32, n);
                self.store(I32, n32, d.desc_offset + 4);
                return Some(self.padded(1, n));
            }
            DataShape::Dynamic { max } => {
                let cnt = self.count_value(ai);
                let n = self.b.ins().uextend(I64, cnt);
                let src = self.arg(ai);
                let big = self
                    .b
                    .ins()
                    .icmp_imm_u(IntCC::UnsignedGreaterThan, cnt, max as i64);
                let ool = self.b.create_block();
                let inl = self.b.create_block();
                let join = self.b.create_block();
                self.b.append_block_param(join, I64);
                self.b.ins().brif(big, ool, &[], inl, &[]);
                // Out of line: the caller's array, by address.
                self.b.switch_to_block(ool);
                self.b.seal_block(ool);
                let w = self.load(I32, d.desc_offset);
                let mut w = self.b.ins().band_imm_u(w, !(1u32 << 29) as i64);
                let name_bits = self.v.target().port_name.size * 8;
                if d.port && d.size_bits != name_bits {
                    w = self.b.ins().band_imm_u(w, !(0xffffu32 << 8) as i64);
                    w = self.b.ins().bor_imm_u(w, (name_bits << 8) as i64);
                }
                self.store(I32, w, d.desc_offset);
                self.store(I64, src, off);
                self.set_complex();
                let ptr = self
                    .b
                    .ins()
                    .iconst(I64, self.v.target().c.pointer.size as i64);
                self.b.ins().jump(join, &[BlockArg::Value(ptr)]);
                // Inline.
                self.b.switch_to_block(inl);
                self.b.seal_block(inl);
                let dst = self.addr(off);
                if d.port {
                    self.set_complex();
                    self.ports_to_slots(dst, src, n);
                } else {
                    let bytes = self.b.ins().imul_imm_u(n, d.elem_bytes.max(1) as i64);
                    self.copy_bytes(dst, src, bytes);
                }
                let delta = self.padded(d.elem_bytes.max(1), n);
                self.b.ins().jump(join, &[BlockArg::Value(delta)]);
                self.b.switch_to_block(join);
                self.b.seal_block(join);
                let delta = self.b.block_params(join)[0];
                self.store_number(d, cnt);
                return Some(delta);
            }
        }
        None
    }

    /// The count of the array argument `ai` (its `<name>Cnt`), 32 bits.
    fn count_value(&mut self, ai: usize) -> Value {
        match self.r.arguments[ai].count {
            Some(c) => self.scalar(c, 4),
            None => self.b.ins().iconst(I32, 0),
        }
    }

    /// `msgt_number` of datum `d` for `cnt` C elements.
    fn store_number(&mut self, d: &Datum<'_>, cnt: Value) {
        let ratio = d.ratio();
        let n = if ratio == 1 {
            cnt
        } else {
            self.b.ins().imul_imm_u(cnt, ratio as i64)
        };
        self.store(I32, n, d.desc_offset + 4);
    }

    fn set_complex(&mut self) {
        let c = self.b.use_var(self.complex);
        let c = self
            .b
            .ins()
            .bor_imm_u(c, abi::MACH_MSGH_BITS_COMPLEX as i64);
        self.b.def_var(self.complex, c);
    }

    /// `e * n` bytes rounded up to the message alignment (64-bit).
    fn padded(&mut self, e: u32, n: Value) -> Value {
        let a = self.v.target().message_alignment as i64;
        let raw = if e == 1 {
            n
        } else {
            self.b.ins().imul_imm_u(n, e as i64)
        };
        if (e as i64) % a == 0 {
            raw
        } else {
            let x = self.b.ins().iadd_imm_s(raw, a - 1);
            self.b.ins().band_imm_u(x, !(a - 1))
        }
    }

    /// Moves the fixed layout by a variable datum's bytes past its maximum, and counts them.
    fn advance(&mut self, delta: Value, d: &Datum<'_>) {
        let size = self.b.use_var(self.size);
        let size = self.b.ins().iadd(size, delta);
        self.b.def_var(self.size, size);
        let base = self.b.use_var(self.base);
        let base = self.b.ins().iadd(base, delta);
        let base = self
            .b
            .ins()
            .iadd_imm_s(base, -((d.data_max + d.pad_max) as i64));
        self.b.def_var(self.base, base);
    }

    /// Runs `body(i)` for `i` in `start..end` (64-bit values).
    fn for_range(&mut self, start: Value, end: Value, mut body: impl FnMut(&mut Self, Value)) {
        let head = self.b.create_block();
        self.b.append_block_param(head, I64);
        let inner = self.b.create_block();
        let exit = self.b.create_block();
        self.b.ins().jump(head, &[BlockArg::Value(start)]);
        self.b.switch_to_block(head);
        let i = self.b.block_params(head)[0];
        let more = self.b.ins().icmp(IntCC::UnsignedLessThan, i, end);
        self.b.ins().brif(more, inner, &[], exit, &[]);
        self.b.switch_to_block(inner);
        self.b.seal_block(inner);
        body(self, i);
        let next = self.b.ins().iadd_imm_s(i, 1);
        self.b.ins().jump(head, &[BlockArg::Value(next)]);
        self.b.seal_block(head);
        self.b.switch_to_block(exit);
        self.b.seal_block(exit);
    }

    /// Copies `n` bytes (a 64-bit value) inline: 8-byte words, then bytes.
    fn copy_bytes(&mut self, dst: Value, src: Value, n: Value) {
        let words = self.b.ins().ushr_imm_u(n, 3);
        let zero = self.b.ins().iconst(I64, 0);
        self.for_range(zero, words, |s, k| {
            let o = s.b.ins().ishl_imm_u(k, 3);
            let from = s.b.ins().iadd(src, o);
            let x = s.b.ins().load(I64, mf(), from, 0);
            let to = s.b.ins().iadd(dst, o);
            s.b.ins().store(mf(), x, to, 0);
        });
        let start = self.b.ins().ishl_imm_u(words, 3);
        self.for_range(start, n, |s, k| {
            let from = s.b.ins().iadd(src, k);
            let x = s.b.ins().load(I8, mf(), from, 0);
            let to = s.b.ins().iadd(dst, k);
            s.b.ins().store(mf(), x, to, 0);
        });
    }

    /// `n` port names (4 bytes each) into 8-byte inline slots, upper halves zero.
    fn ports_to_slots(&mut self, slots: Value, names: Value, n: Value) {
        let zero = self.b.ins().iconst(I64, 0);
        self.for_range(zero, n, |s, k| {
            let o4 = s.b.ins().ishl_imm_u(k, 2);
            let from = s.b.ins().iadd(names, o4);
            let x = s.b.ins().uload32(mf(), from, 0);
            let o8 = s.b.ins().ishl_imm_u(k, 3);
            let to = s.b.ins().iadd(slots, o8);
            s.b.ins().store(mf(), x, to, 0);
        });
    }

    /// `n` port names out of 8-byte inline slots into a C array of 4-byte names.
    fn slots_to_ports(&mut self, names: Value, slots: Value, n: Value) {
        let zero = self.b.ins().iconst(I64, 0);
        self.for_range(zero, n, |s, k| {
            let o8 = s.b.ins().ishl_imm_u(k, 3);
            let from = s.b.ins().iadd(slots, o8);
            let x = s.b.ins().load(I32, mf(), from, 0);
            let o4 = s.b.ins().ishl_imm_u(k, 2);
            let to = s.b.ins().iadd(names, o4);
            s.b.ins().store(mf(), x, to, 0);
        });
    }

    /// Copies `count` elements of reply datum `d` from `src` to `dest` (ports name by name,
    /// data with `memcpy` when `count` is not zero).
    fn copy_elems_out(&mut self, d: &Datum<'_>, dest: Value, src: Value, count: Value) {
        let n = self.b.ins().uextend(I64, count);
        if d.port {
            self.slots_to_ports(dest, src, n);
            return;
        }
        let go = self.b.create_block();
        let after = self.b.create_block();
        self.b.ins().brif(count, go, &[], after, &[]);
        self.b.switch_to_block(go);
        self.b.seal_block(go);
        let bytes = self.b.ins().imul_imm_u(n, d.elem_bytes.max(1) as i64);
        self.b.ins().call(
            self.refs.memcpy.expect("declared by runtime_uses"),
            &[dest, src, bytes],
        );
        self.b.ins().jump(after, &[]);
        self.b.switch_to_block(after);
        self.b.seal_block(after);
    }

    /// A `CountInOut` count sent in the request: at most the array's inline maximum.
    fn clamp_count(&mut self, ai: usize, x: Value) -> Value {
        let m = self.v.module();
        let Some(p) = self.r.arguments[ai].parent else {
            return x;
        };
        let pt = m.ty(self.r.arguments[p].ty);
        match (pt.count, pt.storage) {
            (mig_ir::Count::Variable { max: Some(max) }, mig_ir::Storage::Inline) => {
                let c = self.b.ins().iconst(I32, max as i64);
                let lt = self.b.ins().icmp(IntCC::UnsignedLessThan, x, c);
                self.b.ins().select(lt, x, c)
            }
            _ => x,
        }
    }

    fn receive(&mut self, rep: &Message<'_>, own_reply: bool) {
        let r = self.r;
        let buf = self.buf;
        self.b.def_var(self.base, buf);
        let reply_id = r.reply_msgh_id.unwrap_or(r.msgh_id + 100);
        let id = self.load_head(I32, 28);
        let bad = self
            .b
            .ins()
            .icmp_imm_u(IntCC::NotEqual, id, reply_id as i64);
        let mismatch = self.b.create_block();
        let ok = self.b.create_block();
        self.b.ins().brif(bad, mismatch, &[], ok, &[]);
        self.b.switch_to_block(mismatch);
        self.b.seal_block(mismatch);
        let died = self
            .b
            .ins()
            .icmp_imm_u(IntCC::Equal, id, abi::MACH_NOTIFY_SEND_ONCE as i64);
        self.return_if(died, abi::MIG_SERVER_DIED);
        if own_reply {
            let p = self.load_head(I32, 16);
            self.b.ins().call(
                self.refs.dealloc_reply.expect("declared by runtime_uses"),
                &[p],
            );
        }
        let c = self.b.ins().iconst(I32, abi::MIG_REPLY_MISMATCH as i64);
        self.ret(c);
        self.b.switch_to_block(ok);
        self.b.seal_block(ok);

        let rc = &rep.data[0];
        let rc_off = rc.data_offset;
        let msgh_size = self.load_head(I32, 4);
        let bits = self.load_head(I32, 0);
        let complex = self
            .b
            .ins()
            .band_imm_u(bits, abi::MACH_MSGH_BITS_COMPLEX as i64);
        let simple = self.b.ins().icmp_imm_u(IntCC::Equal, complex, 0);
        let fixed = rep.fixed_size as i64;
        if rep.data.len() == 1 {
            let c1 = self.b.ins().icmp_imm_u(IntCC::NotEqual, simple, 1);
            let c2 = self.b.ins().icmp_imm_u(IntCC::NotEqual, msgh_size, fixed);
            let c = self.b.ins().bor(c1, c2);
            self.return_if(c, abi::MIG_TYPE_ERROR);
        } else {
            let cmp = if rep.variable {
                IntCC::UnsignedLessThan
            } else {
                IntCC::NotEqual
            };
            let mut first = self.b.ins().icmp_imm_u(cmp, msgh_size, fixed);
            if rep.always_complex() {
                first = self.b.ins().bor(first, simple);
            } else if !rep.maybe_complex() {
                let not_simple = self.b.ins().icmp_imm_u(IntCC::Equal, simple, 0);
                first = self.b.ins().bor(first, not_simple);
            }
            // Only a reply that fails the first test is looked at further (an error reply
            // with just a RetCode), off the path that succeeds.
            let slow = self.b.create_block();
            self.b.set_cold_block(slow);
            let fine = self.b.create_block();
            self.b.ins().brif(first, slow, &[], fine, &[]);
            self.b.switch_to_block(slow);
            self.b.seal_block(slow);
            let header_only = (rc_off + 8) as i64;
            let s1 = self
                .b
                .ins()
                .icmp_imm_u(IntCC::NotEqual, msgh_size, header_only);
            let s2 = self.b.ins().icmp_imm_u(IntCC::Equal, simple, 0);
            let retcode = self.load(I32, rc_off);
            let s3 = self.b.ins().icmp_imm_u(IntCC::Equal, retcode, 0);
            let second = self.b.ins().bor(s1, s2);
            let second = self.b.ins().bor(second, s3);
            self.return_if(second, abi::MIG_TYPE_ERROR);
            self.b.ins().jump(fine, &[]);
            self.b.switch_to_block(fine);
            self.b.seal_block(fine);
        }
        // RetCode descriptor.
        let (w0, w1) = rc.words(rc.received_name(), false);
        self.check_words(rc.desc_offset, w0, w1);
        let retcode = self.load(I32, rc_off);
        if rep.data.len() == 1 {
            self.ret(retcode);
            return;
        }
        let failed = self.b.create_block();
        let go = self.b.create_block();
        self.b.ins().brif(retcode, failed, &[], go, &[]);
        self.b.switch_to_block(failed);
        self.b.seal_block(failed);
        self.ret(retcode);
        self.b.switch_to_block(go);
        self.b.seal_block(go);
        let size = self.b.ins().uextend(I64, msgh_size);
        self.b.def_var(self.size, size);
        let last_var = rep.data.iter().rposition(|d| d.variable());
        for (k, d) in rep.data.iter().enumerate().skip(1) {
            self.type_check(d);
            let mut delta = None;
            if d.variable() {
                let x = self.received_size(d);
                let size = self.b.use_var(self.size);
                let want = self.b.ins().iadd_imm_s(x, rep.fixed_size as i64);
                let last = Some(k) == last_var;
                let cc = if last {
                    IntCC::NotEqual
                } else {
                    IntCC::UnsignedLessThan
                };
                let bad = self.b.ins().icmp(cc, size, want);
                self.return_if(bad, abi::MIG_TYPE_ERROR);
                if !last {
                    // `msgh_size -= msgh_size_delta` in 32-bit arithmetic.
                    let s = self.b.ins().isub(size, x);
                    let s = self.b.ins().band_imm_u(s, 0xffff_ffff);
                    self.b.def_var(self.size, s);
                }
                delta = Some(x);
            }
            self.copy_out(d);
            if let (Some(x), true) = (delta, k + 1 < rep.data.len()) {
                let base = self.b.use_var(self.base);
                let base = self.b.ins().iadd(base, x);
                let base = self
                    .b
                    .ins()
                    .iadd_imm_s(base, -((d.data_max + d.pad_max) as i64));
                self.b.def_var(self.base, base);
            }
        }
        let z = self.b.ins().iconst(I32, 0);
        self.ret(z);
    }

    /// Returns `MIG_TYPE_ERROR` unless the descriptor at `off` is exactly `(w0, w1)`.
    fn check_words(&mut self, off: u32, w0: u32, w1: u32) {
        let x = self.load(I64, off);
        let want = ((w1 as u64) << 32 | w0 as u64) as i64;
        let c = self.b.ins().icmp_imm_u(IntCC::NotEqual, x, want);
        self.return_if(c, abi::MIG_TYPE_ERROR);
    }

    fn type_check(&mut self, d: &Datum<'_>) {
        let fixed = !d.variable() && d.shape != DataShape::Ool;
        if !d.long && fixed && !d.recv_poly {
            let (w0, w1) = d.words(d.received_name(), false);
            self.check_words(d.desc_offset, w0, w1);
            return;
        }
        let w = self.load(I32, d.desc_offset);
        let dynamic = matches!(d.shape, DataShape::Dynamic { .. });
        let name_bits = self.v.target().port_name.size * 8;
        // A dynamic array of rights out of line holds names: its size depends on msgt_inline.
        let size_varies = dynamic && d.port && d.size_bits != name_bits;
        // longform, and the inline, name and size fields of the first word as they apply.
        let mut mask: u32 = 1 << 30;
        let mut want: u32 = (d.long as u32) << 30;
        if !dynamic {
            mask |= 1 << 29;
            want |= (d.inline as u32) << 29;
        }
        if !size_varies {
            mask |= 0xffff << 8;
            want |= (d.size_bits & 0xffff) << 8;
        }
        if !d.recv_poly {
            mask |= 0xff;
            want |= d.received_name() & 0xff;
        }
        let got = self.b.ins().band_imm_u(w, mask as i64);
        let mut c = self.b.ins().icmp_imm_u(IntCC::NotEqual, got, want as i64);
        if size_varies {
            let size = self.b.ins().ushr_imm_u(w, 8);
            let size = self.b.ins().band_imm_u(size, 0xffff);
            let inl = self.b.ins().band_imm_u(w, 1 << 29);
            let a = self.b.ins().iconst(I32, d.size_bits as i64);
            let b = self.b.ins().iconst(I32, name_bits as i64);
            let expect = self.b.ins().select(inl, a, b);
            let c2 = self.b.ins().icmp(IntCC::NotEqual, size, expect);
            c = self.b.ins().bor(c, c2);
        }
        if fixed {
            let n = self.load(I32, d.desc_offset + 4);
            let c2 = self.b.ins().icmp_imm_u(IntCC::NotEqual, n, d.number as i64);
            c = self.b.ins().bor(c, c2);
        }
        self.return_if(c, abi::MIG_TYPE_ERROR);
    }

    /// Bytes the received variable datum `d` takes, from its descriptor (64-bit arithmetic).
    fn received_size(&mut self, d: &Datum<'_>) -> Value {
        let number = self.load(I32, d.desc_offset + 4);
        let number = self.b.ins().uextend(I64, number);
        let e = (d.elem_bytes / d.ratio()).max(1);
        let inl = self.padded(e, number);
        if !matches!(d.shape, DataShape::Dynamic { .. }) {
            return inl;
        }
        let w = self.load(I32, d.desc_offset);
        let bit = self.b.ins().band_imm_u(w, 1 << 29);
        let ptr = self
            .b
            .ins()
            .iconst(I64, self.v.target().c.pointer.size as i64);
        self.b.ins().select(bit, inl, ptr)
    }

    fn copy_out(&mut self, d: &Datum<'_>) {
        let Some(ai) = d.arg else { return };
        let a = &self.r.arguments[ai];
        let off = d.data_offset;
        if let (Some(p), true) = (a.poly, d.recv_poly) {
            let w = self.load(I32, d.desc_offset);
            let name = self.b.ins().band_imm_u(w, 0xff);
            let dst = self.arg(p);
            self.b.ins().store(mf(), name, dst, 0);
        }
        let dest = self.arg(ai);
        match d.shape {
            DataShape::Port => {
                let x = self.load(I32, off);
                self.b.ins().store(mf(), x, dest, 0);
            }
            DataShape::Value => {
                let bytes = abi::value_size(self.v.module().ty(a.ty))
                    .max(1)
                    .min(d.data_max);
                let buf = self.b.use_var(self.base);
                self.copy(dest, 0, buf, off as i32, bytes);
            }
            DataShape::FixedString { max } => {
                let src = self.addr(off);
                let n = self.b.ins().iconst(I64, max as i64);
                self.b.ins().call(
                    self.refs.strncpy.expect("declared by runtime_uses"),
                    &[dest, src, n],
                );
            }
            DataShape::FixedArray { bytes, .. } => {
                let buf = self.b.use_var(self.base);
                self.copy(dest, 0, buf, off as i32, bytes);
            }
            DataShape::PortArray { n } => {
                for k in 0..n {
                    let x = self.load(I32, off + 8 * k);
                    self.b.ins().store(mf(), x, dest, (4 * k) as i32);
                }
            }
            DataShape::Ool => {
                let p = self.load(I64, off);
                self.b.ins().store(mf(), p, dest, 0);
                if let Some(c) = a.count {
                    let n = self.load(I32, d.desc_offset + 4);
                    let ratio = d.ratio();
                    let n = if ratio == 1 {
                        n
                    } else {
                        self.b.ins().udiv_imm_u(n, ratio as i64)
                    };
                    let cp = self.arg(c);
                    self.b.ins().store(mf(), n, cp, 0);
                }
            }
            DataShape::VarArray { max } | DataShape::VarString { max } => {
                let count = self.received_count(d);
                let src = self.addr(off);
                match a.count {
                    // The caller's count bounds the copy.
                    Some(c) => {
                        let cp = self.arg(c);
                        let room = self.b.ins().load(I32, mf(), cp, 0);
                        let big = self.b.ins().icmp(IntCC::UnsignedGreaterThan, count, room);
                        let too = self.b.create_block();
                        let fits = self.b.create_block();
                        self.b.ins().brif(big, too, &[], fits, &[]);
                        self.b.switch_to_block(too);
                        self.b.seal_block(too);
                        self.copy_elems_out(d, dest, src, room);
                        self.b.ins().store(mf(), count, cp, 0);
                        let e = self.b.ins().iconst(I32, abi::MIG_ARRAY_TOO_LARGE as i64);
                        self.ret(e);
                        self.b.switch_to_block(fits);
                        self.b.seal_block(fits);
                        self.copy_elems_out(d, dest, src, count);
                        self.b.ins().store(mf(), count, cp, 0);
                    }
                    // No count: the buffer is the type's maximum.
                    None => {
                        let big =
                            self.b
                                .ins()
                                .icmp_imm_u(IntCC::UnsignedGreaterThan, count, max as i64);
                        self.return_if(big, abi::MIG_TYPE_ERROR);
                        self.copy_elems_out(d, dest, src, count);
                    }
                }
            }
            DataShape::Dynamic { max } => {
                let count = self.received_count(d);
                let w = self.load(I32, d.desc_offset);
                let inl = self.b.ins().band_imm_u(w, 1 << 29);
                let ool = self.b.create_block();
                let inline = self.b.create_block();
                let join = self.b.create_block();
                self.b.ins().brif(inl, inline, &[], ool, &[]);
                self.b.switch_to_block(ool);
                self.b.seal_block(ool);
                let p = self.load(I64, off);
                self.b.ins().store(mf(), p, dest, 0);
                self.b.ins().jump(join, &[]);
                self.b.switch_to_block(inline);
                self.b.seal_block(inline);
                let big = self
                    .b
                    .ins()
                    .icmp_imm_u(IntCC::UnsignedGreaterThan, count, max as i64);
                self.return_if(big, abi::MIG_TYPE_ERROR);
                if let Some(c) = a.count {
                    let cp = self.arg(c);
                    let room = self.b.ins().load(I32, mf(), cp, 0);
                    let big = self.b.ins().icmp(IntCC::UnsignedGreaterThan, count, room);
                    let alloc = self.b.create_block();
                    let copy = self.b.create_block();
                    self.b.ins().brif(big, alloc, &[], copy, &[]);
                    self.b.switch_to_block(alloc);
                    self.b.seal_block(alloc);
                    let n = self.b.ins().uextend(I64, count);
                    let esize = self.element_c_size(d) as i64;
                    let bytes = self.b.ins().imul_imm_u(n, esize);
                    self.b.ins().call(
                        self.refs.allocate.expect("declared by runtime_uses"),
                        &[dest, bytes],
                    );
                    self.b.ins().jump(copy, &[]);
                    self.b.switch_to_block(copy);
                    self.b.seal_block(copy);
                }
                let to = self.b.ins().load(I64, mf(), dest, 0);
                let src = self.addr(off);
                self.copy_elems_out(d, to, src, count);
                self.b.ins().jump(join, &[]);
                self.b.switch_to_block(join);
                self.b.seal_block(join);
                if let Some(c) = a.count {
                    let cp = self.arg(c);
                    self.b.ins().store(mf(), count, cp, 0);
                }
            }
            DataShape::RetCode => {}
        }
    }

    /// C elements of a received datum: `msgt_number / ratio`.
    fn received_count(&mut self, d: &Datum<'_>) -> Value {
        let n = self.load(I32, d.desc_offset + 4);
        match d.ratio() {
            1 => n,
            r => self.b.ins().udiv_imm_u(n, r as i64),
        }
    }

    /// `sizeof` one C element of an array datum on the user side.
    fn element_c_size(&self, d: &Datum<'_>) -> u32 {
        let t = self.v.target();
        match d.ty {
            Some(ty) if ty.port => t.port_name.size,
            Some(ty) if ty.string => 1,
            Some(ty) => match ty.element {
                Some(h) => self.v.module().ty(h).c_size,
                None => ty.c_size,
            },
            None => 4,
        }
    }
}
