# The reader's terminal, for test/e2e/readme.test.ts, with stand-ins: `npm start` runs in
# the background (a reader gives it a terminal of its own) and returns once the service is
# ready; curl reaches the test's ports instead of 8080 (the service) and 9000 (the webhook
# receiver) and reports each answer's status; `node examples/…` runs the repository's example
# on the test's receiver port.
curl() {
  local args=() a
  for a in "$@"; do
    a="${a//localhost:8080/localhost:$PORT}"
    args+=("${a//localhost:9000/localhost:$RECEIVER_PORT}")
  done
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
node() {
  if [[ "$1" != examples/* ]]; then command node "$@"; return; fi
  local script="$REPO/$1"
  shift
  command node "$script" "$@"
}
# `npx partner-programs` runs this checkout's command against the test's service, with the
# README's examples beside it; what it prints on stderr (its summary) is shown as a terminal would.
cp -r "$REPO/examples" .
npx() {
  if [ "$1" != partner-programs ]; then command npx "$@"; return; fi
  shift
  PP_URL="http://127.0.0.1:$PORT" "$REPO/bin/partner-programs.js" "$@" 2>&1
}
