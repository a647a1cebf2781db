// emwheel's hook on Emscripten's dlopen, installed into a running Pyodide by activate().
//
// Pyodide's installers dlopen every library a package unpacks through
// Module._emscripten_dlopen_promise(path, flags), looking it up at each call. For a path the
// Python side has planned (a module of a wheel with an emwheel manifest), this hook first
// loads the Pyodide packages it needs and waits for libraries other wheels provide, makes
// its dependencies findable under every name Emscripten will look them up by, loads it with
// RTLD_GLOBAL if it is a shared library, and reports failures with the wheel's name.
// Any other path goes to Emscripten untouched.
//
// It also checks the sha256 hashes of the files the Python side could not check by their
// CRC-32 (a version-1 manifest), with the platform's native digest (WebCrypto:
// crypto.subtle; hashlib inside WebAssembly takes several times as long). The digests start
// when the wheel is planned, all at once in the order the files are needed, and run
// off the JavaScript thread while the installer loads: each module waits for its own file's
// digest only, and a last "check" step the Python side appends to the wheel's list (its
// path is the manifest's) waits for all of them, so the install fails on any mismatch, also
// of a file that is loaded later, on import. No file is loaded before its digest matches.
// The check step also waits for the compiles of modules Python will import (precompile()).
//
// It keeps the time of its own work per wheel (timingsOf): the time loads and the check
// step waited for digests, and its bookkeeping around each load, apart from Emscripten's
// loads themselves.
//
// Evaluated with pyodide.code.run_js; evaluates to a function of (Module, pyodide,
// immutableGlobals), the last being what immutable_globals.js evaluates to.
(Module, pyodide, immutableGlobals) => {
  const RTLD_GLOBAL = 256;
  const LOADING = "loading"; // what Emscripten's cache holds for a library being loaded
  // run_js evaluates this in the embedder's global scope, which may lack these (a Node vm
  // context, as pytest-pyodide's driver makes, has neither unless it passes them in).
  const subtle = globalThis.crypto?.subtle;
  const now = globalThis.performance ? () => performance.now() : () => Date.now();
  // Emscripten's WebAssembly object. Under a Node vm context (pytest-pyodide's driver), the
  // one run_js sees here is another realm's, whose modules Emscripten would not recognize
  // (instanceof) and whose constructor it does not call; a function of Emscripten's code
  // leads to its realm.
  const wasm = Module.UTF8ToString.constructor("return WebAssembly")();
  const globals = immutableGlobals(wasm);
  // Emscripten's Object, the same way: its reportUndefinedSymbols calls Object.entries(GOT)
  // (see entriesSettlingGOT()).
  const emscriptenObject = Module.UTF8ToString.constructor("return Object")();
  const entriesOf = emscriptenObject.entries;

  const hook = {
    original: Module._emscripten_dlopen_promise,
    plans: new Map(), // absolute path -> plan (see plan())
    providers: new Map(), // library file name -> {path, wheel}
    loads: new Map(), // absolute path -> Promise of its load
    waiters: new Map(), // library file name -> [resolve]
    checks: new Map(), // the path of a wheel's check step -> wheel
    digests: new Map(), // wheel -> {files: absolute path -> Promise, all: Promise}
    timings: new Map(), // wheel -> milliseconds of own work, see timing()
    // Extension module imports under way (one may import another), innermost last: {path,
    // loaded, before}: the file, whether it was loaded already, and Emscripten's state
    // before its import (see snapshot()).
    imports: [],
    hidden: new Map(), // global library -> its exports, while an import is under way
    compiled: new Map(), // absolute path -> {module, bytes}: compiled ahead of its import
    // absolute path -> {wheel, done: Promise, result: {module, bytes} once compiled}: a
    // module the install loads, compiled ahead of its load (see compileForInstall())
    installCompiles: new Map(),
    precompiles: new Map(), // wheel -> Promise: its compiles ahead of import have settled
    providerGraceMs: 1000,
    markedGlobals: 0, // immutable exported globals marked so far (see wrapWebAssembly())
    // Milliseconds of settling the GOT inside Emscripten's walks (see entriesSettlingGOT()),
    // and the names settled there while a load or an import is under way, for restore().
    walkSettling: 0,
    walkListing: 0, // milliseconds of Emscripten's own listing of the GOT in those walks
    settledInWindow: [],
    // Whether this hook can check hashes (crypto.subtle exists in secure contexts only:
    // https, localhost, Node); if not, the Python side checks them with hashlib.
    nativeDigest: typeof subtle?.digest === "function",

    // fromOtherWheels: the libraries other wheels provide, loaded before this module, also
    // when a wheel planned already provides them: that wheel's load may not have finished,
    // or may fail.
    plan(path, wheel, library, global, aliases, packages, fromOtherWheels, viaLoadPackage) {
      hook.plans.set(path, {
        wheel, library, global, aliases: new Map(aliases), packages, fromOtherWheels,
        viaLoadPackage,
      });
    },

    provide(name, path, wheel) {
      if (!hook.providers.has(name)) {
        hook.providers.set(name, { path, wheel });
      }
      for (const resolve of hook.waiters.get(name) ?? []) resolve();
      hook.waiters.delete(name);
    },

    // Start checking the wheel's hashes: entries [absolute path, manifest path, sha256], in
    // the order the files will be needed.
    expectHashes(wheel, entries) {
      hook.digests.set(wheel, startDigests(wheel, entries));
    },

    // checkPath: the path of the wheel's check step, the last in its installer's list (see
    // dlopen()).
    checkStep(wheel, checkPath) {
      hook.checks.set(checkPath, wheel);
    },

    // Compile the extension modules Python will import later (lazy mode), each once its
    // digest matched. WebAssembly.compile works off the JavaScript thread, overlapped with
    // the install's loads. The install's check step waits for these compiles as well: a
    // synchronous import right after the install gives this thread no turn, so a compile
    // still under way would not finish before the import needs it (its promise resolves
    // here). An import that finds its module compiled skips the synchronous compile (see
    // compiledModule()); a compile that failed is left to the import, which reports it.
    precompile(wheel, paths) {
      const digests = hook.digests.get(wheel)?.files;
      const start = now();
      const compiles = paths.map(async (path) => {
        const after = digests?.get(path);
        const { module, bytes } = await compileAhead(path, { after, queued: false });
        if (hook.plans.get(path)?.wheel === wheel) hook.compiled.set(path, { module, bytes });
        timing(wheel).compiledAhead += 1;
      });
      const all = Promise.allSettled(compiles).then(() => {
        timing(wheel).compilingWall = now() - start;
      });
      hook.precompiles.set(wheel, all);
    },

    // Compile the modules the install will load (paths, in load order), one after another
    // from now on, off the JavaScript thread, while earlier files are hashed and loaded.
    // They do not wait for their digests: compiling runs none of a module's code, and each
    // is instantiated only once its digest matched, by its load (load(), instantiate()).
    // A compile that fails is left to the load, which compiles again and reports it.
    compileForInstall(wheel, paths) {
      for (const path of paths) {
        const entry = { wheel, result: undefined };
        entry.done = compileAhead(path, { queued: true }).then((result) => {
          entry.result = result;
        });
        entry.done.catch(() => {});
        hook.installCompiles.set(path, entry);
      }
    },

    forget(wheel) {
      for (const path of hook.compiled.keys()) {
        if (hook.plans.get(path)?.wheel === wheel) hook.compiled.delete(path);
      }
      forgetInstallCompiles(wheel);
      for (const [path, plan] of hook.plans) if (plan.wheel === wheel) hook.plans.delete(path);
      for (const [path, owner] of hook.checks) if (owner === wheel) hook.checks.delete(path);
      hook.digests.delete(wheel);
      hook.precompiles.delete(wheel);
      hook.timings.delete(wheel);
    },

    // Around Python's import of an extension module (import_watch.py; path: the file), a
    // synchronous load this hook does not see: see hideGlobalExports(), compiledModule(),
    // wrapWebAssembly() and settleGOT(). A failed import leaves Emscripten as it was before
    // it (see restore()).
    // An import of a module loaded already (at install, or imported under another name)
    // loads nothing: it is left alone, which keeps a wheel without a manifest exactly as in
    // stock Pyodide (its modules are loaded at install).
    beginImport(path) {
      const loaded = path !== null && isLoaded(path);
      const outermost = hook.imports.every((entry) => entry.loaded);
      hook.imports.push({ path, loaded, before: loaded ? undefined : snapshot() });
      if (loaded || !outermost) return;
      hideGlobalExports();
      wrapWebAssembly();
    },

    endImport(failed) {
      const { loaded, before } = hook.imports.pop();
      if (loaded) return;
      if (failed) restore(before);
      if (!hook.imports.every((entry) => entry.loaded)) return;
      unwrapWebAssembly();
      showGlobalExports();
      settleGOT();
    },

    // "<wheel>: <library>" of a planned module, for errors raised outside the hook.
    describe(path) {
      const plan = hook.plans.get(path);
      return plan === undefined ? undefined : `${plan.wheel}: ${plan.library}`;
    },

    timingsOf(wheel) {
      return timing(wheel);
    },

    knows(name) {
      return hook.providers.has(name) || isLoaded(name);
    },

    dlopen(ptr, flags) {
      const path = Module.UTF8ToString(ptr);
      const checked = hook.checks.get(path);
      if (checked !== undefined) {
        const all = hook.digests.get(checked)?.all;
        const promise = Promise.all([
          waitForDigest(checked, all),
          waitForCompiles(checked, hook.precompiles.get(checked)),
        ]);
        return Module.promiseMap.allocate({ promise });
      }
      const plan = hook.plans.get(path);
      if (plan === undefined) return hook.original(ptr, flags);
      const info = { promise: loadPlanned(path, flags, plan) };
      return Module.promiseMap.allocate(info);
    },
  };

  // Milliseconds of the hook's work for a wheel: hashing (what loads and the check step
  // waited for digests), hashingWall (from the first digest's start to the last one's end,
  // mostly while Emscripten loads), hook (bookkeeping around its loads), loading
  // (Emscripten's loads, and what they waited for their compiles ahead: not own work);
  // walkListing (of loading: Emscripten listing the GOT's entries in its walks, see
  // entriesSettlingGOT());
  // compiledForInstall (modules the install loaded from a compile ahead); compiledAhead
  // (modules compiled for a later import; compiledUsed: of those, imported so far),
  // compilingWall (from the first of those compiles' start to the last one's end) and
  // compileWait (what the check step waited for them after the digests: compiling is work
  // stock Pyodide does at install too, not bookkeeping).
  function timing(wheel) {
    let entry = hook.timings.get(wheel);
    if (entry === undefined) {
      entry = {
        hashing: 0, hashingWall: 0, hashedBytes: 0, hook: 0, loading: 0, walkListing: 0,
        compiledForInstall: 0, compiledAhead: 0, compiledUsed: 0, compilingWall: 0,
        compileWait: 0,
      };
      hook.timings.set(wheel, entry);
    }
    return entry;
  }

  function own(wheel, step) {
    const start = now();
    try {
      return step();
    } finally {
      timing(wheel).hook += now() - start;
    }
  }

  // -- the hash check ----------------------------------------------------------------------

  // Every digest is started now, in the order given: a browser's WebCrypto runs them one
  // after another on its own thread (the first file needed is ready first), Node's in its
  // thread pool. Chained one after another instead, each next digest would wait for a turn
  // of this thread, which Emscripten's synchronous work during a load does not give: in
  // Node, grill-usd-core's install then waited 0.2 s for digests after its loads. A
  // mismatch rejects that file's promise and `all`; the others go on.
  function startDigests(wheel, entries) {
    const start = now();
    const files = new Map();
    for (const [path, library, sha256] of entries) {
      files.set(path, checkHash(wheel, path, library, sha256));
    }
    const all = Promise.all(files.values());
    // Awaited later, or never (a load that fails first ends the install): mark them handled.
    for (const promise of [...files.values(), all]) promise.catch(() => {});
    Promise.allSettled(files.values()).then(() => {
      timing(wheel).hashingWall = now() - start;
    });
    return { files, all };
  }

  async function waitForDigest(wheel, promise) {
    if (promise === undefined) return;
    const start = now();
    try {
      await promise;
    } finally {
      timing(wheel).hashing += now() - start;
    }
  }

  async function waitForCompiles(wheel, promise) {
    if (promise === undefined) return;
    await hook.digests.get(wheel)?.all.catch(() => {}); // the digests' wait is counted apart
    const start = now();
    await promise;
    timing(wheel).compileWait += now() - start;
  }

  async function checkHash(wheel, path, library, expected) {
    const bytes = fileBytes(path);
    timing(wheel).hashedBytes += bytes.length;
    const digest = toHex(await subtle.digest("SHA-256", bytes));
    if (digest !== expected) {
      throw new Error(
        `${wheel}: ${library}: sha256 mismatch: the file has ${digest}, the manifest says ${expected}`,
      );
    }
  }

  // A file's bytes, without a copy where it lives in MEMFS (where Pyodide unpacks wheels):
  // FS.readFile copies, which takes several times as long as the digest itself.
  function fileBytes(path) {
    const node = pyodide.FS.lookupPath(path).node;
    if (node.contents instanceof Uint8Array && Number.isInteger(node.usedBytes)) {
      return node.contents.subarray(0, node.usedBytes);
    }
    return pyodide.FS.readFile(path);
  }

  function toHex(buffer) {
    return Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, "0")).join("");
  }

  // -- Emscripten's WebAssembly, while it loads for the hook or for Python's import --------
  //
  // While a load of the hook's or an import is under way, WebAssembly.Module, .Instance and
  // .instantiate are wrapped: the immutable globals of each instance they make are marked
  // (immutable_globals.js) before Emscripten relocates them, and during an import the
  // Module constructor returns the module compiled ahead (compiledModule()). The wrappers
  // return what the originals return; windows may overlap (an import during an
  // asynchronous load), so the originals come back when the last one ends.
  // WebAssembly.Module -> where its immutable exported globals are (globals.immutableExports)
  const immutableExportsOf = new WeakMap();
  let wrapDepth = 0;
  let unwrapped; // the originals, while wrapped

  function wrapWebAssembly() {
    if (wrapDepth++ > 0) return;
    unwrapped = { Module: wasm.Module, Instance: wasm.Instance, instantiate: wasm.instantiate };
    wasm.Module = new Proxy(unwrapped.Module, { construct: constructModule });
    wasm.Instance = new Proxy(unwrapped.Instance, { construct: constructInstance });
    const originals = unwrapped;
    wasm.instantiate = (source, imports) => instantiate(originals, source, imports);
    emscriptenObject.entries = entriesSettlingGOT;
  }

  function unwrapWebAssembly() {
    if (--wrapDepth > 0) return;
    Object.assign(wasm, unwrapped);
    emscriptenObject.entries = entriesOf;
    hook.settledInWindow = []; // what a failure's restore() needed, it has used
    unwrapped = undefined;
  }

  function constructModule(target, args, newTarget) {
    const module = compiledModule(target, args, newTarget);
    if (!immutableExportsOf.has(module)) {
      immutableExportsOf.set(module, globals.immutableExports(args[0]));
    }
    return module;
  }

  function constructInstance(target, args, newTarget) {
    const instance = Reflect.construct(target, args, newTarget);
    hook.markedGlobals += globals.mark(instance, immutableExportsOf.get(args[0]));
    return instance;
  }

  // Emscripten's asynchronous loads: instantiate(bytes) gives {module, instance};
  // instantiate(module) an instance. Bytes compiled ahead for the install (the load waited
  // for that compile) are instantiated from that module instead.
  async function instantiate(originals, source, imports) {
    const ahead = takeInstallCompile(source);
    if (ahead !== undefined) {
      const instance = await originals.instantiate.call(wasm, ahead.module, imports);
      hook.markedGlobals += globals.mark(instance, immutableExportsOf.get(ahead.module));
      return { module: ahead.module, instance };
    }
    const result = await originals.instantiate.call(wasm, source, imports);
    if (result instanceof originals.Instance) {
      hook.markedGlobals += globals.mark(result, immutableExportsOf.get(source));
    } else {
      hook.markedGlobals += globals.mark(result.instance, globals.immutableExports(source));
    }
    return result;
  }

  // Compiles ahead. Those for the install's loads (compileForInstall(), `queued`) run one
  // at a time, in load order: V8 spreads each compile over its own worker threads, and the
  // first module the install loads is ready soonest alone. Those for later imports
  // (precompile()) start once the install's queued so far are done, side by side: run
  // alongside the install's, they took the cores from them (Chromium loads four modules of
  // grill-usd-core at install); queued one at a time, they made Node's install wait 0.4 s
  // longer for them. Each starts once `after` has settled (its file's digest). Resolves to
  // {module, bytes}.
  let installCompileQueue = Promise.resolve();
  function compileAhead(path, { after, queued }) {
    const compiled = installCompileQueue.then(async () => {
      await after;
      const bytes = fileBytes(path);
      const module = await wasm.compile(bytes);
      immutableExportsOf.set(module, globals.immutableExports(bytes));
      return { module, bytes };
    });
    if (queued) installCompileQueue = compiled.catch(() => {});
    return compiled;
  }

  function forgetInstallCompiles(wheel) {
    for (const [path, entry] of hook.installCompiles) {
      if (entry.wheel === wheel) hook.installCompiles.delete(path);
    }
  }

  // The module compiled ahead from these bytes for the install, if any (then used once).
  // Looked up by content, not by path: Emscripten reads the file itself, and NEEDED
  // libraries load within a load.
  function takeInstallCompile(source) {
    if (!ArrayBuffer.isView(source)) return undefined;
    for (const [path, entry] of hook.installCompiles) {
      if (entry.result !== undefined && sameBytes(source, entry.result.bytes)) {
        hook.installCompiles.delete(path);
        timing(entry.wheel).compiledForInstall += 1;
        return entry.result;
      }
    }
    return undefined;
  }

  // -- loading -----------------------------------------------------------------------------

  // WebAssembly.Module while Python imports an extension module: Emscripten compiles the
  // module's bytes with it (loadWebAssemblyModule), synchronously, from a copy it read from
  // the path the import names. The module compiled ahead from that file is returned
  // instead, if the bytes are the same (length, and three samples: a file changed since
  // the install is compiled from its new bytes).
  function compiledModule(target, args, newTarget) {
    const path = hook.imports.at(-1)?.path;
    const ahead = path === undefined ? undefined : hook.compiled.get(path);
    if (ahead !== undefined && sameBytes(args[0], ahead.bytes)) {
      hook.compiled.delete(path);
      const wheel = hook.plans.get(path)?.wheel;
      if (wheel !== undefined) timing(wheel).compiledUsed += 1;
      return ahead.module;
    }
    return Reflect.construct(target, args, newTarget);
  }

  function sameBytes(data, known) {
    if (!ArrayBuffer.isView(data) || data.byteLength !== known.length) return false;
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength); // HEAP8.slice
    const sample = 4096;
    for (const start of [0, (known.length >> 1) - sample, known.length - sample]) {
      const from = Math.max(0, start);
      const end = Math.min(known.length, from + sample);
      for (let i = from; i < end; i++) if (bytes[i] !== known[i]) return false;
    }
    return true;
  }

  // dlopen through Emscripten, returning a Promise; the path is copied into the heap.
  function dlopenPath(path, flags) {
    const ptr = Module.stringToNewUTF8(path);
    let id;
    try {
      id = hook.original(ptr, flags);
    } finally {
      Module._free(ptr);
    }
    const promise = Module.getPromise(id);
    Module.promiseMap.free(id);
    return promise;
  }

  function isLoaded(path) {
    const dso = cached(path) ?? cached(Module.PATH.normalize(path));
    return dso !== undefined && dso.exports !== LOADING;
  }

  function cached(key) {
    return Module.LDSO.loadedLibsByName[key];
  }

  // Register an already loaded library under more names. Never overwrite a different one.
  function alias(key, target) {
    const dso = cached(target) ?? cached(Module.PATH.normalize(target));
    if (dso === undefined || dso.exports === LOADING) return;
    if (cached(key) === undefined) Module.LDSO.loadedLibsByName[key] = dso;
  }

  function lastError() {
    const ptr = Module._dlerror();
    return ptr === 0 ? undefined : Module.UTF8ToString(ptr, 512).trim();
  }

  // What a failed load leaves behind, and restore() removes:
  // - "loading" entries in Emscripten's cache, which would make a retry "succeed" without
  //   loading anything;
  // - GOT entries for the module's imports, marked required when not weak: an undefined one
  //   (the reason the load failed) would fail every later load, whose reportUndefinedSymbols
  //   walks the whole GOT ("undefined symbol" of the failed module, for a good library);
  // - GOT entries for its exports, pointing into a module that never finished loading.
  // Loads are serialized (Pyodide's dynlib lock; Python's imports are synchronous), so what
  // appeared since the snapshot is the failed load's. Settled GOT entries (resolved, behind
  // the GOT's prototype) are not own keys: the snapshot lists the unsettled ones only.
  function snapshot() {
    const required = new Map();
    for (const [name, entry] of entriesOf(Module.GOT)) required.set(name, entry.required);
    const libs = new Set(Object.keys(Module.LDSO.loadedLibsByName));
    return { libs, required, settledMark: hook.settledInWindow.length };
  }

  function restore(before) {
    for (const [key, dso] of Object.entries(Module.LDSO.loadedLibsByName)) {
      if (!before.libs.has(key) && dso.exports === LOADING) {
        delete Module.LDSO.loadedLibsByName[key];
      }
    }
    const GOT = Module.GOT;
    for (const [name, entry] of entriesOf(GOT)) {
      if (!before.required.has(name)) delete GOT[name];
      else entry.required = before.required.get(name);
    }
    // Entries the failed load's own walk settled (its exports, resolved into it).
    for (const name of hook.settledInWindow.slice(before.settledMark)) {
      if (!before.required.has(name)) delete hook.settledGOT[name];
    }
  }

  async function waitForProvider(name, plan) {
    if (hook.knows(name)) return;
    // Wheels installed in one micropip call unpack one after the other; give the others a
    // moment to announce what they provide.
    let timer;
    let announce;
    const announced = new Promise((resolve) => {
      announce = resolve;
      const list = hook.waiters.get(name) ?? [];
      list.push(resolve);
      hook.waiters.set(name, list);
    });
    const timeout = new Promise((resolve) => {
      timer = setTimeout(() => resolve("timeout"), hook.providerGraceMs);
    });
    const result = await Promise.race([announced, timeout]);
    clearTimeout(timer);
    // No longer waiting: leave no waiter behind (provide() removes those it calls).
    const list = (hook.waiters.get(name) ?? []).filter((resolve) => resolve !== announce);
    if (list.length > 0) hook.waiters.set(name, list);
    else hook.waiters.delete(name);
    if (result === "timeout" && !hook.knows(name)) {
      throw new Error(
        `${plan.wheel}: ${plan.library}: needs ${name}, which the wheel leaves to another ` +
          "wheel (repair --exclude), and no installed wheel provides it",
      );
    }
  }

  // The provider of a library, once one is announced; undefined when the library is
  // loaded already. A provider whose load fails is forgotten (loadPlanned), possibly between
  // its announcement and this function's next turn: then wait again, for another wheel to
  // provide the library or for the grace period to end with waitForProvider's error.
  async function announcedProvider(name, plan) {
    for (;;) {
      await waitForProvider(name, plan);
      const provider = hook.providers.get(name);
      if (provider !== undefined || isLoaded(name)) return provider;
    }
  }

  // Each planned module is loaded once: a second dlopen of it (its own installer after
  // another wheel's module needed it, or a concurrent install) waits for the first.
  function loadPlanned(path, flags, plan) {
    let loading = hook.loads.get(path);
    if (loading === undefined) {
      loading = load(path, flags, plan);
      hook.loads.set(path, loading);
      loading.catch(() => {
        hook.loads.delete(path); // a retry loads it again
        forgetInstallCompiles(plan.wheel); // its install stops: its other loads never come
        // A library that failed to load provides nothing: a wheel installed later may.
        for (const [name, provider] of hook.providers) {
          if (provider.path === path) hook.providers.delete(name);
        }
      });
    }
    return loading;
  }

  async function load(path, flags, plan) {
    await loadPackages(plan);
    await loadProviders(plan);
    await waitForDigest(plan.wheel, hook.digests.get(plan.wheel)?.files.get(path));
    const compiling = hook.installCompiles.get(path)?.done;
    if (compiling !== undefined) {
      const start = now();
      await compiling.catch(() => {});
      timing(plan.wheel).loading += now() - start;
    }
    const before = own(plan.wheel, () => prepare(plan));
    const start = now();
    const settlingBefore = hook.walkSettling;
    const listingBefore = hook.walkListing;
    wrapWebAssembly();
    try {
      await dlopenPath(path, plan.global ? flags | RTLD_GLOBAL : flags);
    } catch (error) {
      own(plan.wheel, () => restore(before));
      const detail = lastError() ?? String(error);
      throw new Error(`${plan.wheel}: ${plan.library}: ${detail}`);
    } finally {
      hook.installCompiles.delete(path); // used, or not usable
      unwrapWebAssembly();
      // Settling in Emscripten's walks is the hook's work (an import Python runs meanwhile
      // would be counted here too: more own work, never less).
      const settling = hook.walkSettling - settlingBefore;
      timing(plan.wheel).hook += settling;
      timing(plan.wheel).loading += now() - start - settling;
      timing(plan.wheel).walkListing += hook.walkListing - listingBefore;
    }
    if (plan.global) own(plan.wheel, () => registerLibrary(path));
    own(plan.wheel, settleGOT);
  }

  async function loadPackages(plan) {
    const missing = plan.packages.filter((p) => !(p in pyodide.loadedPackages));
    if (missing.length === 0) return;
    if (plan.viaLoadPackage) {
      // pyodide.loadPackage holds its lock while it installs: loading more would hang.
      throw new Error(
        `${plan.wheel}: ${plan.library}: needs Pyodide package(s) ${missing.join(", ")}: ` +
          "load them first, or in the same pyodide.loadPackage call",
      );
    }
    await pyodide.loadPackage(missing, { messageCallback: () => {} });
  }

  async function loadProviders(plan) {
    for (const name of plan.fromOtherWheels) {
      if (isLoaded(name)) continue;
      const provider = await announcedProvider(name, plan);
      const providerPlan = provider && hook.plans.get(provider.path);
      if (!providerPlan) continue;
      try {
        await loadPlanned(provider.path, 2, providerPlan);
      } catch (error) {
        throw new Error(
          `${plan.wheel}: ${plan.library}: needs ${name}, from ${provider.wheel}, which ` +
            `failed to load (${error.message ?? error})`,
        );
      }
    }
  }

  // Make the module's dependencies findable under its lookup keys; return Emscripten's
  // state before the load, to clean up after a failure.
  function prepare(plan) {
    for (const [key, target] of plan.aliases) alias(key, target);
    return snapshot();
  }

  // A shared library just loaded: register it under its file name, and under the keys that
  // modules loaded later (by Python's import in lazy mode, or as another module's NEEDED)
  // will look it up by.
  function registerLibrary(path) {
    alias(path.slice(path.lastIndexOf("/") + 1), path);
    for (const other of hook.plans.values()) {
      for (const [key, target] of other.aliases) if (target === path) alias(key, target);
    }
  }

  // -- Emscripten's bookkeeping, kept proportional to what changed --------------------------
  //
  // After every load, Emscripten's reportUndefinedSymbols walks the whole GOT (an entry for
  // every export of every module loaded so far: 170,000 for grill-usd-core) to find the
  // unresolved ones. In Node 24 that was 4.2 s of grill-usd-core's 10.7 s stock install
  // (CPU profile), growing with each module. settleGOT() moves resolved entries to an
  // object behind GOT (its prototype), which changes no lookup: GOT[name] still finds them
  // and updates still go to the same WebAssembly.Global, but Object.entries(GOT), the walk,
  // lists only the entries added since. A resolved entry never becomes unresolved again.
  // Done in that walk itself while a load or an import is under way (entriesSettlingGOT()),
  // and again after each load of the hook's and each import Python made (endImport), for
  // what a walk did not see.
  // What the GOT holds for a symbol not resolved yet: -1 in Pyodide 314 (Emscripten 5), 0 in
  // 0.29 (Emscripten 4.0.9). Read from a probe entry, made as Emscripten makes them (as a
  // weak import, so that it is not marked required), then removed.
  function unresolvedGOTValue() {
    const probe = "__emwheel_got_probe__";
    const value = Module.GOTHandler.get(new Set([probe]), probe).value;
    delete Module.GOT[probe];
    return value;
  }

  // A module loaded locally gets in its local scope a copy of the exports of each library
  // it NEEDs (Object.assign in Emscripten's loadDynamicLibrary), also of a global library,
  // whose symbols are found in the global scope before the local one is ever consulted:
  // 2.8 s of grill-usd-core's stock install in Node 24, 45,000 exports copied for each of
  // its 29 extension modules. While Python imports an extension module, which is
  // synchronous (nothing else runs meanwhile, except the module's own initialisation), each
  // global library shows its exports through a view without keys, so that Object.assign
  // copies nothing; lookups through the view find the same symbols. The one thing that
  // sees the difference is a dlsym on such a library from the module's initialisation
  // (Emscripten's dlsym lists the keys), which would then fail.
  function hideGlobalExports() {
    for (const [name, dso] of Object.entries(Module.LDSO.loadedLibsByName)) {
      const exports = dso.exports;
      if (!dso.global || name === "__main__" || typeof exports !== "object" || exports === null) {
        continue;
      }
      if (hook.hidden.has(dso)) {
        continue;
      }
      hook.hidden.set(dso, exports);
      dso.exports = new Proxy(
        {},
        {
          get: (_, key) => exports[key],
          has: (_, key) => key in exports,
          set: (_, key, value) => Reflect.set(exports, key, value),
          ownKeys: () => [],
          getOwnPropertyDescriptor: (_, key) => {
            const own = Object.getOwnPropertyDescriptor(exports, key);
            return own === undefined ? undefined : { ...own, configurable: true };
          },
        },
      );
    }
  }

  function showGlobalExports() {
    for (const [dso, exports] of hook.hidden) dso.exports = exports;
    hook.hidden.clear();
  }

  // Returns the entries left in the GOT, unresolved ones, as Object.entries would.
  // ``entries``: the GOT's own entries, if they were just listed.
  function settleGOT(entries) {
    const GOT = Module.GOT;
    if (hook.settledGOT === undefined) {
      hook.unresolved = unresolvedGOTValue();
      hook.settledGOT = Object.create(Object.getPrototypeOf(GOT));
      Object.setPrototypeOf(GOT, hook.settledGOT);
    }
    const log = wrapDepth > 0 ? hook.settledInWindow : undefined;
    const unresolved = [];
    // Object.entries, not a lookup of each key: V8 runs this loop a few times per session,
    // mostly before it is optimized, and there a keyed lookup in an object of this size
    // costs several times the rest (10,500 entries in Node 24: 32 ms that way, 10 ms this).
    for (const pair of entries ?? entriesOf(GOT)) {
      const [name, entry] = pair;
      if (entry.value != hook.unresolved) {
        hook.settledGOT[name] = entry;
        delete GOT[name];
        log?.push(name);
      } else {
        unresolved.push(pair);
      }
    }
    return unresolved;
  }

  // Object.entries while a load or an import is under way. Emscripten's one call of it on
  // the GOT is reportUndefinedSymbols, after each module's exports were added, looking for
  // entries still unresolved: the GOT is settled right there, and the walk is handed only
  // those. Settling after the load instead walked every new entry twice (the settle costs
  // about as much as Emscripten's walk, which it makes short for every later load). Every
  // other call is passed through.
  // Listing the GOT's entries is the call Emscripten made, which stock Pyodide makes too, on
  // every entry at every load: its time is Emscripten's (walkListing, part of `loading`).
  // What the hook adds to it, checking each entry and moving the resolved ones, is the
  // hook's own work (walkSettling). In a Node 24 micro-benchmark of 117,000 entries (as
  // many as grill-usd-core's install adds), listing took about 55% of the walk.
  function entriesSettlingGOT(object) {
    if (object !== Module.GOT) return entriesOf(object);
    const listed = now();
    const entries = entriesOf(object);
    const start = now();
    hook.walkListing += start - listed;
    try {
      return settleGOT(entries);
    } finally {
      hook.walkSettling += now() - start;
    }
  }

  return hook;
}
