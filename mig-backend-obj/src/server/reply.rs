//! The reply after a successful call: descriptors, the data the server function left in
//! locals, variable data and its sizes, out-of-line dynamic arrays, and the complex bit, as the
//! C server stub fills them.

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{InstBuilder, Value};
use cranelift_frontend::Variable;
use mig_ir::shape::DataShape;
use mig_ir::{ArgumentKind, Dealloc};

use super::{dealloc_always, elem_bytes, segments, stride, Handler};
use crate::abi::{self, MACH_MSGH_BITS_COMPLEX};
use crate::emit::{self, I32, I64, I8};
use crate::model::{Datum, Message};

impl Handler<'_, '_> {
    pub(super) fn fill_reply(&mut self, rep: &Message<'_>, variable: bool) {
        let r = self.r;
        let m = self.v.module();
        let (out_head, hd) = (self.out, self.head);
        let simple = self.b.declare_var(I32);
        let one = self.iconst(I32, 1);
        self.b.def_var(simple, one);
        if rep.always_complex() {
            let bits = self.load(I32, out_head, hd.bits);
            let bits = self.b.ins().bor_imm_u(bits, MACH_MSGH_BITS_COMPLEX as i64);
            self.store(bits, out_head, hd.bits);
        }
        let size = self.b.declare_var(I32);
        let fixed = self.iconst(I32, rep.fixed_size as i64);
        self.b.def_var(size, fixed);
        let seg = segments(rep);
        let mut outp = out_head;
        for (k, d) in rep.data.iter().enumerate().skip(1) {
            let Some(ai) = d.arg else { continue };
            let a = &r.arguments[ai];
            let direct = seg[k] == 0;
            let inout = a.kind == ArgumentKind::InOut;
            let dynamic = matches!(d.shape, DataShape::Dynamic { .. });
            let dealloc = dealloc_always(m, a) && !dynamic;
            let (w0, w1) = d.words(d.sent_name(), dealloc);
            let w = self.iconst(I64, ((w1 as u64) << 32 | w0 as u64) as i64);
            self.store(w, outp, d.desc_offset);
            if let Some(pl) = d.poly {
                let addr = self.locals[&pl].addr;
                let poly = self.load(I32, addr, 0);
                let any = self.port_any(poly);
                let cur = self.b.use_var(simple);
                let zero = self.iconst(I32, 0);
                let s = self.b.ins().select(any, zero, cur);
                self.b.def_var(simple, s);
                let byte = self.b.ins().ireduce(I8, poly);
                self.store(byte, outp, d.desc_offset);
            }
            let off = d.data_offset;
            let local = self.locals.get(&ai).map(|l| l.addr);
            let count = a.count.map(|c| {
                let addr = self.locals[&c].addr;
                self.load(I32, addr, 0)
            });
            let ratio = d.ratio();
            let times = |h: &mut Self, c: Value| {
                if ratio == 1 {
                    c
                } else {
                    h.b.ins().imul_imm_u(c, ratio as i64)
                }
            };
            let member = self.b.ins().iadd_imm_s(outp, off as i64);
            let mut delta = None;
            match d.shape {
                DataShape::RetCode => {}
                DataShape::Port => {
                    let from = match local {
                        Some(l) if !direct || inout => l,
                        _ => member,
                    };
                    let x = self.load(I32, from, 0);
                    let x = self.widen_name(x);
                    self.store(x, outp, off);
                }
                DataShape::Value => {
                    if let (Some(l), true) = (local, !direct || inout) {
                        let n = abi::value_size(m.ty(a.ty)).max(1).min(d.data_max);
                        emit::copy(&mut self.b, outp, off as i32, l, 0, n);
                    }
                }
                DataShape::FixedString { max: n } | DataShape::FixedArray { bytes: n, .. } => {
                    if let (Some(l), true) = (local, !direct || inout) {
                        emit::copy(&mut self.b, outp, off as i32, l, 0, n);
                    }
                }
                DataShape::PortArray { n } => {
                    let l = local.expect("port array local");
                    let c = self.iconst(I32, n as i64);
                    self.names_to_slots(l, member, c);
                }
                DataShape::VarString { max } => {
                    let from = match local {
                        Some(l) if !direct => l,
                        _ => member,
                    };
                    let n = self.string_out(from, member, max, !direct);
                    let number = self.b.ins().iadd_imm_u(n, 1);
                    self.store(number, outp, d.desc_offset + 4);
                    delta = Some(self.padded(elem_bytes(self.t, d), number));
                }
                DataShape::VarArray { .. } => {
                    let c = match count {
                        Some(c) => c,
                        None => self.iconst(I32, 0),
                    };
                    if d.port {
                        let l = local.expect("port array local");
                        self.names_to_slots(l, member, c);
                    } else if let (Some(l), false) = (local, direct) {
                        let n = self.b.ins().imul_imm_u(c, elem_bytes(self.t, d) as i64);
                        self.copy_bytes(member, l, n);
                    }
                    let number = times(self, c);
                    self.store(number, outp, d.desc_offset + 4);
                    delta = Some(self.padded(elem_bytes(self.t, d), c));
                }
                DataShape::Dynamic { .. } => {
                    let c = match count {
                        Some(c) => c,
                        None => self.iconst(I32, 0),
                    };
                    delta = Some(self.dynamic_out(ai, d, outp, member, c, direct, simple));
                    let number = times(self, c);
                    self.store(number, outp, d.desc_offset + 4);
                }
                DataShape::Ool => {
                    if let (Some(l), false) = (local, direct) {
                        let p = self.load(I64, l, 0);
                        self.store(p, outp, off);
                    }
                    if let Some(c) = count {
                        let number = times(self, c);
                        self.store(number, outp, d.desc_offset + 4);
                    }
                }
            }
            if let Some(delta) = delta {
                let s = self.b.use_var(size);
                let s = self.b.ins().iadd(s, delta);
                self.b.def_var(size, s);
                if k + 1 < rep.data.len() {
                    let d64 = self.b.ins().uextend(I64, delta);
                    let p = self.b.ins().iadd(outp, d64);
                    outp = self.b.ins().iadd_imm_s(p, -(stride(rep, k) as i64));
                }
            }
        }
        let s = if variable {
            self.b.use_var(size)
        } else {
            self.iconst(I32, rep.fixed_size as i64)
        };
        self.store(s, out_head, hd.size);
        if rep.runtime_complex() {
            let s = self.b.use_var(simple);
            let bits = self.load(I32, out_head, hd.bits);
            let with = self.b.ins().bor_imm_u(bits, MACH_MSGH_BITS_COMPLEX as i64);
            let bits = self.b.ins().select(s, bits, with);
            self.store(bits, out_head, hd.bits);
        }
    }

    /// Copies (when `copy`) or measures a string of at most `max - 1` characters, NUL-ends it
    /// in `dst`; returns its length.
    fn string_out(&mut self, src: Value, dst: Value, max: u32, copy: bool) -> Value {
        let n = self.b.declare_var(I32);
        let zero = self.iconst(I32, 0);
        self.b.def_var(n, zero);
        let head = self.b.create_block();
        let test = self.b.create_block();
        let step = self.b.create_block();
        let exit = self.b.create_block();
        self.b.ins().jump(head, &[]);
        self.b.switch_to_block(head);
        let nv = self.b.use_var(n);
        let n1 = self.b.ins().iadd_imm_u(nv, 1);
        let room = self
            .b
            .ins()
            .icmp_imm_u(IntCC::UnsignedLessThan, n1, max as i64);
        self.b.ins().brif(room, test, &[], exit, &[]);
        self.b.switch_to_block(test);
        self.b.seal_block(test);
        let p = self.index(src, nv, 1);
        let ch = self.load(I8, p, 0);
        self.b.ins().brif(ch, step, &[], exit, &[]);
        self.b.switch_to_block(step);
        self.b.seal_block(step);
        if copy {
            let q = self.index(dst, nv, 1);
            self.store(ch, q, 0);
        }
        self.b.def_var(n, n1);
        self.b.ins().jump(head, &[]);
        self.b.seal_block(head);
        self.b.switch_to_block(exit);
        self.b.seal_block(exit);
        let nv = self.b.use_var(n);
        let q = self.index(dst, nv, 1);
        let z = self.iconst(I8, 0);
        self.store(z, q, 0);
        nv
    }

    /// A dynamic array in the reply: out of line when the server function returned memory of
    /// its own, else inline; returns the bytes it takes in the reply.
    #[allow(clippy::too_many_arguments)]
    fn dynamic_out(
        &mut self,
        ai: usize,
        d: &Datum<'_>,
        outp: Value,
        member: Value,
        c: Value,
        direct: bool,
        simple: Variable,
    ) -> Value {
        let m = self.v.module();
        let a = &self.r.arguments[ai];
        let buf = self.dyn_bufs[&ai];
        let pslot = self.locals[&ai].addr;
        let p = self.load(I64, pslot, 0);
        let delta = self.b.declare_var(I32);
        let ool = self.b.create_block();
        let inline = self.b.create_block();
        let done = self.b.create_block();
        let moved = self.b.ins().icmp(IntCC::NotEqual, p, buf);
        self.b.ins().brif(moved, ool, &[], inline, &[]);
        // Out of line.
        self.b.switch_to_block(ool);
        self.b.seal_block(ool);
        let mut w = self.load(I32, outp, d.desc_offset);
        w = self.b.ins().band_imm_u(w, !(1i64 << 29) & 0xffff_ffff);
        let port_bits = self.t.port_name.size * 8;
        if d.port && d.size_bits != port_bits {
            w = self.b.ins().band_imm_u(w, !(0xffffi64 << 8) & 0xffff_ffff);
            w = self.b.ins().bor_imm_u(w, (port_bits as i64) << 8);
        }
        if dealloc_always(m, a) || a.dealloc == Dealloc::Default && a.count_in_out {
            w = self.b.ins().bor_imm_u(w, 1 << 31);
        }
        self.store(w, outp, d.desc_offset);
        self.store(p, outp, d.data_offset);
        let zero = self.iconst(I32, 0);
        self.b.def_var(simple, zero);
        let ptr = self.iconst(I32, self.t.c.pointer.size as i64);
        self.b.def_var(delta, ptr);
        self.b.ins().jump(done, &[]);
        // Inline.
        self.b.switch_to_block(inline);
        self.b.seal_block(inline);
        if d.port {
            let zero = self.iconst(I32, 0);
            self.b.def_var(simple, zero);
            self.names_to_slots(p, member, c);
        } else if !direct {
            let n = self.b.ins().imul_imm_u(c, elem_bytes(self.t, d) as i64);
            self.copy_bytes(member, p, n);
        }
        let x = self.padded(elem_bytes(self.t, d), c);
        self.b.def_var(delta, x);
        self.b.ins().jump(done, &[]);
        self.b.switch_to_block(done);
        self.b.seal_block(done);
        self.b.use_var(delta)
    }
}
