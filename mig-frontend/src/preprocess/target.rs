//! Predefined macros: what GCC defines for the GNU/Hurd targets, and the minimal set of `-undef`.
//!
//! Only reserved names (beginning with `__` or `_` and a capital) are defined, as GCC does in a
//! strict `-std=c*` mode: the non-reserved `unix` and `i386` would silently rewrite identifiers
//! of the same name in `.defs` files.

/// Macros defined even with `-undef` (GCC's language macros).
pub fn standard_macros() -> Vec<(String, String)> {
    pairs(&[
        ("__STDC__", "1"),
        ("__STDC_VERSION__", "201710L"),
        ("__STDC_HOSTED__", "1"),
    ])
}

/// Target-independent GCC and x86 macros.
const COMMON: &[(&str, &str)] = &[
    ("__GNUC__", "12"),
    ("__GNUC_MINOR__", "2"),
    ("__GNUC_PATCHLEVEL__", "0"),
    ("__GNUC_STDC_INLINE__", "1"),
    ("__GNU__", "1"),
    ("__gnu_hurd__", "1"),
    ("__MACH__", "1"),
    ("__unix__", "1"),
    ("__unix", "1"),
    ("__ELF__", "1"),
    ("__CHAR_BIT__", "8"),
    ("__ORDER_LITTLE_ENDIAN__", "1234"),
    ("__ORDER_BIG_ENDIAN__", "4321"),
    ("__ORDER_PDP_ENDIAN__", "3412"),
    ("__BYTE_ORDER__", "__ORDER_LITTLE_ENDIAN__"),
    ("__FLOAT_WORD_ORDER__", "__ORDER_LITTLE_ENDIAN__"),
    ("__SIZEOF_SHORT__", "2"),
    ("__SIZEOF_INT__", "4"),
    ("__SIZEOF_LONG_LONG__", "8"),
    ("__SIZEOF_FLOAT__", "4"),
    ("__SIZEOF_DOUBLE__", "8"),
    ("__SIZEOF_WCHAR_T__", "4"),
    ("__SIZEOF_WINT_T__", "4"),
    ("__SCHAR_MAX__", "0x7f"),
    ("__SHRT_MAX__", "0x7fff"),
    ("__INT_MAX__", "0x7fffffff"),
    ("__LONG_LONG_MAX__", "0x7fffffffffffffffLL"),
    ("__WCHAR_MIN__", "(-__WCHAR_MAX__ - 1)"),
    ("__BIGGEST_ALIGNMENT__", "16"),
    ("__USER_LABEL_PREFIX__", ""),
    ("__REGISTER_PREFIX__", ""),
];

const X86_64: &[(&str, &str)] = &[
    ("__x86_64__", "1"),
    ("__x86_64", "1"),
    ("__amd64__", "1"),
    ("__amd64", "1"),
    ("__k8", "1"),
    ("__k8__", "1"),
    ("__code_model_small__", "1"),
    ("__LP64__", "1"),
    ("_LP64", "1"),
    ("__SIZEOF_LONG__", "8"),
    ("__SIZEOF_POINTER__", "8"),
    ("__SIZEOF_SIZE_T__", "8"),
    ("__SIZEOF_PTRDIFF_T__", "8"),
    ("__SIZEOF_LONG_DOUBLE__", "16"),
    ("__LONG_MAX__", "0x7fffffffffffffffL"),
    ("__SIZE_MAX__", "0xffffffffffffffffUL"),
    ("__PTRDIFF_MAX__", "0x7fffffffffffffffL"),
    ("__INTPTR_MAX__", "0x7fffffffffffffffL"),
    ("__UINTPTR_MAX__", "0xffffffffffffffffUL"),
    ("__INTMAX_MAX__", "0x7fffffffffffffffL"),
    ("__UINTMAX_MAX__", "0xffffffffffffffffUL"),
    ("__WCHAR_MAX__", "0x7fffffff"),
    ("__SIZE_TYPE__", "long unsigned int"),
    ("__PTRDIFF_TYPE__", "long int"),
    ("__INTPTR_TYPE__", "long int"),
    ("__UINTPTR_TYPE__", "long unsigned int"),
    ("__INTMAX_TYPE__", "long int"),
    ("__UINTMAX_TYPE__", "long unsigned int"),
    ("__WCHAR_TYPE__", "int"),
];

const I686: &[(&str, &str)] = &[
    ("__i386__", "1"),
    ("__i386", "1"),
    ("__i686__", "1"),
    ("__i686", "1"),
    ("__pentiumpro__", "1"),
    ("__pentiumpro", "1"),
    ("__code_model_32__", "1"),
    ("__ILP32__", "1"),
    ("__SIZEOF_LONG__", "4"),
    ("__SIZEOF_POINTER__", "4"),
    ("__SIZEOF_SIZE_T__", "4"),
    ("__SIZEOF_PTRDIFF_T__", "4"),
    ("__SIZEOF_LONG_DOUBLE__", "12"),
    ("__LONG_MAX__", "0x7fffffffL"),
    ("__SIZE_MAX__", "0xffffffffU"),
    ("__PTRDIFF_MAX__", "0x7fffffff"),
    ("__INTPTR_MAX__", "0x7fffffff"),
    ("__UINTPTR_MAX__", "0xffffffffU"),
    ("__INTMAX_MAX__", "0x7fffffffffffffffLL"),
    ("__UINTMAX_MAX__", "0xffffffffffffffffULL"),
    ("__WCHAR_MAX__", "0x7fffffffL"),
    ("__SIZE_TYPE__", "unsigned int"),
    ("__PTRDIFF_TYPE__", "int"),
    ("__INTPTR_TYPE__", "int"),
    ("__UINTPTR_TYPE__", "unsigned int"),
    ("__INTMAX_TYPE__", "long long int"),
    ("__UINTMAX_TYPE__", "long long unsigned int"),
    ("__WCHAR_TYPE__", "long int"),
];

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
}

/// The macros GCC predefines for a target (`x86_64-gnu`, `i686-gnu`; `i386-gnu` is accepted as
/// a synonym of `i686-gnu`), standard macros included. None for an unknown target.
pub fn predefined_macros(target: &str) -> Option<Vec<(String, String)>> {
    let arch = match target {
        "x86_64-gnu" => X86_64,
        "i686-gnu" | "i386-gnu" => I686,
        _ => return None,
    };
    let mut out = standard_macros();
    out.extend(pairs(COMMON));
    out.extend(pairs(arch));
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(v: &[(String, String)], name: &str) -> Option<String> {
        v.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone())
    }

    #[test]
    fn x86_64_gnu() {
        let m = predefined_macros("x86_64-gnu").unwrap();
        assert_eq!(get(&m, "__x86_64__").as_deref(), Some("1"));
        assert_eq!(get(&m, "__LP64__").as_deref(), Some("1"));
        assert_eq!(get(&m, "__SIZEOF_POINTER__").as_deref(), Some("8"));
        assert_eq!(get(&m, "__GNU__").as_deref(), Some("1"));
        assert_eq!(get(&m, "__STDC__").as_deref(), Some("1"));
        assert!(get(&m, "__i386__").is_none());
        assert!(get(&m, "unix").is_none());
    }

    #[test]
    fn i686_gnu() {
        let m = predefined_macros("i686-gnu").unwrap();
        assert_eq!(get(&m, "__i386__").as_deref(), Some("1"));
        assert_eq!(get(&m, "__SIZEOF_LONG__").as_deref(), Some("4"));
        assert!(get(&m, "__LP64__").is_none());
        assert!(get(&m, "i386").is_none());
        assert!(predefined_macros("sparc-sun").is_none());
    }
}
