#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# The C unit tests of lib/'s pure pieces (test/unit/*_test.c, built by
# `make unit` for the same mode as ./ipcrun): each prints TAP and exits 1
# when any of its tests failed. (ev_storm stays in hardening.bats, beside
# the hang it pins.)

load helper

unit() {
	local b=build/release
	[ "${DEBUG:-0}" != 1 ] || b=build/debug
	run "$ROOT/$b/test/unit/$@"
	# The whole TAP, so that a failure shows which test and why.
	echo "$output"
	assert_success
	assert_line --regexp '^1\.\.[1-9][0-9]*$'
	refute_line --regexp '^not ok'
}

@test "words: sh quoting without expansions, NAME=CMD ARGS, refusals" {
	unit words_test
}

@test "route: key paths, stable hashes of decoded strings, jump pick, rr" {
	unit route_test
}

@test "envelope: M as its original bytes, decoded names, refusals, the from prefix" {
	unit envelope_test
}

@test "proc: one pass over /proc finds the live process groups among many" {
	unit proc_test
}

@test "drain: the end-of-input policy, looks, idle rule, hint and held deadlines" {
	unit drain_test
}

@test "drain: the table, every state against every event, held and not" {
	unit drain_table_test
}

@test "super: the supervision table, escalation, restarts and give-up" {
	unit super_test
}

@test "restart: policy, backoff with jitter and reset, the give-up tally" {
	unit restart_test
}

@test "units: durations and byte counts, with their refusals" {
	unit units_test
}

@test "fdmap: a descriptor map that swaps, rotates and shares sources places each" {
	unit fdmap_test
}

@test "chan: send or queue, own frames between lines, a gone peer, half-close, unread" {
	unit chan_test
}

@test "fwd: bytes unchanged, an fd with the bytes it came with, a full socket, a gone peer" {
	unit fwd_test
}

@test "spawn: what a child left unread in its stdin pipe, copied, never read" {
	unit spawn_pipe_test
}

@test "v8ser: a key twice in an object encodes as JSON.parse keeps it: fixed, random, 100,000 keys" {
	unit v8ser_test
}

@test "v8tag: each tag both ways, refusals by name, random payloads and edited texts (fuzz)" {
	unit v8tag_test
}

@test "v8frame: advanced frames cut at every byte, a long one dropped, the buffer given back" {
	unit v8frame_test
}

@test "nodechan: the channel variables read and removed, their refusals, the socket answers, frames classified" {
	unit nodechan_test
}

@test "fdpass: received fds kept in order up to the room given, the rest closed" {
	unit fdpass_test
}

@test "addr: a unix peer's uid and pid; own uid and root allowed, others only when listed, TCP outside the rule" {
	unit addr_test
}

@test "frame: internal Node messages found where check, attach and child refuse them" {
	unit frame_test
}

@test "frame: runs of unvalidated lines (--no-validate) are frame_next's lines, in order and numbered alike" {
	unit frame_plain_test
}

@test "buf: pieces written in one call, the rest queued in order, an error left for buf_write" {
	unit buf_test
}

@test "outq: whole lines or lost and counted, never blocking on a stalled pipe, the given fd left blocking" {
	unit outq_test
}

@test "handle: a listening socket to a real Node child: ACKed once, the line after it held until then, the child serves on it" {
	unit handle_test "$BATS_TEST_DIRNAME/fixtures/handle_child.js"
}

@test "cluster: Node's keys, a query bound and answered, round robin with refusals, NACKs and a dead worker, EADDRINUSE" {
	unit cluster_test
}

@test "task: lines kept whole, a FIFO across growth and wrap, take by id" {
	unit task_test
}

@test "redisurl: redis:// and redis+unix:// forms, the socket path rule, options, refusals" {
	unit redisurl_test
}
