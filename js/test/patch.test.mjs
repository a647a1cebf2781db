// patchPyodide against a real Pyodide (EMWHEEL_PYODIDE_DIST: a distribution folder made by
// tools/pyodide_dist.py), with wheels built and repaired by tests/support/make_js_fixtures.py.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { before, test } from "node:test";
import { fileURLToPath } from "node:url";

import { EmwheelLoaderError, LOADER_VERSION, patchPyodide } from "../index.mjs";

const repo = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const dist = process.env.EMWHEEL_PYODIDE_DIST;
if (!dist) throw new Error("EMWHEEL_PYODIDE_DIST must name a Pyodide distribution folder");
const python = process.env.EMWHEEL_PYTHON ?? join(repo, ".venv", "bin", "python");
const { loadPyodide } = await import(join(dist, "pyodide.mjs"));
const abi = JSON.parse(readFileSync(join(dist, "pyodide-lock.json"), "utf8")).info.abi_version;

let wheels;
before(() => {
  const out = mkdtempSync(join(tmpdir(), "emwheel-js-"));
  const script = join(repo, "tests", "support", "make_js_fixtures.py");
  wheels = JSON.parse(execFileSync(python, [script, out, abi], { encoding: "utf8" }));
});

async function freshPyodide() {
  return await loadPyodide({ indexURL: dist });
}

async function loadPackageErrors(pyodide, path) {
  const errors = [];
  await pyodide.loadPackage(path, {
    messageCallback: () => {},
    errorCallback: (message) => errors.push(message),
  });
  return errors.join("\n");
}

test("pyodide.loadPackage of a repaired wheel without RUNTIME_PATH, patched", async () => {
  const pyodide = await freshPyodide();
  const handle = await patchPyodide(pyodide);
  assert.equal(handle.version, LOADER_VERSION);
  assert.equal(await loadPackageErrors(pyodide, wheels.noRuntimePath), "");
  assert.equal(pyodide.runPython("import testpkg; testpkg.compute(2)"), 107);
});

function loadedExtensions(pyodide) {
  return Object.keys(pyodide._module.LDSO.loadedLibsByName).filter((k) =>
    k.endsWith("_testext.abi3.so"),
  );
}

test("lazy by default: the extension module is loaded when it is imported", async () => {
  const pyodide = await freshPyodide();
  const handle = await patchPyodide(pyodide);
  assert.equal(await loadPackageErrors(pyodide, wheels.noRuntimePath), "");
  assert.deepEqual(loadedExtensions(pyodide), []);
  assert.equal(pyodide.runPython("import testpkg; testpkg.compute(3)"), 110);
  assert.equal(loadedExtensions(pyodide).length, 1);
  const [timings] = handle.installTimings();
  assert.match(timings.wheel, /^testpkg-1\.0-/);
  assert.equal(timings.modules, 3);
  assert.equal(timings.loadedAtInstall, 2);
  assert.equal(timings.hashMethod, "crc32");
  assert.equal(timings.crcChecked, 3);
  assert.ok(timings.ownSeconds >= timings.hashingSeconds);
});

test("lazy: false loads the extension module at install", async () => {
  const pyodide = await freshPyodide();
  const handle = await patchPyodide(pyodide, { lazy: false });
  assert.equal(await loadPackageErrors(pyodide, wheels.noRuntimePath), "");
  assert.equal(loadedExtensions(pyodide).length, 1);
  assert.equal(handle.installTimings()[0].loadedAtInstall, 3);
  assert.equal(pyodide.runPython("import testpkg; testpkg.compute(3)"), 110);
});

test("the same wheel fails on stock Pyodide", async () => {
  const pyodide = await freshPyodide();
  const errors = await loadPackageErrors(pyodide, wheels.noRuntimePath);
  assert.match(errors, /Failed to find dynamic library "lib(mid|base)-[0-9a-f]{8}\.so"/);
});

test("a wheel with RUNTIME_PATH loads with and without the patch", async () => {
  for (const patch of [true, false]) {
    const pyodide = await freshPyodide();
    if (patch) await patchPyodide(pyodide);
    assert.equal(await loadPackageErrors(pyodide, wheels.repaired), "");
    assert.equal(pyodide.runPython("import testpkg; testpkg.compute(0)"), 101);
  }
});

test("a corrupt library: an error naming wheel and library; Pyodide stays usable", async () => {
  const pyodide = await freshPyodide();
  await patchPyodide(pyodide);
  const errors = await loadPackageErrors(pyodide, wheels.corrupt);
  assert.match(errors, /testpkg-1\.0-cp312-abi3-pyemscripten_\w+\.whl/);
  assert.ok(errors.includes(wheels.corruptLibrary), errors);
  assert.match(errors, /corrupt: not a WebAssembly module/);
  // A good wheel installs afterwards.
  assert.equal(await loadPackageErrors(pyodide, wheels.repaired), "");
  assert.equal(pyodide.runPython("import testpkg; testpkg.compute(1)"), 104);
});

test("patching twice is harmless, deactivate restores stock behaviour", async () => {
  const pyodide = await freshPyodide();
  await patchPyodide(pyodide);
  const handle = await patchPyodide(pyodide, { verifyHashes: false });
  handle.deactivate();
  const errors = await loadPackageErrors(pyodide, wheels.noRuntimePath);
  assert.match(errors, /Failed to find dynamic library/);
});

test("EmwheelLoaderError is exported for callers to catch", () => {
  assert.ok(new EmwheelLoaderError("x") instanceof Error);
});
