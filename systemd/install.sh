#!/bin/sh
# Installs the Vigil agent as a systemd service on Raspberry Pi OS (Bookworm, Trixie; arm64, armhf) or Debian.
# Run from a built checkout (npm ci && npm run build):  sudo systemd/install.sh
# Safe to run again (upgrades the program, keeps the site's configuration and data). See docs/service.md.
set -eu

usage() {
  cat <<'EOF'
Usage: sudo systemd/install.sh [--prefix DIR] [--root DIR] [--no-start]
       sudo systemd/install.sh --uninstall [--purge] [--root DIR]

Installs the built agent in DIR (default /opt/vigil) with its production node_modules, the vigil system user
(groups dialout and gpio), /etc/vigil/site.yaml and /etc/vigil/vigil.env examples (only when absent), the
vigil.service unit (enabled), the RS-485 udev rule and the journald drop-in, and /usr/local/bin/vigil.

  --prefix DIR   where the program goes (default /opt/vigil)
  --root DIR     install into the tree under DIR instead of this system (an image being prepared, a test):
                 nothing is started or reloaded, users are created in DIR's /etc/passwd by systemd-sysusers
  --no-start     enable the service but do not (re)start it now
  --uninstall    remove the program, the unit and the command; keep /etc/vigil and /var/lib/vigil
  --purge        with --uninstall: also remove /etc/vigil, /var/lib/vigil (data, outbox!), the udev rule and
                 the journald drop-in. The vigil user is kept (its uid is never reused for someone else).
  -h, --help     this help
EOF
}

say() { printf '%s\n' "vigil-install: $*"; }
fail() {
  printf '%s\n' "vigil-install: error: $*" >&2
  exit 1
}

ROOT=/
PREFIX=/opt/vigil
ACTION=install
PURGE=no
START=yes
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) [ $# -ge 2 ] || fail "--prefix needs a folder"; PREFIX=$2; shift 2 ;;
    --prefix=*) PREFIX=${1#--prefix=}; shift ;;
    --root) [ $# -ge 2 ] || fail "--root needs a folder"; ROOT=$2; shift 2 ;;
    --root=*) ROOT=${1#--root=}; shift ;;
    --uninstall) ACTION=uninstall; shift ;;
    --purge) PURGE=yes; shift ;;
    --no-start) START=no; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; fail "unknown option: $1" ;;
  esac
done
case "$PREFIX" in /*) ;; *) fail "--prefix must be an absolute path, got $PREFIX" ;; esac
[ "$PURGE" = no ] || [ "$ACTION" = uninstall ] || fail "--purge goes with --uninstall"
[ -d "$ROOT" ] || fail "--root $ROOT is not a folder"
ROOT=$(cd "$ROOT" && pwd)
# R is prepended to every system path: "" on this system, the tree's path with --root.
if [ "$ROOT" = / ]; then R=; else R=$ROOT; fi
LIVE=no
[ -z "$R" ] && LIVE=yes
if [ "$LIVE" = yes ] && [ "$(id -u)" -ne 0 ]; then fail "run as root: sudo $0 $*"; fi

SOURCE=$(cd "$(dirname "$0")/.." && pwd)
UNIT_DIR=$R/etc/systemd/system
UNIT=$UNIT_DIR/vigil.service
WRAPPER=$R/usr/local/bin/vigil
SYSUSERS=$R/usr/lib/sysusers.d/vigil.conf
UDEV_RULE=$R/etc/udev/rules.d/99-vigil-rs485.rules
JOURNALD=$R/etc/systemd/journald.conf.d/vigil.conf
CONF_DIR=$R/etc/vigil
DATA_DIR=$R/var/lib/vigil

have() { command -v "$1" >/dev/null 2>&1; }
# Ownership needs root; a --root tree prepared by an ordinary user keeps that user's ownership.
own() { if [ "$(id -u)" -eq 0 ]; then chown "$@"; fi; }

# A system file we own: replaced when it differs; an edited copy is kept when it is a configuration file.
place() { # place SOURCE TARGET MODE [keep-edits]
  mkdir -p "$(dirname "$2")"
  if [ -f "$2" ] && cmp -s "$1" "$2"; then return 0; fi
  if [ -f "$2" ] && [ "${4:-}" = keep-edits ]; then
    say "kept your edited $2 (the shipped one is $1)"
    return 0
  fi
  cp "$1" "$2.vigil-new"
  chmod "$3" "$2.vigil-new"
  mv -f "$2.vigil-new" "$2"
  say "installed $2"
}

# Removes a file we placed, unless it was edited (then it is kept and said so).
unplace() { # unplace SHIPPED TARGET
  [ -e "$2" ] || return 0
  if [ "$PURGE" = yes ] || { [ -f "$1" ] && cmp -s "$1" "$2"; }; then
    rm -f "$2"
    say "removed $2"
  else
    say "kept $2 (edited; --purge removes it)"
  fi
}

node_check() {
  NODE=$(command -v node || true)
  [ -n "$NODE" ] || fail "Node.js is not installed. Install Node.js 20 or newer (22 or 24 recommended), e.g. sudo apt-get install nodejs (Trixie) or from nodesource.com, then run this again"
  NODE_MAJOR=$("$NODE" -p 'process.versions.node.split(".")[0]')
  [ "$NODE_MAJOR" -ge 20 ] || fail "Node.js $("$NODE" --version) is too old: Vigil needs 20 or newer (22 or 24 recommended)"
  [ "$NODE_MAJOR" -ge 22 ] || say "note: Node.js $("$NODE" --version) works, but Node 20 is past its end of life: plan an upgrade to 22 or 24"
}

platform_check() {
  ARCH=$(dpkg --print-architecture 2>/dev/null || uname -m)
  case "$ARCH" in
    arm64 | aarch64 | armhf | armv7l) ;;
    *) say "note: architecture $ARCH is not a Raspberry Pi OS one (arm64, armhf); installing anyway" ;;
  esac
  CODENAME=unknown
  if [ -r "$R/etc/os-release" ]; then
    CODENAME=$(sed -n 's/^VERSION_CODENAME=//p' "$R/etc/os-release" | tr -d '"')
  fi
  case "$CODENAME" in
    bookworm | trixie) ;;
    *) say "note: tested on Raspberry Pi OS / Debian bookworm and trixie; this is '$CODENAME'" ;;
  esac
  # Native parts (serial port, sysfs GPIO) were built by npm ci for the machine it ran on.
  NODE_ARCH=$("$NODE" -p process.arch)
  say "Node.js $("$NODE" --version) ($NODE_ARCH) at $NODE; system $ARCH, $CODENAME"
}

source_check() {
  [ -f "$SOURCE/dist/agent/cli/main.js" ] || fail "$SOURCE is not built: run 'npm ci && npm run build' there first"
  [ -d "$SOURCE/node_modules" ] || fail "$SOURCE has no node_modules: run 'npm ci' there first"
}

# The group id of NAME in the target tree's /etc/group (chown by number works inside a --root tree too).
gid_of() { sed -n "s/^$1:[^:]*:\([0-9]*\):.*/\1/p" "$R/etc/group" 2>/dev/null | head -n 1; }
uid_of() { sed -n "s/^$1:[^:]*:\([0-9]*\):.*/\1/p" "$R/etc/passwd" 2>/dev/null | head -n 1; }

create_user() {
  place "$SOURCE/systemd/vigil-sysusers.conf" "$SYSUSERS" 0644
  if have systemd-sysusers; then
    # Idempotent: creates only what is missing (the user, its group, gpio on a system without one).
    if [ "$LIVE" = yes ]; then systemd-sysusers "$SYSUSERS"; else systemd-sysusers --root="$ROOT" "$SYSUSERS"; fi
  elif [ "$LIVE" = yes ]; then
    getent group gpio >/dev/null || groupadd --system gpio
    getent passwd vigil >/dev/null || useradd --system --home-dir /var/lib/vigil --no-create-home --shell /usr/sbin/nologin --user-group vigil
    usermod -a -G dialout,gpio vigil
  else
    fail "systemd-sysusers is needed to create the user inside --root $ROOT"
  fi
  VIGIL_UID=$(uid_of vigil)
  VIGIL_GID=$(gid_of vigil)
  [ -n "$VIGIL_UID" ] && [ -n "$VIGIL_GID" ] || fail "the vigil user was not created in $R/etc/passwd"
}

install_program() {
  staging=$R$PREFIX.vigil-new
  rm -rf "$staging"
  mkdir -p "$staging/config" "$staging/drivers"
  cp "$SOURCE/package.json" "$SOURCE/package-lock.json" "$staging/"
  cp -R "$SOURCE/dist" "$staging/dist"
  cp -R "$SOURCE/drivers/profiles" "$staging/drivers/profiles"
  cp -R "$SOURCE/config/examples" "$staging/config/examples"
  cp "$SOURCE"/config/*.schema.json "$staging/config/"
  cp -R "$SOURCE/docs" "$staging/docs"
  cp -R "$SOURCE/systemd" "$staging/systemd"
  # Tests and benchmarks are not part of the program.
  rm -rf "$staging/dist/test"
  cp -R "$SOURCE/node_modules" "$staging/node_modules"
  if have npm; then
    # Drops the development packages; works offline (nothing is fetched or rebuilt).
    (cd "$staging" && npm prune --omit=dev --no-audit --no-fund --ignore-scripts >/dev/null) || fail "npm prune failed in $staging"
    find "$staging/node_modules" -mindepth 1 -maxdepth 1 -type d -empty -exec rmdir {} +
  else
    say "note: npm not found: development packages stay in $PREFIX/node_modules"
  fi
  # The upgrade: the old program goes only once the new one is complete.
  if [ -d "$R$PREFIX" ]; then
    rm -rf "$R$PREFIX.vigil-old"
    mv "$R$PREFIX" "$R$PREFIX.vigil-old"
  fi
  mv "$staging" "$R$PREFIX"
  rm -rf "$R$PREFIX.vigil-old"
  own -R 0:0 "$R$PREFIX"
  say "installed the program in $R$PREFIX"

  wrapper_tmp=$(mktemp)
  printf '#!/bin/sh\nexec %s %s/dist/agent/cli/main.js "$@"\n' "$NODE" "$PREFIX" >"$wrapper_tmp"
  place "$wrapper_tmp" "$WRAPPER" 0755
  rm -f "$wrapper_tmp"

  unit_tmp=$(mktemp)
  sed -e "s|/usr/bin/node |$NODE |" -e "s|/opt/vigil/|$PREFIX/|g" "$SOURCE/systemd/vigil.service" >"$unit_tmp"
  place "$unit_tmp" "$UNIT" 0644
  rm -f "$unit_tmp"
}

install_config() {
  mkdir -p "$CONF_DIR"
  own "0:$VIGIL_GID" "$CONF_DIR"
  chmod 0750 "$CONF_DIR"
  FRESH_SITE=no
  if [ ! -e "$CONF_DIR/site.yaml" ]; then
    FRESH_SITE=yes
    place "$SOURCE/config/examples/septic-tank.yaml" "$CONF_DIR/site.yaml" 0640
    own "0:$VIGIL_GID" "$CONF_DIR/site.yaml"
    say "an example site is in $CONF_DIR/site.yaml: edit it for this site, then 'vigil check $CONF_DIR/site.yaml'"
  fi
  if [ ! -e "$CONF_DIR/vigil.env" ]; then
    place "$SOURCE/systemd/vigil.env" "$CONF_DIR/vigil.env" 0640
    own "0:$VIGIL_GID" "$CONF_DIR/vigil.env"
  fi
  mkdir -p "$DATA_DIR"
  own "$VIGIL_UID:$VIGIL_GID" "$DATA_DIR"
  chmod 0750 "$DATA_DIR"
  place "$SOURCE/systemd/99-vigil-rs485.rules" "$UDEV_RULE" 0644 keep-edits
  place "$SOURCE/systemd/journald-vigil.conf" "$JOURNALD" 0644 keep-edits
}

smoke_test() {
  "$NODE" "$R$PREFIX/dist/agent/cli/main.js" --version >/dev/null || fail "the installed program does not start: $NODE $R$PREFIX/dist/agent/cli/main.js --version"
}

enable_service() {
  if [ "$LIVE" = no ]; then
    if have systemctl; then systemctl --root="$ROOT" enable vigil.service >/dev/null 2>&1 || fail "systemctl --root enable failed"; fi
    say "enabled vigil.service in $ROOT (nothing started: --root)"
    return 0
  fi
  if have udevadm; then
    udevadm control --reload || true
    udevadm trigger --subsystem-match=tty --action=add || true
  fi
  if ! have systemctl || [ ! -d /run/systemd/system ]; then
    say "systemd is not running here: start the agent by hand with 'vigil run'"
    return 0
  fi
  systemctl daemon-reload
  systemctl enable vigil.service
  if [ "$START" = no ]; then
    say "enabled; start with: sudo systemctl start vigil"
  elif [ "$FRESH_SITE" = yes ]; then
    say "enabled, not started: edit /etc/vigil/site.yaml, 'vigil check /etc/vigil/site.yaml', then: sudo systemctl start vigil"
  else
    systemctl restart vigil.service
    say "started; follow it with: journalctl -u vigil -f"
  fi
  say "the journald drop-in takes effect after: sudo systemctl restart systemd-journald"
}

uninstall() {
  if [ "$LIVE" = yes ] && have systemctl && [ -d /run/systemd/system ]; then
    systemctl disable --now vigil.service 2>/dev/null || true
  elif [ "$LIVE" = no ] && have systemctl && [ -e "$UNIT" ]; then
    systemctl --root="$ROOT" disable vigil.service >/dev/null 2>&1 || true
  fi
  shipped=$R$PREFIX/systemd
  rm -f "$UNIT" "$WRAPPER"
  unplace "$shipped/99-vigil-rs485.rules" "$UDEV_RULE"
  unplace "$shipped/journald-vigil.conf" "$JOURNALD"
  rm -rf "$R$PREFIX" "$R$PREFIX.vigil-new" "$R$PREFIX.vigil-old"
  say "removed the program ($R$PREFIX), the unit and the vigil command"
  if [ "$PURGE" = yes ]; then
    rm -rf "$CONF_DIR" "$DATA_DIR"
    rm -f "$SYSUSERS"
    say "purged $CONF_DIR and $DATA_DIR; the vigil user is kept"
  else
    say "kept $CONF_DIR (site, settings) and $DATA_DIR (outbox, state); --uninstall --purge removes them"
  fi
  if [ "$LIVE" = yes ] && have systemctl && [ -d /run/systemd/system ]; then systemctl daemon-reload; fi
}

if [ "$ACTION" = uninstall ]; then
  uninstall
  exit 0
fi
node_check
platform_check
source_check
create_user
install_program
install_config
smoke_test
enable_service
say "done. Check the gateway with: vigil doctor"
