"""Run a command and write its wall time and peak memory: `python -S peak_rss.py OUT CMD...`.

Why a separate process: the peak RSS that `wait4` reports for a child includes the memory
of the process it was started from, up to its `exec` (Linux keeps the old memory map's
high-water mark; Python's subprocess even uses vfork). Measured straight from a benchmark
script, every child would look at least as large as the script. This runner is small
(about 8 MB, no site packages); the command is forked from it, so its figure is the
command's own, and the largest of the children it waits for (not their sum).

It writes `{"seconds": ..., "max_rss": <bytes>, "returncode": ...}` as JSON to OUT.
The command's output goes where this runner's goes.
"""

import json
import os
import sys
import time


def main() -> None:
    result_file, argv = sys.argv[1], sys.argv[2:]
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        try:
            os.execvp(argv[0], argv)
        finally:
            os._exit(127)
    _, status, usage = os.wait4(pid, 0)
    seconds = time.perf_counter() - start
    result = {
        "seconds": seconds,
        "max_rss": usage.ru_maxrss * 1024,  # Linux reports kilobytes
        "returncode": os.waitstatus_to_exitcode(status),
    }
    with open(result_file, "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main()
