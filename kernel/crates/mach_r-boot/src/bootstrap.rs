//! GNU Mach's bootstrap conventions: what a boot module's string means, and the initial user
//! stack of a task started from it.
//!
//! A module string such as
//! `prog --host-priv-port=${host-port} --device-master-port=${device-port} $(task-create) $(task-resume)`
//! is one line of GNU Mach's boot script. Everything here was observed by booting GNU Mach 1.8
//! with `tests/gnumach/stack_probe.c` (transcripts in `tests/gnumach/observed/`):
//!
//! - Words are separated by spaces and tabs; quotes are ordinary characters. The first word is
//!   the module's name and `argv[0]`; the remaining words, expanded, are `argv[1..]`.
//! - `${name}` expands to a value: `host-port` and `device-port` (the privileged host port and
//!   the device master port), a task variable defined by `$(name=task-create)` in any module
//!   line, `kernel-command-line` (the whole kernel command line as the loader passed it, one
//!   word even with spaces), or a `name=value` word of the kernel command line. A port becomes
//!   the decimal name of a send right inserted into the new task: names 1, 2, ... in the order
//!   the ports first appear in the line, one name per distinct port. Text before `${...}` in the
//!   same word is kept as a prefix; the word ends after the `}` (`x${host-port}y` is the two
//!   words `x1` and `y`). An unknown name stops the boot (GNU Mach panics with
//!   `bootstrap script missing symbol 'NAME'`).
//! - `$(task-create)` loads the module as a new task, `$(name=task-create)` also binds the task
//!   port to `name`; `$(task-resume)` starts it; `$(prompt-task-resume)` starts it after the
//!   console prompt `Pausing for NAME...` / `Hit <return> to resume bootstrap.`. A module
//!   without `$(task-create)` is no task; a task without a resume stays suspended; a resume
//!   without a task stops the boot. A directive produces no argument, and one GNU Mach does not
//!   know (`$(nosuch)`) is ignored. `$(` opens a directive only at the start of a word:
//!   `a$(task-create)b` is text and creates no task.
//! - The initial stack ([`build_stack`]): `argc`, the `argv` pointers, NULL, the `envp`
//!   pointers, NULL (8-byte slots), then the argument strings packed with their NULs, the
//!   environment strings after them; the whole block rounded up to 16 bytes and ending at the
//!   stack top, so `%rsp` is 16-aligned and the padding lies between the last string and the
//!   top. GNU Mach passes an empty environment.
//!
//! Not observed, chosen here: text right after a directive's `)` starts a new word; a `$` not
//! followed by `{` or `(` is an ordinary character.

use crate::MAX_MODULES;

/// Most arguments of one task (`argv[0]` included).
pub const MAX_ARGS: usize = 64;
/// Most bytes of one task's expanded arguments (NULs included).
pub const MAX_ARG_BYTES: usize = 1024;
/// Most distinct ports one module line can name.
pub const MAX_PORTS: usize = 8;

/// A port a module line names; the kernel inserts a send right to it into the new task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortRef {
    /// `${host-port}`: the privileged host port.
    HostPriv,
    /// `${device-port}`: the device master port.
    DeviceMaster,
    /// A task variable: the task port of the module with this index.
    Task(usize),
}

/// When a created task starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resume {
    /// No resume directive: the task stays suspended.
    Never,
    /// `$(task-resume)`.
    Now,
    /// `$(prompt-task-resume)`: after a key on the console.
    AfterPrompt,
}

/// Why a module line cannot be run. Ranges are byte offsets into the module string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScriptError {
    /// `${name}` names nothing (GNU Mach: `bootstrap script missing symbol 'name'`).
    UndefinedSymbol {
        /// Module index.
        module: usize,
        /// The name's range.
        start: usize,
        /// End of the name's range.
        end: usize,
    },
    /// A resume directive in a line that creates no task (GNU Mach:
    /// `boot_script_task_resume failed with 4`, then a panic).
    ResumeWithoutTask {
        /// Module index.
        module: usize,
    },
    /// `${` or `$(` without its closing bracket.
    Unterminated {
        /// Module index.
        module: usize,
        /// Where the `$` is.
        at: usize,
    },
    /// More than [`MAX_ARGS`] arguments, [`MAX_ARG_BYTES`] bytes or [`MAX_PORTS`] ports.
    TooLarge {
        /// Module index.
        module: usize,
    },
    /// The line has no first word (no name).
    Empty {
        /// Module index.
        module: usize,
    },
}

/// What the kernel does with one module: the task to create, its arguments and ports.
#[derive(Debug, Clone)]
pub struct ModulePlan {
    /// `$(task-create)` or `$(name=task-create)` is present.
    pub create: bool,
    /// When the task starts.
    pub resume: Resume,
    bytes: [u8; MAX_ARG_BYTES],
    n_bytes: usize,
    args: [(u16, u16); MAX_ARGS],
    argc: usize,
    ports: [PortRef; MAX_PORTS],
    n_ports: usize,
}

impl ModulePlan {
    fn new() -> ModulePlan {
        ModulePlan {
            create: false,
            resume: Resume::Never,
            bytes: [0; MAX_ARG_BYTES],
            n_bytes: 0,
            args: [(0, 0); MAX_ARGS],
            argc: 0,
            ports: [PortRef::HostPriv; MAX_PORTS],
            n_ports: 0,
        }
    }

    /// Number of arguments (`argv[0]` included).
    pub fn argc(&self) -> usize {
        self.argc
    }

    /// Argument `i` without its NUL.
    pub fn arg(&self, i: usize) -> &[u8] {
        let (s, e) = self.args[..self.argc][i];
        &self.bytes[usize::from(s)..usize::from(e)]
    }

    /// The arguments in order.
    pub fn argv(&self) -> impl Iterator<Item = &[u8]> + Clone + '_ {
        (0..self.argc).map(move |i| self.arg(i))
    }

    /// The module's name: `argv[0]`, the first word of the line.
    pub fn name(&self) -> &[u8] {
        self.arg(0)
    }

    /// The ports to insert into the new task as send rights, in order: `ports()[i]` must
    /// receive the name `i + 1` (what GNU Mach gives a fresh task).
    pub fn ports(&self) -> &[PortRef] {
        &self.ports[..self.n_ports]
    }

    /// The initial stack of this task for the stack top `top`, written into `out`, with the
    /// empty environment GNU Mach passes (see [`build_stack`]).
    pub fn build_stack(&self, top: u64, out: &mut [u8]) -> Result<StackImage, StackError> {
        build_stack(top, self.argv(), core::iter::empty(), out)
    }

    fn port_name(&mut self, p: PortRef) -> Option<u32> {
        let i = match self.ports().iter().position(|&q| q == p) {
            Some(i) => i,
            None if self.n_ports < MAX_PORTS => {
                self.ports[self.n_ports] = p;
                self.n_ports += 1;
                self.n_ports - 1
            }
            None => return None,
        };
        Some(i as u32 + 1)
    }

    fn push_bytes(&mut self, b: &[u8]) -> bool {
        let Some(end) = self
            .n_bytes
            .checked_add(b.len())
            .filter(|&e| e <= MAX_ARG_BYTES)
        else {
            return false;
        };
        self.bytes[self.n_bytes..end].copy_from_slice(b);
        self.n_bytes = end;
        true
    }

    fn end_word(&mut self, start: usize) -> bool {
        if self.argc == MAX_ARGS {
            return false;
        }
        self.args[self.argc] = (start as u16, self.n_bytes as u16);
        self.argc += 1;
        true
    }
}

/// The boot script: all module lines with the kernel command line.
#[derive(Debug, Clone)]
pub struct Script<'a> {
    cmdline: &'a [u8],
    task_vars: [(&'a [u8], usize); MAX_MODULES],
    n_task_vars: usize,
}

/// A word's pieces while a line is scanned.
enum Piece<'a> {
    Text(&'a [u8]),
    Var(usize, usize),
    Func(usize, usize),
    Space,
}

/// The pieces of a module line. `${` starts a variable anywhere; `$(` starts a function only
/// at the start of a word (GNU Mach takes `a$(task-create)b` as text: it creates no task).
struct Pieces<'a> {
    line: &'a [u8],
    i: usize,
    in_word: bool,
}

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r')
}

impl<'a> Pieces<'a> {
    fn new(line: &'a [u8]) -> Pieces<'a> {
        Pieces {
            line,
            i: 0,
            in_word: false,
        }
    }

    fn opens(&self, j: usize, bracket: u8) -> bool {
        self.line[j] == b'$' && self.line.get(j + 1) == Some(&bracket)
    }

    /// The bracketed piece at `i`: `(start, end)` of its body; `Err(i)` if unterminated.
    fn bracketed(&mut self, close: u8) -> Result<(usize, usize), usize> {
        let i = self.i;
        let len = self.line[i + 2..]
            .iter()
            .position(|&c| c == close)
            .ok_or(i)?;
        self.i = i + 3 + len;
        self.in_word = false;
        Ok((i + 2, i + 2 + len))
    }
}

impl<'a> Iterator for Pieces<'a> {
    /// A piece, or the offset of an unterminated `${` / `$(`.
    type Item = Result<Piece<'a>, usize>;

    fn next(&mut self) -> Option<Self::Item> {
        let line = self.line;
        let i = self.i;
        if i >= line.len() {
            return None;
        }
        if is_space(line[i]) {
            while self.i < line.len() && is_space(line[self.i]) {
                self.i += 1;
            }
            self.in_word = false;
            return Some(Ok(Piece::Space));
        }
        if self.opens(i, b'{') {
            return Some(self.bracketed(b'}').map(|(a, b)| Piece::Var(a, b)));
        }
        if !self.in_word && self.opens(i, b'(') {
            return Some(self.bracketed(b')').map(|(a, b)| Piece::Func(a, b)));
        }
        let mut j = i + 1;
        while j < line.len() && !is_space(line[j]) && !self.opens(j, b'{') {
            j += 1;
        }
        self.i = j;
        self.in_word = true;
        Some(Ok(Piece::Text(&line[i..j])))
    }
}

/// The task variable a `$(...)` body defines (`name=task-create`), if any.
fn task_var_of(body: &[u8]) -> Option<&[u8]> {
    let eq = body.iter().position(|&c| c == b'=')?;
    (&body[eq + 1..] == b"task-create").then_some(&body[..eq])
}

impl<'a> Script<'a> {
    /// A script over the module lines `lines` (in module order) and the kernel command line
    /// as the loader passed it. Task variables of every line are known to every line.
    pub fn new<I>(cmdline: &'a [u8], lines: I) -> Script<'a>
    where
        I: IntoIterator<Item = &'a [u8]>,
    {
        let mut s = Script {
            cmdline,
            task_vars: [(&[][..], 0); MAX_MODULES],
            n_task_vars: 0,
        };
        for (module, line) in lines.into_iter().enumerate() {
            for piece in Pieces::new(line) {
                let Ok(Piece::Func(a, b)) = piece else {
                    continue;
                };
                if let Some(name) = task_var_of(&line[a..b]) {
                    if s.n_task_vars < MAX_MODULES {
                        s.task_vars[s.n_task_vars] = (name, module);
                        s.n_task_vars += 1;
                    }
                }
            }
        }
        s
    }

    /// The value of a `name=value` word of the kernel command line.
    fn cmdline_var(&self, name: &[u8]) -> Option<&'a [u8]> {
        self.cmdline
            .split(|&c| c == b' ' || c == b'\t')
            .find_map(|w| w.strip_prefix(name)?.strip_prefix(b"="))
    }

    /// Plans module `module` from its line.
    pub fn plan(&self, module: usize, line: &[u8]) -> Result<ModulePlan, ScriptError> {
        let mut plan = ModulePlan::new();
        let too_large = ScriptError::TooLarge { module };
        let mut word: Option<usize> = None;
        for piece in Pieces::new(line) {
            match piece.map_err(|at| ScriptError::Unterminated { module, at })? {
                Piece::Space => {
                    if let Some(start) = word.take() {
                        plan.end_word(start).then_some(()).ok_or(too_large)?;
                    }
                }
                Piece::Text(t) => {
                    word.get_or_insert(plan.n_bytes);
                    plan.push_bytes(t).then_some(()).ok_or(too_large)?;
                }
                Piece::Var(a, b) => {
                    let start = *word.get_or_insert(plan.n_bytes);
                    self.expand(&mut plan, module, &line[a..b])
                        .ok_or(ScriptError::UndefinedSymbol {
                            module,
                            start: a,
                            end: b,
                        })?
                        .then_some(())
                        .ok_or(too_large)?;
                    word = None;
                    plan.end_word(start).then_some(()).ok_or(too_large)?;
                }
                Piece::Func(a, b) => {
                    let body = &line[a..b];
                    match body {
                        b"task-create" => plan.create = true,
                        b"task-resume" => plan.resume = Resume::Now,
                        b"prompt-task-resume" => plan.resume = Resume::AfterPrompt,
                        _ if task_var_of(body).is_some() => plan.create = true,
                        // GNU Mach runs the module as if the word were absent.
                        _ => {}
                    }
                }
            }
        }
        if let Some(start) = word {
            plan.end_word(start).then_some(()).ok_or(too_large)?;
        }
        if plan.argc == 0 {
            return Err(ScriptError::Empty { module });
        }
        if plan.resume != Resume::Never && !plan.create {
            return Err(ScriptError::ResumeWithoutTask { module });
        }
        Ok(plan)
    }

    /// Appends the value of `${name}`; `None` when undefined, `Some(false)` when too large.
    fn expand(&self, plan: &mut ModulePlan, _module: usize, name: &[u8]) -> Option<bool> {
        let port = match name {
            b"host-port" => Some(PortRef::HostPriv),
            b"device-port" => Some(PortRef::DeviceMaster),
            _ => self.task_vars[..self.n_task_vars]
                .iter()
                .find(|(n, _)| *n == name)
                .map(|&(_, m)| PortRef::Task(m)),
        };
        if let Some(p) = port {
            let Some(n) = plan.port_name(p) else {
                return Some(false);
            };
            let mut digits = [0u8; 10];
            return Some(plan.push_bytes(decimal(n, &mut digits)));
        }
        let value = if name == b"kernel-command-line" {
            self.cmdline
        } else {
            self.cmdline_var(name)?
        };
        Some(plan.push_bytes(value))
    }
}

fn decimal(mut n: u32, buf: &mut [u8; 10]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return &buf[i..];
        }
    }
}

/// The initial stack of a task: the bytes of `[sp, top)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StackImage {
    /// The task's `%rsp` at entry (points at `argc`).
    pub sp: u64,
    /// Bytes of the image (`top - sp`), written at the start of the output buffer.
    pub len: usize,
}

/// Why [`build_stack`] failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StackError {
    /// The output buffer is smaller than the image; the image needs this many bytes.
    BufferTooSmall(usize),
    /// The stack top is not 16-aligned or the image would wrap below address 0.
    BadTop,
}

/// Lays out the initial stack as GNU Mach does for the stack top `top` (16-aligned): `argc`,
/// the `argv` pointers, NULL, the `envp` pointers, NULL, then the strings; the block is
/// rounded up to 16 bytes and ends at `top`. The image of `[sp, top)` is written to
/// `out[..len]`.
pub fn build_stack<'s, A, E>(
    top: u64,
    argv: A,
    envp: E,
    out: &mut [u8],
) -> Result<StackImage, StackError>
where
    A: Iterator<Item = &'s [u8]> + Clone,
    E: Iterator<Item = &'s [u8]> + Clone,
{
    if !top.is_multiple_of(16) {
        return Err(StackError::BadTop);
    }
    let argc = argv.clone().count();
    let envc = envp.clone().count();
    let slots = 8 * (argc + envc + 3);
    let strings: usize = argv.clone().chain(envp.clone()).map(|s| s.len() + 1).sum();
    let len = (slots + strings).div_ceil(16) * 16;
    let sp = top.checked_sub(len as u64).ok_or(StackError::BadTop)?;
    if out.len() < len {
        return Err(StackError::BufferTooSmall(len));
    }
    let out = &mut out[..len];
    out.fill(0);
    out[0..8].copy_from_slice(&(argc as u64).to_le_bytes());
    let mut slot = 8;
    let mut at = slots;
    let mut put = |out: &mut [u8], slot: &mut usize, s: &[u8]| {
        out[*slot..*slot + 8].copy_from_slice(&(sp + at as u64).to_le_bytes());
        *slot += 8;
        out[at..at + s.len()].copy_from_slice(s);
        at += s.len() + 1;
    };
    for s in argv {
        put(out, &mut slot, s);
    }
    slot += 8; // NULL after argv
    for s in envp {
        put(out, &mut slot, s);
    }
    Ok(StackImage { sp, len })
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::vec::Vec;

    fn argv(p: &ModulePlan) -> Vec<&[u8]> {
        p.argv().collect()
    }

    #[test]
    fn words_variables_and_directives() {
        let line: &[u8] = b"prog --host-priv-port=${host-port} --device-master-port=${device-port} $(task-create) $(task-resume)";
        let s = Script::new(b"", [line]);
        let p = s.plan(0, line).unwrap();
        assert_eq!(
            argv(&p),
            [
                &b"prog"[..],
                b"--host-priv-port=1",
                b"--device-master-port=2"
            ]
        );
        assert_eq!(p.ports(), [PortRef::HostPriv, PortRef::DeviceMaster]);
        assert!(p.create);
        assert_eq!(p.resume, Resume::Now);
        assert_eq!(p.name(), b"prog");
    }

    #[test]
    fn errors_name_their_place() {
        let s = Script::new(b"", []);
        assert_eq!(
            s.plan(3, b"p ${nosuch}").unwrap_err(),
            ScriptError::UndefinedSymbol {
                module: 3,
                start: 4,
                end: 10
            }
        );
        assert_eq!(
            s.plan(0, b"p $(task-resume)").unwrap_err(),
            ScriptError::ResumeWithoutTask { module: 0 }
        );
        assert_eq!(
            s.plan(0, b"p ${host-port").unwrap_err(),
            ScriptError::Unterminated { module: 0, at: 2 }
        );
        assert_eq!(
            s.plan(1, b"  $(task-create) ").unwrap_err(),
            ScriptError::Empty { module: 1 }
        );
        let long = [b'a'; MAX_ARG_BYTES + 1];
        assert_eq!(
            s.plan(0, &long).unwrap_err(),
            ScriptError::TooLarge { module: 0 }
        );
        let many: Vec<u8> = b"a ".repeat(MAX_ARGS + 1);
        assert_eq!(
            s.plan(0, &many).unwrap_err(),
            ScriptError::TooLarge { module: 0 }
        );
        // A lone `$` and `$x` are ordinary text.
        let p = s.plan(0, b"p $ a$b").unwrap();
        assert_eq!(argv(&p), [&b"p"[..], b"$", b"a$b"]);
    }

    #[test]
    fn stack_buffer_and_top_are_checked() {
        let a: [&[u8]; 1] = [b"x"];
        let mut small = [0u8; 16];
        assert_eq!(
            build_stack(0x1000, a.iter().copied(), core::iter::empty(), &mut small),
            Err(StackError::BufferTooSmall(48))
        );
        let mut buf = [0u8; 64];
        assert_eq!(
            build_stack(0x1008, a.iter().copied(), core::iter::empty(), &mut buf),
            Err(StackError::BadTop)
        );
        assert_eq!(
            build_stack(16, a.iter().copied(), core::iter::empty(), &mut buf),
            Err(StackError::BadTop)
        );
        // The environment goes after argv, with its own NULL.
        let e: [&[u8]; 1] = [b"K=v"];
        let img = build_stack(0x1000, a.iter().copied(), e.iter().copied(), &mut buf).unwrap();
        assert_eq!(img.len, 48);
        assert_eq!(img.sp, 0x1000 - 48);
        let slot = |i: usize| u64::from_le_bytes(buf[8 * i..8 * i + 8].try_into().unwrap());
        assert_eq!(slot(0), 1);
        assert_eq!(slot(1), img.sp + 40);
        assert_eq!(slot(2), 0);
        assert_eq!(slot(3), img.sp + 42);
        assert_eq!(slot(4), 0);
        assert_eq!(&buf[40..46], b"x\0K=v\0");
    }
}
