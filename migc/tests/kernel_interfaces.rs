//! The kernel's own interfaces (`kernel/interfaces/*.defs`) against gnumach-dev's.
//!
//! For each of the kernel's subsystem files, `migc --emit ir` runs on ours and on gnumach-dev's
//! file preprocessed as GNU Mach builds its server side (`-DKERNEL_SERVER`); the two IR
//! documents must agree on everything that reaches the wire: the subsystem (name, base, number
//! of ids, `KernelServer`), the set of routines, and for each routine its kind, request and
//! reply ids, its arguments (kind, flags and every wire property of their types) and its request
//! and reply layouts (sizes, every field's offset, size, role and type descriptor). Names of
//! arguments and fields are not compared: they are not on the wire.
//!
//! No routine of gnumach-dev's may be missing from ours ([`LEFT_OUT`] would list one, with the
//! reason, if the kernel ever chose to leave a call out with `skip;`; it is empty today).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use conformance::paths::{reference_include, reference_root, repo_root};

/// (our file, gnumach-dev's file under the include folder).
const FILES: &[(&str, &str)] = &[
    ("mach.defs", "mach/mach.defs"),
    ("mach_port.defs", "mach/mach_port.defs"),
    ("mach_host.defs", "mach/mach_host.defs"),
    ("device.defs", "device/device.defs"),
    ("mach_i386.defs", "mach/x86_64/mach_i386.defs"),
];

/// Routines of gnumach-dev's that our files leave out on purpose: (file, routine, reason).
const LEFT_OUT: &[(&str, &str, &str)] = &[];

#[test]
fn kernel_interfaces_are_wire_compatible_with_gnumach_dev() {
    let root = reference_root().unwrap_or_else(|e| panic!("{e}"));
    let include = reference_include(&root);
    let ours_dir = repo_root().join("kernel/interfaces");
    let scratch = Path::new(env!("CARGO_TARGET_TMPDIR")).join("kernel-interfaces");
    std::fs::create_dir_all(&scratch).unwrap();
    let mut failures = Vec::new();
    let mut compared = 0;
    for &(ours, theirs) in FILES {
        let a = emit_ir(
            &include.join(theirs),
            &include,
            &scratch.join(format!("gnu-{ours}.json")),
        );
        let b = emit_ir(
            &ours_dir.join(ours),
            &ours_dir,
            &scratch.join(format!("ours-{ours}.json")),
        );
        compared += compare(ours, &a, &b, &mut failures);
    }
    println!(
        "{compared} routines compared, {} differences",
        failures.len()
    );
    assert!(failures.is_empty(), "differences:\n{}", failures.join("\n"));
    assert!(compared > 120, "only {compared} routines compared");
}

/// `migc -n --emit ir` on `defs` (as the kernel's server side: `-DKERNEL_SERVER`), parsed.
fn emit_ir(defs: &Path, include: &Path, out: &Path) -> Json {
    // `-n`: only the IR; no default C files (they would land in the working folder).
    let o = Command::new(env!("CARGO_BIN_EXE_migc"))
        .current_dir(out.parent().expect("the output has a folder"))
        .args(["-n", "--emit", "ir", "-DKERNEL_SERVER", "-o"])
        .arg(out)
        .arg("-I")
        .arg(include)
        .arg(defs)
        .output()
        .expect("run migc");
    assert!(
        o.status.success(),
        "migc --emit ir {} failed:\n{}",
        defs.display(),
        String::from_utf8_lossy(&o.stderr)
    );
    let text = std::fs::read_to_string(out).expect("read the IR");
    Json::parse(&text).unwrap_or_else(|e| panic!("{}: bad JSON: {e}", out.display()))
}

/// Compares two IR documents; returns the number of routines compared.
fn compare(file: &str, gnu: &Json, ours: &Json, failures: &mut Vec<String>) -> usize {
    let (gm, om) = (&gnu["module"], &ours["module"]);
    for key in ["name", "base", "slots", "kernel_server", "kernel_user"] {
        if gm["subsystem"][key] != om["subsystem"][key] {
            failures.push(format!(
                "{file}: subsystem {key}: gnumach-dev {:?}, ours {:?}",
                gm["subsystem"][key], om["subsystem"][key]
            ));
        }
    }
    let routines = |doc: &Json| -> BTreeMap<String, (Json, Json)> {
        let rs = doc["module"]["routines"].items();
        let ls = doc["layouts"].items();
        assert_eq!(rs.len(), ls.len(), "{file}: one layout per routine");
        rs.iter()
            .zip(ls)
            .map(|(r, l)| (r["name"].str().to_string(), (r.clone(), l.clone())))
            .collect()
    };
    let (g, o) = (routines(gnu), routines(ours));
    for name in g.keys().filter(|n| !o.contains_key(*n)) {
        if !LEFT_OUT.iter().any(|(f, r, _)| *f == file && r == name) {
            failures.push(format!("{file}: {name} is missing"));
        }
    }
    for name in o.keys().filter(|n| !g.contains_key(*n)) {
        failures.push(format!("{file}: {name} is not in gnumach-dev's file"));
    }
    let mut n = 0;
    for (name, (gr, gl)) in &g {
        let Some((or, ol)) = o.get(name) else {
            continue;
        };
        n += 1;
        for key in [
            "kind",
            "number",
            "msgh_id",
            "reply_msgh_id",
            "msg_option",
            "wait_time",
        ] {
            if gr[key] != or[key] {
                failures.push(format!(
                    "{file}: {name}: {key}: gnumach-dev {:?}, ours {:?}",
                    gr[key], or[key]
                ));
            }
        }
        let (ga, oa) = (arguments(gm, gr), arguments(om, or));
        if ga != oa {
            failures.push(format!(
                "{file}: {name}: arguments differ:\n  gnumach-dev {ga:?}\n  ours        {oa:?}"
            ));
        }
        for side in ["request", "reply"] {
            let (a, b) = (gl[side].without_names(), ol[side].without_names());
            if a != b {
                failures.push(format!(
                    "{file}: {name}: {side} layout differs:\n  gnumach-dev {a:?}\n  ours        {b:?}"
                ));
            }
        }
    }
    n
}

/// What of a routine's arguments reaches the wire: per argument, its kind and flags and the
/// wire properties of its type (not its name, nor C names or translations).
fn arguments(module: &Json, routine: &Json) -> Vec<Json> {
    let types = module["types"].items();
    routine["arguments"]
        .items()
        .iter()
        .map(|a| {
            let t = &types[a["ty"].num() as usize];
            let mut m = BTreeMap::new();
            for key in [
                "kind",
                "dealloc",
                "count_in_out",
                "parent",
                "count",
                "poly",
                "dealloc_arg",
            ] {
                m.insert(key.to_string(), a[key].clone());
            }
            for key in [
                "name_in",
                "name_out",
                "size_bits",
                "element_number",
                "count",
                "storage",
                "string",
                "port",
                "polymorphic",
                "dealloc",
                "c_size",
                "c_align",
            ] {
                m.insert(format!("type.{key}"), t[key].clone());
            }
            Json::Object(m)
        })
        .collect()
}

/// A JSON value (the IR document is read with this small parser: the test needs no JSON
/// crate).
#[derive(Debug, Clone, PartialEq)]
enum Json {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    Array(Vec<Json>),
    Object(BTreeMap<String, Json>),
}

static NULL: Json = Json::Null;

impl std::ops::Index<&str> for Json {
    type Output = Json;
    fn index(&self, key: &str) -> &Json {
        match self {
            Json::Object(m) => m.get(key).unwrap_or(&NULL),
            _ => &NULL,
        }
    }
}

impl Json {
    fn items(&self) -> &[Json] {
        match self {
            Json::Array(v) => v,
            _ => &[],
        }
    }
    fn str(&self) -> &str {
        match self {
            Json::Str(s) => s,
            _ => "",
        }
    }
    fn num(&self) -> f64 {
        match self {
            Json::Num(n) => *n,
            _ => f64::NAN,
        }
    }
    /// The value with every object's `name` member removed (field names follow argument
    /// names, which are not on the wire).
    fn without_names(&self) -> Json {
        match self {
            Json::Object(m) => Json::Object(
                m.iter()
                    .filter(|(k, _)| k.as_str() != "name")
                    .map(|(k, v)| (k.clone(), v.without_names()))
                    .collect(),
            ),
            Json::Array(v) => Json::Array(v.iter().map(Json::without_names).collect()),
            v => v.clone(),
        }
    }

    fn parse(text: &str) -> Result<Json, String> {
        let mut p = Parser {
            s: text.as_bytes(),
            i: 0,
        };
        let v = p.value()?;
        p.ws();
        if p.i != p.s.len() {
            return Err(format!("trailing text at byte {}", p.i));
        }
        Ok(v)
    }
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }
    fn eat(&mut self, c: u8) -> Result<(), String> {
        self.ws();
        if self.s.get(self.i) == Some(&c) {
            self.i += 1;
            Ok(())
        } else {
            Err(format!("expected '{}' at byte {}", c as char, self.i))
        }
    }
    fn value(&mut self) -> Result<Json, String> {
        self.ws();
        let rest = &self.s[self.i..];
        for (word, v) in [
            ("null", Json::Null),
            ("true", Json::Bool(true)),
            ("false", Json::Bool(false)),
        ] {
            if rest.starts_with(word.as_bytes()) {
                self.i += word.len();
                return Ok(v);
            }
        }
        match rest.first() {
            Some(b'"') => self.string().map(Json::Str),
            Some(b'[') => {
                self.i += 1;
                let mut v = Vec::new();
                self.ws();
                if self.s.get(self.i) == Some(&b']') {
                    self.i += 1;
                    return Ok(Json::Array(v));
                }
                loop {
                    v.push(self.value()?);
                    self.ws();
                    match self.s.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(b']') => {
                            self.i += 1;
                            return Ok(Json::Array(v));
                        }
                        _ => return Err(format!("bad array at byte {}", self.i)),
                    }
                }
            }
            Some(b'{') => {
                self.i += 1;
                let mut m = BTreeMap::new();
                self.ws();
                if self.s.get(self.i) == Some(&b'}') {
                    self.i += 1;
                    return Ok(Json::Object(m));
                }
                loop {
                    self.ws();
                    let k = self.string()?;
                    self.eat(b':')?;
                    m.insert(k, self.value()?);
                    self.ws();
                    match self.s.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(b'}') => {
                            self.i += 1;
                            return Ok(Json::Object(m));
                        }
                        _ => return Err(format!("bad object at byte {}", self.i)),
                    }
                }
            }
            _ => {
                let start = self.i;
                while self.i < self.s.len() && b"+-.eE0123456789".contains(&self.s[self.i]) {
                    self.i += 1;
                }
                std::str::from_utf8(&self.s[start..self.i])
                    .ok()
                    .and_then(|t| t.parse().ok())
                    .map(Json::Num)
                    .ok_or_else(|| format!("bad value at byte {start}"))
            }
        }
    }
    fn string(&mut self) -> Result<String, String> {
        self.eat(b'"')?;
        let mut out = String::new();
        loop {
            let c = *self.s.get(self.i).ok_or("unterminated string")?;
            self.i += 1;
            match c {
                b'"' => return Ok(out),
                b'\\' => {
                    let e = *self.s.get(self.i).ok_or("unterminated escape")?;
                    self.i += 1;
                    match e {
                        b'n' => out.push('\n'),
                        b't' => out.push('\t'),
                        b'r' => out.push('\r'),
                        b'u' => {
                            let hex = std::str::from_utf8(
                                self.s.get(self.i..self.i + 4).ok_or("short \\u")?,
                            )
                            .map_err(|e| e.to_string())?;
                            let n = u32::from_str_radix(hex, 16).map_err(|e| e.to_string())?;
                            out.push(char::from_u32(n).unwrap_or('\u{fffd}'));
                            self.i += 4;
                        }
                        other => out.push(other as char),
                    }
                }
                _ => {
                    // Multi-byte UTF-8: copy the whole character.
                    let start = self.i - 1;
                    let len = match c {
                        0xf0.. => 4,
                        0xe0.. => 3,
                        0xc0.. => 2,
                        _ => 1,
                    };
                    self.i = start + len;
                    out.push_str(
                        std::str::from_utf8(&self.s[start..self.i]).map_err(|e| e.to_string())?,
                    );
                }
            }
        }
    }
}
