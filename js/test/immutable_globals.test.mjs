// The loader's immutable_globals.js (see its header) against modules assembled here byte by
// byte and instantiated by this Node's WebAssembly: which exported globals it marks, and
// that a marked global behaves as before, except that Emscripten's immutability test
// (set, catch) no longer builds a TypeError each time.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const repo = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const file = join(repo, "loader", "emwheel_loader", "immutable_globals.js");
const source = readFileSync(file, "utf8");
const globals = (0, eval)(source)(WebAssembly);

// -- a small WebAssembly assembler ------------------------------------------------------------
const I32 = 0x7f;
const leb = (n) => {
  const out = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n) byte |= 0x80;
    out.push(byte);
  } while (n);
  return out;
};
const name = (text) => [...leb(text.length), ...new TextEncoder().encode(text)];
const vector = (items) => [...leb(items.length), ...items.flat()];
const section = (id, body) => [id, ...leb(body.length), ...body];
const module = (...sections) =>
  new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, ...sections.flat()]);

// Imports: a mutable and an immutable global, a function. Globals defined: 5 (immutable),
// 6 (mutable), and one initialized from the imported immutable global.
function moduleWithGlobals(exportNames = {}) {
  const names = {
    data_a: "data_a", counter: "counter", re_mut: "re_mut", re_const: "re_const",
    f: "f", data_b: "data_b", ...exportNames,
  };
  return module(
    section(1, vector([[0x60, 0, 0]])), // type 0: [] -> []
    section(2, vector([
      [...name("env"), ...name("imp_mut"), 3, I32, 1],
      [...name("env"), ...name("imp_const"), 3, I32, 0],
      [...name("env"), ...name("f"), 0, 0],
    ])),
    section(6, vector([
      [I32, 0, 0x41, 5, 0x0b],
      [I32, 1, 0x41, 6, 0x0b],
      [I32, 0, 0x23, 1, 0x0b], // global.get of the imported immutable global
    ])),
    section(7, vector([
      [...name(names.data_a), 3, 2],
      [...name(names.counter), 3, 3],
      [...name(names.re_mut), 3, 0],
      [...name(names.re_const), 3, 1],
      [...name(names.f), 0, 0],
      [...name(names.data_b), 3, 4],
    ])),
  );
}

function instantiate(bytes) {
  return new WebAssembly.Instance(new WebAssembly.Module(bytes), {
    env: {
      imp_mut: new WebAssembly.Global({ value: "i32", mutable: true }, 1),
      imp_const: new WebAssembly.Global({ value: "i32" }, 2),
      f: () => {},
    },
  });
}

// Emscripten 5's relocateExports asks this of every exported global.
function isImmutableGlobal(value) {
  if (value instanceof WebAssembly.Global) {
    try {
      value.value = value.value;
    } catch {
      return true;
    }
  }
  return false;
}

function errorOfSettingAnImmutableGlobal() {
  try {
    new WebAssembly.Global({ value: "i32" }, 0).value = 1;
  } catch (error) {
    return error;
  }
  assert.fail("setting an immutable global did not throw");
}

test("the immutable globals a module exports are found by position, imported ones too", () => {
  const found = globals.immutableExports(moduleWithGlobals());
  assert.deepEqual(found, { count: 6, positions: [0, 3, 5] }); // data_a, re_const, data_b
});

test("marked globals read as before, refuse a set with V8's error, pass Emscripten's test", () => {
  const bytes = moduleWithGlobals();
  const instance = instantiate(bytes);
  assert.equal(globals.mark(instance, globals.immutableExports(bytes)), 3);
  const { data_a, counter, re_mut, re_const, data_b } = instance.exports;
  assert.deepEqual([data_a.value, re_const.value, data_b.value], [5, 2, 2]);
  assert.equal(data_a.valueOf(), 5);
  assert.ok(data_a instanceof WebAssembly.Global);
  const expected = errorOfSettingAnImmutableGlobal();
  assert.throws(() => {
    data_a.value = 9;
  }, (error) => error instanceof TypeError && error.message === expected.message);
  assert.equal(data_a.value, 5);
  assert.deepEqual([data_a, re_const, data_b].map(isImmutableGlobal), [true, true, true]);
  // The mutable ones are left alone: still settable, and Emscripten's test says so.
  assert.deepEqual([counter, re_mut].map(isImmutableGlobal), [false, false]);
  counter.value = 42;
  assert.equal(counter.value, 42);
  // Marking twice changes nothing.
  assert.equal(globals.mark(instance, globals.immutableExports(bytes)), 0);
});

test("a module with an export named like an array index is left unmarked", () => {
  // The exports object lists such names first: positions would point at the wrong export.
  const bytes = moduleWithGlobals({ f: "7" });
  assert.equal(globals.immutableExports(bytes), null);
  assert.equal(globals.mark(instantiate(bytes), null), 0);
});

test("bytes that are not a module, or are cut short, are not understood", () => {
  const bytes = moduleWithGlobals();
  const cut = [new Uint8Array(0), bytes.subarray(0, 20), bytes.subarray(0, bytes.length - 3)];
  for (const bad of cut) {
    assert.equal(globals.immutableExports(bad), null);
  }
  assert.equal(globals.immutableExports(new TextEncoder().encode("not wasm at all")), null);
});

test("a module without exports, and an ArrayBuffer or a view into a larger buffer", () => {
  assert.deepEqual(globals.immutableExports(module()), { count: 0, positions: [] });
  const bytes = moduleWithGlobals();
  const larger = new Uint8Array(bytes.length + 10);
  larger.set(bytes, 5);
  const view = larger.subarray(5, 5 + bytes.length);
  assert.deepEqual(globals.immutableExports(view).positions, [0, 3, 5]);
  assert.deepEqual(globals.immutableExports(bytes.slice().buffer).positions, [0, 3, 5]);
});

test("an instance whose exports do not match the count read is left unmarked", () => {
  const instance = instantiate(moduleWithGlobals());
  assert.equal(globals.mark(instance, { count: 5, positions: [0] }), 0);
  assert.equal(isImmutableGlobal(instance.exports.data_a), true); // V8's own TypeError
});
