# bench/lib/loopback.sh: sourced by the bench scripts that run servers on
# loopback. It expects die, $ROOT and $WORK from the script and defines:
#   free_port          a free TCP port on 127.0.0.1
#   wait_port PORT     wait until something listens on PORT
#   start_versitygw    a versitygw over $WORK/s3 with fresh root keys; sets
#                      S3_PID, S3_KEY, S3_SECRET and S3_ENDPOINT and defines
#                      s3 (the AWS CLI's s3 commands against it)
#   start_seqstore KEYID [FLAGS...]
#                      seqstore serve (from $SEQSTORE_BIN, built from the
#                      tree when empty) over $WORK/seqstore-data on a free
#                      port, with root key KEYID and a fresh secret, logging
#                      to $WORK/seqstore.log; exports SEQSTORE_ACCESS_KEY_ID
#                      and SEQSTORE_SECRET_ACCESS_KEY, sets SERVER_PID and PORT
#   peak_rss_tree, start_pss_sampler
#                      from bench/lib/procmem.sh
#   stop_servers       for the EXIT trap: stops both and removes $WORK

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

wait_port() {
	for _ in $(seq 1 300); do
		python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' "$1" 2>/dev/null && return
		sleep 0.1
	done
	die "nothing listens on port $1"
}

start_versitygw() {
	local port
	port=$(free_port)
	S3_KEY="BENCH$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')"
	S3_SECRET=$(head -c 20 /dev/urandom | od -An -tx1 | tr -d ' \n')
	mkdir -p "$WORK/s3"
	ROOT_ACCESS_KEY_ID=$S3_KEY ROOT_SECRET_ACCESS_KEY=$S3_SECRET \
		versitygw --port "127.0.0.1:$port" --region us-east-1 --quiet posix "$WORK/s3" >"$WORK/versitygw.log" 2>&1 &
	S3_PID=$!
	wait_port "$port"
	S3_ENDPOINT="http://127.0.0.1:$port"
}

s3() { AWS_ACCESS_KEY_ID=$S3_KEY AWS_SECRET_ACCESS_KEY=$S3_SECRET AWS_DEFAULT_REGION=us-east-1 aws --endpoint-url "$S3_ENDPOINT" s3 "$@"; }

start_seqstore() {
	if [ -z "${SEQSTORE_BIN:-}" ]; then
		SEQSTORE_BIN="$WORK/seqstore"
		(cd "$ROOT" && go build -o "$SEQSTORE_BIN" ./cmd/seqstore)
	fi
	export SEQSTORE_ACCESS_KEY_ID=$1
	shift
	SEQSTORE_SECRET_ACCESS_KEY=$(head -c 30 /dev/urandom | base64 | tr -d '/+=' | head -c 40)
	export SEQSTORE_SECRET_ACCESS_KEY
	PORT=$(free_port)
	"$SEQSTORE_BIN" serve -addr "127.0.0.1:$PORT" -data "$WORK/seqstore-data" "$@" >"$WORK/seqstore.log" 2>&1 &
	SERVER_PID=$!
	wait_port "$PORT"
}

SERVER_PID=""
S3_PID=""
. "$ROOT/bench/lib/procmem.sh"

stop_servers() {
	[ -n "$SERVER_PID" ] && kill -TERM "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
	[ -n "$S3_PID" ] && kill -TERM "$S3_PID" 2>/dev/null && wait "$S3_PID" 2>/dev/null
	rm -rf "$WORK"
}
