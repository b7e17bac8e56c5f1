#!/usr/bin/env bash
# Install real third-party client CLIs, used as black-box tests against Berth.
#
#   bash scripts/install-clients.sh [deis|tutum|py3|fuzz|all]    (default: deis)
#
# Everything goes under ${BERTH_CLIENTS_DIR:-$PWD/.clients}:
#   deis/     Python 2.7 virtualenv with the Deis v1 CLI   -> deis/bin/deis
#   tutum/    Python 2.7 virtualenv with the Tutum CLI     -> tutum/bin/tutum
#   py3/      Python 3 venv with tapipy and rcabench
#   py3tools/ Python 3 venv holding virtualenv (to create the 2.7 envs)
#   fuzz/     Python 3 venv with schemathesis (tests/fuzz); `fuzz` also
#             installs py3, whose tapipy carries the spec it runs against
# Progress goes to stderr; stdout stays empty. Re-running skips what is there.
# Run the py2.7 CLIs with PYTHONWARNINGS=ignore (they warn about old crypto).
set -euo pipefail
exec 3>&1 1>&2

CLIENTS=${BERTH_CLIENTS_DIR:-$PWD/.clients}
export PYTHONWARNINGS=ignore PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
# virtualenv must not try to fetch newer seed wheels for the 2.7 envs.
export VIRTUALENV_NO_PERIODIC_UPDATE=1

say() { echo "install-clients.sh: $*" >&2; }
die() { say "ERROR: $*"; exit 1; }

python27() {
  local py
  if command -v pyenv >/dev/null; then
    py=$(pyenv root)/versions/2.7.18/bin/python2.7
    [[ -x $py ]] && { echo "$py"; return; }
  fi
  py=$(command -v python2.7) && { echo "$py"; return; }
  die "Python 2.7 not found (expected \$(pyenv root)/versions/2.7.18/bin/python2.7).
  It cannot be built here without internet; install it on the machine image first."
}

# The last virtualenv release that still creates Python 2.7 environments.
py3tools() {
  local dir=$CLIENTS/py3tools
  [[ -x $dir/bin/virtualenv ]] && return
  say "creating $dir (virtualenv==20.21.1)"
  python3 -m venv "$dir"
  "$dir/bin/pip" install -q virtualenv==20.21.1
}

# installed DIR SPEC: true when DIR was already installed with exactly SPEC.
installed() { [[ -f $1/.berth-installed && $(cat "$1/.berth-installed") == "$2" ]]; }

# py27_env NAME: create (if needed) a Python 2.7 virtualenv at $CLIENTS/NAME.
py27_env() {
  local dir=$CLIENTS/$1 py
  [[ -x $dir/bin/python ]] && "$dir/bin/python" -c '' 2>/dev/null && return
  py=$(python27)
  py3tools
  say "creating Python 2.7 virtualenv $dir"
  rm -rf "$dir"
  "$CLIENTS/py3tools/bin/virtualenv" -q -p "$py" "$dir"
}

install_deis() {
  local dir=$CLIENTS/deis spec="deis==1.9.1"
  # deis pins cryptography==0.8.2 / pyOpenSSL==0.15.1, which no longer build;
  # the last releases for 2.7 work. Pins first, so pip reports no conflict.
  local pins="docopt==0.6.2 ndg-httpsclient==0.3.3 pyasn1==0.1.7
    python-dateutil==2.4.2 PyYAML==3.11 requests==2.5.1 tabulate==0.7.4
    termcolor==1.1.0 urllib3==1.10.2 cryptography==3.3.2 pyOpenSSL==20.0.1"
  installed "$dir" "$spec $pins" && { say "deis already installed"; return; }
  py27_env deis
  say "installing $spec into $dir"
  # shellcheck disable=SC2086  # $pins is a word list
  "$dir/bin/pip" install -q $pins
  "$dir/bin/pip" install -q --no-deps "$spec"
  "$dir/bin/deis" --version >&2
  echo "$spec $pins" >"$dir/.berth-installed"
}

install_tutum() {
  local dir=$CLIENTS/tutum spec="tutum==0.7.5.1"
  installed "$dir" "$spec" && { say "tutum already installed"; return; }
  py27_env tutum
  say "installing $spec into $dir"
  "$dir/bin/pip" install -q "$spec"
  "$dir/bin/tutum" --version # prints on stderr
  echo "$spec" >"$dir/.berth-installed"
}

install_py3() {
  local dir=$CLIENTS/py3 spec="tapipy==25.4.0 rcabench==1.1.46"
  installed "$dir" "$spec" && { say "py3 clients already installed"; return; }
  say "installing $spec into $dir"
  [[ -x $dir/bin/python ]] || python3 -m venv "$dir"
  # shellcheck disable=SC2086  # $spec is a word list
  "$dir/bin/pip" install -q $spec
  "$dir/bin/python" -c 'import tapipy, rcabench'
  echo "$spec" >"$dir/.berth-installed"
}

# A venv of its own: schemathesis' pins must not move tapipy's or rcabench's.
install_fuzz() {
  # openapi-spec-validator checks Berth's own /openapi.json (tests/fuzz/berth.sh).
  local dir=$CLIENTS/fuzz spec="schemathesis==4.32.5 openapi-spec-validator==0.9.0"
  install_py3
  installed "$dir" "$spec" && { say "schemathesis already installed"; return; }
  say "installing $spec into $dir"
  [[ -x $dir/bin/python ]] || python3 -m venv "$dir"
  # shellcheck disable=SC2086  # $spec is a word list
  "$dir/bin/pip" install -q $spec
  "$dir/bin/schemathesis" --version >&2
  echo "$spec" >"$dir/.berth-installed"
}

what=${1:-deis}
case $what in
  deis | tutum | py3 | fuzz) "install_$what" ;;
  all) install_deis && install_tutum && install_py3 && install_fuzz ;;
  *) die "usage: $0 [deis|tutum|py3|fuzz|all]" ;;
esac
