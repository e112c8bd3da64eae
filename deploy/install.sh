#!/usr/bin/env bash
# Installs hopmap's systemd units on Debian: the probe worker (docs/deploy-worker.md) and the input, output
# and manager services (docs/deploy-services.md).
# Run it as root from a checkout; run it again to update. Each step is skipped when already done.
set -euo pipefail
umask 022

usage() {
  cat <<'EOF'
usage: deploy/install.sh [options]

Installs the checkout this script is in to /opt/hopmap, creates the system user hopmap, installs
every unit of systemd/ (hopmap-ping, hopmap-input, hopmap-output, hopmap-manager, their @ templates and
hopmap.target), writes /etc/hopmap/ping.yaml and /etc/hopmap/hopmap.env if they are absent, and starts
the worker, and the services named by --services.

  --prefix DIR    install the code here instead of /opt/hopmap
  --input URL     input_file for a new /etc/hopmap/ping.yaml (an input service, e.g. http://feeder:8080)
  --output URL    output_file for a new /etc/hopmap/ping.yaml (an output service)
  --api-key KEY   api_key for a new /etc/hopmap/ping.yaml: the worker key the services require, made
                  where the database is reachable with hopmap keys add NAME --role worker
                  (or set HOPMAP_API_KEY, which keeps it out of the process list)
  --database-url URL
                  DATABASE_URL for a new /etc/hopmap/hopmap.env, which the services read
  --services LIST enable and start these services, comma-separated: input, output, manager, or
                  instances of the templates such as input@2 (each needs /etc/hopmap/input-2.env)
  --no-start      do not enable or start anything (units already running are still restarted onto
                  the new code)
  --dry-run       print what would be done and change nothing
  -h, --help      show this
EOF
}

prefix=/opt/hopmap
input_url=''
output_url=''
api_key=${HOPMAP_API_KEY:-}
database_url=''
services=()
start=1
dry_run=0
while (($#)); do
  case "$1" in
    --prefix) prefix=${2:?--prefix needs a directory}; shift 2 ;;
    --prefix=*) prefix=${1#*=}; shift ;;
    --input) input_url=${2:?--input needs a URL}; shift 2 ;;
    --input=*) input_url=${1#*=}; shift ;;
    --output) output_url=${2:?--output needs a URL}; shift 2 ;;
    --output=*) output_url=${1#*=}; shift ;;
    --api-key) api_key=${2:?--api-key needs a key}; shift 2 ;;
    --api-key=*) api_key=${1#*=}; shift ;;
    --database-url) database_url=${2:?--database-url needs a URL}; shift 2 ;;
    --database-url=*) database_url=${1#*=}; shift ;;
    --services) IFS=, read -ra services <<<"${2:?--services needs a list}"; shift 2 ;;
    --services=*) IFS=, read -ra services <<<"${1#*=}"; shift ;;
    --no-start) start=0; shift ;;
    --dry-run) dry_run=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) printf 'install.sh: unknown option %s\n\n' "$1" >&2; usage >&2; exit 2 ;;
  esac
done

readonly user=hopmap
readonly unit_dir=/etc/systemd/system
readonly config_dir=/etc/hopmap
readonly config_file=$config_dir/ping.yaml
readonly env_file=$config_dir/hopmap.env
readonly units=(hopmap-ping.service hopmap-ping@.service
  hopmap-input.service hopmap-input@.service hopmap-output.service hopmap-output@.service
  hopmap-manager.service hopmap-manager@.service hopmap.target)
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
readonly repo

die() {
  printf 'install.sh: %s\n' "$*" >&2
  exit 1
}
say() { printf '==> %s\n' "$*"; }

# Runs a command, or in a dry run prints it as it would be typed.
run() {
  if ((dry_run)); then
    printf '+'
    printf ' %q' "$@"
    printf '\n'
  else
    "$@"
  fi
}

# --- checks: nothing is changed until all of them pass ---------------------------------------------

for service in "${services[@]}"; do
  [[ $service =~ ^(input|output|manager)(@[A-Za-z0-9_.-]+)?$ ]] ||
    die "--services takes input, output, manager or NAME@INSTANCE of them (got '$service')"
done
[[ -z $database_url || $database_url =~ ^postgres(ql)?:// ]] || die "--database-url must be a postgres:// URL"
[[ -z $api_key || $api_key =~ ^[A-Za-z0-9_-]+$ ]] || die "--api-key must be a key as hopmap keys add prints it (hm_ and letters, digits, _ and -)"

# systemd unit paths cannot hold spaces unquoted; keep the prefix plain.
prefix=${prefix%/}
[[ $prefix =~ ^/[A-Za-z0-9._/-]+$ ]] || die "--prefix must be an absolute path of letters, digits and . _ - / (got '$prefix')"
[[ -f $repo/package.json && -f $repo/package-lock.json && -f $repo/bin/hopmap.js ]] || die "$repo is not a hopmap checkout"
if [[ -e $prefix ]]; then
  [[ $(cd "$prefix" && pwd -P) != "$repo" ]] || die "run install.sh from a checkout, not from the installed copy in $prefix"
  # An update replaces the whole directory: never do that to one that is not a hopmap install.
  if [[ -n $(ls -A "$prefix") && ! -f $prefix/bin/hopmap.js ]]; then
    die "$prefix exists and is not a hopmap install; choose another --prefix"
  fi
fi
((dry_run)) || [[ $EUID -eq 0 ]] || die 'run as root (sudo deploy/install.sh), or add --dry-run to see what it would do'
((dry_run)) || command -v systemctl >/dev/null || die 'systemctl not found: this installs a systemd service'

node_bin=$(command -v node || true)
if [[ -z $node_bin ]] || ! node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 10) ? 0 : 1)'; then
  die "Node.js 20.10 or newer is needed (found: ${node_bin:-none}${node_bin:+ $(node --version)}). Debian 12's nodejs package is 18;
install Node 20 or 22 system-wide from NodeSource's Debian repository (https://github.com/nodesource/distributions)
or the official binaries (https://nodejs.org/en/download), then run this again."
fi
command -v npm >/dev/null || die 'npm not found: it comes with Node.js from NodeSource or nodejs.org'
node_bin=$(readlink -f "$node_bin")
# ProtectHome=yes hides /home, /root and /run/user from the service, so a node from nvm there cannot start.
case $node_bin in
  /home/* | /root/* | /run/user/*) die "node is $node_bin, which the service cannot see (ProtectHome=yes); install Node.js system-wide" ;;
esac
[[ $node_bin =~ ^/[A-Za-z0-9._/-]+$ ]] || die "node's path $node_bin has characters a unit file would need quoted"

# raw-socket compiles with node-gyp during npm ci.
missing=()
for tool in python3:python3 make:make g++:g++; do
  command -v "${tool%%:*}" >/dev/null || missing+=("${tool#*:}")
done

# --- install -----------------------------------------------------------------------------------------

if ((${#missing[@]})); then
  say "installing the build tools raw-socket needs: ${missing[*]}"
  run apt-get update -q
  run env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

copy_checkout() { # src dst: the checkout without its git history, dependencies or local state
  mkdir -p "$2"
  tar -C "$1" --exclude=./.git --exclude=./node_modules --exclude=./.hopmap -cf - . | tar -C "$2" -xf -
  chmod -R a+rX,go-w "$2"
}

# Build the new copy beside the old one and swap them, so a failed npm ci leaves the running worker alone.
staging=$prefix.new
say "installing $repo to $prefix"
run rm -rf "$staging"
run copy_checkout "$repo" "$staging"
# tsx, which runs the TypeScript sources, is a regular dependency: --omit=dev keeps it.
run env -C "$staging" npm ci --omit=dev --no-audit --no-fund
# Units that run now load modules lazily from $prefix: stop them (workers flush their results, services
# drain) for the swap.
running=()
if command -v systemctl >/dev/null; then
  mapfile -t running < <(systemctl list-units --plain --no-legend --state=active \
    'hopmap-*.service' 2>/dev/null | awk '{ print $1 }')
fi
((${#running[@]} == 0)) || run systemctl stop "${running[@]}"
if [[ -e $prefix ]]; then
  run rm -rf "$prefix.old"
  run mv "$prefix" "$prefix.old"
  run mv "$staging" "$prefix"
  run rm -rf "$prefix.old"
else
  run mv "$staging" "$prefix"
fi

if getent passwd "$user" >/dev/null; then
  say "system user $user exists"
else
  say "creating system user $user"
  run useradd --system --user-group --home-dir /var/lib/hopmap --no-create-home \
    --shell /usr/sbin/nologin --comment 'hopmap services and probe worker' "$user"
fi

# The config may hold an API key: readable by root and the worker only.
run install -d -m 0750 -o root -g "$user" "$config_dir"
# A worker whose config is still an example is not started: one just written without --input and
# --output, or one that points at a placeholder host.
is_example() { grep -Eqs '^(input_file|output_file):.*example\.(net|com|org)' "$1"; }
config_is_example=0
if [[ -e $config_file ]]; then
  say "keeping $config_file"
  [[ -z $input_url && -z $output_url && -z $api_key ]] || say "note: --input/--output/--api-key ignored, $config_file exists (edit it instead)"
  if is_example "$config_file"; then config_is_example=1; fi
else
  [[ -n $input_url && -n $output_url ]] || config_is_example=1
  new_config=$(mktemp)
  trap 'rm -f "$new_config"' EXIT
  if [[ -f $repo/config.example.yaml ]]; then
    say "writing $config_file from config.example.yaml"
    cp "$repo/config.example.yaml" "$new_config"
  else
    say "writing a minimal $config_file"
    cat >"$new_config" <<'EOF'
# hopmap ping: the worker's configuration (every key: hopmap ping --help, docs/deploy-worker.md).
# Where targets come from and where results go: URLs of an input and an output service.
input_file: http://input.example.net:8080
output_file: http://output.example.net:8081
# api_key: give the key the services issued to this worker
# pps: 100                  # packets per second, every probe counted
# health_check_port: 8090
# The spool is /var/lib/hopmap/spool, set by the unit (HOPMAP_SPOOL_DIR).
EOF
  fi
  set_key() { # key value: replace the key's line, or append one
    KEY=$1 VALUE=$2 awk '
      BEGIN { v = ENVIRON["VALUE"]; gsub(/\x27/, "\x27\x27", v); line = ENVIRON["KEY"] ": \x27" v "\x27" }
      index($0, ENVIRON["KEY"] ":") == 1 { print line; done = 1; next }
      { print }
      END { if (!done) print line }' "$new_config" >"$new_config.tmp"
    mv "$new_config.tmp" "$new_config"
  }
  [[ -z $input_url ]] || set_key input_file "$input_url"
  [[ -z $output_url ]] || set_key output_file "$output_url"
  [[ -z $api_key ]] || set_key api_key "$api_key"
  if is_example "$new_config"; then config_is_example=1; fi
  # The key never reaches the terminal.
  if ((dry_run)); then sed -e 's/^api_key:.*/api_key: ***/' -e 's/^/    | /' "$new_config"; fi
  run install -m 0640 -o root -g "$user" "$new_config" "$config_file"
fi

# The services' environment: DATABASE_URL and its like, secret, so readable by root and hopmap only.
env_is_example() { grep -Eqs '^DATABASE_URL=.*(CHANGE-ME|example\.(net|com|org))' "$1"; }
env_file_is_example=0
if [[ -e $env_file ]]; then
  say "keeping $env_file"
  [[ -z $database_url ]] || say "note: --database-url ignored, $env_file exists (edit it instead)"
  if env_is_example "$env_file"; then env_file_is_example=1; fi
else
  say "writing $env_file from systemd/hopmap.env.example"
  new_env=$(mktemp)
  trap 'rm -f "${new_config:-}" "$new_env"' EXIT
  if [[ -n $database_url ]]; then
    # systemd reads the value verbatim up to the end of the line; a newline would split it.
    [[ $database_url != *$'\n'* ]] || die '--database-url must be one line'
    URL=$database_url awk 'index($0, "DATABASE_URL=") == 1 { print "DATABASE_URL=" ENVIRON["URL"]; next } { print }' \
      "$repo/systemd/hopmap.env.example" >"$new_env"
  else
    cp "$repo/systemd/hopmap.env.example" "$new_env"
  fi
  if env_is_example "$new_env"; then env_file_is_example=1; fi
  if ((dry_run)); then grep -E '^[A-Z]' "$new_env" | sed -e 's/^/    | /' -e 's/:[^:@\/]*@/:***@/'; fi
  run install -m 0640 -o root -g "$user" "$new_env" "$env_file"
fi

install_unit() { # name: the unit from systemd/, with this prefix and node
  sed -e "s|/opt/hopmap|$prefix|g" -e "s|^ExecStart=/usr/bin/node |ExecStart=$node_bin |" \
    "$repo/systemd/$1" >"$unit_dir/$1.tmp"
  chmod 0644 "$unit_dir/$1.tmp"
  mv "$unit_dir/$1.tmp" "$unit_dir/$1"
}
for unit in "${units[@]}"; do
  exec_start=$(sed -n -e "s|/opt/hopmap|$prefix|g" -e "s|^ExecStart=/usr/bin/node |ExecStart=$node_bin |" -e '/^ExecStart=/p' "$repo/systemd/$unit")
  say "installing $unit_dir/$unit${exec_start:+: $exec_start}"
  run install_unit "$unit"
done
run systemctl daemon-reload
if ((${#services[@]})); then run systemctl enable hopmap.target; fi

((${#running[@]} == 0)) || run systemctl start "${running[@]}"
if ((!start)); then
  say "not starting (--no-start); to start: systemctl enable --now hopmap-ping"
elif ((config_is_example)); then
  say "not starting: edit $config_file (input_file, output_file), then: systemctl enable --now hopmap-ping"
else
  run systemctl enable --now hopmap-ping.service
fi
# Input and output refuse requests without a key (docs/security.md): a worker without one gets 401.
if ((!config_is_example)) && ! grep -Eqs '^api_key:' "${new_config:-$config_file}"; then
  say "note: $config_file has no api_key; the services refuse the worker without one. Make it where the database is reachable:"
  say "      hopmap keys add NAME --role worker   (then api_key: KEY in $config_file; systemctl restart hopmap-ping)"
fi

service_units=()
for service in "${services[@]}"; do
  service_units+=("hopmap-$service.service")
  if [[ $service == *@* && ! -e $config_dir/${service/@/-}.env ]]; then
    say "note: hopmap-$service needs $config_dir/${service/@/-}.env with its own HOPMAP_PORT (docs/deploy-services.md)"
  fi
done
if ((${#service_units[@]})); then
  say "the services take only requests with a key: hopmap keys add NAME --role worker|feeder|admin (with DATABASE_URL"
  say "      from $env_file) makes one; an output's --input-url needs a feeder key as HOPMAP_INPUT_KEY in $config_dir/output.env"
fi
if ((${#service_units[@]} == 0)); then
  :
elif ((!start)); then
  say "not starting (--no-start); to start: systemctl enable --now ${service_units[*]}"
elif ((env_file_is_example)); then
  say "not starting the services: set DATABASE_URL in $env_file, then: systemctl enable --now ${service_units[*]}"
else
  run systemctl enable --now "${service_units[@]}"
fi
say "done. Status: systemctl status 'hopmap-*'; logs: journalctl -u 'hopmap-*' -f"
