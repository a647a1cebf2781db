// One round of the runtime benchmark (benchmarks/bench_runtime.py): a fresh Pyodide, one
// wheel installed with micropip, then its first use. The same code runs in Node
// (benchmarks/runtime_node.mjs) and in Chromium (imported by the page, driven by selenium).
//
// spec = {
//   indexURL,        // the Pyodide distribution
//   loaderURL,       // emwheel_loader's wheel: installed in every mode, so that micropip
//                    // is equally warm when the timed install starts
//   setupURLs,       // wheels installed before the clock starts (a case's dependencies)
//   lazy,            // null: stock (the loader is never imported); true/false: activate
//   wheelURL,        // the wheel whose install is timed
//   firstUse,        // Python code; the value of its last expression is the result
// }
//
// Returns {installSeconds, firstUseSeconds, heapBytes, memoryBytes, heapBeforeBytes, result,
// error}. heapBytes: the malloc heap after the first use (the sbrk break: where the heap
// ends, what malloc has taken from memory). memoryBytes: the length of Pyodide's
// WebAssembly memory, which grows in steps of up to 96 MB, so one allocation more can
// show as 75 MB more; memory
// only grows, so it is also the peak.

const now = () => performance.now() / 1000;

export async function runRound(loadPyodide, spec) {
  const pyodide = await loadPyodide({ indexURL: spec.indexURL });
  // Python prints (micropip, warnings) go nowhere: the driver's stdout carries the result.
  pyodide.setStdout({ batched: () => {} });
  pyodide.setStderr({ batched: () => {} });
  await pyodide.loadPackage("micropip");
  pyodide.globals.set("bench_spec", pyodide.toPy(spec));
  // The mode as a string: toPy turns JavaScript's null into pyodide.ffi.jsnull, not None.
  pyodide.globals.set("bench_mode", spec.lazy === null ? "stock" : spec.lazy ? "lazy" : "eager");
  await pyodide.runPythonAsync(`
import micropip
await micropip.install(bench_spec["loaderURL"], deps=False)
if bench_spec["setupURLs"]:
    await micropip.install(list(bench_spec["setupURLs"]), deps=False)
if bench_mode != "stock":
    import emwheel_loader
    emwheel_loader.activate(lazy=bench_mode == "lazy")
`);
  const heapBeforeBytes = heapEnd(pyodide._module);
  const out = { heapBeforeBytes, installSeconds: null, firstUseSeconds: null, result: null };
  const start = now();
  try {
    await pyodide.runPythonAsync(
      'await micropip.install(bench_spec["wheelURL"], deps=False)',
    );
    const installed = now();
    out.installSeconds = installed - start;
    out.result = String(await pyodide.runPythonAsync(spec.firstUse));
    out.firstUseSeconds = now() - installed;
  } catch (err) {
    // A PythonError's message is the traceback: keep its last line.
    const lines = String(err && err.message ? err.message : err).trim().split("\n");
    out.error = lines[lines.length - 1];
  }
  out.heapBytes = heapEnd(pyodide._module);
  out.memoryBytes = pyodide._module.HEAP8.length;
  return out;
}

// The sbrk break: the end of the malloc heap.
function heapEnd(module) {
  return module.HEAPU32[module._emscripten_get_sbrk_ptr() >>> 2];
}
