#!/usr/bin/env python3
"""Builds the Debian package target/debian/NAME_VERSION-1_ARCH.deb with dpkg-deb, from the
cargo-deb metadata in Cargo.toml ([package.metadata.deb]): assets, conffiles, maintainer
scripts, depends ($auto from dpkg-shlibdeps). The manual pages and shell completions the
assets name under target/assets/ are generated first by the binary itself, from its own
command-line definition.

    deploy/build-deb.py           # cargo build --release (LTO: takes a while), then package
    deploy/build-deb.py --debug   # package the debug binary `cargo build` made (tests)

The metadata is written in cargo-deb's format; this script needs only Python 3.11, dpkg-deb
and binutils' strip.
"""

import glob
import gzip
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(*cmd, **kw):
    return subprocess.run(cmd, check=True, cwd=ROOT, **kw)


def generate_assets(binary):
    """The man pages and completions, at the paths the assets list names."""
    assets = os.path.join(ROOT, "target", "assets")
    shutil.rmtree(assets, ignore_errors=True)
    os.makedirs(os.path.join(assets, "completions"))
    run(binary, "man", os.path.join(assets, "man"))
    for shell, name in [("bash", "retentiond.bash"), ("zsh", "_retentiond"), ("fish", "retentiond.fish")]:
        with open(os.path.join(assets, "completions", name), "wb") as f:
            run(binary, "completions", shell, stdout=f)


def shlib_depends(binary):
    """$auto: the shared libraries the binary links, as dpkg-shlibdeps names their packages."""
    with tempfile.TemporaryDirectory() as tmp:
        os.makedirs(os.path.join(tmp, "debian"))
        with open(os.path.join(tmp, "debian", "control"), "w") as f:
            f.write("Source: x\n\nPackage: x\nArchitecture: any\n")
        out = subprocess.run(
            ["dpkg-shlibdeps", "-O", "--ignore-missing-info", "-e", binary],
            cwd=tmp, capture_output=True, text=True,
        )
    for line in out.stdout.splitlines():
        if line.startswith("shlibs:Depends="):
            return line.split("=", 1)[1]
    return "libc6, libgcc-s1"


def place(src_pattern, dest, mode, binary, staging):
    """Copies one asset line into the staging tree; returns the installed paths."""
    if src_pattern == "target/release/retentiond":
        sources = [binary]
    else:
        sources = sorted(glob.glob(os.path.join(ROOT, src_pattern)))
    if not sources:
        sys.exit(f"error: asset {src_pattern} does not exist")
    installed = []
    for src in sources:
        target = dest + os.path.basename(src) if dest.endswith("/") else dest
        if target.startswith("usr/share/man/") and not target.endswith(".gz"):
            target += ".gz"
        path = os.path.join(staging, target)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if target.endswith(".gz"):
            # Debian policy: manual pages gzipped with -9n (no name or time: reproducible).
            with open(src, "rb") as f, open(path, "wb") as raw:
                with gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as gz:
                    gz.write(f.read())
        else:
            shutil.copyfile(src, path)
        if src == binary:
            subprocess.run(["strip", "--strip-unneeded", path], check=True)
        os.chmod(path, int(mode, 8))
        installed.append(target)
    return installed


def main():
    debug = sys.argv[1:] == ["--debug"]
    if sys.argv[1:] not in ([], ["--debug"]):
        sys.exit("usage: deploy/build-deb.py [--debug]")
    with open(os.path.join(ROOT, "Cargo.toml"), "rb") as f:
        manifest = tomllib.load(f)
    package = manifest["package"]
    deb = package["metadata"]["deb"]
    target_dir = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    binary = os.path.join(target_dir, "debug" if debug else "release", package["name"])
    if debug:
        if not os.access(binary, os.X_OK):
            run("cargo", "build", "--locked")
    else:
        run("cargo", "build", "--release", "--locked")
    generate_assets(binary)

    arch = subprocess.run(["dpkg", "--print-architecture"], check=True, capture_output=True, text=True).stdout.strip()
    version = package["version"] + "-1"
    out_dir = os.path.join(ROOT, "target", "debian")
    os.makedirs(out_dir, exist_ok=True)
    with tempfile.TemporaryDirectory() as staging:
        installed = []
        for src, dest, mode in deb["assets"]:
            installed += place(src, dest, mode, binary, staging)
        control_dir = os.path.join(staging, "DEBIAN")
        os.makedirs(control_dir)
        size_kib = sum(os.path.getsize(os.path.join(staging, p)) for p in installed) // 1024 + 1
        depends = deb.get("depends", "$auto").replace("$auto", shlib_depends(binary))
        description = deb.get("extended-description", "").strip()
        long_lines = "\n".join(" " + (line if line.strip() else ".") for line in wrap(description))
        with open(os.path.join(control_dir, "control"), "w") as f:
            f.write(
                f"Package: {package['name']}\nVersion: {version}\nArchitecture: {arch}\n"
                f"Maintainer: {deb['maintainer']}\nInstalled-Size: {size_kib}\n"
                f"Depends: {depends}\nSection: {deb.get('section', 'utils')}\n"
                f"Priority: {deb.get('priority', 'optional')}\n"
                f"Description: {package['description']}\n{long_lines}\n"
            )
        with open(os.path.join(control_dir, "conffiles"), "w") as f:
            f.writelines(c + "\n" for c in deb.get("conf-files", []))
        with open(os.path.join(control_dir, "md5sums"), "w") as f:
            for p in sorted(installed):
                if "/" + p not in deb.get("conf-files", []):
                    with open(os.path.join(staging, p), "rb") as data:
                        f.write(f"{hashlib.md5(data.read()).hexdigest()}  {p}\n")
        scripts = os.path.join(ROOT, deb["maintainer-scripts"])
        for name in ["preinst", "postinst", "prerm", "postrm"]:
            if os.path.exists(os.path.join(scripts, name)):
                shutil.copyfile(os.path.join(scripts, name), os.path.join(control_dir, name))
                os.chmod(os.path.join(control_dir, name), 0o755)
        for d, _, _ in os.walk(staging):
            os.chmod(d, 0o755)
        deb_path = os.path.join(out_dir, f"{package['name']}_{version}_{arch}.deb")
        run("dpkg-deb", "--root-owner-group", "-Zxz", "-z1", "--build", staging, deb_path,
            stdout=subprocess.DEVNULL)
    print(deb_path)


def wrap(text, width=79):
    """The extended description as control-file lines of at most `width` characters."""
    lines, line = [], ""
    for word in text.replace("\\\n", " ").split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return lines + ([line] if line else [])


if __name__ == "__main__":
    main()
