"""A fresh machine: the system packages come from one script, the package installs as a wheel
and works from any folder, and the defaults fit the machine."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from repro.paths import PROJECT
from repro.pipeline.units import ExecutorConfig, default_jobs

SCRIPT = PROJECT / "scripts" / "system-deps.sh"
PACKAGES = {
    "report": [
        "texlive-latex-base",
        "texlive-latex-recommended",
        "texlive-fonts-recommended",
        "lmodern",
        "latexmk",
        "poppler-utils",
    ],
    "slurm": ["slurmctld", "slurmd", "slurm-client", "munge"],
}


def fake_dpkg(tmp_path: Path, installed: set[str]) -> dict[str, str]:
    """An environment whose ``dpkg-query`` reports exactly ``installed`` as installed, and
    whose ``id -u`` says 1000 (not root), so the script can only check."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "dpkg-query").write_text(
        textwrap.dedent(
            f"""\
            #!/bin/bash
            case " {" ".join(sorted(installed))} " in
              *" ${{@: -1}} "*) printf 'install ok installed' ;;
              *) exit 1 ;;
            esac
            """
        )
    )
    (bin_dir / "id").write_text("#!/bin/bash\necho 1000\n")
    for f in bin_dir.iterdir():
        f.chmod(0o755)
    return {**os.environ, "PATH": f"{bin_dir}:/usr/bin:/bin"}


def run_script(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(SCRIPT), *args], capture_output=True, text=True, env=env, cwd=PROJECT
    )


@pytest.mark.parametrize("group", ["report", "slurm", "all"])
def test_script_names_exactly_the_missing_packages_and_the_command(tmp_path, group):
    wanted = PACKAGES["report"] + PACKAGES["slurm"] if group == "all" else PACKAGES[group]
    missing = {wanted[0], wanted[-1]}
    out = run_script(group, env=fake_dpkg(tmp_path, set(wanted) - missing))
    assert out.returncode == 2
    line = out.stderr.strip()
    assert len(line.splitlines()) == 1
    named = line.split("missing Debian package(s): ")[1].split(";")[0].split()
    assert named == [p for p in wanted if p in missing]  # in the script's order
    assert line.endswith(f"install them with: sudo bash scripts/system-deps.sh {group}")
    assert out.stdout == ""


def test_script_is_silent_and_succeeds_when_everything_is_there(tmp_path):
    everything = set(PACKAGES["report"] + PACKAGES["slurm"])
    out = run_script("all", env=fake_dpkg(tmp_path, everything))
    assert (out.returncode, out.stdout, out.stderr) == (0, "", "")
    # A group asks only for its own packages.
    out = run_script("report", env=fake_dpkg(tmp_path / "r", set(PACKAGES["report"])))
    assert out.returncode == 0, out.stderr


def test_script_check_mode_changes_nothing_even_as_root(tmp_path):
    env = fake_dpkg(tmp_path, set())
    (tmp_path / "bin" / "id").write_text("#!/bin/bash\necho 0\n")  # root
    (tmp_path / "bin" / "apt-get").write_text(f"#!/bin/bash\ntouch {tmp_path}/apt-ran\n")
    (tmp_path / "bin" / "apt-get").chmod(0o755)
    out = run_script("slurm", "--check", env=env)
    assert out.returncode == 2 and "bash scripts/system-deps.sh slurm" in out.stderr
    assert not (tmp_path / "apt-ran").exists()
    # Without --check, root on Debian installs: apt-get runs (update once, then install).
    (tmp_path / "bin" / "apt-get").write_text(f'#!/bin/bash\necho "$@" >> {tmp_path}/apt-ran\n')
    out = run_script("slurm", env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("system-deps: installing 4 missing Debian package(s): slurmctld")
    calls = (tmp_path / "apt-ran").read_text().splitlines()
    assert calls == [
        "update -q",
        "install -y -q --no-install-recommends " + " ".join(PACKAGES["slurm"]),
    ]


def test_script_refuses_an_unknown_group():
    out = run_script("tex", env=dict(os.environ))
    assert out.returncode == 2 and "unknown argument 'tex'" in out.stderr


def test_the_package_list_lives_only_in_the_script():
    tracked = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        capture_output=True,
        text=True,
        cwd=PROJECT,
        check=True,
    ).stdout.split()
    holders = [
        f
        for f in tracked
        if not f.endswith((".pdf", ".png", ".npz"))
        and (PROJECT / f).is_file()
        and "texlive-latex-recommended" in (PROJECT / f).read_text(errors="replace")
    ]
    # This file holds the expected list of the tests above, written out by hand on purpose.
    assert holders == ["scripts/system-deps.sh", "tests/test_setup.py"]


def test_jobs_default_to_the_cores_this_process_may_use():
    assert default_jobs() == len(os.sched_getaffinity(0))
    assert ExecutorConfig().jobs == default_jobs()


@pytest.mark.slow
def test_the_wheel_installs_and_works_from_another_folder(tmp_path):
    """``pip wheel`` of a copy of the source, installed (not editable) into a new venv that
    sees the test environment's libraries but not its editable repro; then, in an empty
    folder: ``repro --help``, a smoke training into ./results, and ``compare --help``."""
    src = tmp_path / "src-copy"
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        (src / name).write_bytes((PROJECT / name).read_bytes())
    subprocess.run(
        ["cp", "-r", str(PROJECT / "src"), str(src / "src")], check=True
    )  # build and egg-info litter stays in the copy
    env = {k: v for k, v in os.environ.items() if k != "REPRO_RESULTS"}
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "wheel", "--no-deps", str(src), "-w", str(tmp_path / "dist")],
                   check=True, env=env, capture_output=True)  # fmt: skip
    (wheel,) = (tmp_path / "dist").glob("repro-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    site = next((venv / "lib").glob("python3*/site-packages"))
    # Our libraries (torch, numpy, ...) by a path line: the .pth files of that folder, the
    # editable repro among them, are not processed, so `import repro` finds only the wheel.
    libs = [p for p in sys.path if p.endswith("site-packages")]
    (site / "zz-test-libraries.pth").write_text("\n".join(libs) + "\n")
    py = venv / "bin" / "python"
    subprocess.run([py, "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)],
                   check=True, env=env, capture_output=True)  # fmt: skip
    work = tmp_path / "elsewhere"
    work.mkdir()

    def repro(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [venv / "bin" / "repro", *args], capture_output=True, text=True, env=env, cwd=work
        )

    where = subprocess.run(
        [py, "-c", "import repro, repro.paths as p; print(repro.__file__, repro.__version__, "
         "(p.template_dir() / 'report.tex.j2').is_file(), p.paper_numbers_file().is_file())"],
        capture_output=True, text=True, env=env, cwd=work, check=True,
    ).stdout.split()  # fmt: skip
    assert Path(where[0]).is_relative_to(site), where
    assert where[1:] == ["0.1.0", "True", "True"]
    out = repro("--help")
    assert out.returncode == 0 and out.stdout.startswith("usage: repro ")
    out = repro("train", "--config", "supervised-normal", "--regime", "fixed", "--scale", "smoke")
    assert out.returncode == 0, out.stderr
    assert (work / "results/runs/fixed/supervised-normal__s0/run.json").is_file()
    out = repro("compare", "--help")
    assert out.returncode == 0 and out.stdout.startswith("usage: repro compare")
