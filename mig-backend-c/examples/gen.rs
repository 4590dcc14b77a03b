//! Generates every C output of a `.defs` file into a folder (development aid):
//! `cargo run -p mig-backend-c --example gen -- FILE OUTDIR [x86_64-gnu|i686-gnu]`.
fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("file");
    let out = std::path::PathBuf::from(args.next().expect("outdir"));
    let target = args.next().unwrap_or_else(|| "x86_64-gnu".into());
    let t = mig_ir::Target::by_name(&target).expect("target");
    let mut opts = mig_frontend::FrontendOptions::default();
    let inc = format!(
        "{}/../.cache/reference/root/usr/include/x86_64-linux-gnu",
        env!("CARGO_MANIFEST_DIR")
    );
    opts.pp.include_dirs.push(inc.into());
    opts.pp.predefined = mig_frontend::preprocess::predefined_macros(&target).unwrap_or_default();
    let p = mig_frontend::parse_path(std::path::Path::new(&path), &opts);
    let l = mig_ir::lower(&p.file, t);
    let Some(v) = l.module else {
        eprintln!("{:?}", l.diagnostics);
        std::process::exit(1);
    };
    if let Err(e) = mig_backend_c::check(&v) {
        for e in e {
            eprintln!("unsupported: {e}");
        }
        std::process::exit(1);
    }
    let name = v.module().subsystem.name.clone();
    let o = mig_backend_c::Options {
        user_header_name: Some(format!("{name}.h")),
        symtab: true,
        ..Default::default()
    };
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(
        out.join(format!("{name}.h")),
        mig_backend_c::user_header(&v, &o),
    )
    .unwrap();
    std::fs::write(
        out.join(format!("{name}User.c")),
        mig_backend_c::user_source(&v, &o),
    )
    .unwrap();
    std::fs::write(
        out.join(format!("{name}Server.c")),
        mig_backend_c::server_source(&v, &o),
    )
    .unwrap();
    std::fs::write(
        out.join(format!("{name}_S.h")),
        mig_backend_c::server_header(&v, &o),
    )
    .unwrap();
}
