"""Times commands in interleaved rounds: every round runs each command once, in a new random
order, so a change in the load of a shared box weighs on all of them alike (hyperfine runs each
command's runs in one block, and a block that meets a busier minute skews its command alone).
Run as a script, it measures the commands of a JSON file and writes their times (ms) as JSON:

    interleaved.py ROUNDS COMMANDS.json TIMES.json
"""
import json, os, random, sys, time


def measure(commands, rounds, warmup=3):
    """{name: argv} -> {name: [ms, ...]}, `rounds` times each, interleaved."""
    for argv in commands.values():  # page cache, session store, the broker's first grant
        for _ in range(warmup):
            run(argv)
    times = {name: [] for name in commands}
    for _ in range(rounds):
        order = list(commands)
        random.shuffle(order)
        for name in order:
            times[name].append(run(commands[name]))
    return times


def run(argv):
    """Wall time of one run of `argv` in ms, stdio on /dev/null; a failure ends the benchmark."""
    null = os.open(os.devnull, os.O_RDWR)
    redirect = [(os.POSIX_SPAWN_DUP2, null, fd) for fd in (0, 1, 2)]
    start = time.perf_counter_ns()
    pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=redirect)
    _, status = os.waitpid(pid, 0)
    elapsed = (time.perf_counter_ns() - start) / 1e6
    os.close(null)
    if status != 0:
        sys.exit(f"{' '.join(argv)}: exit status {status}")
    return elapsed


if __name__ == "__main__":
    rounds, commands_file, times_file = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    with open(times_file, "w") as f:
        json.dump(measure(json.load(open(commands_file)), rounds), f)
