//! Data-driven tests: every `test_data/*.defs` is lowered for x86_64-gnu, its four C outputs
//! are snapshotted (`cargo insta review` to accept changes), and gcc compiles the user and
//! server files with `-Wall -Wextra -Werror` (C11 and gnu89) next to the `<name>_types.h` that
//! gives the test types their C definitions.

use std::path::{Path, PathBuf};
use std::process::Command;

use conformance::gnumach::{reference_include, reference_root, repo_root};

fn files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("test_data");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("test_data")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "defs"))
        .collect();
    v.sort();
    v
}

#[test]
fn generated_c_snapshots_and_compiles() {
    let root = reference_root().unwrap_or_else(|e| panic!("{e}"));
    let include = reference_include(&root);
    let test_data = Path::new(env!("CARGO_MANIFEST_DIR")).join("test_data");
    let mut failures = Vec::new();
    for path in files() {
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        let mut opts = mig_frontend::FrontendOptions::default();
        opts.pp.include_dirs.push(include.clone());
        opts.pp.predefined =
            mig_frontend::preprocess::predefined_macros("x86_64-gnu").unwrap_or_default();
        let parsed = mig_frontend::parse_path(&path, &opts);
        let lowered = mig_ir::lower(&parsed.file, &mig_ir::target::X86_64_GNU);
        let v = lowered
            .module
            .unwrap_or_else(|| panic!("{stem}: {:?}", lowered.diagnostics));
        mig_backend_c::check(&v).unwrap_or_else(|e| panic!("{stem}: {e:?}"));
        let name = v.module().subsystem.name.clone();
        let o = mig_backend_c::Options {
            user_header_name: Some(format!("{name}.h")),
            symtab: true,
            ..Default::default()
        };
        let outputs = [
            (format!("{name}.h"), mig_backend_c::user_header(&v, &o)),
            (format!("{name}User.c"), mig_backend_c::user_source(&v, &o)),
            (format!("{name}_S.h"), mig_backend_c::server_header(&v, &o)),
            (
                format!("{name}Server.c"),
                mig_backend_c::server_source(&v, &o),
            ),
        ];
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join("test_data")
            .join(&stem);
        std::fs::create_dir_all(&dir).unwrap();
        for (file, text) in &outputs {
            std::fs::write(dir.join(file), text).unwrap();
            insta::assert_snapshot!(format!("{stem}__{file}"), text);
        }
        let support = repo_root().join("conformance/gnumach-boot/include");
        let kernel_server = v.module().subsystem.kernel_server;
        for file in [format!("{name}User.c"), format!("{name}Server.c")] {
            // KernelServer stubs are kernel code: ports are pointer-sized (`-DKERNEL`).
            let kernel = kernel_server && file.ends_with("Server.c");
            for std in ["-std=c11", "-std=gnu89"] {
                let out = Command::new("gcc")
                    .args([std, "-Wall", "-Wextra", "-Werror", "-fsyntax-only"])
                    .args(kernel.then_some("-DKERNEL"))
                    .arg(format!("-I{}", dir.display()))
                    .arg(format!("-I{}", test_data.display()))
                    .arg(format!("-I{}", support.display()))
                    .arg(format!("-I{}", include.display()))
                    .arg(dir.join(&file))
                    .output()
                    .expect("gcc runs");
                if !out.status.success() {
                    failures.push(format!(
                        "{stem}: {file} {std}:\n{}",
                        String::from_utf8_lossy(&out.stderr)
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
