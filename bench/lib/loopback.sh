# bench/lib/loopback.sh: sourced by the bench scripts that run servers on
# loopback. It expects die and $WORK from the script and defines:
#   free_port          a free TCP port on 127.0.0.1
#   wait_port PORT     wait until something listens on PORT
#   start_versitygw    a versitygw over $WORK/s3 with fresh root keys; sets
#                      S3_PID, S3_KEY, S3_SECRET and S3_ENDPOINT and defines
#                      s3 (the AWS CLI's s3 commands against it)

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
