# The reader's terminal, for test/e2e/readme.test.ts, with two stand-ins: `npm start` runs in
# the background (a reader gives it a terminal of its own) and returns once the service is
# ready; curl reaches the test's port instead of 8080 and reports each answer's status.
curl() {
  local args=() a
  for a in "$@"; do args+=("${a//localhost:8080/localhost:$PORT}"); done
  command curl -w $'\n\037%{http_code}\n' "${args[@]}"
  printf '\036\n'
}
npm() {
  if [ "$1" != start ]; then command npm "$@"; return; fi
  setsid npm --prefix "$REPO" start > "$SERVICE_LOG" 2>&1 < /dev/null &
  echo $! > "$SERVICE_PID"
  for _ in $(seq 600); do
    command curl -sf "localhost:$PORT/ready" > /dev/null && return 0
    sleep 0.1
  done
  echo "the service did not start: $(cat "$SERVICE_LOG")" >&2
  return 1
}
