#!/usr/bin/env bash
# Runs `gotfe bench mnist` for every network and optimizer (seconds per private training batch
# of 128, three parties in one process over QUIC on loopback) and prints the JSON lines.
# Usage: scripts/bench_mnist_table.sh [extra flags for gotfe bench mnist]
set -euo pipefail
cd "$(dirname "$0")/.."
go build -o /tmp/gotfe-bench ./cmd/gotfe
for model in a b c d lr; do
	iters=10
	case $model in b|c) iters=3 ;; esac
	for opt in sgd adam amsgrad; do
		/tmp/gotfe-bench bench mnist --json --model "$model" --optimizer "$opt" \
			--iterations "$iters" --runs 2 --test-samples 1000 "$@" | grep mnist_train_iteration
	done
done
