# Shared by the test-service scripts in this folder (sourced, never run).
# Each service runs from a data folder of its own on ports picked free at start, so two runs on one
# machine (two checkouts, two CI jobs) never meet, and a service already running on the machine
# (a system PostgreSQL on 5432, say) is neither used nor disturbed.

log() { echo "[$SERVICE] $*" >&2; }
die() { echo "[$SERVICE] ERROR: $*" >&2; exit 1; }

# A TCP port on 127.0.0.1 nobody listens on now. AVOID_LOW..AVOID_HIGH is skipped (Ceph's OSD
# takes ports in 6800-7300 for itself).
free_port() {
  local port
  for _ in $(seq 1 50); do
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
    if [ "$port" -ge 6800 ] && [ "$port" -le 7300 ]; then continue; fi
    echo "$port"
    return 0
  done
  die "found no free port"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for_port() { # PORT SECONDS
  local deadline=$((SECONDS + $2))
  until port_open "$1"; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.2
  done
}

# Installs Debian packages that are missing (as root; apt-get update once per call).
apt_install() { # PACKAGE...
  local missing=() pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" -eq 0 ] || die "missing Debian packages (${missing[*]}); install them as root first"
  log "installing ${missing[*]} (apt-get)"
  local out
  out=$(mktemp)
  # Two runs may install at once: wait for dpkg's lock rather than failing on it.
  if ! { DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 update -qq &&
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing[@]}"; } >"$out" 2>&1; then
    cat "$out" >&2
    rm -f "$out"
    die "apt-get install ${missing[*]} failed"
  fi
  rm -f "$out"
}

# True while PID runs a command line containing TEXT (a recycled pid is not ours).
pid_runs() { # PID TEXT
  local cmd
  cmd=$(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null) || return 1
  [[ $cmd == *"$2"* ]]
}

# SIGTERM, up to 15 s to go, then SIGKILL.
stop_pid() { # PID TEXT
  pid_runs "$1" "$2" || return 0
  kill -TERM "$1" 2>/dev/null || true
  for _ in $(seq 1 150); do pid_runs "$1" "$2" || return 0; sleep 0.1; done
  kill -KILL "$1" 2>/dev/null || true
  for _ in $(seq 1 50); do pid_runs "$1" "$2" || return 0; sleep 0.1; done
  die "pid $1 does not die"
}

# A data folder must be absolute and never one of the machine's own.
data_dir() { # DIR
  local dir
  dir=$(realpath -m -- "$1")
  case $dir in /|/tmp|/root|/home|/work|/usr|/var|/etc|"$HOME") die "refusing to use $dir as a data folder" ;; esac
  echo "$dir"
}
