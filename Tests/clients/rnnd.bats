#!/usr/bin/env bats
# The shell client against a real rnnd (the debug build), on temporary folders.

setup_file() {
  export ROOT="$(cd "$BATS_TEST_DIRNAME/../.." && pwd)"
  export RNND="${RNND_BINARY:-$ROOT/.build/debug/rnnd}"
  export WORK="$(mktemp -d)"
  mkdir -p "$WORK/corpora"
  for i in $(seq 1 200); do echo "To be, or not to be, that is the question: line $i"; done > "$WORK/corpora/text.txt"
  printf '[paths]\nstate_directory = "%s/state"\nsocket_directory = "%s/run"\ncorpus_directories = ["%s/corpora"]\n[training]\nblas_threads = 1\n' \
    "$WORK" "$WORK" "$WORK" > "$WORK/rnnd.toml"
  "$RNND" --config "$WORK/rnnd.toml" 2>"$WORK/rnnd.log" &
  echo $! > "$WORK/pid"
  for _ in $(seq 1 200); do [ -S "$WORK/run/rnnd.sock" ] && break; sleep 0.05; done
  export RNND_SOCKET="$WORK/run/rnnd.sock"
  "$ROOT/clients/rnnd.sh" call model.create '{"model":"m1","hidden_size":32,"layers":1,"corpus":{"file":"'"$WORK"'/corpora/text.txt"},"seed":5}' >/dev/null
}

teardown_file() {
  kill "$(cat "$WORK/pid")" 2>/dev/null
  wait "$(cat "$WORK/pid")" 2>/dev/null || true
  rm -rf "$WORK"
}

@test "call prints the result as JSON" {
  run "$ROOT/clients/rnnd.sh" call daemon.status
  [ "$status" -eq 0 ]
  [ "$(jq -r .version <<<"$output")" = "0.1.0" ]
}

@test "status and list are short verbs" {
  run "$ROOT/clients/rnnd.sh" status
  [ "$status" -eq 0 ]
  [[ "$output" == "rnnd 0.1.0: 1/1 models loaded"* ]]
  run "$ROOT/clients/rnnd.sh" list
  [[ "$output" == m1*lstm\ 1x32* ]]
}

@test "sample streams the requested number of characters" {
  run "$ROOT/clients/rnnd.sh" sample m1 50 0.8 7
  [ "$status" -eq 0 ]
  [ "${#output}" -ge 40 ]
  again=$("$ROOT/clients/rnnd.sh" sample m1 50 0.8 7)
  [ "$output" = "$again" ]
}

@test "train prints progress and the finished job" {
  run "$ROOT/clients/rnnd.sh" train m1 "$WORK/corpora/text.txt" 30
  [ "$status" -eq 0 ]
  [[ "$output" == *"finished: 30 steps"* ]]
}

@test "feed reads stdin line by line" {
  run bash -c 'printf "one line\nanother line\n" | "$ROOT/clients/rnnd.sh" feed m1'
  [ "$status" -eq 0 ]
  [[ "$output" == *"fed 22 bytes to m1"* ]]
}

@test "feed sends a last line without a newline as it is, and waiting lines in one call" {
  before=$("$ROOT/clients/rnnd.sh" call model.info '{"model":"m1"}' | jq .feed_total_bytes)
  run bash -c 'for i in $(seq 1 500); do echo "line $i"; done | "$ROOT/clients/rnnd.sh" feed m1; printf "no newline" | "$ROOT/clients/rnnd.sh" feed m1'
  [ "$status" -eq 0 ]
  [[ "$output" == *"fed 10 bytes to m1"* ]]
  after=$("$ROOT/clients/rnnd.sh" call model.info '{"model":"m1"}' | jq .feed_total_bytes)
  [ $((after - before)) -eq $(( $(for i in $(seq 1 500); do echo "line $i"; done | wc -c) + 10 )) ]
}

@test "a socket it may not use says so and exits 77" {
  [ "$(id -u)" -ne 0 ] || skip "root may use any socket"
  chmod 000 "$RNND_SOCKET"
  run "$ROOT/clients/rnnd.sh" status
  chmod 600 "$RNND_SOCKET"
  [ "$status" -eq 77 ]
  [[ "$output" == *"may not use"* ]]
}

@test "a refusal says why and exits 1" {
  run "$ROOT/clients/rnnd.sh" call model.info '{"model":"nope"}'
  [ "$status" -eq 1 ]
  [[ "$output" == *"no model named 'nope'"* ]]
}

@test "bad JSON params are a usage error" {
  run "$ROOT/clients/rnnd.sh" call model.info '{nope'
  [ "$status" -eq 64 ]
}

@test "a missing daemon exits 69 with what to do" {
  run env RNND_SOCKET="$WORK/none.sock" "$ROOT/clients/rnnd.sh" status
  [ "$status" -eq 69 ]
  [[ "$output" == *"rnnd is not running at $WORK/none.sock"* ]]
}

@test "it can be sourced as a function library" {
  run bash -c 'source "$ROOT/clients/rnnd.sh" && rnnd_call model.list | jq -r ".models[0].name"'
  [ "$status" -eq 0 ]
  [ "$output" = "m1" ]
}

@test "score prints bits and the line for each line, in order" {
  run bash -c 'printf "To be, or not to be\nzzqx\nlast without newline" | "$ROOT/clients/rnnd.sh" score m1'
  [ "$status" -eq 0 ]
  [ "${#lines[@]}" -eq 3 ]
  [[ "${lines[0]}" == *$'\t'"To be, or not to be" ]]
  [[ "${lines[1]}" == *$'\t'"zzqx" ]]
  [[ "${lines[2]}" == *$'\t'"last without newline" ]]
}

@test "score cuts its calls by size: 1000 lines of 2000 characters are more than one message" {
  run bash -c 'python3 -c "import sys; [print(\"ab \" * 667) for _ in range(1000)]" | "$ROOT/clients/rnnd.sh" score m1'
  [ "$status" -eq 0 ]
  [ "${#lines[@]}" -eq 1000 ]
}
