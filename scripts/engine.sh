#!/usr/bin/env bash
# Make a Docker engine reachable and the base image busybox:latest present.
#
#   eval "$(bash scripts/engine.sh)"
#
# stdout carries exactly one line, `export DOCKER_HOST=unix:///...`; all
# progress goes to stderr. Without a usable engine it starts a private dockerd
# on /run/berth-docker/docker.sock (installing Debian's docker.io if needed).
# Extra dockerd flags may be given in BERTH_DOCKERD_FLAGS.
set -euo pipefail

# Keep the real stdout on fd 3 for the final line; everything else -> stderr.
exec 3>&1 1>&2

PRIV_DIR=/run/berth-docker
PRIV_HOST=unix://$PRIV_DIR/docker.sock
PIDFILE=$PRIV_DIR/docker.pid
CTRD_PIDFILE=$PRIV_DIR/exec/containerd/containerd.pid
LOG=/var/log/berth-dockerd.log

say() { echo "engine.sh: $*" >&2; }
answers() { DOCKER_HOST=$1 timeout 15 docker version >/dev/null 2>&1; }
# alive PIDFILE NAME: the pidfile names a live (not zombie) process NAME.
alive() {
  local pid stat
  pid=$(cat "$1" 2>/dev/null) && stat=$(cat "/proc/$pid/stat" 2>/dev/null) &&
    [[ $stat == *"($2) "[!Z]* ]]
}
dockerd_alive() { alive "$PIDFILE" dockerd; }

apt_install() {
  local missing=()
  command -v dockerd >/dev/null || missing+=(docker.io)
  dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'ok installed' ||
    missing+=(busybox-static)
  # The TLS tests make certificates with openssl and speak SNI with curl.
  command -v openssl >/dev/null || missing+=(openssl)
  command -v curl >/dev/null || missing+=(curl)
  ((${#missing[@]})) || return 0
  say "installing ${missing[*]} (apt)"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
}

# Berth gives every owner a bridge of its own: room for 4096 of them (the
# engine's default pools hold about 30).
launch_dockerd() {
  say "starting dockerd on $PRIV_HOST${*:+ $*} (log: $LOG)"
  # After a kill -9 these pidfiles are stale and may name zombies, which
  # dockerd takes for live processes: it then refuses to start, or waits for
  # the dead containerd until it times out.
  rm -f "$PIDFILE"
  alive "$CTRD_PIDFILE" containerd || rm -f "$CTRD_PIDFILE"
  # fd 3 must be closed, or `$(bash engine.sh)` would wait for dockerd to exit.
  # shellcheck disable=SC2086  # BERTH_DOCKERD_FLAGS is a word list
  setsid nohup dockerd -H "$PRIV_HOST" \
    --data-root /var/lib/berth-docker \
    --exec-root "$PRIV_DIR/exec" \
    --pidfile "$PIDFILE" \
    --default-address-pool base=10.208.0.0/12,size=24 \
    ${BERTH_DOCKERD_FLAGS:-} "$@" \
    </dev/null >>"$LOG" 2>&1 3>&- &
}

# start_dockerd [extra flags...]: start it detached unless one is already
# starting up, and wait up to 60 s for the API.
start_dockerd() {
  mkdir -p "$PRIV_DIR"
  local i started=
  for ((i = 0; i < 60; i++)); do
    answers "$PRIV_HOST" && return 0
    if dockerd_alive; then
      ((i)) || say "dockerd (pid $(cat "$PIDFILE")) is starting; waiting for it"
    elif [[ -z $started ]]; then
      launch_dockerd "$@"
      started=$i
    elif ((i - started > 3)); then # its pidfile appears ~1 s after launch
      break
    fi
    sleep 1
  done
  say "dockerd did not answer; last lines of $LOG:"
  tail -n 25 "$LOG" >&2
  return 1
}

# Sets DOCKER_HOST to the first engine that answers, starting ours if none.
pick_engine() {
  if [[ -n ${DOCKER_HOST:-} ]] && answers "$DOCKER_HOST"; then
    return 0
  elif [[ -S /var/run/docker.sock ]] && answers unix:///var/run/docker.sock; then
    DOCKER_HOST=unix:///var/run/docker.sock
  elif answers "$PRIV_HOST"; then
    DOCKER_HOST=$PRIV_HOST
  else
    apt_install
    # Default bridge + iptables first (published ports then work as usual);
    # a sandbox without netfilter gets bridge without iptables as a fallback.
    if start_dockerd; then :
    elif grep -qi iptables <(tail -n 50 "$LOG"); then
      say "retrying without iptables"
      dockerd_alive && kill "$(cat "$PIDFILE")" && sleep 2
      start_dockerd --iptables=false
    else
      return 1
    fi
    DOCKER_HOST=$PRIV_HOST
  fi
}

build_busybox() {
  apt_install
  local tmp
  tmp=$(mktemp -d)
  # shellcheck disable=SC2064  # expand now: $tmp is local
  trap "rm -rf '$tmp'" EXIT
  local root=$tmp/rootfs applet
  mkdir -p "$root/bin" "$root/etc" "$root/root" "$root/tmp"
  chmod 1777 "$root/tmp"
  cp /bin/busybox "$root/bin/busybox"
  for applet in $("$root/bin/busybox" --list); do
    [[ $applet == busybox ]] || ln -s busybox "$root/bin/$applet"
  done
  echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
  echo 'root:x:0:' >"$root/etc/group"
  tar -C "$root" --numeric-owner --owner=0 --group=0 -cf "$tmp/rootfs.tar" .
  docker import --change 'CMD ["sh"]' "$tmp/rootfs.tar" busybox:latest
  say "verifying busybox:latest"
  docker run --rm busybox:latest sh -c 'echo ok; ls /bin | wc -l' >&2
  docker run --rm --init busybox:latest sleep 1
}

pick_engine
export DOCKER_HOST
# Image builds (RCABench) clone their sources with git.
if ! command -v git >/dev/null; then
  say "installing git (apt)"
  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q git
fi
say "using DOCKER_HOST=$DOCKER_HOST"

if ! docker image inspect busybox:latest >/dev/null 2>&1; then
  say "building busybox:latest from Debian's busybox-static"
  build_busybox
fi
docker image inspect local/busybox:latest >/dev/null 2>&1 ||
  docker tag busybox:latest local/busybox:latest

echo "export DOCKER_HOST=$DOCKER_HOST" >&3
