"""Check (part of make test): the module builds as an OCA-style wheel and the wheel is complete.

Builds with pip and the build backend whool from pyproject.toml, offline (--no-index,
--no-build-isolation: whool comes from tools/requirements.txt), out of a copy of the checkout
in a folder named credit_control (whool names the package after the folder). The copy holds
the files git knows (tracked, and new ones not ignored): what a commit of this tree packages.
Then checks the wheel: the distribution name, everything under odoo/addons/credit_control,
every file the manifest loads, the Python packages, i18n, static assets, security, reports,
wizards and tests (OCA wheels ship tests and demo too), nothing generated (.local, caches,
pyproject.toml), the declared dependencies; and installs it into a scratch folder, where
Odoo reads its manifest.

    python tools/package_check.py ROOT OUT_DIR
Prints "packaging: passed|failed ..." last; exit status 0 when passed.
"""

import ast
import email.parser
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

PREFIX = "odoo/addons/credit_control/"
REQUIRED_DIRS = (
    "models",
    "views",
    "data",
    "demo",
    "security",
    "reports",
    "wizards",
    "lib",
    "i18n",
    "static/src",
    "static/description",
    "tests",
)
REQUIRED_FILES = (
    "__init__.py",
    "__manifest__.py",
    "models/__init__.py",
    "wizards/__init__.py",
    "reports/__init__.py",
    "lib/__init__.py",
    "i18n/de.po",
    "i18n/credit_control.pot",
    "security/ir.model.access.csv",
    "static/description/icon.png",
    "README.md",
)
FORBIDDEN_PARTS = (".local", "__pycache__", ".git", ".pytest_cache", ".ruff_cache")
REQUIRES = ("odoo==18.0.*", "python-stdnum", "xlsxwriter")


def git_files(root):
    out = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=root,
        check=True,
        capture_output=True,
    ).stdout.decode()
    return sorted({f for f in out.split("\0") if f and (root / f).is_file()})


def build(root, out):
    # outside any git work tree (.local is inside the checkout): whool would list the files of
    # the enclosing repository; GIT_CEILING_DIRECTORIES stops git looking further up
    stage_root = Path(tempfile.mkdtemp(prefix="cc-wheel-"))
    stage = stage_root / "credit_control"
    for rel in git_files(root):
        target = stage / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / rel, target)
    dist = out / "dist"
    dist.mkdir()
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--no-deps",
        "--no-build-isolation",
        "--no-index",
        "--disable-pip-version-check",
        "-q",
        "-w",
        str(dist),
        ".",
    ]
    env = dict(os.environ, GIT_CEILING_DIRECTORIES=str(stage_root))
    try:
        result = subprocess.run(cmd, cwd=stage, capture_output=True, text=True, env=env)
    finally:
        shutil.rmtree(stage_root, ignore_errors=True)
    (out / "build.log").write_text(result.stdout + result.stderr)
    if result.returncode:
        return None, f"pip wheel failed (see {out / 'build.log'}): {result.stderr.strip()[-300:]}"
    wheels = list(dist.glob("*.whl"))
    if len(wheels) != 1:
        return None, f"expected one wheel, got {[w.name for w in wheels]}"
    return wheels[0], None


def check_wheel(root, wheel):
    problems = []
    manifest = ast.literal_eval((root / "__manifest__.py").read_text())
    if not wheel.name.startswith(f"odoo_addon_credit_control-{manifest['version']}-"):
        problems.append(f"wheel name {wheel.name}")
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        meta_name = next((n for n in names if n.endswith(".dist-info/METADATA")), None)
        metadata = email.parser.HeaderParser().parsestr(zf.read(meta_name).decode()) if meta_name else {}
    files = {n[len(PREFIX) :] for n in names if n.startswith(PREFIX)}
    stray = [n for n in names if not n.startswith(PREFIX) and ".dist-info/" not in n]
    if stray:
        problems.append(f"files outside {PREFIX}: {stray[:5]}")
    for d in REQUIRED_DIRS:
        if not any(f.startswith(d + "/") for f in files):
            problems.append(f"no {d}/")
    wanted = set(REQUIRED_FILES)
    wanted.update(manifest.get("data", []))
    wanted.update(manifest.get("demo", []))
    # every Python file of the module's packages (models, wizards, reports, lib, tests)
    for pkg in ("models", "wizards", "reports", "lib", "tests"):
        wanted.update(str(p.relative_to(root)) for p in (root / pkg).glob("*.py"))
    missing = sorted(w for w in wanted if w not in files)
    if missing:
        problems.append(f"missing {len(missing)} files: {missing[:8]}")
    bad = sorted(f for f in files if set(Path(f).parts) & set(FORBIDDEN_PARTS) or f.endswith(".pyc"))
    if bad:
        problems.append(f"generated files packed: {bad[:5]}")
    if "pyproject.toml" in files:
        problems.append("pyproject.toml packed")
    if not metadata:
        problems.append("no METADATA")
    else:
        if metadata["Name"] != "odoo-addon-credit_control":
            problems.append(f"distribution name {metadata['Name']}")
        requires = [r.replace(" ", "").lower() for r in metadata.get_all("Requires-Dist") or []]
        for req in REQUIRES:
            if not any(r.startswith(req.lower()) for r in requires):
                problems.append(f"{req} not declared (Requires-Dist: {requires})")
    return problems, len(files)


def check_install(wheel, out, odoo_src):
    site = out / "site"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--no-index",
            "--disable-pip-version-check",
            "--target",
            str(site),
            str(wheel),
        ],
        capture_output=True,
        text=True,
    )
    if result.returncode:
        return [f"pip install of the wheel failed: {result.stderr.strip()[-300:]}"]
    addon = site / "odoo" / "addons" / "credit_control"
    if not (addon / "__manifest__.py").is_file():
        return [f"not installed under {addon}"]
    # Odoo finds it on an addons path that is the wheel's odoo/addons folder
    probe = (
        "import sys, odoo; from odoo.modules import module; "
        "odoo.tools.config.parse_config(['--addons-path', sys.argv[1]]); module.initialize_sys_path(); "
        "m = module.get_manifest('credit_control'); "
        "assert m and m['installable'] and m['name'] == 'Credit Control', m; "
        "path = module.get_module_path('credit_control'); "
        "assert path.startswith(sys.argv[1]), path"
    )
    env = dict(os.environ, PYTHONPATH=odoo_src)
    result = subprocess.run(
        [sys.executable, "-c", probe, str(addon.parent)], capture_output=True, text=True, env=env
    )
    if result.returncode:
        return [f"Odoo cannot read the installed manifest: {result.stderr.strip()[-300:]}"]
    return []


def main(root, out):
    t0 = time.time()
    root, out = Path(root).resolve(), Path(out).resolve()
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    wheel, error = build(root, out)
    if error:
        print(f"packaging: failed: {error}")
        return 1
    problems, count = check_wheel(root, wheel)
    problems += check_install(wheel, out, os.environ.get("ODOO_SRC", "/opt/odoo18"))
    seconds = time.time() - t0
    if problems:
        for problem in problems:
            print(f"packaging problem: {problem}")
        print(f"packaging: failed ({wheel.name}, {seconds:.0f}s)")
        return 1
    print(
        f"packaging: passed ({wheel.name}, {count} files, "
        f"installs as odoo/addons/credit_control, {seconds:.0f}s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
