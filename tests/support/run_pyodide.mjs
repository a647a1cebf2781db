// Run Python code in a local Pyodide distribution under Node.
//
//   node tests/support/run_pyodide.mjs --dist DIR [--mount HOST_DIR[:EM_DIR] ...]
//        [--load-package PATH_OR_NAME ...] (--file script.py | --code CODE)
//
// DIR is a Pyodide distribution (see tools/pyodide_dist.py). Each --mount
// (repeatable) makes a host directory visible in Pyodide's file system, at
// EM_DIR or else at the same absolute path (EM_DIR must be missing or empty;
// /tmp is empty at start), e.g. `--mount /tmp` then
// `await micropip.install("emfs:/tmp/x.whl")`. Each
// --load-package (repeatable) is passed to pyodide.loadPackage before the code
// runs: a package name from DIR's pyodide-lock.json or a path to a wheel (a
// relative path is taken from the current directory). The code runs with
// runPythonAsync, so top-level `await` works. Python's stdout and stderr go to
// this process's stdout and stderr. On a Python error the message is printed on
// stderr and the exit status is 1; a usage error exits with 2.

import { readFileSync, existsSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

const USAGE =
  "usage: node run_pyodide.mjs --dist DIR [--mount HOST_DIR[:EM_DIR] ...] " +
  "[--load-package PATH_OR_NAME ...] (--file script.py | --code CODE)";

function usageError(message) {
  process.stderr.write(`run_pyodide: ${message}\n${USAGE}\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { dist: null, file: null, code: null, packages: [], mounts: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) usageError(`${arg} needs a value`);
      return argv[++i];
    };
    switch (arg) {
      case "--dist":
        opts.dist = value();
        break;
      case "--file":
        opts.file = value();
        break;
      case "--code":
        opts.code = value();
        break;
      case "--mount":
        opts.mounts.push(parseMount(value()));
        break;
      case "--load-package":
        opts.packages.push(value());
        break;
      case "-h":
      case "--help":
        process.stdout.write(`${USAGE}\n`);
        process.exit(0);
        break;
      default:
        usageError(`unknown argument ${arg}`);
    }
  }
  if (!opts.dist) usageError("--dist is required");
  if ((opts.file === null) === (opts.code === null)) {
    usageError("give exactly one of --file and --code");
  }
  return opts;
}

// "HOST_DIR[:EM_DIR]" -> [absolute host dir, Emscripten dir].
function parseMount(spec) {
  const colon = spec.indexOf(":");
  const host = path.resolve(colon < 0 ? spec : spec.slice(0, colon));
  const target = colon < 0 ? host : spec.slice(colon + 1);
  if (!path.posix.isAbsolute(target)) usageError(`--mount: ${target} is not absolute`);
  return [host, target];
}

// A name from the lock stays a name; anything that looks like a path or a
// wheel file becomes an absolute path, which loadPackage accepts under Node.
function packageSpec(spec) {
  const looksLikePath = spec.includes("/") || spec.endsWith(".whl");
  return looksLikePath ? path.resolve(spec) : spec;
}

// Write Python's output through unchanged (no extra newlines added).
function rawWriter(stream) {
  return {
    write(buffer) {
      stream.write(buffer);
      return buffer.length;
    },
  };
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const dist = path.resolve(opts.dist);
  const entry = path.join(dist, "pyodide.mjs");
  if (!existsSync(entry)) usageError(`no pyodide.mjs in ${dist}`);
  const code = opts.file === null ? opts.code : readFileSync(opts.file, "utf8");

  const { loadPyodide } = await import(pathToFileURL(entry).href);
  const pyodide = await loadPyodide({ indexURL: dist + path.sep });
  pyodide.setStdout(rawWriter(process.stdout));
  pyodide.setStderr(rawWriter(process.stderr));
  for (const [host, target] of opts.mounts) {
    if (!existsSync(host)) usageError(`--mount: no directory ${host}`);
    pyodide.mountNodeFS(target, host);
  }

  if (opts.packages.length > 0) {
    const errors = [];
    await pyodide.loadPackage(opts.packages.map(packageSpec), {
      messageCallback: (msg) => process.stderr.write(`${msg}\n`),
      errorCallback: (msg) => errors.push(msg),
    });
    if (errors.length > 0) {
      throw new Error(`loadPackage failed: ${errors.join("; ")}`);
    }
  }

  try {
    await pyodide.runPythonAsync(code, {
      filename: opts.file === null ? "<code>" : path.resolve(opts.file),
    });
  } finally {
    // Python buffers output that has no newline yet; flush it, also on error.
    pyodide.runPython("import sys; sys.stdout.flush(); sys.stderr.flush()");
  }
}

// Wait for stdout and stderr to drain before exiting, so piped output is kept.
function exit(status) {
  process.stdout.write("", () => process.stderr.write("", () => process.exit(status)));
}

main().then(
  () => exit(0),
  (err) => {
    // A PythonError's message is the Python traceback.
    const message = err && err.message ? err.message : String(err);
    process.stderr.write(`${message.replace(/\n+$/, "")}\n`);
    exit(1);
  },
);
