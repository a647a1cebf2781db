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
// It also checks each wheel's sha256 hashes with the platform's native digest (WebCrypto:
// crypto.subtle, in browsers and Node), before the first module of the wheel is loaded:
// hashlib inside WebAssembly takes about 20 times as long. The Python side plans a "check"
// step (the manifest's path) first in the wheel's list, so the check runs at install time
// even when every module of the wheel is loaded later, on import.
//
// It keeps the time of its own work per wheel (timingsOf): the hash check, and its
// bookkeeping around each load, apart from Emscripten's loads themselves.
//
// Evaluated with pyodide.code.run_js; evaluates to a function of (Module, pyodide).
(Module, pyodide) => {
  const RTLD_GLOBAL = 256;
  const LOADING = "loading"; // what Emscripten's cache holds for a library being loaded
  // Files hashed at a time: enough to keep the digest threads busy, while the copies
  // WebCrypto makes of its input stay a few files' worth.
  const HASH_CONCURRENCY = 4;
  // run_js evaluates this in the embedder's global scope, which may lack these (a Node vm
  // context, as pytest-pyodide's driver makes, has neither unless it passes them in).
  const subtle = globalThis.crypto?.subtle;
  const now = globalThis.performance ? () => performance.now() : () => Date.now();

  const hook = {
    original: Module._emscripten_dlopen_promise,
    plans: new Map(), // absolute path -> plan (see plan())
    providers: new Map(), // library file name -> {path, wheel}
    loads: new Map(), // absolute path -> Promise of its load
    waiters: new Map(), // library file name -> [resolve]
    checks: new Map(), // the path of a wheel's check step -> wheel
    hashes: new Map(), // wheel -> [[absolute path, manifest path, sha256]]
    verifications: new Map(), // wheel -> Promise of its hash check
    timings: new Map(), // wheel -> milliseconds of own work, see timing()
    providerGraceMs: 1000,
    // Whether this hook can check hashes (crypto.subtle exists in secure contexts only:
    // https, localhost, Node); if not, the Python side checks them with hashlib.
    nativeDigest: typeof subtle?.digest === "function",

    plan(path, wheel, library, global, aliases, packages, waitFor, viaLoadPackage) {
      hook.plans.set(path, {
        wheel, library, global, aliases: new Map(aliases), packages, waitFor, viaLoadPackage,
      });
    },

    provide(name, path, wheel) {
      if (!hook.providers.has(name)) {
        hook.providers.set(name, { path, wheel });
      }
      for (const resolve of hook.waiters.get(name) ?? []) resolve();
      hook.waiters.delete(name);
    },

    // The hashes to check before the wheel's first load, and the path of its check step.
    expectHashes(wheel, checkPath, entries) {
      hook.hashes.set(wheel, entries);
      hook.checks.set(checkPath, wheel);
    },

    forget(wheel) {
      for (const [path, plan] of hook.plans) if (plan.wheel === wheel) hook.plans.delete(path);
      for (const [path, owner] of hook.checks) if (owner === wheel) hook.checks.delete(path);
      hook.hashes.delete(wheel);
      hook.verifications.delete(wheel);
      hook.timings.delete(wheel);
    },

    timingsOf(wheel) {
      return timing(wheel);
    },

    knows(name) {
      return hook.providers.has(name) || name in Module.LDSO.loadedLibsByName;
    },

    dlopen(ptr, flags) {
      const path = Module.UTF8ToString(ptr);
      const checked = hook.checks.get(path);
      if (checked !== undefined) return Module.promiseMap.allocate({ promise: verified(checked) });
      const plan = hook.plans.get(path);
      if (plan === undefined) return hook.original(ptr, flags);
      const info = { promise: loadPlanned(path, flags, plan) };
      return Module.promiseMap.allocate(info);
    },
  };

  // Milliseconds of the hook's work for a wheel: hashing (wall time of the whole check),
  // hook (bookkeeping around its loads), loading (Emscripten's loads: not own work).
  function timing(wheel) {
    let entry = hook.timings.get(wheel);
    if (entry === undefined) {
      entry = { hashing: 0, hashedBytes: 0, hook: 0, loading: 0 };
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

  // One check per wheel, shared by its check step and every load of its modules (another
  // wheel's module may need one of them before the wheel's own installer gets to it).
  function verified(wheel) {
    let promise = hook.verifications.get(wheel);
    if (promise === undefined) {
      promise = verifyHashes(wheel, hook.hashes.get(wheel) ?? []);
      hook.verifications.set(wheel, promise);
    }
    return promise;
  }

  async function verifyHashes(wheel, entries) {
    const start = now();
    const queue = [...entries];
    const worker = async () => {
      for (let entry = queue.shift(); entry !== undefined; entry = queue.shift()) {
        await checkHash(wheel, ...entry);
      }
    };
    try {
      await Promise.all(Array.from({ length: HASH_CONCURRENCY }, worker));
    } finally {
      timing(wheel).hashing += now() - start;
    }
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

  // -- loading -----------------------------------------------------------------------------

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

  // A failed load leaves "loading" entries in Emscripten's cache, which would make a retry
  // "succeed" without loading anything: remove the ones this load created.
  function forgetPoisoned(before) {
    for (const [key, dso] of Object.entries(Module.LDSO.loadedLibsByName)) {
      if (!before.has(key) && dso.exports === LOADING) delete Module.LDSO.loadedLibsByName[key];
    }
  }

  async function waitForProvider(name, plan) {
    if (hook.knows(name)) return;
    // Wheels installed in one micropip call unpack one after the other; give the others a
    // moment to announce what they provide.
    let timer;
    const announced = new Promise((resolve) => {
      const list = hook.waiters.get(name) ?? [];
      list.push(resolve);
      hook.waiters.set(name, list);
    });
    const timeout = new Promise((resolve) => {
      timer = setTimeout(() => resolve("timeout"), hook.providerGraceMs);
    });
    const result = await Promise.race([announced, timeout]);
    clearTimeout(timer);
    if (result === "timeout" && !hook.knows(name)) {
      throw new Error(
        `${plan.wheel}: ${plan.library}: needs ${name}, which the wheel leaves to another ` +
          "wheel (repair --exclude), and no installed wheel provides it",
      );
    }
  }

  // Each planned module is loaded once: a second dlopen of it (its own installer after
  // another wheel's module needed it, or a concurrent install) waits for the first.
  function loadPlanned(path, flags, plan) {
    let loading = hook.loads.get(path);
    if (loading === undefined) {
      loading = load(path, flags, plan);
      hook.loads.set(path, loading);
      loading.catch(() => hook.loads.delete(path)); // a retry loads it again
    }
    return loading;
  }

  async function load(path, flags, plan) {
    await loadPackages(plan);
    await loadProviders(plan);
    await verified(plan.wheel);
    const before = own(plan.wheel, () => prepare(plan));
    const start = now();
    try {
      await dlopenPath(path, plan.global ? flags | RTLD_GLOBAL : flags);
    } catch (error) {
      own(plan.wheel, () => forgetPoisoned(before));
      const detail = lastError() ?? String(error);
      throw new Error(`${plan.wheel}: ${plan.library}: ${detail}`);
    } finally {
      timing(plan.wheel).loading += now() - start;
    }
    if (plan.global) own(plan.wheel, () => registerLibrary(path));
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
    for (const name of plan.waitFor) {
      await waitForProvider(name, plan);
      const provider = hook.providers.get(name);
      const providerPlan = provider && hook.plans.get(provider.path);
      if (providerPlan) await loadPlanned(provider.path, 2, providerPlan);
    }
  }

  // Make the module's dependencies findable under its lookup keys; return the cache's keys
  // before the load, to clean up after a failure.
  function prepare(plan) {
    for (const [key, target] of plan.aliases) alias(key, target);
    return new Set(Object.keys(Module.LDSO.loadedLibsByName));
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

  return hook;
}
