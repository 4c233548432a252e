# The Redis tests' set-up (redis.bats, run-redis.bats): each test starts
# its own redis-server on a unix socket in its temp dir and stops it by
# pid. Loaded after helper.

setup() {
	command -v redis-server >/dev/null ||
	    skip "needs redis-server (make deps)"
	"$IPCRUN" sub redis+unix:///x/y 2>&1 | grep -q 'built without Redis' &&
	    skip "this ipcrun was built without hiredis"
	T=$BATS_TEST_TMPDIR
	S=$T/redis.sock
	RPID=
}

teardown() {
	end_bg
	redis_stop
}

# redis_start [ARGS]: a redis-server on $S, ready when it answers PING.
redis_start() {
	redis-server --port 0 --unixsocket "$S" --save '' --appendonly no \
	    --dir "$T" --daemonize no "$@" > "$T/redis.log" 2>&1 &
	RPID=$!
	wait_for 20 redis_up
}

redis_up() {
	[ "$(redis-cli -s "$S" PING 2>/dev/null)" = PONG ] ||
	    redis-cli -s "$S" PING 2>/dev/null | grep -q NOAUTH
}

# redis_stop: SIGTERM (a graceful stop, AOF written), and wait for it.
redis_stop() {
	if [ -n "${RPID:-}" ]; then
		kill -CONT "$RPID" 2>/dev/null || true
		kill "$RPID" 2>/dev/null || true
		wait "$RPID" 2>/dev/null || true
		RPID=
	fi
}

rcli() {
	redis-cli -s "$S" "$@"
}

U() {
	echo "redis+unix://$S/$1"
}

