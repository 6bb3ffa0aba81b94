#!/usr/bin/env bash
# The system packages the project needs, in one place (nothing else lists them).
#
#   scripts/system-deps.sh [report|slurm|all] [--check]
#
#   report  TeX Live with lmodern and latexmk (the PDF), poppler-utils (the tests read the PDF)
#   slurm   a one-node SLURM cluster with munge (the tests marked `slurm`)
#   all     both (default)
#
# Installs only what is missing, as root on Debian or Ubuntu (apt-get update once, then one
# apt-get install), and says so in one line. Elsewhere, or with --check, it changes nothing: it
# names what is missing and the one command that installs it, and exits with code 2.
# Exit 0: everything is there (now). Called by `nox -s tests`, `nox -s reproduce` and .ci/run.
set -euo pipefail

REPORT=(texlive-latex-base texlive-latex-recommended texlive-fonts-recommended lmodern latexmk
        poppler-utils)
SLURM=(slurmctld slurmd slurm-client munge)
# Without dpkg (not Debian), what each group must provide, as a check of its own.
report_present() { command -v latexmk && command -v pdftotext && kpsewhich lmodern.sty; }
slurm_present() { command -v slurmctld && command -v slurmd && command -v sbatch && command -v munged; }

group=all check=0
for arg in "$@"; do
  case "$arg" in
    report|slurm|all) group=$arg ;;
    --check) check=1 ;;
    *) echo "system-deps: unknown argument '$arg' (usage: $0 [report|slurm|all] [--check])" >&2
       exit 2 ;;
  esac
done
case "$group" in
  report) wanted=("${REPORT[@]}") groups=(report) ;;
  slurm) wanted=("${SLURM[@]}") groups=(slurm) ;;
  all) wanted=("${REPORT[@]}" "${SLURM[@]}") groups=(report slurm) ;;
esac
self="scripts/system-deps.sh"
[ -f "$self" ] || self=$0

if command -v dpkg-query >/dev/null; then
  missing=()
  for pkg in "${wanted[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    [ "$status" = "install ok installed" ] || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && exit 0
  if [ "$check" = 0 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "system-deps: installing ${#missing[@]} missing Debian package(s): ${missing[*]}"
    log=$(mktemp)
    export DEBIAN_FRONTEND=noninteractive
    # --no-install-recommends: lmodern is only a recommendation of TeX Live, so it is listed.
    if ! { apt-get update -q && apt-get install -y -q --no-install-recommends "${missing[@]}"; } \
        >"$log" 2>&1; then
      tail -n 20 "$log" >&2
      echo "system-deps: apt-get failed (its log: $log)" >&2
      exit 1
    fi
    rm -f "$log"
    exit 0
  fi
  how="sudo bash $self $group"
  [ "$(id -u)" = 0 ] && how="bash $self $group"
  echo "system-deps: missing Debian package(s): ${missing[*]}; install them with: $how" >&2
  exit 2
fi

# Not Debian: check what the packages provide, and say what to install.
for g in "${groups[@]}"; do
  if ! "${g}_present" >/dev/null 2>&1; then
    case "$g" in
      report) what="TeX Live with latexmk and lmodern, and poppler's pdftotext" ;;
      slurm) what="SLURM (slurmctld, slurmd, sbatch) and munge" ;;
    esac
    echo "system-deps: no dpkg here, and $what are missing; install them with your system's" \
         "package manager (on Debian: bash $self $g)" >&2
    exit 2
  fi
done
exit 0
