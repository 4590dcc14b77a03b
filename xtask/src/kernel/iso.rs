//! Bootable ISO images: GRUB (Multiboot2, BIOS) from Debian's `grub-pc-bin`/`grub-common`,
//! and Limine (BIOS + UEFI) from a Limine installation directory.
//!
//! Limine: the directory must hold `limine-bios.sys`, `limine-bios-cd.bin`,
//! `limine-uefi-cd.bin` and `BOOTX64.EFI` (as `make install` or distribution packages put
//! in `share/limine`), and the `limine` host tool must be in that directory, its `bin/`
//! sibling, or `PATH`. Supported: Limine 8.x (config key `kernel_path`) and 9.x/10.x
//! (`path`), chosen from `limine --version`; the kernel requests base revision 2.

use super::run_cmd;
use std::path::{Path, PathBuf};
use std::process::Command;

fn copy(from: &Path, to: &Path) -> Result<(), String> {
    std::fs::copy(from, to)
        .map(|_| ())
        .map_err(|e| format!("copy {} -> {}: {e}", from.display(), to.display()))
}

fn fresh_dir(name: &str) -> Result<PathBuf, String> {
    let d = super::out_dir().join(name);
    if d.exists() {
        std::fs::remove_dir_all(&d).map_err(|e| format!("{}: {e}", d.display()))?;
    }
    std::fs::create_dir_all(d.join("boot")).map_err(|e| format!("{}: {e}", d.display()))?;
    Ok(d)
}

/// A GRUB rescue ISO whose only entry boots the kernel by Multiboot2 with `module`.
pub fn grub(kernel: &Path, module: &Path, cmdline: &str, out: &Path) -> Result<(), String> {
    let root = fresh_dir("iso-grub")?;
    std::fs::create_dir_all(root.join("boot/grub")).map_err(|e| e.to_string())?;
    copy(kernel, &root.join("boot/mach_r.elf"))?;
    copy(module, &root.join("boot/user.tar"))?;
    let cfg = format!("set timeout=0\nset default=0\nmenuentry \"Mach_R\" {{\n  multiboot2 /boot/mach_r.elf {cmdline}\n  module2 /boot/user.tar user.tar\n  boot\n}}\n");
    std::fs::write(root.join("boot/grub/grub.cfg"), cfg).map_err(|e| e.to_string())?;
    run_cmd(Command::new("grub-mkrescue").arg("-o").arg(out).arg(&root).stderr(std::process::Stdio::null()))
        .map_err(|e| format!("{e} (grub-mkrescue needs grub-pc-bin, grub-common, xorriso and mtools: scripts/setup.sh)"))
}

fn limine_tool(dir: &Path) -> PathBuf {
    for c in [
        dir.join("limine"),
        dir.join("../../bin/limine"),
        dir.join("../bin/limine"),
    ] {
        if c.is_file() {
            return c;
        }
    }
    PathBuf::from("limine")
}

/// The major version reported by `limine --version`.
fn limine_major(tool: &Path) -> Result<u32, String> {
    let out = Command::new(tool)
        .arg("--version")
        .output()
        .map_err(|e| format!("cannot run the Limine host tool `{}` (looked in DIR, DIR/../../bin, DIR/../bin, then PATH): {e}", tool.display()))?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.split_whitespace()
        .find_map(|w| w.split('.').next().and_then(|m| m.parse::<u32>().ok()))
        .ok_or_else(|| {
            format!(
                "cannot read a version from `{} --version`: {text}",
                tool.display()
            )
        })
}

/// A BIOS+UEFI Limine ISO.
pub fn limine(
    dir: &Path,
    kernel: &Path,
    module: &Path,
    cmdline: &str,
    out: &Path,
) -> Result<(), String> {
    let tool = limine_tool(dir);
    let major = limine_major(&tool)?;
    if major < 8 {
        return Err(format!(
            "Limine {major}.x is not supported (need 8.x or later: base revision 2, limine.conf)"
        ));
    }
    let key = if major >= 9 { "path" } else { "kernel_path" };
    let root = fresh_dir("iso-limine")?;
    let ldir = root.join("boot/limine");
    let efi = root.join("EFI/BOOT");
    std::fs::create_dir_all(&ldir).map_err(|e| e.to_string())?;
    std::fs::create_dir_all(&efi).map_err(|e| e.to_string())?;
    copy(kernel, &root.join("boot/mach_r.elf"))?;
    copy(module, &root.join("boot/user.tar"))?;
    for f in [
        "limine-bios.sys",
        "limine-bios-cd.bin",
        "limine-uefi-cd.bin",
    ] {
        copy(&dir.join(f), &ldir.join(f))?;
    }
    copy(&dir.join("BOOTX64.EFI"), &efi.join("BOOTX64.EFI"))?;
    let conf = format!("timeout: 0\n\n/Mach_R\n    protocol: limine\n    {key}: boot():/boot/mach_r.elf\n    cmdline: {cmdline}\n    module_path: boot():/boot/user.tar\n    module_string: user.tar\n");
    std::fs::write(ldir.join("limine.conf"), conf).map_err(|e| e.to_string())?;
    run_cmd(
        Command::new("xorriso")
            .args([
                "-as",
                "mkisofs",
                "-R",
                "-r",
                "-J",
                "-b",
                "boot/limine/limine-bios-cd.bin",
                "-no-emul-boot",
                "-boot-load-size",
                "4",
                "-boot-info-table",
                "-hfsplus",
                "-apm-block-size",
                "2048",
                "--efi-boot",
                "boot/limine/limine-uefi-cd.bin",
                "-efi-boot-part",
                "--efi-boot-image",
                "--protective-msdos-label",
            ])
            .arg(&root)
            .arg("-o")
            .arg(out)
            .stderr(std::process::Stdio::null()),
    )?;
    run_cmd(Command::new(&tool).arg("bios-install").arg(out))
}
