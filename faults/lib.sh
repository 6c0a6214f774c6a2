# Shared by the fault suite's scripts (galera, mariadb, smallfs): where
# their state lives and how a MariaDB server of theirs is started, asked
# and stopped. Sourced, never run. Nothing here touches the machine's own
# MariaDB (port 3306, /var/lib/mysql, /run/mysqld): every server of the
# suite has its own datadir, socket and ports under FAULTS_DIR.

set -euo pipefail

# FAULTS_DIR holds every datadir, socket, log and pid file of the suite.
FAULTS_DIR="${FAULTS_DIR:-/tmp/shopauth-faults}"
# FAULTS_BASE_PORT is the first of the ports the suite uses (see galera and
# mariadb for the layout); far from 3306 and from the ephemeral range.
FAULTS_BASE_PORT="${FAULTS_BASE_PORT:-24300}"

MARIADBD="${MARIADBD:-/usr/sbin/mariadbd}"
GALERA_PROVIDER="${GALERA_PROVIDER:-/usr/lib/galera/libgalera_smm.so}"

log() { printf '%s: %s\n' "$(basename "$0")" "$*" >&2; }
die() {
	log "FAIL: $*"
	exit 1
}

# SERVER_USER runs the servers: mysql where Debian's package made it.
# Galera's rsync SST cannot run as root: its rsync daemon then drops to
# "nobody", which may not create the joiner's directories.
SERVER_USER="${SERVER_USER:-$(id -u mysql >/dev/null 2>&1 && echo mysql || echo root)}"

# need_root: starting servers as SERVER_USER and mounting the small
# filesystem need root.
need_root() { [ "$(id -u)" -eq 0 ] || die "run as root"; }

# apt_install PKG…: installs the Debian packages that are missing.
apt_install() {
	local missing=()
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
	done
	((${#missing[@]} == 0)) && return 0
	log "installing ${missing[*]}"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

need_mariadb() {
	[ -x "$MARIADBD" ] || apt_install mariadb-server
	[ -x "$MARIADBD" ] || die "$MARIADBD is missing"
}

# sql SOCKET STATEMENT…: runs statements as root over the server's socket.
sql() {
	local sock="$1"
	shift
	mariadb --no-defaults --protocol=socket -S "$sock" -uroot -N -B -e "$*"
}

# status_var SOCKET NAME: one global status value, empty when the server
# does not answer.
status_var() {
	sql "$1" "SHOW GLOBAL STATUS LIKE '$2'" 2>/dev/null | awk '{print $2}'
}

# own DIR…: hands the directories to SERVER_USER.
own() { chown -R "$SERVER_USER:" "$@"; }

# install_datadir DIR: a fresh system database, root without a password
# (over the socket) and root@127.0.0.1 without one (the DSN the tests use).
install_datadir() {
	local dir="$1"
	mkdir -p "$dir"
	chown "$SERVER_USER:" "$dir"
	mariadb-install-db --no-defaults --user="$SERVER_USER" --datadir="$dir" \
		--auth-root-authentication-method=normal --skip-test-db >"$dir.install.log" 2>&1 ||
		die "mariadb-install-db $dir failed: $(tail -5 "$dir.install.log")"
}

# pid_of PIDFILE: the pid when that process is alive.
pid_of() {
	local f="$1" pid
	[ -s "$f" ] || return 1
	pid="$(cat "$f")"
	kill -0 "$pid" 2>/dev/null || return 1
	printf '%s\n' "$pid"
}

# wait_for DESCRIPTION SECONDS COMMAND…: polls COMMAND every 0.2 s.
wait_for() {
	local what="$1" secs="$2"
	shift 2
	local deadline=$((SECONDS + secs))
	until "$@" >/dev/null 2>&1; do
		((SECONDS < deadline)) || return 1
		sleep 0.2
	done
}

# stop_server PIDFILE NAME: SIGTERM, then SIGKILL after 30 s; a frozen
# server is thawed first so it can shut down.
stop_server() {
	local f="$1" name="$2" pid
	pid="$(pid_of "$f")" || {
		rm -f "$f"
		return 0
	}
	kill -CONT "$pid" 2>/dev/null || true
	kill -TERM "$pid" 2>/dev/null || true
	local deadline=$((SECONDS + 30))
	while kill -0 "$pid" 2>/dev/null; do
		if ((SECONDS >= deadline)); then
			log "$name did not stop in 30 s; killing it"
			kill -KILL "$pid" 2>/dev/null || true
		fi
		sleep 0.2
	done
	rm -f "$f"
}
