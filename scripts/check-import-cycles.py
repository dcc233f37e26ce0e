#!/usr/bin/env python3
"""Fail when modules of the server crate import each other in a circle.

Reads the module tree the way rustc does (from the crate root, `mod x;` ->
`x.rs` or `x/mod.rs`) and adds an edge A -> B whenever code in module A names
a path in module B: `use` trees, `pub use` re-exports, and qualified paths in
bodies (`crate::b::f()`, `super::X`, `child::f()`). Declaring `mod child;` is
not an edge. Every strongly connected component of more than one module is
reported, with a shortest cycle and the line behind each of its edges.
No cargo and no dependencies, so it runs while the crate does not build.
Test code (`#[cfg(test)] mod ...`) is skipped: it may import anything.
"""
import argparse
import os
import re
import sys
from collections import deque

IDENT = r"(?:r#)?[A-Za-z_]\w*"
VIS = r"(?:pub(?:\s*\([^)]*\))?\s+)?"
# Comments and literals, leftmost first. A quote that starts no char literal
# is a lifetime (`'a`) and stays. `/*` is finished by hand: block comments nest.
LITERAL = re.compile(r'//[^\n]*|/\*|\b(?:br|cr|r)(#*)"[\s\S]*?"\1|"(?:\\[\s\S]|[^"\\])*"'
                     r"|'(?:\\(?:x[0-9a-fA-F]{2}|u\{[0-9a-fA-F_]*\}|.)|[^\\'\n])'")
CFG_TEST = re.compile(r"#\s*\[\s*cfg\s*\(\s*test\s*\)\s*\](?:\s*#\s*\[[^\]]*\])*\s*")
MOD_DECL = re.compile(r"(?<!\w)" + VIS + r"mod\s+(" + IDENT + r")\s*([;{])")
USE_STMT = re.compile(r"(?<!\w)" + VIS + r"use\s+([^;]*);")
USE_TOKEN = re.compile(IDENT + r"|::|[{},*]")
# A path of two or more segments that is not the tail of a longer one
# (`http::status` in `axum::http::status` is not our `http`). `$crate` = `crate`.
BODY_PATH = re.compile(r"(?<![\w:])\$?" + IDENT + r"(?:\s*::\s*" + IDENT + r")+")
SEGMENT = re.compile(r"\$?" + IDENT)


def blank(chars, start, end):
    """Spaces over chars[start:end], newlines kept: offsets and line numbers
    in the cleaned text stay those of the source."""
    for i in range(start, min(end, len(chars))):
        if chars[i] != "\n":
            chars[i] = " "


def strip_comments_and_strings(src):
    """So that `crate::x` in docs or messages creates no edge."""
    out, pos = list(src), 0
    while m := LITERAL.search(src, pos):
        end, depth = m.end(), int(m.group() == "/*")
        while depth and end < len(src):
            step = src[end:end + 2]
            depth += {"/*": 1, "*/": -1}.get(step, 0)
            end += 2 if step in ("/*", "*/") else 1
        blank(out, m.start(), end)
        pos = end
    return "".join(out)


def block_end(text, open_at):
    """Index just past the `}` matching the `{` at open_at."""
    depth = 0
    for j in range(open_at, len(text)):
        depth += {"{": 1, "}": -1}.get(text[j], 0)
        if depth == 0:
            return j + 1
    return len(text)


def drop_test_code(text):
    """Blank `#[cfg(test)] mod x { ... }` and `#[cfg(test)] mod x;`: the block
    is not scanned and the file is never loaded."""
    chars = list(text)
    for attr in CFG_TEST.finditer(text):
        decl = MOD_DECL.match(text, attr.end())
        if decl:  # cfg(test) on a fn or an impl is left alone
            end = decl.end() if decl.group(2) == ";" else block_end(text, decl.end() - 1)
            blank(chars, attr.start(), end)
    return "".join(chars)


def load_crate(root):
    """{module path (tuple of names): (file, source, cleaned text)}, warnings."""
    files, warnings = {}, []

    def load(path, file, owns_dir):
        with open(file, encoding="utf-8") as f:
            src = f.read()
        text = drop_test_code(strip_comments_and_strings(src))
        files[path] = (file, src, text)
        # Children of lib.rs, main.rs and x/mod.rs sit beside them; of x.rs in x/.
        base = os.path.dirname(file)
        if not owns_dir:
            base = os.path.join(base, os.path.splitext(os.path.basename(file))[0])
        for decl in MOD_DECL.finditer(text):
            name = decl.group(1).removeprefix("r#")
            if decl.group(2) == "{":
                continue  # inline modules count as part of their file
            flat, nested = os.path.join(base, name + ".rs"), os.path.join(base, name, "mod.rs")
            if os.path.isfile(flat) or os.path.isfile(nested):
                load(path + (name,), *((flat, False) if os.path.isfile(flat) else (nested, True)))
            else:
                warnings.append(f"{file}: `mod {name};` has neither {flat} nor {nested}")

    load((), root, True)
    return files, warnings


def parse_use_tree(toks, i, prefix):
    """Expand the use tree at toks[i] into ([(segments, alias)], next index);
    `a::{b, c::{d, e as f}}` gives a::b, a::c::d and a::c::e. A segment is a
    (name, offset) pair; a glob `a::*` gives just a."""
    segs = list(prefix)
    while i < len(toks):
        if toks[i][0] == "{":
            out, i = [], i + 1
            while i < len(toks) and toks[i][0] != "}":
                sub, i = parse_use_tree(toks, i, segs)
                out += sub
                i += i < len(toks) and toks[i][0] == ","
            return out, i + 1
        if toks[i][0] == "*":
            return [(segs, None)], i + 1
        segs, i = segs + [toks[i]], i + 1
        if i < len(toks) and toks[i][0] == "::":
            i += 1
        elif i + 1 < len(toks) and toks[i][0] == "as":
            return [(segs, toks[i + 1][0])], i + 2
        else:
            break
    return [(segs, None)], i


def resolve(segs, here, depth, files, bindings):
    """The longest module prefix of a path written in module `here`, `depth`
    inline modules deep: (module, offset of its last segment, whether every
    segment was a module), or None when the path is not into this crate."""
    names = [s[0].removeprefix("$").removeprefix("r#") for s in segs]
    if names[0] == "crate":
        mod, j = (), 1
    elif names[0] in ("self", "super"):
        mod, j = here, int(names[0] == "self")
        while j < len(names) and names[j] == "super":
            if depth:
                depth -= 1  # out of an inline module, still in this file
            elif mod:
                mod = mod[:-1]
            else:
                return None
            j += 1
    elif not depth and here + (names[0],) in files:  # `child::f()`
        mod, j = here + (names[0],), 1
    elif names[0] in bindings:  # after `use crate::store;`: `store::status::X`
        mod, j = bindings[names[0]], 1
    else:
        return None  # std::, another crate, or a type's associated item
    at = segs[max(j - 1, 0)][1]
    for name, (_, off) in zip(names[j:], segs[j:]):
        if name != "self":
            if mod + (name,) not in files:
                return mod, at, False
            mod, at = mod + (name,), off
    return mod, at, True


def module_edges(files):
    """{(A, B): (file, line, source line)}, the first line where A names B."""
    edges = {}
    for here, (file, src, text) in files.items():
        spans = [(d.start(), block_end(text, d.end() - 1))
                 for d in MOD_DECL.finditer(text) if d.group(2) == "{"]
        depth = lambda off: sum(s <= off < e for s, e in spans)
        trees, body = [], list(text)
        for use in USE_STMT.finditer(text):
            toks = [(t.group(), use.start(1) + t.start()) for t in USE_TOKEN.finditer(use.group(1))]
            if toks and toks[0][0] != "::":  # `use ::x` is always another crate
                trees += [(s, a, use.start()) for s, a in parse_use_tree(toks, 0, [])[0] if s]
            blank(body, use.start(), use.end())  # the body scan must not reread it
        # Names that `use` binds to whole modules (`use crate::store;`,
        # `{self}`, `as x`). A second pass sees `use` of a name bound by a first.
        bindings = {}
        for _ in range(2):
            for segs, alias, off in trees:
                hit = resolve(segs, here, depth(off), files, bindings)
                if hit and hit[2] and hit[0] and alias != "_":
                    bindings[alias or hit[0][-1]] = hit[0]
        found = [(segs, off) for segs, _, off in trees]
        for m in BODY_PATH.finditer("".join(body)):
            found.append(([(s.group(), m.start() + s.start()) for s in SEGMENT.finditer(m.group())],
                          m.start()))
        for segs, off in found:
            hit = resolve(segs, here, depth(off), files, bindings)
            if hit and hit[0] != here:
                line = src.count("\n", 0, hit[1]) + 1
                if (here, hit[0]) not in edges or line < edges[(here, hit[0])][1]:
                    edges[(here, hit[0])] = (file, line, src.splitlines()[line - 1].strip())
    return edges


def tarjan(nodes, succ):
    """Strongly connected components (Tarjan, recursive: crates are small)."""
    index, low, stack, sccs = {}, {}, [], []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(succ[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:  # v roots a component: it is on the stack above v
            at = stack.index(v)
            sccs.append(set(stack[at:]))
            del stack[at:]

    sys.setrecursionlimit(max(1000, 10 * len(nodes)))
    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return sccs


def shortest_cycle(scc, succ):
    """A shortest cycle within scc: BFS from each member back to itself."""
    best = None
    for start in sorted(scc):
        prev, queue = {start: None}, deque([start])
        while queue and not (best and len(best) == 3):  # 2 modules: can't beat
            v = queue.popleft()
            for w in sorted(succ[v] & scc):
                if w == start:
                    path = [v]
                    while prev[path[-1]] is not None:
                        path.append(prev[path[-1]])
                    if not best or len(path) + 1 < len(best):
                        best = path[::-1] + [start]
                    queue.clear()
                    break
                if w not in prev:
                    prev[w] = v
                    queue.append(w)
    return best


def main(argv=None):
    src_dir = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "server", "src")
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", action="append",
                    help="crate root, repeatable, each its own crate "
                         "(default: server/src/lib.rs, then server/src/main.rs)")
    ap.add_argument("--crate-name", default="crate", help="printed name of the crate root")
    args = ap.parse_args(argv)
    roots = args.root or [os.path.relpath(os.path.join(src_dir, f)) for f in ("lib.rs", "main.rs")
                          if os.path.isfile(os.path.join(src_dir, f))]
    label = lambda m: "::".join((args.crate_name,) + m)

    total, circles = 0, 0
    for root in roots:
        files, warnings = load_crate(root)
        for w in warnings:
            print(f"warning: {w}", file=sys.stderr)
        total += len(files)
        edges = module_edges(files)
        succ = {m: {b for a, b in edges if a == m} for m in files}
        for scc in sorted((s for s in tarjan(files, succ) if len(s) > 1), key=sorted):
            circles += 1
            cycle = shortest_cycle(scc, succ)
            print("import circle: " + " -> ".join(map(label, cycle)))
            print(f"  {len(scc)} modules in this circle ({root}): "
                  + ", ".join(map(label, sorted(scc))))
            for a, b in zip(cycle, cycle[1:]):
                print(f"  {label(a)} -> {label(b)}: %s:%d: %s" % edges[(a, b)])
    if circles:
        print(f"{circles} import circle(s) among {total} modules")
        return 1
    print(f"no import circles among {total} modules")
    return 0


if __name__ == "__main__":
    sys.exit(main())
