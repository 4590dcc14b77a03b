//! Scratch: parse preprocessed text from stdin and print diagnostics (development aid).
use std::io::Read;
fn main() {
    let mut s = String::new();
    std::io::stdin().read_to_string(&mut s).unwrap();
    let s: String = s
        .lines()
        .filter(|l| !l.starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n");
    let r = mig_frontend::parser::parse(&s, mig_frontend::lexer::LexMode::Unit);
    eprintln!("{} statements", r.file.statements.len());
    for d in &r.diagnostics {
        let (l, _) = (d.primary.0.start as usize, 0);
        let line = s[..l.min(s.len())].matches('\n').count() + 1;
        let ctx: String = s[l.saturating_sub(60)..(l + 40).min(s.len())].replace('\n', " ");
        println!(
            "{}: line {}: {} | {}",
            std::env::args().nth(1).unwrap_or_default(),
            line,
            d.message,
            ctx
        );
    }
}
