#!/usr/bin/env bash
# rnnd.sh: a shell client of rnnd over socat and jq.
#
# As a command:   rnnd.sh call daemon.status
#                 rnnd.sh call model.create '{"model":"m1","hidden_size":64}'
#                 rnnd.sh sample m1 [LENGTH] [TEMPERATURE] [SEED]
#                 rnnd.sh train m1 /path/in/allowed/folder.txt [STEPS]
#                 tail -f app.log | rnnd.sh feed m1
#                 rnnd.sh score m1 < lines.txt     (BITS<TAB>LINE per line)
#                 rnnd.sh status | rnnd.sh list
# As a library:   source rnnd.sh; rnnd_call daemon.status; rnnd_sample m1 100
#
# The socket is $RNND_SOCKET, else /run/rnnd/rnnd.sock when it exists, else
# $XDG_RUNTIME_DIR/rnnd/rnnd.sock. Streams (sample, train) are printed as they arrive.
# Exit codes: 0 done, 1 rnnd refused the request, 64 usage error, 66 an input file cannot
# be read, 69 rnnd not reachable, 77 the socket is not ours to use.
# Needs: bash, socat, jq.

rnnd_socket() {
  if [ -n "${RNND_SOCKET:-}" ]; then printf '%s\n' "$RNND_SOCKET"
  elif [ -S /run/rnnd/rnnd.sock ]; then printf '%s\n' /run/rnnd/rnnd.sock
  elif [ -n "${XDG_RUNTIME_DIR:-}" ]; then printf '%s\n' "$XDG_RUNTIME_DIR/rnnd/rnnd.sock"
  else printf '/tmp/rnnd-%s/rnnd.sock\n' "$(id -u)"
  fi
}

# rnnd_call METHOD [PARAMS_JSON]: prints the result as JSON (unless RNND_PRINT_RESULT=0);
# notifications go to rnnd_on_notification (default: print sample text and training
# progress as they come).
rnnd_call() {
  local method=${1:?usage: rnnd_call METHOD [PARAMS_JSON]} params=${2:-"{}"} socket request
  socket=$(rnnd_socket)
  if ! request=$(jq -cn --arg m "$method" --argjson p "$params" '{jsonrpc:"2.0",method:$m,params:$p,id:1}' 2>/dev/null); then
    echo "rnnd.sh: params must be JSON, got: $params" >&2
    return 64
  fi
  if [ ! -S "$socket" ]; then
    echo "rnnd.sh: rnnd is not running at $socket; start it with rnnd (or systemctl start rnnd.socket), or set RNND_SOCKET" >&2
    return 69
  fi
  if [ ! -w "$socket" ]; then
    echo "rnnd.sh: you may not use $socket (only its owner and group may; join the rnnd-admin group), or set RNND_SOCKET to the read-only socket rnnd-ro.sock" >&2
    return 77
  fi
  local status=0 line
  while IFS= read -r line; do
    if [ "$line" = "RNND_SH_CONNECT_FAILED" ]; then
      echo "rnnd.sh: rnnd is not answering at $socket; start it with rnnd (or systemctl start rnnd.socket)" >&2
      status=69
    elif jq -e 'has("id")' >/dev/null <<<"$line"; then
      if jq -e 'has("error")' >/dev/null <<<"$line"; then
        jq -r '"rnnd.sh: " + .error.message' <<<"$line" >&2
        status=1
      elif [ "${RNND_PRINT_RESULT:-1}" = 1 ]; then
        jq -c '.result' <<<"$line"
      fi
    else
      rnnd_on_notification "$line"
    fi
  done < <(printf '%s\n' "$request" | socat -t 86400 - "UNIX-CONNECT:$socket" 2>/dev/null || echo RNND_SH_CONNECT_FAILED)
  return $status
}

# Prints a stream notification: sample text as it comes, training progress on stderr.
rnnd_on_notification() {
  local method
  method=$(jq -r '.method' <<<"$1")
  case "$method" in
    sample.chunk) jq -j '.params.text' <<<"$1" ;;
    train.progress) jq -r '.params | "step \(.step)\(if .total_steps then "/\(.total_steps)" else "" end) loss \(.loss // "-") val \(.validation_loss // "-")"' <<<"$1" >&2 ;;
    *) printf '%s\n' "$1" >&2 ;;
  esac
}

rnnd_status() {
  local out
  out=$(rnnd_call daemon.status) || return $?
  jq -r '"rnnd \(.version): \(.models_loaded)/\(.models_total) models loaded, \(.jobs_running) jobs running"' <<<"$out"
}

rnnd_list() {
  local out
  out=$(rnnd_call model.list) || return $?
  jq -r '.models[] | "\(.name)\t\(.architecture) \(.layers)x\(.hidden_size)\t\(.state)\t\(.steps) steps"' <<<"$out"
}

# rnnd_sample MODEL [LENGTH] [TEMPERATURE] [SEED]: text, streamed.
rnnd_sample() {
  local model=${1:?usage: rnnd_sample MODEL [LENGTH] [TEMPERATURE] [SEED]} params
  params=$(jq -cn --arg m "$model" --arg l "${2:-200}" --arg t "${3:-1}" --arg s "${4:-}" \
    '{model:$m,length:($l|tonumber),temperature:($t|tonumber),stream:true} + (if $s == "" then {} else {seed:($s|tonumber)} end)') || return 64
  RNND_PRINT_RESULT=0 rnnd_call sample "$params" || return $?
  echo
}

# rnnd_train MODEL FILE [STEPS]: trains, printing progress, and prints the final job.
rnnd_train() {
  local model=${1:?usage: rnnd_train MODEL FILE [STEPS]} file=${2:?usage: rnnd_train MODEL FILE [STEPS]} params
  case "$file" in /*) ;; *) file="$PWD/$file" ;; esac
  params=$(jq -cn --arg m "$model" --arg f "$file" --arg s "${3:-}" \
    '{model:$m,corpus:{file:$f},stream:true} + (if $s == "" then {} else {steps:($s|tonumber)} end)') || return 64
  local out
  out=$(rnnd_call train.start "$params") || return $?
  jq -r '"\(.job) \(.state): \(.step) steps, loss \(.loss // "-"), validation loss \(.validation_loss // "-")"' <<<"$out"
}

# rnnd_feed MODEL [FILE]: feeds FILE, or stdin as it comes (so tail -f works): the lines
# that are waiting go in one call (at most 64 Ki characters), the text exactly as read.
rnnd_feed() {
  local model=${1:?usage: rnnd_feed MODEL [FILE]} total=0 line buffer="" out
  if [ -n "${2:-}" ] && [ "$2" != - ]; then
    [ -r "$2" ] || { echo "rnnd.sh: cannot read $2" >&2; return 66; }
    out=$(rnnd_call train.feed "$(jq -cn --arg m "$model" --rawfile t "$2" '{model:$m,text:$t}')") || return $?
    total=$(jq -r '.accepted_bytes' <<<"$out")
  else
    while IFS= read -r line; do
      buffer+="$line"$'\n'
      # Sent when nothing more is waiting on stdin, or the call is full.
      if [ ${#buffer} -ge 65536 ] || ! read -r -t 0; then
        out=$(rnnd_feed_text "$model" "$buffer") || return $?
        total=$((total + out))
        buffer=""
      fi
    done
    # A last line without a newline is sent as it is.
    buffer+="$line"
    if [ -n "$buffer" ]; then
      out=$(rnnd_feed_text "$model" "$buffer") || return $?
      total=$((total + out))
    fi
  fi
  echo "fed $total bytes to $model" >&2
}

# rnnd_feed_text MODEL TEXT: one train.feed call; prints the bytes accepted.
rnnd_feed_text() {
  local out
  out=$(rnnd_call train.feed "$(printf '%s' "$2" | jq -Rsc --arg m "$1" '{model:$m,text:.}')") || return $?
  jq -r '.accepted_bytes' <<<"$out"
}

# rnnd_score MODEL [FILE]: prints "BITS<TAB>LINE" for each line of FILE or stdin, in order;
# the lines waiting are scored in one call (at most 1000, and 128 KiB, which JSON's escapes
# keep under the daemon's 1 MiB message limit; a longer line goes alone).
rnnd_score() {
  # Byte lengths, not characters: the limit is on the message's bytes.
  local LC_ALL=C
  local model=${1:?usage: rnnd_score MODEL [FILE]} line batch=() bytes=0
  if [ -n "${2:-}" ] && [ "$2" != - ]; then
    [ -r "$2" ] || { echo "rnnd.sh: cannot read $2" >&2; return 66; }
    exec 3<"$2"
  else
    exec 3<&0
  fi
  while IFS= read -r line <&3 || [ -n "$line" ]; do
    if [ ${#batch[@]} -gt 0 ] && [ $((bytes + ${#line})) -gt 131072 ]; then
      rnnd_score_lines "$model" "${batch[@]}" || return $?
      batch=()
      bytes=0
    fi
    batch+=("$line")
    bytes=$((bytes + ${#line} + 4))
    if [ ${#batch[@]} -ge 1000 ] || ! read -r -t 0 <&3; then
      rnnd_score_lines "$model" "${batch[@]}" || return $?
      batch=()
      bytes=0
    fi
    line=""
  done
  if [ ${#batch[@]} -gt 0 ]; then rnnd_score_lines "$model" "${batch[@]}" || return $?; fi
  exec 3<&-
}

# rnnd_score_lines MODEL LINE...: one score call; prints "BITS<TAB>LINE" per line.
rnnd_score_lines() {
  local model=$1 params out
  shift
  params=$(jq -cn --arg m "$model" '{model:$m,texts:$ARGS.positional}' --args "$@")
  out=$(rnnd_call score "$params") || return $?
  jq -r '[.scores, $ARGS.positional] | transpose[] | "\(.[0].bits_per_character * 10000 | round / 10000)\t\(.[1])"' \
    --args "$@" <<<"$out"
}

rnnd_main() {
  local verb=${1:-}
  [ $# -gt 0 ] && shift
  case "$verb" in
    call) rnnd_call "$@" ;;
    status) rnnd_status ;;
    list) rnnd_list ;;
    sample) rnnd_sample "$@" ;;
    train) rnnd_train "$@" ;;
    feed) rnnd_feed "$@" ;;
    score) rnnd_score "$@" ;;
    -h|--help|help) sed -n '2,18p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' ;;
    *) echo "rnnd.sh: unknown verb '$verb'; try: call, status, list, sample, train, feed, score, help" >&2; return 64 ;;
  esac
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -u
  rnnd_main "$@"
  exit $?
fi
