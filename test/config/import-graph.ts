/**
 * The import graph of src/, read from the TypeScript sources (TypeScript 7 has no JavaScript
 * parser API, so the statements are matched; every file in src/ writes them at a line's start).
 * The run-time graph leaves out what the compiler erases: `import type …`, `export type … from`,
 * and an `import { type A, type B }` whose every name is a type cannot take part in a load-time
 * cycle. Any other relative import counts, even one whose names the compiler would elide because
 * they are only used as types (write `import type` for those). The graph `{ types: true }` keeps
 * the type-only imports as well. Dynamic `import()` is never an edge: it runs after every module
 * has loaded.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

export type ImportGraph = Map<string, string[]>;

export function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

const IMPORT = /^import\s+(type\s+)?((?:[\w$]+\s*,?\s*)?(?:\{[^}]*\}|\*\s*as\s+[\w$]+)?)\s*from\s*['"]([^'"]+)['"]/gm;
const EXPORT = /^export\s+(type\s+)?(\*(?:\s*as\s+[\w$]+)?|\{[^}]*\})\s*from\s*['"]([^'"]+)['"]/gm;
const SIDE_EFFECT = /^import\s*['"]([^'"]+)['"]/gm;

/** true for `{ type A, type B }`: every name a type, so the compiler erases the statement */
function onlyTypes(clause: string): boolean {
  const braces = /^\{([^}]*)\}$/.exec(clause.trim());
  if (!braces) return false;
  const names = braces[1]!
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean);
  return names.length > 0 && names.every((n) => /^type\s/.test(n));
}

/**
 * The module specifiers a file imports or re-exports at run time. Statements are found at the
 * start of a line, as every file in src/ writes them, so an import in a comment or string is not one.
 */
export function runtimeImports(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(IMPORT)) if (!m[1] && !onlyTypes(m[2]!)) out.push(m[3]!);
  for (const m of text.matchAll(EXPORT)) if (!m[1] && !onlyTypes(m[2]!)) out.push(m[3]!);
  for (const m of text.matchAll(SIDE_EFFECT)) out.push(m[1]!);
  return out;
}

/** every module specifier of a file, erased or not: `import type` too */
export function allImports(text: string): string[] {
  return [...text.matchAll(IMPORT), ...text.matchAll(EXPORT)].map((m) => m[3]!).concat([...text.matchAll(SIDE_EFFECT)].map((m) => m[1]!));
}

/**
 * file → the files it imports at run time (with `types`, type-only imports too), every path
 * relative to `root` (e.g. src/vault.ts)
 */
export function importGraph(root: string, options: { types?: boolean } = {}, srcDir = 'src'): ImportGraph {
  const graph: ImportGraph = new Map();
  for (const file of sourceFiles(join(root, srcDir))) {
    const text = readFileSync(file, 'utf8');
    const targets = (options.types ? allImports(text) : runtimeImports(text))
      .filter((s) => s.startsWith('.'))
      .map((spec) => relative(root, resolve(dirname(file), spec.replace(/\.js$/, '.ts'))));
    graph.set(relative(root, file), [...new Set(targets)].sort());
  }
  return graph;
}

/** every strongly connected component with more than one file, or a file importing itself (Tarjan) */
export function cycles(graph: ImportGraph): string[][] {
  let index = 0;
  const indexOf = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    indexOf.set(v, index);
    low.set(v, index);
    index += 1;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!indexOf.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, indexOf.get(w)!));
      }
    }
    if (low.get(v) === indexOf.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(component.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!indexOf.has(v)) visit(v);
  return out;
}

/** one shortest path of imports from `from` back to itself inside its component, for the message */
export function exampleCycle(graph: ImportGraph, component: string[]): string[] {
  const members = new Set(component);
  const start = component[0]!;
  const previous = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift()!;
    for (const w of graph.get(v) ?? []) {
      if (!members.has(w)) continue;
      if (w === start) {
        const path = [start];
        for (let u: string | undefined = v; u !== undefined && u !== start; u = previous.get(u)) path.splice(1, 0, u);
        return [...path, start];
      }
      if (!previous.has(w)) {
        previous.set(w, v);
        queue.push(w);
      }
    }
  }
  return component;
}
