//! The server function's arguments: what each visible argument passes (a value from the
//! request, a port name, an address in the request or reply, or a local the reply is filled
//! from after the call), in prototype order, as the C server stub passes it.

use std::collections::BTreeMap;

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{InstBuilder, Value};
use mig_ir::shape::DataShape;
use mig_ir::ArgumentKind;

use super::{segments, var_max, visible_to_server, Handler, Local};
use crate::abi;
use crate::emit::{self, I16, I32, I64, I8};
use crate::model::{Datum, Message};

impl Handler<'_, '_> {
    /// The values passed to the server function, in prototype order.
    pub(super) fn arguments(
        &mut self,
        req: &Message<'_>,
        rep: Option<&Message<'_>>,
    ) -> Result<Vec<Value>, String> {
        let r = self.r;
        let m = self.v.module();
        let mut per_arg: BTreeMap<usize, Vec<Value>> = BTreeMap::new();
        for (i, a) in r.arguments.iter().enumerate() {
            if !visible_to_server(m, a, r) {
                continue;
            }
            let vals = self.argument(i, req, rep)?;
            per_arg.insert(i, vals);
        }
        let mut out = Vec::new();
        for i in abi::prototype_order(r) {
            if let Some(v) = per_arg.remove(&i) {
                out.extend(v);
            }
        }
        Ok(out)
    }

    fn argument(
        &mut self,
        i: usize,
        req: &Message<'_>,
        rep: Option<&Message<'_>>,
    ) -> Result<Vec<Value>, String> {
        use ArgumentKind::*;
        let r = self.r;
        let a = &r.arguments[i];
        let (inp, hd) = (self.inp, self.head);
        let req_datum = |i: usize| req.data.iter().position(|d| d.arg == Some(i));
        let rep_datum = |i: usize| rep.and_then(|m| m.data.iter().position(|d| d.arg == Some(i)));
        let one = |x: Value| Ok(vec![x]);
        match a.kind {
            RequestPort => one(self.load(I32, inp, hd.local)),
            ReplyPort | SReplyPort => one(self.load(I32, inp, hd.remote)),
            MsgSeqno => one(self.load(I32, inp, hd.seqno)),
            UReplyPort | WaitTime | MsgOption | Dealloc => Ok(vec![]),
            Poly => {
                let p = a.parent.unwrap_or(0);
                let parent = &r.arguments[p];
                match parent.kind {
                    ReplyPort | SReplyPort => {
                        let bits = self.load(I32, inp, hd.bits);
                        one(self.b.ins().band_imm_u(bits, 0xff))
                    }
                    RequestPort => {
                        let bits = self.load(I32, inp, hd.bits);
                        let x = self.b.ins().ushr_imm_u(bits, 8);
                        one(self.b.ins().band_imm_u(x, 0xff))
                    }
                    In => match req_datum(p) {
                        Some(k) => {
                            let base = self.seg_base[k];
                            let w = self.load(I32, base, req.data[k].desc_offset);
                            one(self.b.ins().band_imm_u(w, 0xff))
                        }
                        None => one(self.iconst(I32, 0)),
                    },
                    _ => {
                        let addr = self.slot(4);
                        self.locals.insert(i, Local { addr });
                        one(addr)
                    }
                }
            }
            ServerCopy => {
                let p = a.parent.unwrap_or(0);
                match req_datum(p) {
                    Some(k) => {
                        let base = self.seg_base[k];
                        one(self.inline_bit(base, &req.data[k]))
                    }
                    None => one(self.iconst(I32, 0)),
                }
            }
            Count => {
                let p = a.parent.unwrap_or(0);
                let parent = &r.arguments[p];
                if parent.kind == In {
                    return match req_datum(p) {
                        Some(k) => {
                            let d = &req.data[k];
                            let base = self.seg_base[k];
                            let n = self.load(I32, base, d.desc_offset + 4);
                            let ratio = d.ratio();
                            one(if ratio == 1 {
                                n
                            } else {
                                self.b.ins().udiv_imm_u(n, ratio as i64)
                            })
                        }
                        None => one(self.iconst(I32, 0)),
                    };
                }
                let addr = self.slot(4);
                self.locals.insert(i, Local { addr });
                let max = rep_datum(p).and_then(|k| var_max(&rep?.data[k]));
                if let Some(max) = max {
                    let c = self.iconst(I32, max as i64);
                    self.store(c, addr, 0);
                }
                if parent.count_in_out {
                    if let Some(k) = req_datum(i) {
                        let base = self.seg_base[k];
                        let src = self.load(I32, base, req.data[k].data_offset);
                        let val = if max.is_some() {
                            let cur = self.load(I32, addr, 0);
                            let lt = self.b.ins().icmp(IntCC::UnsignedLessThan, src, cur);
                            self.b.ins().select(lt, src, cur)
                        } else {
                            src
                        };
                        self.store(val, addr, 0);
                    }
                }
                one(addr)
            }
            In => {
                let Some(k) = req_datum(i) else {
                    return Ok(vec![]);
                };
                self.in_value(i, &req.data[k], self.seg_base[k])
            }
            Out | InOut => {
                let Some(rep) = rep else { return Ok(vec![]) };
                let Some(k) = rep_datum(i) else {
                    return Ok(vec![]);
                };
                let direct = segments(rep)[k] == 0;
                let src = req_datum(i).map(|rk| (&req.data[rk], self.seg_base[rk]));
                self.out_value(i, &rep.data[k], direct, src)
                    .map(|v| vec![v])
            }
        }
    }

    /// What an `In` argument passes: a value, a name, or an address.
    fn in_value(&mut self, i: usize, d: &Datum<'_>, base: Value) -> Result<Vec<Value>, String> {
        let m = self.v.module();
        let a = &self.r.arguments[i];
        let ty = m.ty(a.ty);
        let off = d.data_offset;
        let addr = |h: &mut Self| h.b.ins().iadd_imm_s(base, off as i64);
        Ok(match d.shape {
            DataShape::Port => vec![self.load(I32, base, off)],
            DataShape::PortArray { n } => {
                let names = self.slot(4 * n);
                let slots = addr(self);
                let c = self.iconst(I32, n as i64);
                self.names_from_slots(slots, names, c);
                vec![names]
            }
            DataShape::VarArray { max } if d.port => {
                let names = self.slot(4 * max.max(1));
                let slots = addr(self);
                let c = self.load(I32, base, d.desc_offset + 4);
                self.names_from_slots(slots, names, c);
                vec![names]
            }
            DataShape::Dynamic { max } => {
                let inline = self.inline_bit(base, d);
                let ool = self.load(I64, base, off);
                let inline_addr = if d.port && self.t.inline_port_size > self.t.port_name.size {
                    let names = self.slot(4 * max.max(1));
                    let slots = addr(self);
                    let c = self.load(I32, base, d.desc_offset + 4);
                    let zero = self.iconst(I32, 0);
                    let c = self.b.ins().select(inline, c, zero);
                    self.names_from_slots(slots, names, c);
                    names
                } else {
                    addr(self)
                };
                vec![self.b.ins().select(inline, inline_addr, ool)]
            }
            DataShape::Ool => vec![self.load(I64, base, off)],
            DataShape::Value => {
                let bytes = abi::value_size(ty).max(1).min(d.data_max);
                match bytes {
                    1 | 2 => {
                        let x = self.load(if bytes == 1 { I8 } else { I16 }, base, off);
                        vec![self.b.ins().uextend(I32, x)]
                    }
                    4 => vec![self.load(I32, base, off)],
                    8 => vec![self.load(I64, base, off)],
                    n if n < 8 => {
                        let tmp = self.slot(8);
                        let z = self.iconst(I64, 0);
                        self.store(z, tmp, 0);
                        emit::copy(&mut self.b, tmp, 0, base, off as i32, n);
                        vec![self.load(I64, tmp, 0)]
                    }
                    n if n <= 16 => {
                        let tmp = self.slot(16);
                        let z = self.iconst(I64, 0);
                        self.store(z, tmp, 0);
                        self.store(z, tmp, 8);
                        emit::copy(&mut self.b, tmp, 0, base, off as i32, n);
                        vec![self.load(I64, tmp, 0), self.load(I64, tmp, 8)]
                    }
                    n => {
                        return Err(format!(
                            "argument `{}` is a {n}-byte structure passed in memory",
                            a.name
                        ))
                    }
                }
            }
            DataShape::FixedString { .. }
            | DataShape::FixedArray { .. }
            | DataShape::VarArray { .. }
            | DataShape::VarString { .. } => vec![addr(self)],
            DataShape::RetCode => vec![],
        })
    }

    /// The address an `Out`/`InOut` argument passes (the reply's member when the server
    /// function can write it in place, else a local copied into the reply after the call).
    fn out_value(
        &mut self,
        i: usize,
        d: &Datum<'_>,
        direct: bool,
        src: Option<(&Datum<'_>, Value)>,
    ) -> Result<Value, String> {
        let m = self.v.module();
        let a = &self.r.arguments[i];
        let ty = m.ty(a.ty);
        let inout = a.kind == ArgumentKind::InOut;
        let (out, off) = (self.out, d.data_offset);
        let member = |h: &mut Self| h.b.ins().iadd_imm_s(out, off as i64);
        let local = |h: &mut Self, bytes: u32| {
            let addr = h.slot(bytes);
            h.locals.insert(i, Local { addr });
            addr
        };
        // InOut: the local starts with the request's value.
        let init = |h: &mut Self, addr: Value| {
            let Some((sd, base)) = src.filter(|_| inout) else {
                return;
            };
            match sd.shape {
                DataShape::Port => {
                    let x = h.load(I32, base, sd.data_offset);
                    h.store(x, addr, 0);
                }
                DataShape::FixedArray { bytes, .. } => {
                    emit::copy(&mut h.b, addr, 0, base, sd.data_offset as i32, bytes)
                }
                DataShape::FixedString { max } => {
                    emit::copy(&mut h.b, addr, 0, base, sd.data_offset as i32, max)
                }
                _ => {
                    let n = abi::value_size(ty).max(1).min(sd.data_max);
                    emit::copy(&mut h.b, addr, 0, base, sd.data_offset as i32, n)
                }
            }
        };
        Ok(match d.shape {
            DataShape::Port | DataShape::Value if !direct || inout => {
                let addr = local(self, d.data_max);
                init(self, addr);
                addr
            }
            DataShape::Port | DataShape::Value => member(self),
            DataShape::FixedString { max } if !direct || inout => {
                let addr = local(self, max);
                init(self, addr);
                addr
            }
            DataShape::FixedArray { bytes, .. } if !direct || inout => {
                let addr = local(self, bytes);
                init(self, addr);
                addr
            }
            DataShape::FixedString { .. } | DataShape::FixedArray { .. } => member(self),
            DataShape::PortArray { n } => local(self, 4 * n),
            DataShape::VarArray { max } | DataShape::VarString { max } => {
                if direct && !d.port {
                    member(self)
                } else {
                    local(self, d.data_max.max(max))
                }
            }
            DataShape::Dynamic { max } => {
                let buf = if direct && !d.port {
                    member(self)
                } else {
                    self.slot(d.data_max.max(4 * max.max(1)))
                };
                self.dyn_bufs.insert(i, buf);
                let p = local(self, 8);
                self.store(buf, p, 0);
                p
            }
            DataShape::Ool => {
                if direct {
                    member(self)
                } else {
                    local(self, 8)
                }
            }
            DataShape::RetCode => member(self),
        })
    }
}
