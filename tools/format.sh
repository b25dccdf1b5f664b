#!/bin/sh
# The C style check (.clang-format): clang-format --dry-run -Werror on the
# C files of src/ changed since BASE, or on all of them without BASE (as
# make check runs it, so every changed file is covered). Tests keep their
# own layout (argv tables one option per line pair; tests/.clang-format).
# TAP: one line per file. Usage: tools/format.sh [BASE]
set -u
cd "$(dirname "$0")/.." || exit 1
if [ $# -gt 0 ]; then
	files=$(git diff --name-only --diff-filter=d "$1" -- 'src/*.c' 'src/*.h')
else
	files=$(git ls-files 'src/*.c' 'src/*.h')
fi
if ! command -v clang-format > /dev/null; then
	echo "1..0 # SKIP clang-format is not installed (make deps installs it)"
	exit 0
fi
n=0
for f in $files; do
	n=$((n + 1))
	if out=$(clang-format --dry-run -Werror "$f" 2>&1); then
		echo "ok $n - $f is formatted"
	else
		echo "not ok $n - $f is not formatted: run clang-format -i $f"
		echo "$out" | head -n 12 | sed 's/^/# /'
	fi
done
echo "1..$n"
